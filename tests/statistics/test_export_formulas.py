"""Exports neutralise formula-leading text: free text or an imported value that starts like a
formula reaches a spreadsheet as text, never as a live formula; numbers stay numbers."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from coordination.core.spreadsheet import safe_cell, safe_row
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    make_programme,
    make_sus_participant,
    make_user,
)

ROOT = Path(__file__).resolve().parents[2]
EVIL = '=HYPERLINK("http://x","y")'
LEADS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture()
def analyst(client):
    make_programme()
    user = make_user("analyst")
    client.login(user.email, PASSWORD)
    return user


def _kept_free_text(municipality: str) -> None:
    """A participant whose home municipality is free text kept from before the municipality
    list (the import now takes only a code or a name of the list)."""
    make_sus_participant(home_municipality=municipality)
    db.session.commit()


def test_an_imported_formula_is_text_in_the_csv_export(client, api, analyst):
    _kept_free_text(EVIL)
    response = client.get("/statistics/reports/municipality/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert "'" + EVIL in cells
    assert not [c for c in cells if c.startswith(LEADS)], "a cell would run as a formula"
    row = next(r for r in rows if len(r) > 2 and r[1] == "'" + EVIL)
    assert row[2:4] == ["1", "100.0"]  # the counts are still plain numbers


def test_an_imported_formula_is_text_in_the_xlsx_export(client, api, analyst):
    _kept_free_text(EVIL)
    response = client.get("/statistics/reports/municipality/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not [c for c in cells if c.data_type == "f"], "the workbook holds a live formula"
    evil = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert [c.value for c in evil] == ["'" + EVIL, "'" + EVIL]  # the code and the label
    row = [c.value for c in sheet[evil[0].row]]
    assert row[2:4] == [1, 100.0]  # numbers stay numbers


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (EVIL, "'" + EVIL),
        ("+46 70 123", "'+46 70 123"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Borås", "Borås"),
        ("a=b", "a=b"),
        ("", ""),
        (5, 5),
        (-5, -5),
        (12.5, 12.5),
        (None, None),
    ],
)
def test_a_cell_that_starts_like_a_formula_becomes_text(value, shown):
    assert safe_cell(value) == shown


def test_a_row_is_neutralised_cell_by_cell():
    assert safe_row(["=1+1", 3, "Mark"]) == ["'=1+1", 3, "Mark"]


# Writers of files that are not exports for people: the benchmark writes the import's own input.
NOT_EXPORTS = {"coordination/statistics_bench.py"}


def test_every_spreadsheet_writer_goes_through_safe_row():
    writers = []
    for path in (ROOT / "coordination").rglob("*.py"):
        relative = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {
            f"{n.value.id}.{n.attr}" if isinstance(n.value, ast.Name) else n.attr
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute)
        } | {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if {"csv.writer", "csv.DictWriter", "Workbook"} & names and relative not in NOT_EXPORTS:
            writers.append((relative, "safe_row" in names))
    assert writers, "no export found: has the statistics export moved?"
    assert [path for path, safe in writers if not safe] == []
