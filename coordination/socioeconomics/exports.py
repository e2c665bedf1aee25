"""The cohort calculation as CSV and XLSX: parameters, what it rests on, and the figures."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _

from coordination.core.spreadsheet import table_csv, table_xlsx
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
    return table_csv(_preamble(report), header(report), table_rows(report))


def to_xlsx(report: CohortReport) -> bytes:
    """Return the calculation as an XLSX workbook with numbers as numbers (whole kronor)."""
    return table_xlsx(
        _("Samhällsekonomi"),
        _preamble(report),
        header(report),
        table_rows(report),
        number_format=_kronor_format,
        wide_column=("A", 36),
    )


def _kronor_format(value) -> str | None:
    numeric = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    return "# ##0" if numeric else None
