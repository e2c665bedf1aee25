"""The administrator's pages: units, users, programmes, days off and failed messages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_admin_adds_a_unit_after_correcting_the_errors_and_gives_a_role_in_it(cast, browser):
    page = cast.admin.page
    page.goto("/")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Enheter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Organisationens enheter")
    page.get_by_role("button", name="Lägg till enheten").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Skriv enhetens namn.")
    expect(summary).to_contain_text("Välj vilken myndighet enheten hör till.")
    report = browser.check(page, "units with errors")
    assert not report.violations, report.describe()
    summary.get_by_role("link", name="Skriv enhetens namn.").click()
    expect(page.get_by_label("Namn")).to_be_focused()
    page.keyboard.type("Arbetsförmedlingen Kungsbacka")
    page.get_by_label("Myndighet").select_option(label="Arbetsförmedlingen")
    page.get_by_role("button", name="Lägg till enheten").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Enheten Arbetsförmedlingen Kungsbacka är tillagd."
    )
    expect(page.get_by_role("row", name="Arbetsförmedlingen Kungsbacka")).to_contain_text("Används")
    report = browser.check(page, "units")
    assert not report.violations, report.describe()

    page.get_by_role("link", name="Arbetsförmedlingen Kungsbacka").click()
    report = browser.check(page, "edit a unit")
    assert not report.violations, report.describe()

    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Användare").click()
    report = browser.check(page, "users")
    assert not report.violations, report.describe()
    page.goto("/admin/users/new")
    expect(page.locator("main")).to_contain_text("Arbetsförmedlingen Kungsbacka")
    report = browser.check(page, "new user")
    assert not report.violations, report.describe()


@pytest.mark.parametrize(
    ("link", "name"),
    [("Insatser", "programmes"), ("Lediga dagar", "days off"), ("Misslyckade utskick", "failed")],
)
def test_the_other_admin_pages_pass_axe(cast, browser, link, name):
    page = cast.admin.page
    page.goto("/")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name=link).click()
    report = browser.check(page, name)
    assert not report.violations, report.describe()
