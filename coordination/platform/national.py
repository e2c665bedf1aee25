"""Statistics across förbund for the national analyst: a year's figures per förbund and for the
whole installation, aggregated only, small counts hidden.

Each förbund's figures come from the statistics reports' own builders (participants, exit
reasons, the referral funnel), run within that förbund (`use`), so they equal what the förbund's
own analyst sees for the year; the national figure is their sum, computed here.

Small cells. A count of 1-4 is published as "<5" (workflows.statistics.suppressed). The table has
sums in it: each förbund's exits are the exits to work, to studies and for other reasons, and each
national figure is the sum of the förbund's. Where exactly one figure of such a sum is hidden it
could be computed from the others, so one more is hidden ("..", complementary suppression): the
smallest other part of the sum that is still shown (a zero only when no other part is left, the
sum itself when no part is left), repeated until no sum has exactly one hidden figure. So no
hidden count can be found by subtraction within a row or a column. Zeros are published.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coordination.extensions import db
from coordination.statistics.reports import outcomes, participants, referrals
from coordination.statistics.reports.base import Filters
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund
from workflows.statistics import SUPPRESSION_THRESHOLD, Population, is_suppressed, suppressed

# The table's columns, in order, with their headings.
MEASURES: dict[str, object] = {
    "referrals_received": _l("Mottagna remisser"),
    "enrolled": _l("Inskrivna deltagare"),
    "active": _l("Aktiva deltagare"),
    "exited": _l("Utskrivna deltagare"),
    "exit_work": _l("Utskrivna till arbete"),
    "exit_studies": _l("Utskrivna till studier"),
    "exit_other": _l("Utskrivna av andra skäl"),
}
EXIT_PARTS = ("exit_work", "exit_studies", "exit_other")  # their sum is "exited"
EXIT_CODES = {"arbete": "exit_work", "studier": "exit_studies"}  # other codes: exit_other
COMPLEMENT = ".."  # hidden so that a small count cannot be computed from the others

Cell = tuple[int, str]  # (line, measure)


@dataclass
class Line:
    """One row of the table: a förbund (or the whole installation) and its figures."""

    name: str
    counts: dict[str, int]
    shown: dict[str, int | str] = field(default_factory=dict)  # as published


@dataclass
class NationalTable:
    """A year's figures per förbund (by name) and in total, with the published cells."""

    year: int
    lines: list[Line]
    total: Line


def year_filters(year: int) -> Filters:
    """Return the statistics filters for one calendar year, with no suppression (done here)."""
    return Filters(date_from=date(year, 1, 1), date_to=date(year, 12, 31))


def figures(filters: Filters) -> dict[str, int]:
    """Return the current förbund's figures for the filters' period (run within `use`)."""
    funnel = referrals.referral_funnel(filters, None)
    people = participants.participants(filters, Population.ACTIVE.value)
    exits = outcomes.exit_reason(filters, Population.EXITED.value)
    counts = dict.fromkeys(MEASURES, 0)
    counts["referrals_received"] = next(r for r in funnel.rows if r.code == "received").counts[
        "total"
    ]
    for row in people.rows:
        counts[str(row.code)] = row.counts["total"]
    for row in exits.rows:
        counts[EXIT_CODES.get(str(row.code), "exit_other")] += row.counts["total"]
    return counts


def hidden_cells(counts: dict[Cell, int], sums: list[tuple[Cell, list[Cell]]]) -> dict[Cell, str]:
    """Return the cells not to publish and their mark: "<5" for a small count, ".." for one
    hidden so that no small count can be computed from a sum (`sums`: each sum's cell and its
    parts' cells)."""
    hidden: dict[Cell, str] = {
        cell: str(suppressed(n, SUPPRESSION_THRESHOLD))
        for cell, n in counts.items()
        if is_suppressed(n, SUPPRESSION_THRESHOLD)
    }
    changed = True
    while changed:
        changed = False
        for total, parts in sums:
            if sum(cell in hidden for cell in (total, *parts)) != 1:
                continue
            shown = sorted(
                (cell for cell in parts if cell not in hidden),
                key=lambda cell: (counts[cell] == 0, counts[cell]),
            )
            pick = shown[0] if shown else total
            if pick not in hidden:
                hidden[pick] = COMPLEMENT
                changed = True
    return hidden


def _publish(lines: list[Line], total: Line) -> None:
    every = [*lines, total]
    counts = {(i, m): line.counts[m] for i, line in enumerate(every) for m in MEASURES}
    last = len(every) - 1
    sums: list[tuple[Cell, list[Cell]]] = [
        ((i, "exited"), [(i, part) for part in EXIT_PARTS]) for i in range(len(every))
    ]
    if lines:
        sums += [((last, m), [(i, m) for i in range(len(lines))]) for m in MEASURES]
    hidden = hidden_cells(counts, sums)
    for i, line in enumerate(every):
        line.shown = {m: hidden.get((i, m), line.counts[m]) for m in MEASURES}


def national_table(year: int, total_name: str) -> NationalTable:
    """Compute the year's figures within each active förbund, their sum, and what is published."""
    filters = year_filters(year)
    lines = []
    for forbund in db.session.scalars(select(Forbund).where(Forbund.active).order_by(Forbund.name)):
        with use(forbund.id):
            lines.append(Line(forbund.name, figures(filters)))
    total = Line(total_name, {m: sum(line.counts[m] for line in lines) for m in MEASURES})
    _publish(lines, total)
    return NationalTable(year, lines, total)
