"""The workbench at a realistic size (issue 20, "Show").

Seeded here through the factories, on the stack's database: the coordinator Kim with 23 cases,
11 referrals waiting in the queue and a started conference, chaired by the team lead, with 40
referrals on its agenda. Each role's start page, the caseload and the conference decision page
are screenshotted (test-output/e2e/) at 1280 and 390 px and checked with axe (0 serious or
critical). Then the chair records one decision with the keyboard only: Tab (and Shift+Tab),
Space and typing, and Enter to submit.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import REDIS_URL
from tests.e2e.test_keyboard import focused, space_on, tab_to, type_into

pytestmark = pytest.mark.e2e

CASES = 23
QUEUED = 11
AGENDA = 40
WIDTHS = (1280, 390)
ROLES = ("referrer", "team_lead", "coordinator", "analyst", "admin", "member_af")
STANCES = {
    "kommun": "Socialtjänsten erbjuder arbetsträning.",
    "af": "Kartläggning efter arbetsträningen.",
    "fk": "Ersättningen prövas under tiden.",
    "region": "Vårdcentralen följer upp hälsan.",
}


@pytest.fixture(scope="module")
def realistic(stack, cast) -> dict:
    """Seed the caseload, the queue and the 40-referral conference; return the ids."""
    from coordination.app import create_app
    from coordination.auth.models import User
    from coordination.conferences import decisions
    from coordination.extensions import db
    from coordination.programmes.models import Programme
    from coordination.tenancy.context import use
    from tests.factories import case_conference, make_conference, make_referral

    app = create_app(
        {"DATABASE_URL": stack.database_url, "BROKER_URL": REDIS_URL, "SECRET_KEY": stack.secret}
    )
    with app.app_context(), use(1):  # the installation's first förbund
        programme = db.session.query(Programme).filter_by(name="Steget vidare").one()
        kim = db.session.get(User, cast.coordinator.id)
        lead = db.session.get(User, cast.team_lead.id)
        admitting = case_conference(programme)
        for i in range(CASES):
            # Past Kim's capacity after seven, as in the issue: the chair gives the reason.
            referral = make_referral("on_agenda", conference=admitting, first_name=f"Kim{i:02d}")
            decisions.decide(
                referral.id,
                conference=admitting,
                by=admitting.chair.user,
                data=decisions.DecisionInput(
                    outcome="admit",
                    recommendation="Samordnade insatser från kommun och Arbetsförmedlingen.",
                    positions={a: "Tillstyrker." for a in admitting.present_agencies},
                    coordinator_id=kim.id,
                    complexity_weight=2,
                    over_capacity_reason="Kim tar över från en kollega i tjänstledighet.",
                ),
            )
            db.session.commit()
        for _ in range(QUEUED):
            make_referral("submitted", programme=programme)
        conference = make_conference(
            programme, chair=lead, state="published", present="all", started=True
        )
        referrals = [
            make_referral("on_agenda", conference=conference, first_name=f"Åsa{i:02d}")
            for i in range(AGENDA)
        ]
        seeded = {"conference_id": conference.id, "referral_id": referrals[0].id}
        db.session.remove()
        db.engine.dispose()
    return seeded


def _check_at_both_widths(browser, page: Page, path: str, name: str) -> None:
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900 if width > 400 else 844})
            page.goto(path)
            report = browser.check(page, f"show {name} at {width} px")
            assert not report.violations, report.describe()
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("role", ROLES)
def test_start_page_at_realistic_size(browser, cast, realistic, role):
    _check_at_both_widths(browser, cast[role].page, "/", f"start page {role}")


def test_caseload_at_realistic_size(browser, cast, realistic):
    page = cast.coordinator.page
    page.goto("/cases/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _check_at_both_widths(browser, page, "/cases/", "caseload")


def test_conference_decision_at_realistic_size(browser, cast, realistic):
    path = (
        f"/conferences/{realistic['conference_id']}/referrals/{realistic['referral_id']}/decision"
    )
    _check_at_both_widths(browser, cast.team_lead.page, path, "conference decision")


def test_chair_decides_by_keyboard_only(browser, cast, realistic):
    page = cast.team_lead.page
    conference_id, referral_id = realistic["conference_id"], realistic["referral_id"]
    page.goto(f"/conferences/{conference_id}")
    expect(page.get_by_role("link", name=f"Besluta om remiss {referral_id}")).to_be_visible()
    # From the conference page to the decision form: Tab to the link, Enter.
    # The link has no id: give it one to follow the focus (reading, not clicking).
    link_id = page.evaluate(
        """(href) => { const a = [...document.querySelectorAll('a')].find(
                e => e.getAttribute('href') === href);
            if (!a.id) a.id = 'show-decision-link'; return a.id; }""",
        f"/conferences/{conference_id}/referrals/{referral_id}/decision",
    )
    tab_to(page, link_id)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Beslut om remiss {referral_id}")

    for agency, stance in STANCES.items():
        field = f"field-position_{agency}"
        if page.evaluate("(id) => !!document.getElementById(id)", field):
            type_into(page, field, stance)
    # The outcome: with none chosen, Tab enters the group at its first option ("Skrivs in i
    # insatsen"); Space chooses it. (The other option would take an arrow key.)
    admit = page.evaluate("document.querySelector('input[name=outcome][value=admit]').id")
    space_on(page, admit)
    type_into(
        page,
        "field-recommendation",
        "Arbetsträning i kommunen, därefter kartläggning hos Arbetsförmedlingen.",
    )
    # The suggested coordinator stays chosen; the complexity's first option is chosen with Space.
    low = page.evaluate("document.querySelector('input[name=complexity_weight][value=\"1\"]').id")
    space_on(page, low)
    # Kim is past capacity with 23 cases: the chair gives the reason.
    type_into(page, "field-over_capacity_reason", "Kim tar över från en kollega i tjänstledighet.")
    for _ in range(60):
        if focused(page)["text"] == "Spara beslutet":
            break
        page.keyboard.press("Tab")
    assert focused(page)["text"] == "Spara beslutet", focused(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        f"Beslutet om remiss {referral_id} är sparat."
    )
    report = browser.check(page, "show conference after the keyboard decision")
    assert not report.violations, report.describe()
