"""The workbench in a browser (issue 20): the caseload uses the width at 1280 px; at 390 px the
navigation folds behind a menu button (keyboard usable) so the content starts near the top."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_caseload_is_wide_and_the_menu_folds_on_a_phone(browser, cast):
    page = cast.team_lead.page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/cases/")
    main_width = page.evaluate("document.querySelector('main').getBoundingClientRect().width")
    assert main_width > 1150, f"the caseload's column is {main_width} px at 1280"
    expect(page.get_by_role("button", name="Meny")).to_be_hidden()
    nav = page.get_by_role("navigation", name="Huvudmeny")
    expect(nav.get_by_role("link").first).to_be_visible()
    report = browser.check(page, "caseload at 1280 px")
    assert not report.violations, report.describe()

    page.set_viewport_size({"width": 390, "height": 844})
    try:
        page.reload()
        toggle = page.get_by_role("button", name="Meny")
        expect(toggle).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "false")
        menu = page.locator("#main-menu")
        expect(menu).to_be_hidden()
        top = page.evaluate("document.querySelector('h1').getBoundingClientRect().top")
        assert top < 260, f"the heading starts {top} px down at 390 px"
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(menu).to_be_visible()
        page.keyboard.press("Tab")
        expect(menu.get_by_role("link").first).to_be_focused()
        page.keyboard.press("Escape")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(toggle).to_be_focused()
        report = browser.check(page, "caseload at 390 px")
        assert not report.violations, report.describe()
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
