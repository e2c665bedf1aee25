"""Target against outcome: each programme target, its outcome share, numerator and denominator.

One grouped query per target (a programme has a handful): numerator and denominator per gender
come from COUNT ... FILTER over the target's population, never from rows loaded into Python.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy.orm import aliased

from coordination.codes.operations import code_label, list_title
from coordination.conferences.models import Decision
from coordination.core.i18n import label
from coordination.extensions import db
from coordination.programmes.models import Programme, ProgrammeTarget
from coordination.referrals.models import Referral
from coordination.statistics.models import SusRegistration, SusSupport
from coordination.statistics.reports.base import (
    COLUMNS,
    Filters,
    P,
    Report,
    Row,
    filter_conditions,
    population_conditions,
    zero_counts,
)
from workflows.programme import TargetVariable, target_met
from workflows.statistics import Population


def _split(gender: Any, numerator: ColumnElement[bool]) -> list[ColumnElement[int]]:
    """Numerator and denominator counts per gender column and in total."""
    other = or_(gender.is_(None), gender.not_in(("kvinna", "man")))
    per_column = {"kvinna": gender == "kvinna", "man": gender == "man", "annat": other}
    out: list[ColumnElement[int]] = []
    for column in COLUMNS:
        condition = per_column.get(column, literal(True))
        out.append(func.count().filter(and_(condition, numerator)).label(f"n_{column}"))
        out.append(func.count().filter(condition).label(f"d_{column}"))
    return out


def _referral_query(target: ProgrammeTarget, filters: Filters) -> Any:
    text = func.coalesce(func.trim(Decision.recommendation), "")
    return (
        select(*_split(Referral.gender, text != ""))
        .select_from(Referral)
        .join(Decision, Referral.decision_id == Decision.id)
        .where(
            Referral.state == "decided",
            *filter_conditions(
                filters,
                programme=Referral.programme_id,
                municipality=Referral.home_municipality,
                day=Referral.referral_date,
            ),
        )
    )


def _sus_query(target: ProgrammeTarget, filters: Filters) -> Any:
    codes = list(target.codes)
    occasion = target.occasion or "exit"
    population = Population.ENROLLED if occasion == "intake" else Population.EXITED
    conditions = population_conditions(filters, population.value)
    if target.variable == TargetVariable.EXIT_REASON:
        return select(*_split(P.gender, P.exit_reason.in_(codes))).where(*conditions)
    R = aliased(SusRegistration)
    if target.variable == TargetVariable.SUPPORT:
        S = aliased(SusSupport)
        hit: ColumnElement[bool] = exists().where(S.registration_id == R.id, S.code.in_(codes))
    else:
        hit = getattr(R, target.variable).in_(codes)
    return (
        select(*_split(P.gender, hit))
        .select_from(P)
        .join(R, and_(R.participant_id == P.id, R.occasion == occasion))
        .where(*conditions)
    )


def definition_text(target: ProgrammeTarget) -> str:
    """Describe what a target counts, e.g. "Sysselsättning vid uppföljning ...: Arbete, Studier"."""
    if target.variable == TargetVariable.JOINT_RECOMMENDATION:
        return _("Beslutade remisser med skriftlig gemensam rekommendation")
    codes = ", ".join(code_label(target.variable, c) for c in target.codes)
    return _(
        "%(variable)s vid %(occasion)s: %(codes)s",
        variable=list_title(target.variable),
        occasion=label("occasion", target.occasion or "exit").lower(),
        codes=codes,
    )


def targets(filters: Filters, population: str | None) -> Report:
    """Compare each programme target with its outcome in the period."""
    query = (
        select(ProgrammeTarget, Programme.name)
        .join(Programme)
        .order_by(Programme.name, ProgrammeTarget.id)
    )
    if filters.programme_id:
        query = query.where(ProgrammeTarget.programme_id == filters.programme_id)
    rows = []
    for target, programme_name in db.session.execute(query).all():
        scoped = replace(filters, programme_id=target.programme_id)
        build = (
            _referral_query
            if target.variable == TargetVariable.JOINT_RECOMMENDATION
            else _sus_query
        )
        record = db.session.execute(build(target, scoped)).one()
        numerator = {c: int(getattr(record, f"n_{c}")) for c in COLUMNS}
        denominator = {c: int(getattr(record, f"d_{c}")) for c in COLUMNS}
        name = target.name if filters.programme_id else f"{programme_name}: {target.name}"
        rows.append(
            Row(
                str(target.id),
                name,
                numerator,
                denominator,
                extra={
                    "programme_id": target.programme_id,
                    "variable": target.variable,
                    "occasion": target.occasion,
                    "codes": list(target.codes),
                    "definition": definition_text(target),
                    "target_percent": float(target.target_percent),
                    "met": target_met(
                        numerator["total"], denominator["total"], target.target_percent
                    ),
                },
            )
        )
    return Report(
        "targets",
        _("Mål och utfall"),
        "targets",
        filters,
        rows,
        zero_counts(),
        note=_(
            "Utfallet är andelen som når målet av målets egen nämnare. Mål vid inskrivning mäts "
            "på dem som skrevs in under perioden; mål vid utskrivning och uppföljning på dem som "
            "skrevs ut under perioden och har en registrering vid tillfället. Mål på remisser "
            "mäts på beslutade remisser med remissdatum i perioden. Uppfyllt: utfallet (totalt, "
            "oavrundat) är minst målet."
        ),
        denominator_description=_(
            "Varje mål har sin egen nämnare; den står i kolumnen Nämnare och procenten är "
            "andelen av den."
        ),
        no_totals=True,
        row_denominators=True,
        extra_columns=[
            ("definition", _("Vad som räknas"), "text"),
            ("target_percent", _("Mål, procent"), "percent"),
            ("met", _("Målet uppfyllt"), "yesno"),
        ],
    )
