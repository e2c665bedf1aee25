"""CSV and XLSX exports of a report: the same table, the filters and the denominator.

Every row goes through `safe_row`, so a label from free text or an import never runs as a formula.
"""

from __future__ import annotations

from flask_babel import gettext as _

from coordination.core.i18n import label
from coordination.core.spreadsheet import table_csv, table_xlsx
from coordination.statistics.reports.base import COLUMNS, Report, Row


def _header(report: Report) -> list[str]:
    out = [_("Kod"), _("Benämning")]
    for column in COLUMNS:
        name = label("report_gender", column)
        out += [name, _("%(column)s, procent", column=name)]
    if report.row_denominators:
        out.append(_("Nämnare, totalt"))
    out += [heading for _key, heading, _kind in report.extra_columns]
    return out


def _extra_cells(report: Report, row: Row) -> list:
    cells: list = []
    if report.row_denominators:
        cells.append(report.row_denominator(row))
    for key, _heading, kind in report.extra_columns:
        value = report.extra_value(row, key, kind)
        cells.append(float(value) if kind == "percent" and value is not None else value)
    return cells


def _preamble(report: Report) -> list[list]:
    filters = report.filters.as_dict() | {"population": report.population}
    shown = ", ".join(f"{k}={v}" for k, v in filters.items() if v not in (None, "", False))
    lines = [[report.title], [_("Filter: %(filters)s", filters=shown or _("inga"))]]
    lines.append([report.denominator_text()])
    if report.note:
        lines.append([report.note])
    if report.filters.suppress:
        lines.append([_("Antal under 5 visas som %(mark)s.", mark="<5")])
    return lines


def table_rows(report: Report) -> list[list]:
    """Return the report's rows (and totals) as cells: counts, percentages one decimal."""
    rows = []
    for row in report.rows:
        cells: list = [row.code or "", row.label]
        for column in COLUMNS:
            pct = report.percent(row, column)
            cells += [report.cell(row.counts[column]), None if pct is None else float(pct)]
        rows.append(cells + _extra_cells(report, row))
    if report.show_totals:
        cells = ["", report.totals_text()]
        for column in COLUMNS:
            total = report.totals[column]
            cells += [report.cell(total), None]
        rows.append(cells)
    return rows


def to_csv(report: Report) -> bytes:
    """Return the report as UTF-8 CSV (with a byte-order mark, so spreadsheets read å, ä, ö)."""
    return table_csv(
        _preamble(report),
        _header(report),
        table_rows(report),
        shown=lambda c: f"{c:.1f}" if isinstance(c, float) else c,
    )


def to_xlsx(report: Report) -> bytes:
    """Return the report as an XLSX workbook with numbers as numbers."""
    return table_xlsx(
        report.name,
        _preamble(report),
        _header(report),
        table_rows(report),
        number_format=lambda value: "0.0" if isinstance(value, float) else None,
        wide_column=("B", 48),
    )
