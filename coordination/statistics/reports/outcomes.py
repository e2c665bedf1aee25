"""Reports on exits and results: the support transition, time in the programme, exit reasons."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from coordination.codes.operations import all_codes, label_of
from coordination.core.formats import band_label
from coordination.extensions import db
from coordination.statistics.models import (
    SusSupport,
)
from coordination.statistics.reports.base import (
    Filters,
    P,
    Report,
    Row,
    code_rows,
    counts_of,
    gender_counts,
    not_given,
    population_conditions,
    simple_report,
)
from workflows.statistics import (
    Band,
    Occasion,
    three_month_bin,
)


def support_transition(filters: Filters, population: str) -> Report:
    """Cross-tabulate each person's means of support at intake against those at exit."""
    SI, SE = aliased(SusSupport), aliased(SusSupport)
    grouped = db.session.execute(
        select(SI.code.label("intake"), SE.code.label("exit"), *gender_counts(P.gender))
        .select_from(P)
        .join(SI, and_(SI.participant_id == P.id, SI.occasion == Occasion.INTAKE.value))
        .join(SE, and_(SE.participant_id == P.id, SE.occasion == Occasion.EXIT.value))
        .where(*population_conditions(filters, population))
        .group_by(SI.code, SE.code)
    ).all()
    codes = all_codes("support")
    order = {c.code: i for i, c in enumerate(codes)}
    labels = {c.code: label_of(c) for c in codes}
    grouped = sorted(grouped, key=lambda r: (order.get(r.intake, 99), order.get(r.exit, 99)))
    rows = [
        Row(
            f"{r.intake}>{r.exit}",
            f"{labels.get(r.intake, r.intake)} → {labels.get(r.exit, r.exit)}",
            counts_of(r),
            extra={"intake": r.intake, "exit": r.exit},
        )
        for r in grouped
    ]
    intake_codes = [c.code for c in codes if any(r.intake == c.code for r in grouped)]
    exit_codes = [c.code for c in codes if any(r.exit == c.code for r in grouped)]
    cells = {(r.intake, r.exit): int(r.total) for r in grouped}
    matrix = {
        "intake": [(c, labels[c]) for c in intake_codes],
        "exit": [(c, labels[c]) for c in exit_codes],
        "cells": cells,
        "row_totals": {i: sum(cells.get((i, e), 0) for e in exit_codes) for i in intake_codes},
    }
    return simple_report(
        "support_transition",
        _("Försörjning vid inskrivning och utskrivning (övergångsmatris)"),
        filters,
        rows,
        unit="pairs",
        matrix=matrix,
        note=_(
            "Varje utskriven deltagares försörjning vid inskrivning korstabuleras mot samma "
            "persons försörjning vid utskrivning. Flervalsvariabel: en person med två koder "
            "före och en efter ger två par."
        ),
    )


def time_in_programme(filters: Filters, population: str) -> Report:
    """Count exited participants per started 3-month period in the programme."""
    bin_index = ((P.months_in_programme - 1) // 3).label("bin")
    grouped = db.session.execute(
        select(bin_index, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(bin_index)
        .order_by(bin_index)
    ).all()
    rows = []
    for record in grouped:
        if record.bin is None:
            rows.append(Row(None, not_given(), counts_of(record)))
            continue
        band: Band = three_month_bin(int(record.bin) * 3 + 1)
        rows.append(Row(band.code, band_label(band), counts_of(record)))
    return simple_report(
        "time_in_programme",
        _("Tid i insatsen (månader)"),
        filters,
        rows,
        note=_("Påbörjade månader från inskrivning till utskrivning, i intervall om tre."),
    )


def exit_reason(filters: Filters, population: str) -> Report:
    """Count exited participants per exit reason (historical codes included)."""
    grouped = db.session.execute(
        select(P.exit_reason, *gender_counts(P.gender))
        .where(*population_conditions(filters, population))
        .group_by(P.exit_reason)
    ).all()
    return simple_report(
        "exit_reason", _("Avslutsanledning"), filters, code_rows("exit_reason", grouped)
    )
