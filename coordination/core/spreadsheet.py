"""Cells for CSV and XLSX exports: text that a spreadsheet would run as a formula stays text.

Every export writes its rows through `safe_row`. A text cell starting with = + - @ (or a tab or a
carriage return, which some spreadsheets skip before looking for a formula) gets a leading
apostrophe, so `=HYPERLINK(...)` from a free-text field or an import is shown, never run. Numbers
stay numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Return the value, with an apostrophe before text a spreadsheet would take as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_row(cells: Iterable[Any]) -> list[Any]:
    """Return a row of cells ready for a CSV writer or a worksheet."""
    return [safe_cell(cell) for cell in cells]
