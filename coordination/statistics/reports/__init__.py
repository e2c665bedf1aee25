"""The reports of ../shared/DOMAIN.md §12, split by gender with a total: their registry, in one
place.

Each report is a builder in the module of its group (participants, sus, outcomes, referrals,
progression, continuity) over the building blocks of reports.base; this table names, titles and
groups them, in the order the pages list them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from coordination.statistics.reports import (
    continuity,
    outcomes,
    participants,
    progression,
    referrals,
    sus,
    targets,
)
from coordination.statistics.reports.base import Filters, Report
from workflows.statistics import Population


@dataclass(frozen=True)
class Definition:
    """A report's name, title, group and builder."""

    name: str
    title: object
    group: object
    build: Callable[[Filters, Any], Report]
    population: str | None = Population.ENROLLED.value  # the default; None: not participants
    fixed_population: bool = False
    uses_occasion: bool = False
    uses_bands: bool = False
    uses_level: bool = False  # by agency kind or by member organisation
    uses_span: bool = False  # per month or over the whole period


G_PEOPLE = _l("Deltagare")
G_SUS = _l("SUS-variabler")
G_OUTCOME = _l("Avslut och resultat")
G_REFERRAL = _l("Remisser")
G_PROGRESSION = _l("Stegförflyttning")
G_CONTINUITY = _l("Kontinuitet")
G_TARGETS = _l("Mål")
G_MEETINGS = _l("Möten och närvaro")

REPORTS: dict[str, Definition] = {
    d.name: d
    for d in (
        Definition(
            "participants",
            _l("Deltagare under perioden"),
            G_PEOPLE,
            participants.participants,
            population=Population.ACTIVE.value,
            fixed_population=True,
        ),
        Definition("age", _l("Ålder vid inskrivning"), G_PEOPLE, participants.age, uses_bands=True),
        Definition("municipality", _l("Hemkommun"), G_PEOPLE, participants.municipality),
        Definition(
            "referring_agency",
            _l("Remitterande myndighet"),
            G_PEOPLE,
            participants.referring_agency,
            uses_level=True,
        ),
        *(
            Definition(
                variable,
                sus.VARIABLE_TITLES[variable],
                G_SUS,
                sus.variable_report(variable),
                uses_occasion=True,
            )
            for variable in ("work", "occupation", "education", "time_on_support", "support")
        ),
        Definition(
            "support_transition",
            _l("Försörjning vid inskrivning och utskrivning (övergångsmatris)"),
            G_OUTCOME,
            outcomes.support_transition,
            population=Population.EXITED.value,
            fixed_population=True,
        ),
        Definition(
            "time_in_programme",
            _l("Tid i insatsen (månader)"),
            G_OUTCOME,
            outcomes.time_in_programme,
            population=Population.EXITED.value,
            fixed_population=True,
        ),
        Definition(
            "exit_reason",
            _l("Avslutsanledning"),
            G_OUTCOME,
            outcomes.exit_reason,
            population=Population.EXITED.value,
            fixed_population=True,
        ),
        Definition(
            "referral_funnel",
            _l("Remissflödet"),
            G_REFERRAL,
            referrals.referral_funnel,
            population=None,
        ),
        Definition(
            "joint_recommendation",
            _l("Beslutade remisser med gemensam rekommendation"),
            G_REFERRAL,
            referrals.joint_recommendation,
            population=None,
        ),
        Definition(
            "gender_balance",
            _l("Könsfördelning per månad och remitterande myndighet"),
            G_PEOPLE,
            participants.gender_balance,
            population=Population.ENROLLED.value,
            fixed_population=True,
            uses_level=True,
            uses_span=True,
        ),
        Definition(
            "progression",
            _l("Självskattad stegförflyttning"),
            G_PROGRESSION,
            progression.progression,
            population=Population.ACTIVE.value,
        ),
        Definition(
            "progression_age",
            _l("Självskattad stegförflyttning per åldersband"),
            G_PROGRESSION,
            progression.progression_age,
            population=Population.ACTIVE.value,
            uses_bands=True,
        ),
        Definition(
            "coordinator_changes",
            _l("Koordinatorsbyten per ärende"),
            G_CONTINUITY,
            continuity.coordinator_changes,
            population=None,
        ),
        Definition(
            "targets",
            _l("Mål och utfall"),
            G_TARGETS,
            targets.targets,
            population=None,
        ),
    )
}


def register(definition: Definition) -> None:
    """Add a report built by a package above statistics (e.g. meetings' attendance), at the end
    of the list; registering the same name again replaces it in place."""
    REPORTS[definition.name] = definition


def run(name: str, filters: Filters) -> Report:
    """Build one report with the given filters."""
    definition = REPORTS[name]
    population = definition.population
    if population and not definition.fixed_population and filters.population:
        population = filters.population
    result = definition.build(filters, population)
    result.population = population
    return result
