"""A keyboard-only pass through the referral form: no mouse, nothing filled by a selector.

The referrer reaches the form from the start page with Tab and Enter, submits it empty (the error
summary takes focus and its first link leads to the field), then fills in every field by moving
with Tab or Shift+Tab, choosing with Space and typing, and submits it with Enter. The test only
reads where the focus is; every change is a key press.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from coordination.core.i18n import local_today
from tests.factories import birth_for_age, identity_number

pytestmark = pytest.mark.e2e

MAX_TABS = 150


def focused(page: Page) -> dict:
    """What has the focus: its id, tag, type and text."""
    return page.evaluate(
        """() => { const e = document.activeElement; return {
            id: e.id, tag: e.tagName.toLowerCase(), type: e.type || '',
            text: (e.innerText || e.value || '').trim(), checked: !!e.checked,
            summary: e.hasAttribute('data-error-summary') }; }"""
    )


def _position(page: Page, element_id: str) -> int:
    """-1 when the element comes before the focused one in the document, 1 when after."""
    return page.evaluate(
        """(id) => { const target = document.getElementById(id);
            if (!target) throw new Error('no element #' + id + ' on the page');
            const here = document.activeElement;
            if (!here || here === document.body) return 1;
            return here.compareDocumentPosition(target) & Node.DOCUMENT_POSITION_PRECEDING
                ? -1 : 1; }""",
        element_id,
    )


def tab_to(page: Page, element_id: str) -> None:
    """Press Tab (or Shift+Tab when the field lies behind) until the field has the focus."""
    key = "Shift+Tab" if _position(page, element_id) < 0 else "Tab"
    for _ in range(MAX_TABS):
        if focused(page)["id"] == element_id:
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached #{element_id}; the focus is on {focused(page)}")


def tab_to_text(page: Page, text: str) -> None:
    """Press Tab until a link or button with this text has the focus."""
    for _ in range(MAX_TABS):
        if focused(page)["text"] == text:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {text!r}; the focus is on {focused(page)}")


def type_into(page: Page, element_id: str, value: str) -> None:
    tab_to(page, element_id)
    page.keyboard.type(value)


def space_on(page: Page, element_id: str) -> None:
    """Tick a checkbox or choose a radio button with Space."""
    tab_to(page, element_id)
    page.keyboard.press("Space")
    assert focused(page)["checked"], f"#{element_id} is not chosen after Space"


def option_id(page: Page, name: str, label: str) -> str:
    """The id of the option with this label in a group (read only: the keys still choose it)."""
    return page.evaluate(
        """([name, label]) => { for (const input of document.getElementsByName(name)) {
              const text = document.querySelector(`label[for="${input.id}"]`).innerText.trim();
              if (text === label) return input.id; } return null; }""",
        [name, label],
    )


def test_referral_form_by_keyboard_only(stack, cast, browser):
    person = cast.referrer
    context = browser.new_context()
    page = context.new_page()
    try:
        person.sign_in(page)
        page.goto("/")
        tab_to_text(page, "Skriv en ny remiss")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ny remiss")

        # An empty submission: every error at once, and the summary takes the focus.
        tab_to_text(page, "Skicka remissen")
        page.keyboard.press("Enter")
        expect(page.locator("[data-error-summary]")).to_be_visible()
        expect(page).to_have_title(re.compile(r"^Fel: "))
        # The page's script moves the focus once it has run: wait for it as a person would.
        expect(page.locator("[data-error-summary]")).to_be_focused()
        report = browser.check(page, "referral form with errors (keyboard)")
        assert not report.violations, report.describe()
        page.keyboard.press("Tab")  # the first link of the summary leads to its field
        first = focused(page)
        assert first["tag"] == "a", first
        target = page.evaluate("document.activeElement.getAttribute('href')")
        page.keyboard.press("Enter")
        assert "#" + focused(page)["id"] == target, (target, focused(page))

        # Fill in the form with the keyboard only. The draft kept from the failed submission
        # has its programme (the only one); a new form would ask for it.
        if page.evaluate("!!document.getElementById('field-programme_id')"):
            tab_to(page, "field-programme_id")
            page.keyboard.type("Steget")  # a select takes the option by its first letters
        birth = birth_for_age(41) - timedelta(days=5)
        type_into(page, "field-identity_number", identity_number(birth, 321))
        type_into(page, "field-first_name", "Sara")
        type_into(page, "field-last_name", "Berg")
        space_on(page, option_id(page, "gender", "Kvinna"))
        type_into(page, "field-phone", "070-765 43 21")
        type_into(page, "field-email", "sara.berg@example.org")
        space_on(page, option_id(page, "preferred_channel", "E-post"))
        # Back with Shift+Tab to a field passed on the way: the address.
        type_into(page, "field-address", "Storgatan 1, 123 45 Dalby")
        type_into(page, "field-home_municipality", "Lund")  # a select: typing picks Lund
        tab_to(page, "field-reason")
        page.keyboard.type("Psykiska")
        for label in ("Kommun", "Arbetsförmedlingen"):
            space_on(page, option_id(page, "agencies_needed", label))
        space_on(page, option_id(page, "support_current", "Försörjningsstöd"))
        tab_to(page, "field-occupation")
        page.keyboard.type("Arbetssökande u")
        tab_to(page, "field-education")
        page.keyboard.type("Gymnasium")
        tab_to(page, "field-time_on_support")
        page.keyboard.type("Upp till 2")
        space_on(page, option_id(page, "children_in_household", "Ja"))
        type_into(page, "field-background", "Behöver stöd från kommunen och Arbetsförmedlingen.")
        type_into(page, "field-question_to_conference", "Kan hon skrivas in?")
        tab_to(page, "field-consent_given_on")
        page.keyboard.type((local_today() - timedelta(days=1)).isoformat())
        space_on(page, option_id(page, "consent_form", "Skriftligt"))
        for label in ("Kommun", "Arbetsförmedlingen"):
            space_on(page, option_id(page, "consent_agencies", label))
        space_on(page, option_id(page, "consent_info_kinds", "Arbetsmarknad"))
        tab_to_text(page, "Skicka remissen")
        page.keyboard.press("Enter")

        expect(page.locator("main")).to_contain_text("Inskickad")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Remiss")
        report = browser.check(page, "referral submitted by keyboard")
        assert not report.violations, report.describe()
    finally:
        context.close()
