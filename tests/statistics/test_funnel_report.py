"""The referral funnel report: the total row is the number of referrals (the stages are not
added together) and the median time to decision is counted in working days, as the conference
overview counts them, on PostgreSQL and on SQLite (`make run`)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from coordination.extensions import db
from coordination.organisations.calendar import add_day_off
from coordination.statistics.reports.base import Filters
from coordination.statistics.reports.referrals import referral_funnel
from tests.factories import (
    PASSWORD,
    decide_referral,
    make_conference,
    make_programme,
    make_referral,
    make_user,
    token_headers,
)
from tests.test_sqlite_default import sqlite_app  # noqa: F401  (the fixture)

# (referral date, decided at, outcome, gender): working days to the local decision day.
SPANS = [
    # Mon 15 April 2030 -> Easter Monday 22 April: 16, 17, 18 (Good Friday, Easter off) = 3
    (date(2030, 4, 15), datetime(2030, 4, 22, 10, tzinfo=UTC), "recommend", "kvinna"),
    # 23 April -> 00:30 on 24 April in Stockholm (22:30 UTC on the 23rd) = 1
    (date(2030, 4, 23), datetime(2030, 4, 23, 22, 30, tzinfo=UTC), "recommend", "kvinna"),
    # Thu 2 May -> Fri 10 May: 3, 6, 7, (8 the förbund's day off), 9, 10 = 5
    (date(2030, 5, 2), datetime(2030, 5, 10, 10, tzinfo=UTC), "admit", "kvinna"),
    # 13 May -> 27 May: 14-17, 20-24, 27 = 10
    (date(2030, 5, 13), datetime(2030, 5, 27, 10, tzinfo=UTC), "admit", "man"),
]
MEDIAN = 4.0  # of 1, 3, 5, 10 (calendar days would give 7.5, without the day off 4.5)


def build_referrals():
    """Four decided referrals and one still waiting, in one programme; return the programme."""
    programme = make_programme(capacity=10)
    add_day_off(date(2030, 5, 8), "Klämdag")
    conference = make_conference(programme, state="published", present="all")
    coordinator = make_user("coordinator")
    for referred_on, decided_at, outcome, gender in SPANS:
        referral = make_referral("on_agenda", conference=conference, gender=gender)
        referral.referral_date = referred_on
        db.session.commit()
        decide_referral(
            referral, conference, outcome=outcome, coordinator=coordinator, now=decided_at
        )
    waiting = make_referral("submitted", programme=programme, gender="man")
    waiting.referral_date = date(2030, 5, 20)
    db.session.commit()
    return programme


@pytest.fixture()
def funnel_programme():
    return build_referrals()


def test_the_total_is_the_number_of_referrals_and_the_median_counts_working_days(
    api, client, funnel_programme
):
    headers = token_headers(make_user("analyst"))
    query = {"programme_id": funnel_programme.id}
    body = api.get(
        "/api/v1/statistics/referral_funnel", query_string=query, headers=headers
    ).get_json()
    counts = {r["code"]: (r["kvinna"], r["man"], r["total"]) for r in body["rows"]}
    assert counts == {
        "received": (3, 2, 5),
        "open": (0, 1, 1),
        "decided": (3, 1, 4),
        "admitted": (1, 1, 2),
        "recommended": (2, 0, 2),
        "withdrawn": (0, 0, 0),
    }
    # 3 + 1 + 4 + 2 + 2 stages would be 12 "referrals"; there are 5.
    assert body["totals"] == {"kvinna": 3, "man": 2, "annat": 0, "total": 5, "suppressed": []}
    assert body["totals_label"] == "Antal remisser (nämnare)"
    assert body["summary"]["median_working_days_to_decision"] == MEDIAN

    user = make_user("analyst")
    client.login(user.email, PASSWORD)
    html = client.get(f"/statistics/reports/referral_funnel?programme_id={funnel_programme.id}")
    text = html.get_data(as_text=True)
    assert "Median antal arbetsdagar från remissdatum till beslut: 4,0." in text
    assert '<th scope="row">Totalt</th>' not in text
    footer = text[text.index("<tfoot>") : text.index("</tfoot>")]
    assert "Antal remisser (nämnare)" in footer
    assert '<td class="table__numeric">5</td>' in footer
    assert "ska inte läggas ihop" in text

    export = client.get(
        f"/statistics/reports/referral_funnel/export.csv?programme_id={funnel_programme.id}"
    )
    rows = list(csv.reader(io.StringIO(export.get_data().decode("utf-8-sig"))))
    total = next(r for r in rows if len(r) > 1 and r[1] == "Antal remisser (nämnare)")
    assert total[2:] == ["3", "", "2", "", "0", "", "5", ""]


@pytest.mark.committing
def test_the_median_in_working_days_on_sqlite(sqlite_app):  # noqa: F811
    cli = sqlite_app.test_cli_runner()
    with sqlite_app.app_context():
        assert db.engine.url.get_backend_name() == "sqlite"
        upgraded = cli.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        with sqlite_app.test_request_context("/"):
            programme = build_referrals()
            report = referral_funnel(Filters(programme_id=programme.id), None)
            assert report.summary["median_working_days_to_decision"] == MEDIAN
            assert report.totals["total"] == 5
