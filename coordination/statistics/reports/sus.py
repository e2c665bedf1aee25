"""Reports on the SUS variables at one occasion: work, occupation, education, support."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from coordination.core.i18n import label
from coordination.extensions import db
from coordination.statistics.models import (
    SusRegistration,
    SusSupport,
)
from coordination.statistics.reports.base import (
    Filters,
    P,
    Report,
    code_rows,
    counts_of,
    gender_counts,
    population_conditions,
    simple_report,
)

VARIABLE_TITLES = {
    "work": _l("Arbete"),
    "occupation": _l("Sysselsättning"),
    "education": _l("Utbildning"),
    "time_on_support": _l("Tid i offentlig försörjning"),
    "support": _l("Försörjning"),
}


def variable_report(variable: str) -> Callable[[Filters, str], Report]:
    """Return the builder of the report on one SUS variable."""

    def build(filters: Filters, population: str) -> Report:
        occasion = filters.occasion
        R = aliased(SusRegistration)
        joined = (
            select()
            .select_from(P)
            .join(R, and_(R.participant_id == P.id, R.occasion == occasion))
            .where(*population_conditions(filters, population))
        )
        title = _(
            "%(variable)s vid %(occasion)s",
            variable=VARIABLE_TITLES[variable],
            occasion=label("occasion", occasion).lower(),
        )
        if variable == "support":
            S = aliased(SusSupport)
            grouped = db.session.execute(
                select(S.code, *gender_counts(P.gender))
                .select_from(P)
                .join(S, and_(S.participant_id == P.id, S.occasion == occasion))
                .where(*population_conditions(filters, population))
                .group_by(S.code)
            ).all()
            people = db.session.execute(joined.add_columns(*gender_counts(P.gender))).one()
            rows = code_rows("support", grouped)
            return simple_report(
                variable,
                title,
                filters,
                rows,
                unit="registrations",
                summary={"participants": counts_of(people)},
                note=_(
                    "Flervalsvariabel: en deltagare kan ha flera försörjningskällor. Varje "
                    "registrerad kod räknas, så summan (%(registrations)s registreringar) kan "
                    "överstiga antalet deltagare (%(participants)s).",
                    registrations=sum(r.counts["total"] for r in rows),
                    participants=int(people.total),
                ),
            )
        column = getattr(R, variable)
        grouped = db.session.execute(
            joined.add_columns(column, *gender_counts(P.gender)).group_by(column)
        ).all()
        return simple_report(variable, title, filters, code_rows(variable, grouped))

    return build
