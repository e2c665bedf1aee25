"""The cohort page's errors, the API's problem+json, exports, the board PDF, comparisons and
programme costs."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from coordination.socioeconomics.models import ProgrammeCost, SavedCalculation
from tests.factories import PASSWORD, make_programme, make_user, token_headers
from tests.socioeconomics.worked import (
    PERIOD,
    make_price_list,
    page_text,
    table_row,
    worked_example,
)

COHORT = "/statistics/socio-economics/cohort"


def _login(client, role="analyst"):
    user = make_user(role)
    client.login(user.email, PASSWORD)
    return user


def _query(programme, price_list, **extra):
    return {"programme_id": programme.id, **PERIOD, "price_list_id": price_list.id, **extra}


def test_the_api_gives_every_problem_at_once_as_problem_json(api):
    programme, price_list = worked_example()
    headers = token_headers(make_user("analyst"))
    response = api.get(
        f"/api/v1/socio-economics/{programme.id}",
        query_string={"exited_from": "2024-13-01", "exited_to": "", "price_list_id": "999999",
                      "horizon_years": "0"},
        headers=headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert set(errors) == {"exited_from", "exited_to", "price_list_id", "horizon_years"}
    assert errors["horizon_years"] == ["Ange en horisont från 1 till 50 år."]
    empty = api.get(
        f"/api/v1/socio-economics/{programme.id}",
        query_string={"exited_from": "2020-01-01", "exited_to": "2020-12-31",
                      "price_list_id": price_list.id, "horizon_years": "-2"},
        headers=headers,
    )  # fmt: skip
    assert empty.status_code == 422
    assert set(empty.get_json()["errors"]) == {"cohort", "horizon_years"}
    assert "Kohorten är tom" in empty.get_json()["errors"]["cohort"][0]
    assert api.get("/api/v1/socio-economics/999999", headers=headers).status_code == 404
    coordinator = token_headers(make_user("coordinator"))
    assert (
        api.get(f"/api/v1/socio-economics/{programme.id}", headers=coordinator).status_code == 403
    )


def test_the_page_shows_every_error_in_the_summary(client):
    programme, price_list = worked_example()
    _login(client)
    response = client.get(COHORT, query_string=_query(programme, price_list, horizon_years="0",
                                                      exited_from="2024-12-31",
                                                      exited_to="2024-01-01"))  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in html
    assert "Slutdatum kan inte ligga före startdatum." in html
    assert "Ange en horisont från 1 till 50 år." in html
    empty = client.get(COHORT, query_string=_query(programme, price_list, exited_from="2019-01-01",
                                                   exited_to="2019-12-31"))  # fmt: skip
    assert empty.status_code == 422
    assert "Kohorten är tom" in empty.get_data(as_text=True)
    assert client.get(COHORT).status_code == 200  # the empty form


def test_a_missing_programme_cost_is_named_by_year(client):
    programme = make_programme()
    from tests.socioeconomics.worked import exited_participant

    exited_participant(programme, working=True)
    price_list = make_price_list(name="Utan kostnad")
    _login(client)
    response = client.get(COHORT, query_string=_query(programme, price_list))
    assert response.status_code == 422
    assert "Insatsens kostnad saknas för 2024" in response.get_data(as_text=True)


def test_a_budget_is_divided_by_the_year_s_exited_participants(api):
    programme, price_list = worked_example()
    cost = db.session.scalar(
        select(ProgrammeCost).where(ProgrammeCost.programme_id == programme.id)
    )
    cost.cost_per_participant, cost.budget = None, 900_000
    db.session.commit()
    body = api.get(
        f"/api/v1/socio-economics/{programme.id}",
        query_string={**PERIOD, "price_list_id": price_list.id},
        headers=token_headers(make_user("analyst")),
    ).get_json()
    assert body["cost_per_participant"] == 90_000
    public = next(r for r in body["rows"] if r["actor"] == "public")
    assert public["payback_months"] == 14  # ceil(12 · 90,000 / 80,000) = ceil(13.5)


def test_exports_hold_the_same_figures_and_are_logged(client):
    programme, price_list = worked_example()
    _login(client)
    query = _query(programme, price_list)
    response = client.get(f"{COHORT}/export.csv", query_string=query)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    public = next(r for r in rows if r and r[0] == "Offentliga aktörer tillsammans")
    assert public[1:6] == ["80000", "60000", "20000", "340000", "9"]
    assert public[9] == "3400000"
    state = next(r for r in rows if r and r[0] == "Staten")
    assert state[5] == ""  # no payback
    book = load_workbook(io.BytesIO(client.get(f"{COHORT}/export.xlsx", query_string=query).data))
    values = [list(r) for r in book.active.iter_rows(values_only=True)]
    kommun = next(r for r in values if r[0] == "Kommunen")
    assert kommun[1:6] == [65_600, 15_000, 50_600, 313_000, 3]
    assert client.get(f"{COHORT}/export.pdf", query_string=query).status_code == 404
    exports = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "socio_economics", AccessLogEntry.action == "export"
        )
    ).all()
    assert len(exports) == 2


def test_the_charts_are_accessible_svg(client):
    programme, price_list = worked_example()
    _login(client, "team_lead")
    for kind in ("payback", "resources"):
        response = client.get(f"{COHORT}/{kind}.svg", query_string=_query(programme, price_list))
        assert response.status_code == 200
        svg = response.get_data(as_text=True)
        assert 'role="img"' in svg and "<title" in svg and "<script" not in svg
    assert (
        client.get(f"{COHORT}/pie.svg", query_string=_query(programme, price_list)).status_code
        == 404
    )


def test_the_board_report_pdf(client):
    programme, price_list = worked_example()
    _login(client)
    response = client.get(f"{COHORT}/report.pdf", query_string=_query(programme, price_list))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    text = text.replace("\xa0", " ").replace("\u202f", " ")
    for words in (
        "Samhällsekonomisk uppföljning: Steg för steg",
        "Beräkningen vilar på 10 deltagare",
        "Offentliga aktörer tillsammans 80 000 60 000 20 000 340 000 9 månader",
        "3 400 000",
        "ingen återbetalning",
        "Metod",
        "Antaganden",
        "Horisont: 5 år.",
        "Prislista Prislista 2024, v1",
        "Socialtjänstens statistik",
    ):
        assert words in text, words
    assert "/StructTreeRoot" in reader.trailer["/Root"]
    assert reader.trailer["/Root"]["/Lang"] == "sv"
    printed = db.session.scalar(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "socio_economics", AccessLogEntry.action == "print"
        )
    )
    assert printed is not None and printed.person_id is None


def test_comparison_refuses_different_price_lists_unless_asked(client):
    programme, price_list = worked_example()
    other = make_price_list(name="Annan lista")
    _login(client)
    for chosen in (price_list, price_list, other):
        saved = client.post_form(
            f"{COHORT}/save", {**_query(programme, chosen), "horizon_years": "5"}
        )
        assert saved.status_code == 302
    first, same, different = db.session.scalars(
        select(SavedCalculation).order_by(SavedCalculation.id)
    ).all()
    assert first.figures["rows"][6]["payback_months"] == 9
    page = "/statistics/socio-economics/compare"
    ok = client.get(page, query_string={"first": first.id, "second": same.id})
    assert ok.status_code == 200
    assert "Offentliga aktörer tillsammans 80 000 80 000 9 månader 9 månader" in page_text(
        ok.get_data(as_text=True)
    )
    refused = client.get(page, query_string={"first": first.id, "second": different.id})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "olika prislistor" in html and "Jämför ändå" in html
    assert 'id="compare-table"' not in html
    anyway = client.get(page, query_string={"first": first.id, "second": different.id,
                                            "anyway": "on"})  # fmt: skip
    assert anyway.status_code == 200
    assert 'id="compare-table"' in anyway.get_data(as_text=True)
    assert "Obs! Beräkningarna använder olika prislistor" in anyway.get_data(as_text=True)
    shown = client.get(f"/statistics/socio-economics/calculations/{first.id}")
    assert shown.status_code == 200


def test_programme_costs_refuse_shares_that_do_not_sum_to_100(client):
    programme = make_programme()
    _login(client, "admin")
    page = f"/statistics/socio-economics/programmes/{programme.id}/costs"
    assert client.get(page).status_code == 200
    response = client.post_form(
        page,
        {"year": "2024", "budget": "-5", "cost_per_participant": "", "share_kommun": "30",
         "share_region": "25", "share_af": "0", "share_fk": "0", "share_state": "50"},
    )  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Beloppet kan inte vara negativt" in html
    assert "Finansieringsandelarna måste tillsammans bli exakt 100 procent." in html
    assert (
        db.session.scalar(select(ProgrammeCost).where(ProgrammeCost.programme_id == programme.id))
        is None
    )
    both = client.post_form(page, {"year": "2024", "budget": "1", "cost_per_participant": "2",
                                   "share_kommun": "25", "share_region": "25", "share_af": "0",
                                   "share_fk": "0", "share_state": "50"})  # fmt: skip
    assert "antingen en budget" in both.get_data(as_text=True)
    saved = client.post_form(page, {"year": "2024", "budget": "1 200 000", "share_kommun": "25",
                                    "share_region": "25", "share_af": "0", "share_fk": "0",
                                    "share_state": "50", "source": "Budget 2024"})  # fmt: skip
    assert saved.status_code == 302
    cost = db.session.scalar(
        select(ProgrammeCost).where(ProgrammeCost.programme_id == programme.id)
    )
    assert (cost.budget, cost.cost_per_participant, cost.shares["state"]) == (1_200_000, None, 50)


def test_the_openapi_document_describes_the_socio_economic_endpoints(api):
    document = api.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert "get" in paths["/api/v1/price-lists"]
    assert "get" in paths["/api/v1/price-lists/{price_list_id}"]
    calculation = paths["/api/v1/socio-economics/{programme_id}"]["get"]
    assert "422" in calculation["responses"]
    assert {p["name"] for p in calculation["parameters"] if p["in"] == "query"} == {
        "exited_from",
        "exited_to",
        "price_list_id",
        "horizon_years",
    }
    figures = document["components"]["schemas"]["ActorFiguresSchema"]["properties"]
    assert figures["payback_months"]["type"] == ["integer", "null"]


def test_the_demo_has_price_lists_and_the_programme_s_cost(client):
    from coordination.demo import load_demo
    from coordination.programmes.models import Programme

    load_demo()
    db.session.commit()
    _login(client)
    html = client.get("/statistics/socio-economics/price-lists").get_data(as_text=True)
    assert "Södra Dalen" in html
    programme = db.session.scalar(select(Programme).where(Programme.name == "Steget vidare"))
    years = [c.year for c in db.session.scalars(
        select(ProgrammeCost).where(ProgrammeCost.programme_id == programme.id)
    )]  # fmt: skip
    assert len(years) == 2
    start = client.get("/statistics/").get_data(as_text=True)
    assert "/statistics/socio-economics/cohort" in start
    # Its history is a cohort to compute: ten exited a year before the last follow-up, four
    # of them into unsubsidised work, so the worked example's public figures come out.
    from datetime import date, timedelta

    from coordination.core.i18n import local_today
    from coordination.socioeconomics.models import PriceList

    exited_on = local_today() - timedelta(days=400)
    price_list = db.session.scalar(
        select(PriceList).where(PriceList.name == "Södra Dalen", PriceList.year == exited_on.year)
    )
    query = {
        "programme_id": programme.id,
        "exited_from": date(exited_on.year, 1, 1).isoformat(),
        "exited_to": date(exited_on.year, 12, 31).isoformat(),
        "price_list_id": price_list.id,
    }
    page = client.get(COHORT, query_string=query)
    assert page.status_code == 200
    row = table_row(page.get_data(as_text=True), "Offentliga aktörer tillsammans")
    assert "80 000 60 000 20 000 340 000 9 månader 3 400 000" in row


def test_odd_numbers_are_errors_not_crashes(client, api):
    programme, price_list = worked_example()
    _login(client)
    for odd in ("²", "--5", "+", "1e3", "٣" * 12, "99999999999"):
        query = _query(programme, price_list, horizon_years=odd)
        assert client.get(COHORT, query_string=query).status_code == 422, odd
        query = {**_query(programme, price_list), "programme_id": odd, "price_list_id": odd}
        assert client.get(COHORT, query_string=query).status_code == 422, odd
        compare = {"first": odd, "second": odd}
        assert (
            client.get("/statistics/socio-economics/compare", query_string=compare).status_code
            == 422
        )
    costs = f"/statistics/socio-economics/programmes/{programme.id}/costs"
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    answer = client.post_form(costs, {"year": "²", "cost_per_participant": "²"})
    assert answer.status_code == 422
    page = f"/statistics/socio-economics/price-lists/{price_list.id}"
    assert client.post_form(page, {"row_count": "²"}).status_code in (302, 409)
