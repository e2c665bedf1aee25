"""Referring member organisations in the statistics (DOMAIN.md §12): the import's member codes and
people without full identity, the referring-agency report at both levels, and the gender-balance
check on the unrounded share, per month and over the period, the same on the page, in the CSV and
XLSX exports and in the API."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from coordination.extensions import db
from coordination.organisations.models import MemberOrganisation
from coordination.statistics.importing import IMPORT_COLUMNS
from coordination.statistics.models import SusParticipant
from tests.factories import PASSWORD, make_user, token_headers

HEADER = ",".join(IMPORT_COLUMNS)


def _row(ref: str, gender: str, birth_year: str, agency: str, enrolled_on: str) -> str:
    """An import row of an active participant: the six first columns, the rest empty."""
    return ",".join([ref, gender, birth_year, "Växjö", agency, enrolled_on] + [""] * 10)


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def _import(api, content: bytes):
    return api.post(
        "/api/v1/imports/participants",
        data={"file": (io.BytesIO(content), "history.csv")},
        headers=token_headers(make_user("admin")),
        content_type="multipart/form-data",
    )


@pytest.fixture()
def register():
    """The förbund's member organisations."""
    for code, name, kind in (
        ("vaxjo_kommun", "Växjö kommun", "kommun"),
        ("alvesta_kommun", "Alvesta kommun", "kommun"),
        ("af_vaxjo", "AF Växjö", "af"),
        ("region_kronoberg", "Region Kronoberg", "region"),
    ):
        db.session.add(MemberOrganisation(code=code, name=name, kind=kind))
    db.session.commit()


@pytest.fixture()
def analyst_headers():
    return token_headers(make_user("analyst"))


def _report(api, headers, name: str, **query) -> dict:
    response = api.get(f"/api/v1/statistics/{name}", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _counts(report: dict) -> dict:
    return {
        r["code"]: (r["label"], r["kvinna"], r["man"], r["annat"], r["total"])
        for r in report["rows"]
    }


PEOPLE = [
    _row("M1", "kvinna", "1990", "vaxjo_kommun", "2024-02-01"),
    _row("M2", "man", "", "vaxjo_kommun", "2024-02-03"),  # no birth year
    _row("M3", "", "1985", "alvesta_kommun", "2024-02-05"),  # no gender
    _row("M4", "", "", "kommun", "2024-02-07"),  # only the kind, and neither gender nor age
    _row("M5", "kvinna", "1970", "af_vaxjo", "2024-02-09"),
    _row("M6", "man", "1999", "fk", "2024-02-11"),
]


def test_the_import_takes_member_codes_and_people_without_full_identity(api, register):
    response = _import(api, _csv(*PEOPLE))
    assert response.status_code == 201, response.get_json()
    stored = {
        p.participant_ref: (p.referring_agency, p.referring_organisation, p.gender, p.birth_year)
        for p in db.session.scalars(select(SusParticipant))
    }
    assert stored == {
        "M1": ("kommun", "vaxjo_kommun", "kvinna", 1990),
        "M2": ("kommun", "vaxjo_kommun", "man", None),
        "M3": ("kommun", "alvesta_kommun", None, 1985),
        "M4": ("kommun", None, None, None),
        "M5": ("af", "af_vaxjo", "kvinna", 1970),
        "M6": ("fk", None, "man", 1999),
    }


def test_people_without_birth_year_or_gender_count_in_ej_angivet_and_annat(api, register):
    assert _import(api, _csv(*PEOPLE)).status_code == 201
    headers = token_headers(make_user("analyst"))
    age = _counts(_report(api, headers, "age"))
    # Age at enrolment 2024: 34 (M1), 39 (M3), 54 (M5), 25 (M6); M2 and M4 have no birth year.
    assert age[None] == ("Ej angivet", 0, 1, 1, 2)
    assert age["30_34"] == ("30–34", 1, 0, 0, 1)
    assert age["35_39"] == ("35–39", 0, 0, 1, 1)
    participants = _counts(_report(api, headers, "participants", population="active"))
    assert participants["active"][1:] == (2, 2, 2, 6)  # two without gender: Annat/ej angivet


def test_an_unknown_referring_code_is_a_row_error_and_nothing_is_imported(api, register):
    response = _import(
        api,
        _csv(
            PEOPLE[0],
            _row("X1", "kvinna", "1990", "vaxjo", "2024-02-01"),
            _row("X2", "kvinna", "19x0", "", "2024-02-01"),
        ),
    )
    assert response.status_code == 422
    errors = response.get_json()["row_errors"]
    assert [(e["line"], e["column"]) for e in errors] == [
        (3, "referring_agency"),
        (4, "birth_year"),
    ]
    assert "kommun, af, fk, region" in errors[0]["reason"]
    assert "medlemsorganisationer" in errors[0]["reason"]
    assert db.session.scalar(select(SusParticipant.id)) is None


def test_the_referring_agency_report_at_both_levels(api, client, register, analyst_headers):
    assert _import(api, _csv(*PEOPLE)).status_code == 201
    kinds = _report(api, analyst_headers, "referring_agency")
    assert kinds["filters"]["level"] == "kind"
    assert [(r["code"], r["label"], r["kvinna"], r["man"], r["annat"]) for r in kinds["rows"]] == [
        ("kommun", "Kommun", 1, 1, 2),
        ("af", "Arbetsförmedlingen", 1, 0, 0),
        ("fk", "Försäkringskassan", 0, 1, 0),
    ]
    members = _report(api, analyst_headers, "referring_agency", level="organisation")
    assert members["title"] == "Remitterande medlemsorganisation"
    rows = [(r["code"], r["label"], r["total"], r["agency"]) for r in members["rows"]]
    assert rows == [
        ("alvesta_kommun", "Alvesta kommun", 1, "kommun"),
        ("vaxjo_kommun", "Växjö kommun", 2, "kommun"),
        ("kommun", "Kommun, ingen medlemsorganisation angiven", 1, "kommun"),
        ("af_vaxjo", "AF Växjö", 1, "af"),
        ("fk", "Försäkringskassan, ingen medlemsorganisation angiven", 1, "fk"),
    ]
    assert members["totals"]["total"] == kinds["totals"]["total"] == 6
    wrong = api.get("/api/v1/statistics/referring_agency?level=kommunkod", headers=analyst_headers)
    assert wrong.status_code == 422 and "level" in wrong.get_json()["errors"]

    client.login(make_user("analyst").email, PASSWORD)
    page = client.get("/statistics/reports/referring_agency?level=organisation")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'type="radio" id="field-level-2" name="level" value="organisation" checked' in html
    assert '<th scope="row">Alvesta kommun</th>' in html
    assert "export.csv?level=organisation" in html
    exported = client.get("/statistics/reports/referring_agency/export.csv?level=organisation")
    table = _csv_table(exported.get_data())
    assert [r[:2] for r in table] == [
        ["alvesta_kommun", "Alvesta kommun"],
        ["vaxjo_kommun", "Växjö kommun"],
        ["kommun", "Kommun, ingen medlemsorganisation angiven"],
        ["af_vaxjo", "AF Växjö"],
        ["fk", "Försäkringskassan, ingen medlemsorganisation angiven"],
        ["", "Totalt"],
    ]


# --- the gender-balance check ------------------------------------------------------------------


@pytest.fixture()
def balance(api, register):
    """March 2024: 999 women and 1,501 men from Växjö kommun (39.96 % women, shown as 40.0 %).
    AF Växjö: 3 women and 1 man in March, 1 woman and 3 men in April (50 % over both months)."""
    rows = [
        _row(f"V{i}", "kvinna" if i < 999 else "man", "1990", "vaxjo_kommun", "2024-03-04")
        for i in range(2500)
    ]
    rows += [
        _row(f"A{i}", gender, "1990", "af_vaxjo", day)
        for i, (gender, day) in enumerate(
            [("kvinna", "2024-03-05")] * 3
            + [("man", "2024-03-06")]
            + [("kvinna", "2024-04-02")]
            + [("man", "2024-04-03")] * 3
        )
    ]
    response = _import(api, _csv(*rows))
    assert response.status_code == 201, response.get_json()


def _balance(report: dict) -> dict:
    return {r["code"]: (r["share_women"], r["flagged"]) for r in report["rows"]}


def test_the_unrounded_share_is_compared_so_39_96_percent_is_flagged(api, balance, analyst_headers):
    monthly = _report(api, analyst_headers, "gender_balance")
    assert _balance(monthly) == {
        "2024-03:kommun": (40.0, True),  # 39.96 %: shown as 40.0, flagged all the same
        "2024-03:af": (75.0, True),
        "2024-04:af": (25.0, True),
    }
    members = _report(api, analyst_headers, "gender_balance", level="organisation")
    assert _balance(members) == {
        "2024-03:vaxjo_kommun": (40.0, True),
        "2024-03:af_vaxjo": (75.0, True),
        "2024-04:af_vaxjo": (25.0, True),
    }
    assert [r["label"] for r in members["rows"]] == [
        "2024-03 Växjö kommun",
        "2024-03 AF Växjö",
        "2024-04 AF Växjö",
    ]
    assert members["summary"]["flagged"] == 3


def test_the_check_over_a_chosen_period_at_both_levels(api, balance, analyst_headers):
    spring = {"date_from": "2024-03-01", "date_to": "2024-04-30", "per": "period"}
    period = _report(api, analyst_headers, "gender_balance", **spring)
    assert period["title"] == "Könsfördelning under perioden per remitterande myndighet"
    assert _balance(period) == {"kommun": (40.0, True), "af": (50.0, False)}
    assert {r["code"]: r["month"] for r in period["rows"]} == {"kommun": None, "af": None}
    members = _report(api, analyst_headers, "gender_balance", level="organisation", **spring)
    assert _balance(members) == {"vaxjo_kommun": (40.0, True), "af_vaxjo": (50.0, False)}
    april = _report(
        api,
        analyst_headers,
        "gender_balance",
        per="period",
        date_from="2024-04-01",
        date_to="2024-04-30",
    )
    assert _balance(april) == {"af": (25.0, True)}


def _csv_table(body: bytes) -> list[list[str]]:
    """The table of a CSV export: the rows after the header row."""
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "Kod")
    return rows[start + 1 :]


def _csv_header(body: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return next(r for r in rows if r and r[0] == "Kod")


def test_page_csv_xlsx_and_api_show_the_same_columns_and_figures(
    api, client, balance, analyst_headers
):
    query = {"level": "organisation", "per": "month"}
    report = _report(api, analyst_headers, "gender_balance", **query)
    client.login(make_user("analyst").email, PASSWORD)
    suffix = "?level=organisation"
    html = client.get(f"/statistics/reports/gender_balance{suffix}").get_data(as_text=True)
    csv_body = client.get(f"/statistics/reports/gender_balance/export.csv{suffix}").get_data()
    xlsx_body = client.get(f"/statistics/reports/gender_balance/export.xlsx{suffix}").get_data()

    header = _csv_header(csv_body)
    assert header[-2:] == ["Andel kvinnor, procent", "Utanför 40–60 procent"]
    for title in header[-2:]:
        assert f">{title}</th>" in html
    sheet = load_workbook(io.BytesIO(xlsx_body)).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    start = next(i for i, r in enumerate(values) if r[0] == "Kod")
    assert values[start] == header
    xlsx_rows = values[start + 1 :]
    csv_rows = _csv_table(csv_body)
    assert len(report["rows"]) == len(csv_rows) == len(xlsx_rows) == 3

    for row, from_csv, from_xlsx in zip(report["rows"], csv_rows, xlsx_rows, strict=True):
        flag = "Ja" if row["flagged"] else "Nej"
        share = f"{row['share_women']:.1f}"
        counts = [row[c] for c in ("kvinna", "man", "annat", "total")]
        assert from_csv[:2] == [row["code"], row["label"]]
        assert [int(from_csv[i]) for i in (2, 4, 6, 8)] == counts
        assert from_csv[-2:] == [share, flag]
        assert from_xlsx[:2] == [row["code"], row["label"]]
        assert [from_xlsx[i] for i in (2, 4, 6, 8)] == counts
        assert from_xlsx[-2:] == [row["share_women"], flag]
        cells = re.search(
            rf'<th scope="row">{re.escape(row["label"])}</th>(.*?)</tr>', html, re.S
        ).group(1)
        tds = re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        assert [int(tds[i]) for i in (0, 2, 4, 6)] == counts
        shown_flag = "<strong>Ja</strong>" if row["flagged"] else "Nej"
        assert tds[-2:] == [share.replace(".", ","), shown_flag]
    assert csv_rows[0][-2:] == ["40.0", "Ja"]  # Växjö kommun's 39.96 %
