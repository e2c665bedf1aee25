"""Charts drawn on the server as SVG (pygal), with no script: the table is the text alternative."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pygal
from flask_babel import gettext as _
from pygal.style import Style

from coordination.core.i18n import label
from coordination.statistics.reports.base import Report
from workflows.statistics import PROGRESSION_QUESTIONS

SVG_NS = "http://www.w3.org/2000/svg"
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f1f1f",
    foreground_strong="#1f1f1f",
    foreground_subtle="#555555",
    # Colours with at least 3:1 contrast against white, told apart by order and legend too.
    colors=(
        "#8a2a63",
        "#1d5e8c",
        "#3d6b21",
        "#6b4a00",
        "#5a3e8c",
        "#b3261e",
        "#006b6b",
        "#4a4a4a",
        "#9c4f00",
        "#2b3a8c",
        "#6b6b00",
    ),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=12,
    title_font_size=16,
)
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _finish(chart, title: str, description: str) -> bytes:
    """Render to SVG without scripts, with role="img", a title and a description."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if child.tag in ("script", f"{{{SVG_NS}}}script"):
                parent.remove(child)
    tree.set("role", "img")
    tree.set("aria-labelledby", "chart-title chart-desc")
    desc = ET.Element("desc", {"id": "chart-desc"})
    desc.text = description
    heading = ET.Element("title", {"id": "chart-title"})
    heading.text = title
    tree.insert(0, desc)
    tree.insert(0, heading)
    return ET.tostring(tree, encoding="utf-8")


def report_chart(report: Report) -> bytes:
    """Draw a report as a horizontal bar chart of percentages per gender and in total."""
    description = _(
        "Diagrammet visar procentsatserna i tabellen %(title)s; alla siffror finns i tabellen.",
        title=report.title,
    )
    if report.matrix is not None:
        return _matrix_chart(report, description)
    rows = report.rows[:40]
    chart = pygal.HorizontalBar(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=900,
        height=max(320, 90 + 34 * len(rows) * (2 if len(rows) < 12 else 1)),
        legend_at_bottom=True,
        print_values=False,
        x_title=_("Procent"),
        truncate_label=48,
        no_data_text=_("Inga uppgifter"),
    )
    rows = rows[::-1]  # pygal draws the first label at the bottom; the table starts at the top
    chart.x_labels = [r.label for r in rows]
    columns = ["kvinna", "man"]
    if any(r.counts["annat"] for r in rows):
        columns.append("annat")
    columns.append("total")
    highest = 0.0
    for column in columns:
        values = [report.percent(r, column) for r in rows]
        floats = [None if v is None else float(v) for v in values]
        highest = max([highest, *(v for v in floats if v is not None)])
        chart.add(label("report_gender", column), floats)
    chart.range = (0, min(100, max(10, math.ceil(highest / 10) * 10)))
    return _finish(chart, report.title, description)


def _matrix_chart(report: Report, description: str) -> bytes:
    matrix = report.matrix or {}
    chart = pygal.StackedBar(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=900,
        height=520,
        legend_at_bottom=True,
        x_label_rotation=30,
        truncate_label=24,
        y_title=_("Antal par"),
        x_title=_("Försörjning vid inskrivning; färgerna visar försörjningen vid utskrivning"),
        no_data_text=_("Inga uppgifter"),
    )
    intake = matrix.get("intake", [])
    chart.x_labels = [name for _code, name in intake]
    cells = matrix.get("cells", {})
    for exit_code, exit_name in matrix.get("exit", []):
        values = []
        for intake_code, _name in intake:
            count = cells.get((intake_code, exit_code), 0)
            values.append(None if report.filters.suppress and 0 < count < 5 else count)
        chart.add(exit_name, values)
    return _finish(chart, report.title, description)


def radar_chart(participant_ref: str, ratings: list) -> bytes:
    """Draw a participant's self-ratings, one polygon per occasion, on the ten questions."""
    chart = pygal.Radar(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        explicit_size=True,
        width=760,
        height=560,
        range=(0, 10),
        fill=False,
        legend_at_bottom=True,
        truncate_label=26,
        no_data_text=_("Inga skattningar"),
    )
    chart.x_labels = [label("progression_question", q) for q in PROGRESSION_QUESTIONS]
    for rating in ratings:
        chart.add(rating.rated_on.isoformat(), rating.scores)
    title = _("Självskattning för deltagare %(ref)s", ref=participant_ref)
    description = _(
        "Diagrammet jämför skattningarna vid varje tillfälle; värdena finns i tabellen."
    )
    return _finish(chart, title, description)
