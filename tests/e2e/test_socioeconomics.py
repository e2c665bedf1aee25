"""The socio-economic pages in a real browser, with axe: the analyst calculates the worked example
of DOMAIN.md §13, sees the errors of a bad horizon, saves and compares; the admin enters a
programme's cost."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import REDIS_URL

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def example(stack):
    """The worked example in the stack's database: (programme name, price list title)."""
    from coordination.app import create_app
    from coordination.tenancy.context import use
    from tests.socioeconomics.worked import worked_example

    app = create_app(
        {"DATABASE_URL": stack.database_url, "BROKER_URL": REDIS_URL, "SECRET_KEY": stack.secret}
    )
    with app.app_context(), use(1):  # the installation's first förbund
        programme, price_list = worked_example()
        return programme.name, price_list.title


def test_the_analyst_calculates_a_cohort_saves_and_compares(cast, browser, example):
    programme, price_list = example
    page = cast.analyst.page
    page.goto("/statistics/")
    page.get_by_role(
        "link", name="Beräkna en kohort: nytta, kostnad och återbetalningstid per aktör"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Samhällsekonomisk beräkning för en kohort"
    )
    report = browser.check(page, "socio cohort form")
    assert not report.violations, report.describe()

    page.get_by_label("Insats").select_option(label=programme)
    page.get_by_label("Utskrivna från och med").fill("2024-01-01")
    page.get_by_label("Utskrivna till och med").fill("2024-12-31")
    page.get_by_label("Prislista").select_option(label=price_list)
    page.get_by_label("Horisont i år").fill("0")
    page.get_by_role("button", name="Beräkna").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Ange en horisont från 1 till 50 år.")
    report = browser.check(page, "socio cohort errors")
    assert not report.violations, report.describe()
    summary.get_by_role("link", name="Ange en horisont från 1 till 50 år.").click()
    expect(page.get_by_label("Horisont i år")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.get_by_role("button", name="Beräkna").click()
    public = page.get_by_role("row", name="Offentliga aktörer tillsammans")
    expect(public).to_contain_text("9 månader")
    expect(public).to_contain_text("3 400 000")
    expect(page.get_by_role("row", name="Staten").first).to_contain_text("ingen återbetalning")
    report = browser.check(page, "socio cohort result")
    assert not report.violations, report.describe()

    page.get_by_role("button", name="Spara beräkningen för jämförelser").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jämför sparade beräkningar")
    report = browser.check(page, "socio compare")
    assert not report.violations, report.describe()

    page.goto("/statistics/socio-economics/price-lists")
    page.get_by_role("link", name="Prislista").first.click()
    expect(page.get_by_text("har använts i en sparad beräkning")).to_be_visible()
    report = browser.check(page, "socio used price list")
    assert not report.violations, report.describe()
    page.get_by_role("button", name="Kopiera som ny version").click()
    expect(page.get_by_role("status")).to_contain_text("är skapad")
    report = browser.check(page, "socio price list editor")
    assert not report.violations, report.describe()


def test_the_admin_enters_a_programme_cost(cast, browser, example):
    page = cast.admin.page
    page.goto("/statistics/socio-economics/programmes")
    page.get_by_role("link", name=example[0]).click()
    page.get_by_label("År", exact=True).fill("2025")
    page.get_by_label("Budget för året, kronor").fill("1 000 000")
    page.get_by_label("Staten", exact=True).fill("40")
    page.get_by_role("button", name="Spara kostnaden").click()
    expect(page.get_by_role("alert")).to_contain_text("exakt 100 procent")
    report = browser.check(page, "socio costs errors")
    assert not report.violations, report.describe()
    page.get_by_label("Staten", exact=True).fill("50")
    page.get_by_role("button", name="Spara kostnaden").click()
    expect(page.get_by_role("status")).to_contain_text("Kostnaden för 2025 är sparad.")
    report = browser.check(page, "socio costs")
    assert not report.violations, report.describe()
