// Progressive enhancement only: every page works without this file.
// Move focus to the error summary so that keyboard and screen reader users land on the list of
// errors after a failed submission (the summary has role="alert" and tabindex="-1").
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
  }

  // Links in the error summary: focus the field and scroll its label (or legend) into view.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("[data-error-summary] a[href^='#']") : null;
    if (!link) {
      return;
    }
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) {
      return;
    }
    event.preventDefault();
    var fieldset = input.closest("fieldset");
    var legend = fieldset ? fieldset.querySelector("legend") : null;
    var label = document.querySelector("label[for='" + input.id + "']");
    var target = legend || label || input;
    target.scrollIntoView();
    input.focus({ preventScroll: true });
  });
});

// The menu button on small screens: the navigation folds away behind it so that the page's
// content starts near the top. Without this script the button stays hidden and the menu open.
document.addEventListener("DOMContentLoaded", function () {
  var nav = document.querySelector("[data-nav]");
  var toggle = nav ? nav.querySelector("[data-nav-toggle]") : null;
  var list = toggle ? document.getElementById(toggle.getAttribute("aria-controls")) : null;
  if (!list || !window.matchMedia) {
    return;
  }
  var small = window.matchMedia("(max-width: 40em)");

  function set(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    list.hidden = !open;
  }

  function fit() {
    toggle.hidden = !small.matches;
    // A page in the menu stays open on large screens; on small ones the menu starts closed.
    set(!small.matches);
  }

  toggle.addEventListener("click", function () {
    set(toggle.getAttribute("aria-expanded") !== "true");
  });
  nav.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && small.matches && toggle.getAttribute("aria-expanded") === "true") {
      set(false);
      toggle.focus();
    }
  });
  if (small.addEventListener) {
    small.addEventListener("change", fit);
  }
  fit();
});
