"""The cohort's charts as SVG, drawn like the statistics charts (no script; the table holds the
same figures): payback per actor, and each actor's annual position before and after."""

from __future__ import annotations

import pygal
from flask_babel import gettext as _

from coordination.socioeconomics.queries import CohortReport
from coordination.statistics.charts import STYLE
from coordination.statistics.charts import _finish as finish


def _chart(kind, **options):
    return kind(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=900,
        legend_at_bottom=True,
        truncate_label=40,
        no_data_text=_("Inga uppgifter"),
        **options,
    )


def payback_chart(report: CohortReport) -> bytes:
    """Payback in months per actor (an actor without payback has no bar and says so)."""
    rows = [r for r in report.rows() if r["actor"] != "individual"][::-1]
    chart = _chart(pygal.HorizontalBar, height=120 + 40 * len(rows), x_title=_("Månader"))
    chart.x_labels = [
        r["label"]
        if r["payback_months"] is not None
        else _("%(actor)s: ingen återbetalning", actor=r["label"])
        for r in rows
    ]
    chart.add(_("Återbetalningstid"), [r["payback_months"] for r in rows])
    title = _("Återbetalningstid per aktör, %(programme)s", programme=report.programme.name)
    description = _(
        "Stapeln visar antal månader tills nyttan har betalat insatsens kostnad, med en "
        "horisont på %(years)s år; alla siffror finns i tabellen.",
        years=report.horizon,
    )
    return finish(chart, title, description)


def resources_chart(report: CohortReport) -> bytes:
    """Each actor's net annual position per participant before and after (revenue − cost)."""
    rows = [r for r in report.rows() if r["actor"] not in ("public", "society")]
    chart = _chart(pygal.Bar, height=480, y_title=_("Kronor per deltagare och år"))
    chart.x_labels = [r["label"] for r in rows]
    chart.add(_("Före (inskrivning)"), [r["before"] for r in rows])
    chart.add(_("Efter (uppföljning)"), [r["after"] for r in rows])
    title = _("Resursanvändning före och efter, %(programme)s", programme=report.programme.name)
    description = _(
        "Staplarna visar varje aktörs intäkter minus kostnader per deltagare och år, före och "
        "efter insatsen; alla siffror finns i tabellen."
    )
    return finish(chart, title, description)
