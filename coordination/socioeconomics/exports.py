"""The cohort calculation as CSV and XLSX: parameters, what it rests on, and the figures."""

from __future__ import annotations

import csv
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from coordination.core.spreadsheet import safe_row
from coordination.socioeconomics.queries import CohortReport


def _preamble(report: CohortReport) -> list[list]:
    data = report.as_json()
    return [
        [_("Samhällsekonomisk uppföljning: %(programme)s", programme=report.programme.name)],
        [
            _(
                "Utskrivna %(start)s till %(end)s. Prislista: %(list)s. Horisont: %(years)s år.",
                start=data["exited_from"],
                end=data["exited_to"],
                list=report.price_list.title,
                years=report.horizon,
            )
        ],
        [
            _(
                "Beräkningen vilar på %(n)s deltagare; %(exit)s av dem saknade uppföljning efter "
                "12 månader och räknades med uppgifterna vid utskrivning.",
                n=data["participants"],
                exit=data["used_exit_data"],
            )
        ],
        [_("Belopp i hela kronor. Tom återbetalningstid: ingen återbetalning.")],
    ]


def header(report: CohortReport) -> list[str]:
    """The column headings of the figures."""
    return [
        _("Aktör"),
        _("Nytta B per deltagare och år"),
        _("Kostnad C per deltagare"),
        _("Netto efter 1 år"),
        _("Netto efter %(years)s år", years=report.horizon),
        _("Återbetalningstid, månader"),
        _("Nytta B för kohorten per år"),
        _("Kostnad C för kohorten"),
        _("Netto för kohorten efter 1 år"),
        _("Netto för kohorten efter %(years)s år", years=report.horizon),
        _("Före: intäkter minus kostnader per år"),
        _("Efter: intäkter minus kostnader per år"),
    ]


def table_rows(report: CohortReport) -> list[list]:
    """The figures, one row per actor."""
    keys = (
        "benefit",
        "cost",
        "net_1_year",
        "net_horizon",
        "payback_months",
        "cohort_benefit",
        "cohort_cost",
        "cohort_net_1_year",
        "cohort_net_horizon",
        "before",
        "after",
    )
    return [[row["label"], *(row[k] for k in keys)] for row in report.rows()]


def to_csv(report: CohortReport) -> bytes:
    """Return the calculation as UTF-8 CSV with a byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in _preamble(report):
        writer.writerow(safe_row(line))
    writer.writerow([])
    writer.writerow(safe_row(header(report)))
    for cells in table_rows(report):
        writer.writerow(["" if c is None else c for c in safe_row(cells)])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(report: CohortReport) -> bytes:
    """Return the calculation as an XLSX workbook with numbers as numbers."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Samhällsekonomi")[:31]
    for line in _preamble(report):
        sheet.append(safe_row(line))
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([])
    sheet.append(safe_row(header(report)))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for cells in table_rows(report):
        sheet.append(safe_row(cells))
        for cell in sheet[sheet.max_row][1:]:
            cell.number_format = "# ##0"
    sheet.column_dimensions["A"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
