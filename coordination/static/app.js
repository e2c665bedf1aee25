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
