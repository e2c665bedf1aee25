"""Cells for CSV and XLSX exports: text that a spreadsheet would run as a formula stays text.

Every export writes its rows through `safe_row`. A text cell starting with = + - @ (or a tab or a
carriage return, which some spreadsheets skip before looking for a formula) gets a leading
apostrophe, so `=HYPERLINK(...)` from a free-text field or an import is shown, never run. Numbers
stay numbers. `table_csv` and `table_xlsx` write a whole export table that way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Return the value, with an apostrophe before text a spreadsheet would take as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def safe_row(cells: Iterable[Any]) -> list[Any]:
    """Return a row of cells ready for a CSV writer or a worksheet."""
    return [safe_cell(cell) for cell in cells]


def table_csv(
    preamble: Iterable[Iterable[Any]],
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    shown: Callable[[Any], Any] = lambda value: value,
) -> bytes:
    """Return an export as UTF-8 CSV with a byte-order mark (so spreadsheets read å, ä, ö): its
    preamble lines, a blank line, the header and the rows, an empty cell for None and each other
    value as `shown` writes it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in preamble:
        writer.writerow(safe_row(line))
    writer.writerow([])
    writer.writerow(safe_row(header))
    for cells in rows:
        writer.writerow(["" if c is None else shown(c) for c in safe_row(cells)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def table_xlsx(
    title: str,
    preamble: Iterable[Iterable[Any]],
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    *,
    number_format: Callable[[Any], str | None],
    wide_column: tuple[str, int],
) -> bytes:
    """Return an export as an XLSX workbook, numbers as numbers: the preamble (its first line as
    a title), a blank row, the header in bold and the rows, each cell given the number format
    `number_format(value)` returns (None: none), and one column widened."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for line in preamble:
        sheet.append(safe_row(line))
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append(safe_row(header))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for cells in rows:
        sheet.append(safe_row(cells))
        for cell in sheet[sheet.max_row]:
            wanted = number_format(cell.value)
            if wanted is not None:
                cell.number_format = wanted
    column, width = wide_column
    sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
