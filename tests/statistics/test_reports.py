"""Reports as a user sees them: the page with table and chart, filters, suppression, exports,
the API shape, roles, and the reports that read referrals."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from coordination.statistics import reports
from tests.factories import (
    PASSWORD,
    make_programme,
    make_referral,
    make_sus_participant,
    make_user,
    token_headers,
)


def _exited(gender, support_in, support_out, *, reason="arbete", **fields):
    return make_sus_participant(
        gender=gender,
        enrolled_on=fields.pop("enrolled_on", date(2024, 1, 10)),
        registrations={
            "intake": {"support": support_in, "work": "uppgift_saknas"},
            "exit": {
                "registered_on": fields.pop("exited_on", date(2024, 5, 20)),
                "support": support_out,
                "work": "ej_subventionerat",
                "exit_reason": reason,
            },
        },
        **fields,
    )


@pytest.fixture()
def sample():
    """Six women and two men, one with two means of support at intake."""
    programme = make_programme()
    people = []
    for i in range(6):
        people.append(
            _exited(
                "kvinna",
                ["forsorjningsstod", "aktivitetsstod"] if i == 0 else ["forsorjningsstod"],
                ["ingen_offentlig"],
                programme_id=programme.id,
                home_municipality="Borås" if i < 5 else "Mark",
            )
        )
    for _ in range(2):
        people.append(
            _exited("man", ["a_kassa"], ["a_kassa"], reason="studier", programme_id=programme.id)
        )
    return programme


def _login(client, role):
    user = make_user(role)
    client.login(user.email, PASSWORD)
    return user


def test_the_report_page_shows_table_chart_denominator_and_exports(client, sample):
    _login(client, "analyst")
    page = client.get("/statistics/reports/support?occasion=intake&population=exited")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Försörjning vid inskrivning" in html
    assert '<caption class="table__caption" id="report-caption">' in html
    assert "räknat per registrering" in html
    assert (
        "9 registreringar" in html and "antalet deltagare (8)" in html
    )  # multi-valued, labelled so
    assert "Procent av 9 registreringar" in html
    assert 'role="img"' in html and 'aria-describedby="report-caption"' in html
    assert "Samma siffror finns i tabellen nedan" in html
    assert "/statistics/reports/support/export.csv" in html
    assert "/statistics/reports/support/export.xlsx" in html
    # Women: 7 registrations (6 försörjningsstöd = 85.7 %); men 2 (a-kassa = 100.0 %).
    assert "85,7" in html and "100,0" in html


def test_the_chart_is_an_svg_with_role_img_a_title_and_no_script(client, sample):
    _login(client, "team_lead")
    response = client.get("/statistics/reports/exit_reason/chart.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "tabellen" in svg
    assert "<script" not in svg
    assert "script-src" not in response.headers["Content-Security-Policy"]


def test_filters_programme_period_and_municipality(api, sample):
    headers = token_headers(make_user("analyst"))
    other = make_programme()
    _exited("kvinna", ["a_kassa"], ["a_kassa"], programme_id=other.id)

    def total(**query):
        response = api.get("/api/v1/statistics/exit_reason", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["totals"]["total"]

    assert total() == 9
    assert total(programme_id=sample.id) == 8
    assert total(programme_id=sample.id, municipality="Mark") == 1
    assert total(date_from="2024-05-21") == 0
    assert total(date_from="2024-05-20", date_to="2024-05-20") == 9
    bad = api.get(
        "/api/v1/statistics/exit_reason",
        query_string={"date_from": "igår", "population": "alla", "band_width": "0"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert bad.mimetype == "application/problem+json"
    assert {"date_from", "population", "band_width"} <= set(bad.get_json()["errors"])


def test_api_shape(api, sample):
    headers = token_headers(make_user("team_lead"))
    body = api.get(
        "/api/v1/statistics/exit_reason", query_string={"programme_id": sample.id}, headers=headers
    ).get_json()
    assert {"report", "filters", "denominator", "rows", "totals"} <= set(body)
    assert body["report"] == "exit_reason"
    assert body["filters"]["programme_id"] == sample.id
    assert body["denominator"] == {"kvinna": 6, "man": 2, "annat": 0, "total": 8, "suppressed": []}
    first = body["rows"][0]
    assert set(first) >= {"code", "label", "kvinna", "man", "annat", "total"}
    assert [(r["code"], r["label"], r["total"]) for r in body["rows"]] == [
        ("arbete", "Arbete", 6),
        ("studier", "Studier", 2),
    ]
    assert first["percent"] == {"kvinna": 100.0, "man": 0.0, "annat": None, "total": 75.0}
    listing = api.get("/api/v1/statistics", headers=headers).get_json()
    assert listing["total"] == len(reports.REPORTS)
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/statistics/{report_name}" in spec["paths"]
    assert "/api/v1/imports/participants" in spec["paths"]


def test_small_cells_are_shown_as_under_5(api, client, sample):
    headers = token_headers(make_user("analyst"))
    body = api.get(
        "/api/v1/statistics/exit_reason", query_string={"suppress": "1"}, headers=headers
    ).get_json()
    work = body["rows"][0]
    assert (work["kvinna"], work["man"], work["total"]) == (6, 0, 6)
    studies = body["rows"][1]
    assert (studies["man"], studies["total"]) == (None, None)  # numbers or null, never "<5"
    assert studies["suppressed"] == ["man", "total"]
    assert work["suppressed"] == []
    assert studies["percent"]["man"] is None
    assert (body["denominator"]["man"], body["denominator"]["suppressed"]) == (None, ["man"])
    _login(client, "analyst")
    html = client.get("/statistics/reports/exit_reason?suppress=1").get_data(as_text=True)
    assert "&lt;5" in html and "Antal under 5 visas som &lt;5" in html


def test_csv_and_xlsx_exports_hold_the_table_and_are_logged(client, sample):
    user = _login(client, "analyst")
    response = client.get("/statistics/reports/exit_reason/export.csv")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["Avslutsanledning"]
    header = rows.index(next(r for r in rows if r and r[0] == "Kod"))
    assert rows[header + 1][:4] == ["arbete", "Arbete", "6", "100.0"]
    assert rows[header + 3][1:3] == ["Totalt", "6"]
    assert any("Procent av 8 deltagare" in r[0] for r in rows if r)

    response = client.get("/statistics/reports/exit_reason/export.xlsx?suppress=1")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = next(i for i, r in enumerate(values) if r[0] == "Kod")
    assert values[header][:4] == ["Kod", "Benämning", "Kvinna", "Kvinna, procent"]
    assert values[header + 1][:4] == ["arbete", "Arbete", 6, 100.0]
    assert values[header + 2][4:6] == ["<5", None]  # men with studier, suppressed
    logged = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.user_id == user.id, AccessLogEntry.action == "export"
        )
    ).all()
    assert [(e.object_type, e.object_id, e.person_id) for e in logged] == [
        ("statistics", "exit_reason", None),
        ("statistics", "exit_reason", None),
    ]


@pytest.mark.parametrize(
    ("role", "status"),
    [("analyst", 200), ("team_lead", 200), ("admin", 403), ("referrer", 403), ("coordinator", 403)],
)
def test_who_sees_reports(client, role, status):
    _login(client, role)
    assert client.get("/statistics/reports/age").status_code == status


def test_every_report_answers_on_the_page_and_in_the_api(client, api, sample):
    make_sus_participant(gender="annat", ratings=[(date(2024, 2, 1), 4), (date(2024, 5, 1), 6)])
    _login(client, "analyst")
    headers = token_headers(make_user("analyst"))
    for name in reports.REPORTS:
        assert client.get(f"/statistics/reports/{name}").status_code == 200, name
        assert client.get(f"/statistics/reports/{name}/chart.svg").status_code == 200, name
        assert api.get(f"/api/v1/statistics/{name}", headers=headers).status_code == 200, name
    assert client.get("/statistics/reports/unknown").status_code == 404


def test_participants_enrolled_active_and_exited_in_a_period(api):
    make_sus_participant(enrolled_on=date(2023, 12, 1))  # active, enrolled before
    _exited("man", ["a_kassa"], [], enrolled_on=date(2024, 2, 1), exited_on=date(2024, 2, 20))
    _exited("kvinna", ["a_kassa"], [], enrolled_on=date(2023, 1, 1), exited_on=date(2023, 6, 1))
    headers = token_headers(make_user("analyst"))
    body = api.get(
        "/api/v1/statistics/participants",
        query_string={"date_from": "2024-01-01", "date_to": "2024-03-31"},
        headers=headers,
    ).get_json()
    counts = {r["code"]: (r["kvinna"], r["man"], r["total"]) for r in body["rows"]}
    assert counts == {"enrolled": (0, 1, 1), "active": (1, 1, 2), "exited": (0, 1, 1)}


def test_age_bands_are_configurable_and_others_are_shown(api):
    for year in (2005, 1999, 1950):  # 19, 25 and 74 at enrolment in 2024
        make_sus_participant(birth_year=year)
    headers = token_headers(make_user("analyst"))
    default = api.get("/api/v1/statistics/age", headers=headers).get_json()
    assert [(r["label"], r["total"]) for r in default["rows"]] == [
        ("15–19", 1),
        ("25–29", 1),
        ("Utanför åldersbanden", 1),
    ]
    wide = api.get(
        "/api/v1/statistics/age",
        query_string={"band_start": 18, "band_end": 77, "band_width": 20},
        headers=headers,
    ).get_json()
    assert [(r["label"], r["total"]) for r in wide["rows"]] == [("18–37", 2), ("58–77", 1)]


def test_transition_matrix_on_the_page(client, sample):
    _login(client, "analyst")
    html = client.get("/statistics/reports/support_transition").get_data(as_text=True)
    assert "Försörjningsstöd → Ingen offentlig försörjning" in html
    assert "Vid inskrivning" in html
    assert "(100,0\u00a0%)" in html  # every försörjningsstöd at intake ended in no public support


def test_gender_balance_flags_months_outside_40_60(api):
    for gender in ("kvinna", "kvinna", "kvinna", "man"):
        make_sus_participant(gender=gender, referring_agency="af", enrolled_on=date(2024, 3, 5))
    for gender in ("kvinna", "man"):
        make_sus_participant(gender=gender, referring_agency="fk", enrolled_on=date(2024, 3, 9))
    headers = token_headers(make_user("analyst"))
    body = api.get("/api/v1/statistics/gender_balance", headers=headers).get_json()
    rows = {r["code"]: (r["share_women"], r["flagged"]) for r in body["rows"]}
    assert rows == {"2024-03:af": (75.0, True), "2024-03:fk": (50.0, False)}
    assert body["summary"]["flagged"] == 1


def test_funnel_with_the_conference_decisions(api):
    programme = make_programme()
    make_referral("decided", programme=programme, outcome="admit")
    make_referral("decided", programme=programme, outcome="recommend", gender="man")
    make_referral("submitted", programme=programme)
    headers = token_headers(make_user("analyst"))
    query = {"programme_id": programme.id}
    funnel = api.get(
        "/api/v1/statistics/referral_funnel", query_string=query, headers=headers
    ).get_json()
    counts = {r["code"]: (r["kvinna"], r["man"], r["total"]) for r in funnel["rows"]}
    assert counts["received"] == (2, 1, 3)
    assert counts["decided"] == (1, 1, 2)
    assert (counts["admitted"], counts["recommended"]) == ((1, 0, 1), (0, 1, 1))
    assert funnel["summary"]["median_working_days_to_decision"] is not None
    assert funnel["totals"]["total"] == 3  # the referrals, not the stages added together
    share = api.get(
        "/api/v1/statistics/joint_recommendation", query_string=query, headers=headers
    ).get_json()
    assert [(r["code"], r["total"], r["percent"]["total"]) for r in share["rows"]] == [
        ("with_recommendation", 2, 100.0),
        ("without_recommendation", 0, 0.0),
    ]


def _case_with_assignments(programme, gender: str, assignments: int, enrolled_on: date):
    """A case enrolled on a date whose coordinator was assigned `assignments` times."""
    from coordination.cases.models import Case, CoordinatorAssignment
    from coordination.core.db import utcnow

    referral = make_referral("submitted", programme=programme, gender=gender)
    coordinator = make_user("coordinator")
    case_id = db.session.execute(
        Case.__table__.insert()
        .values(
            person_id=referral.person_id,
            programme_id=programme.id,
            referral_id=referral.id,
            state="active",
            complexity_weight=1,
            enrolled_on=enrolled_on,
            version=1,
        )
        .returning(Case.__table__.c.id)
    ).scalar_one()
    for number in range(assignments):
        last = number == assignments - 1
        db.session.execute(
            CoordinatorAssignment.__table__.insert().values(
                case_id=case_id,
                coordinator_id=coordinator.id,
                active=last,
                ended_at=None if last else utcnow(),
                reason=None if number == 0 else "Byte",
            )
        )
    db.session.commit()


def test_coordinator_changes_per_case(api):
    programme = make_programme()
    _case_with_assignments(programme, "kvinna", 1, date(2024, 2, 1))
    _case_with_assignments(programme, "kvinna", 2, date(2024, 2, 1))
    _case_with_assignments(programme, "man", 5, date(2024, 3, 1))
    _case_with_assignments(programme, "man", 1, date(2023, 3, 1))
    headers = token_headers(make_user("team_lead"))
    body = api.get(
        "/api/v1/statistics/coordinator_changes",
        query_string={"programme_id": programme.id, "date_from": "2024-01-01"},
        headers=headers,
    ).get_json()
    assert [(r["label"], r["kvinna"], r["man"], r["total"]) for r in body["rows"]] == [
        ("Inga byten", 1, 0, 1),
        ("1 byte", 1, 0, 1),
        ("3 eller fler byten", 0, 1, 1),
    ]
    assert body["unit"] == "cases"
    assert body["summary"]["mean_changes"] == round(5 / 3, 2)
