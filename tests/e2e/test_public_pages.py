"""Pages anyone reaches signed out: the login and the accessibility statement (DOS-lagen)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


@pytest.fixture()
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_accessibility_statement_is_linked_from_every_page_with_a_way_to_report(browser, page):
    page.goto("/login")
    report = browser.check(page, "login")
    assert not report.violations, report.describe()
    page.get_by_role("contentinfo").get_by_role("link", name="Tillgänglighetsredogörelse").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tillgänglighetsredogörelse för Samordning"
    )
    main = page.locator("main")
    expect(main).to_contain_text("lagen (2018:1937) om tillgänglighet till digital offentlig")
    expect(main).to_contain_text("helt förenlig med lagen")
    expect(main).to_contain_text("WCAG 2.1 på nivå AA")
    for heading in (
        "Tjänstens förenlighet med lagen",
        "Kända brister",
        "Rapportera brister i tjänstens tillgänglighet",
        "Tillsyn",
        "Hur vi testar tjänsten",
        "Redogörelsens datum",
    ):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    report_link = main.locator("a[href^='mailto:']")
    expect(report_link).to_have_attribute("href", re.compile(r"subject="))
    expect(
        main.get_by_role("link", name="Anmäl brister i digital offentlig service till DIGG")
    ).to_be_visible()
    report = browser.check(page, "accessibility statement")
    assert not report.violations, report.describe()


def test_skip_link_is_the_first_stop_and_moves_to_the_main_content(browser, page):
    page.goto("/tillganglighet")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till huvudinnehållet")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()  # shown when it has the focus
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def _assert_reflows(page, path: str) -> None:
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{path} is {width} px wide at a 320 px viewport"


def test_pages_reflow_at_320_pixels(browser, cast):
    """WCAG 1.4.10: no horizontal scrolling at 320 CSS pixels (a phone, or 400 % zoom)."""
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    try:
        for path in ("/login", "/tillganglighet"):
            _assert_reflows(page, path)
    finally:
        context.close()
    page = cast.referrer.page
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        for path in ("/", "/referrals/new", "/referrals/", "/inbox"):
            _assert_reflows(page, path)
        report = browser.check(page, "referrer inbox at 320 px")
        assert not report.violations, report.describe()
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
