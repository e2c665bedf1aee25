"""The reference check of ../shared/DOMAIN.md §12: KRUT's SUS tables come out of our reports
exactly.

Records are generated to match the printed tables (tests/statistics/krut.py), the historical
codes are loaded from a code-list file as an admin would, the CSV goes through the import API,
and every report is compared with the printed table: each row's counts for women, men and in
total, the totals row, the denominator and the labels of the historical codes.
"""

from __future__ import annotations

import pytest

from coordination.codes.operations import all_codes, load_code_file
from coordination.extensions import db
from tests.factories import make_user, token_headers
from tests.statistics import krut


@pytest.fixture()
def imported(api):
    """Load the KRUT historical codes and import the generated records through the API."""
    load_code_file("krut.yaml", krut.HISTORICAL_CODES_YAML.encode())
    db.session.commit()
    admin = make_user("admin")
    content = krut.write_csv(krut.participants())
    response = api.post(
        "/api/v1/imports/participants",
        data=content,
        headers=token_headers(admin) | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 201, response.get_json()
    summary = response.get_json()
    assert summary["participants"] == 398
    assert summary["support_registrations"] == 440 + 413
    return token_headers(make_user("analyst"))


def _report(api, headers, name: str, **args) -> dict:
    query = {"population": "exited", **args}
    response = api.get(f"/api/v1/statistics/{name}", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _as_printed(report: dict) -> list[tuple]:
    return [(r["code"], r["kvinna"], r["man"], r["total"]) for r in report["rows"]]


def _list_order(list_name: str, codes: list[str]) -> list[str]:
    order = [c.code for c in all_codes(list_name)]
    return sorted(codes, key=order.index)


@pytest.mark.parametrize("table", sorted(krut.TABLES))
def test_every_krut_table_comes_out_as_printed(api, imported, table):
    occasion, printed = krut.TABLES[table]
    name = (
        table.split("_intake")[0].split("_exit")[0]
        if table.startswith(("work", "support"))
        else table
    )
    report = _report(api, imported, name, occasion=occasion)

    expected = {code: (women, men, total) for _label, code, women, men, total in printed}
    got = {code: (women, men, total) for code, women, men, total in _as_printed(report)}
    assert got == expected  # the same rows (no more, no fewer) with the printed counts
    assert all(r["annat"] == 0 for r in report["rows"])

    women, men, total = (sum(row[i] for row in printed) for i in (2, 3, 4))
    assert (report["totals"]["kvinna"], report["totals"]["man"], report["totals"]["total"]) == (
        women,
        men,
        total,
    )
    if name == "support":
        printed_totals = (
            krut.SUPPORT_BEFORE_TOTALS if occasion == "intake" else krut.SUPPORT_AFTER_TOTALS
        )
        assert (women, men, total) == printed_totals  # 440 and 413 registrations
        assert report["unit"] == "registrations"
        assert report["summary"]["participants"]["total"] == 398
        assert "registreringar" in report["note"]
    else:
        assert (women, men, total) == krut.PARTICIPANTS
        assert report["unit"] == "participants"
    assert report["denominator"] == report["totals"] | {"annat": 0}


def test_historical_codes_are_labelled_as_printed_and_rows_follow_the_list(api, imported):
    report = _report(api, imported, "exit_reason")
    assert [(r["label"], r["kvinna"], r["man"], r["total"]) for r in report["rows"]] == [
        (label, women, men, total) for label, _code, women, men, total in krut.EXIT_REASONS
    ]
    support = _report(api, imported, "support", occasion="intake")
    labels = {r["code"]: r["label"] for r in support["rows"]}
    assert labels["hist_sjuk_aktivitetsersattning"] == "Sjuk-/Aktivitetsersättning"
    for name, list_name, occasion in (
        ("support", "support", "intake"),
        ("support", "support", "exit"),
        ("education", "education", "intake"),
        ("work", "work", "exit"),
        ("time_on_support", "time_on_support", "intake"),
    ):
        codes = [r["code"] for r in _report(api, imported, name, occasion=occasion)["rows"]]
        assert codes == _list_order(list_name, codes)
    # Tabell 6 prints the combined historical code right after Sjukpenning: so does the list.
    assert [r["code"] for r in support["rows"]] == [row[1] for row in krut.SUPPORT_BEFORE]


def _as_range(printed: str) -> str:
    """The printed "15 - 19" as the app writes every range: "15–19" (en dash, no spaces)."""
    return printed.replace(" - ", "\u2013")


def test_bins_and_bands_are_labelled_as_printed(api, imported):
    time = _report(api, imported, "time_in_programme")
    assert [r["label"] for r in time["rows"]] == [
        _as_range(row[0]) for row in krut.TIME_IN_PROGRAMME
    ]
    age = _report(api, imported, "age")
    assert [r["label"] for r in age["rows"]] == [_as_range(row[0]) for row in krut.AGE]
    assert [r["code"] for r in age["rows"]] == [row[1] for row in krut.AGE]


def test_percentages_match_the_report_text(api, imported):
    # "104 deltagare (ca 26 procent) ... 1-3 månader, 109 deltagare (ca 27 procent)"
    time = {
        r["code"]: r["percent"]["total"]
        for r in _report(api, imported, "time_in_programme")["rows"]
    }
    assert (time["1_3"], time["4_6"]) == (26.1, 27.4)
    # "220 deltagare (ca 55 procent) som endast hade genomgått grundskolan"
    education = _report(api, imported, "education")
    assert {r["code"]: r["percent"]["total"] for r in education["rows"]}["grundskola"] == 55.3
    # "43 deltagare ... 22 av dessa var kvinnor (ca 9 procent) och 21 var män (ca 11 procent)",
    # percentages of the registrations (241 for women, 199 for men)
    support = _report(api, imported, "support", occasion="intake")
    none = next(r for r in support["rows"] if r["code"] == "ingen_offentlig")
    assert (none["percent"]["kvinna"], none["percent"]["man"]) == (9.1, 10.6)


def test_participants_report_counts_398_exited(api, imported):
    report = _report(api, imported, "participants")
    exited = next(r for r in report["rows"] if r["code"] == "exited")
    assert (exited["kvinna"], exited["man"], exited["total"]) == krut.PARTICIPANTS


def test_transition_matrix_crosses_each_persons_intake_and_exit(api, imported):
    report = _report(api, imported, "support_transition")
    assert report["unit"] == "pairs"
    by_intake: dict[str, int] = {}
    for row in report["rows"]:
        by_intake[row["intake"]] = by_intake.get(row["intake"], 0) + row["total"]
    # Every intake code of every person pairs with each of that person's exit codes, so each
    # intake code's pairs are at least its count in Tabell 6.
    for _label, code, _women, _men, total in krut.SUPPORT_BEFORE:
        assert by_intake[code] >= total
