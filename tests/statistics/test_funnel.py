"""The conference overview (a statistics page): the referral funnel of a period, built referrals."""

from datetime import UTC, date, datetime

from coordination.cases import operations as case_ops
from coordination.extensions import db
from coordination.referrals import operations as referral_ops
from coordination.statistics.reports.referrals import period_funnel
from tests.factories import (
    PASSWORD,
    decide_referral,
    make_conference,
    make_programme,
    make_referral,
    make_user,
)


def _decide_on(conference, referral, *, submitted_on, decided_at, outcome, coordinator=None):
    referral.referral_date = submitted_on
    db.session.commit()
    decide_referral(referral, conference, outcome=outcome, coordinator=coordinator, now=decided_at)


def test_funnel_figures_on_a_built_set_of_referrals(client):
    programme = make_programme(capacity=100)
    conference = make_conference(programme, state="published", present="all")
    coordinator = make_user("coordinator")
    # Three decided in March 2030: 5, 1 and 2 working days from submission (median 2).
    spans = [
        (date(2030, 3, 4), datetime(2030, 3, 11, 10, tzinfo=UTC), "admit"),
        (date(2030, 3, 4), datetime(2030, 3, 5, 10, tzinfo=UTC), "recommend"),
        (date(2030, 3, 18), datetime(2030, 3, 20, 10, tzinfo=UTC), "admit"),
    ]
    for submitted_on, decided_at, outcome in spans:
        referral = make_referral("on_agenda", conference=conference)
        _decide_on(
            conference,
            referral,
            submitted_on=submitted_on,
            decided_at=decided_at,
            outcome=outcome,
            coordinator=coordinator,
        )
    # Decided outside the period: not counted as decided, but received in it.
    outside = make_referral("on_agenda", conference=conference)
    _decide_on(
        conference,
        outside,
        submitted_on=date(2030, 3, 25),
        decided_at=datetime(2030, 4, 2, 10, tzinfo=UTC),
        outcome="recommend",
    )
    # Received in March and still waiting; one received in February.
    waiting = make_referral("submitted", programme=programme)
    waiting.referral_date = date(2030, 3, 27)
    earlier = make_referral("submitted", programme=programme)
    earlier.referral_date = date(2030, 2, 27)
    # A withdrawn referral (its withdrawal today is outside March 2030) and one withdrawn draft.
    withdrawn = make_referral("withdrawn", programme=programme)
    withdrawn.referral_date = date(2030, 3, 6)
    draft = make_referral("draft", programme=programme)
    referral_ops.withdraw(draft, by=draft.referrer)
    db.session.commit()

    figures = period_funnel(date(2030, 3, 1), date(2030, 3, 31), programme_id=programme.id)
    assert (figures.received, figures.decided, figures.admitted, figures.recommended) == (
        6,
        3,
        2,
        1,
    )
    assert figures.withdrawn == 0
    assert figures.median_working_days == 2.0
    assert figures.recommendation_share == 100.0

    today = referral_ops.local_today()
    this_year = period_funnel(date(today.year, 1, 1), today, programme_id=programme.id)
    assert this_year.withdrawn == 1  # the submitted one; a withdrawn draft was never received

    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    page = client.get(
        f"/conferences/overview?from=2030-03-01&to=2030-03-31&programme_id={programme.id}"
    )
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for expected in ("Inkomna remisser", "2,0", "100,0\u00a0%", "Av 3 beslutade remisser"):
        assert expected in body


def test_the_overview_refuses_a_reversed_period(client):
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    response = client.get("/conferences/overview?from=2030-03-31&to=2030-03-01")
    assert response.status_code == 422
    assert "Slutdatum kan inte ligga före startdatum" in response.get_data(as_text=True)


def test_reference_year_47_decided_36_admitted_11_recommended(client):
    """../shared/DOMAIN.md §6: Samborådet 2011, built through the operations and read from the
    overview."""
    programme = make_programme(capacity=40)
    lead = make_user("team_lead")
    coordinator = make_user("coordinator")
    case_ops.set_profile(coordinator, capacity=200, team_unit_id=None, by=lead)  # room for 36
    referrer = make_user("referrer")
    conferences = [
        make_conference(programme, state="published", present="all", chair=lead) for _ in range(4)
    ]
    outcomes = ["admit"] * 36 + ["recommend"] * 11
    for number, outcome in enumerate(outcomes):
        conference = conferences[number % len(conferences)]
        referral = make_referral("on_agenda", conference=conference, referrer=referrer)
        referral.referral_date = date(2031, 1 + number // 5, 2)
        db.session.commit()
        decide_referral(
            referral,
            conference,
            outcome=outcome,
            coordinator=coordinator,
            now=datetime(2031, 1 + number // 5, 20, 9, tzinfo=UTC),
        )

    client.login(lead.email, PASSWORD)
    body = client.get(
        f"/conferences/overview?from=2031-01-01&to=2031-12-31&programme_id={programme.id}"
    ).get_data(as_text=True)
    figures = period_funnel(date(2031, 1, 1), date(2031, 12, 31), programme_id=programme.id)
    assert (figures.decided, figures.admitted, figures.recommended) == (47, 36, 11)
    assert figures.recommendation_share == 100.0
    for label, value in (
        ("Beslutade remisser", 47),
        ("varav inskrivna", 36),
        ("varav gemensam rekommendation utan inskrivning", 11),
    ):
        row = body[body.index(label) :].split("</tr>", 1)[0]
        assert f'<td class="table__numeric">{value}</td>' in row
    assert "100,0\u00a0%" in body
