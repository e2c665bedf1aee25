"""DOMAIN.md §13's worked example reproduced exactly on the cohort page and in the API."""

from __future__ import annotations

from flask_babel import refresh
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from tests.factories import PASSWORD, make_user, token_headers
from tests.socioeconomics.worked import PERIOD, exited_participant, table_row, worked_example


def _api(api, programme, price_list, **extra):
    headers = token_headers(make_user("analyst"))
    query = {**PERIOD, "price_list_id": price_list.id, **extra}
    return api.get(f"/api/v1/socio-economics/{programme.id}", query_string=query, headers=headers)


def test_the_worked_example_through_the_api(api):
    programme, price_list = worked_example()
    response = _api(api, programme, price_list)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["participants"], body["used_exit_data"], body["left_out"]) == (10, 0, 0)
    assert body["horizon_years"] == 5
    assert body["price_list"] == {
        "id": price_list.id,
        "name": "Prislista",
        "year": 2024,
        "version": 1,
    }
    assert body["cost_per_participant"] == 60_000
    assert body["cohort_cost"] == 600_000
    rows = {row["actor"]: row for row in body["rows"]}
    assert [r["actor"] for r in body["rows"]] == [
        "individual", "kommun", "region", "af", "fk", "state", "public", "society",
    ]  # fmt: skip
    expected = {
        # actor: (B, C, payback months, net after 1 year, net after 5 years)
        "kommun": (65_600, 15_000, 3, 50_600, 313_000),
        "region": (9_000, 15_000, 20, -6_000, 30_000),
        "state": (5_400, 30_000, None, -24_600, -3_000),
        "af": (0, 0, None, 0, 0),
        "fk": (0, 0, None, 0, 0),
        "public": (80_000, 60_000, 9, 20_000, 340_000),
    }
    for actor, (b, c, months, net_1, net_5) in expected.items():
        row = rows[actor]
        assert (row["benefit"], row["cost"], row["payback_months"]) == (b, c, months), actor
        assert (row["net_1_year"], row["net_horizon"]) == (net_1, net_5), actor
    assert rows["public"]["cohort_net_horizon"] == 3_400_000
    assert rows["public"]["cohort_benefit"] == 800_000
    # The individual: 4 of 10 go from 110,000 in försörjningsstöd to 250,000 in net pay.
    assert rows["individual"]["benefit"] == 56_000
    assert body["income_change"] == 56_000
    # Society: försörjningsstöd is a transfer and cancels; taxes and net pay remain.
    assert rows["society"]["benefit"] == 136_000
    assert rows["society"]["payback_months"] == 6
    logged = db.session.scalar(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "socio_economics",
            AccessLogEntry.object_id == str(programme.id),
            AccessLogEntry.channel == "api",
        )
    )
    assert logged is not None and logged.person_id is None


def test_a_longer_horizon_gives_the_state_its_67_months(api):
    programme, price_list = worked_example()
    body = _api(api, programme, price_list, horizon_years=6).get_json()
    rows = {row["actor"]: row for row in body["rows"]}
    assert rows["state"]["payback_months"] == 67
    assert rows["public"]["net_horizon"] == 6 * 80_000 - 60_000


def test_the_worked_example_on_the_page(client):
    programme, price_list = worked_example()
    analyst = make_user("analyst")
    client.login(analyst.email, PASSWORD)
    query = {"programme_id": programme.id, **PERIOD, "price_list_id": price_list.id}
    response = client.get("/statistics/socio-economics/cohort", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert table_row(html, "Kommunen") == (
        "Kommunen 65 600 15 000 50 600 313 000 3 månader 3 130 000"
    )
    assert table_row(html, "Regionen") == "Regionen 9 000 15 000 -6 000 30 000 20 månader 300 000"
    assert table_row(html, "Staten") == (
        "Staten 5 400 30 000 -24 600 -3 000 ingen återbetalning -30 000"
    )
    assert table_row(html, "Offentliga aktörer tillsammans") == (
        "Offentliga aktörer tillsammans 80 000 60 000 20 000 340 000 9 månader 3 400 000"
    )
    assert "Beräkningen vilar på 10 deltagare" in html
    assert "0 av dem saknade uppföljning efter 12 månader" in html
    # Aggregates only: no participant reference is on the page.
    assert "P-" not in html


def test_missing_follow_ups_use_the_exit_data_and_say_how_many(api, client):
    programme, price_list = worked_example()
    working_at_exit = {"support": ["ingen_offentlig"], "work": "ej_subventionerat"}
    for _i in range(2):
        exited_participant(programme, working=True, follow_up=False, exit_state=working_at_exit)
    body = _api(api, programme, price_list).get_json()
    assert (body["participants"], body["used_exit_data"]) == (12, 2)
    rows = {row["actor"]: row for row in body["rows"]}
    # 6 of 12 now off försörjningsstöd and working: kommun B = 0.5 · 164,000.
    assert rows["kommun"]["benefit"] == 82_000
    assert rows["public"]["benefit"] == 100_000
    assert rows["public"]["payback_months"] == 8  # ceil(12 · 60,000 / 100,000) = ceil(7.2)


def test_the_page_in_english(client):
    programme, price_list = worked_example()
    analyst = make_user("analyst")
    analyst.locale = "en"
    db.session.commit()
    client.login(analyst.email, PASSWORD)
    refresh()  # the test's requests share one app context, where Flask-Babel caches the locale
    query = {"programme_id": programme.id, **PERIOD, "price_list_id": price_list.id}
    html = client.get("/statistics/socio-economics/cohort", query_string=query).get_data(
        as_text=True
    )
    refresh()
    assert table_row(html, "Public actors together").endswith("9 months 3,400,000")
    assert "no payback" in table_row(html, "The state")
    assert "The calculation rests on 10 participants" in html
