"""Reports on referrals: the referral funnel and the share with a joint recommendation.

Also the funnel of a period that the conference overview shows (period_funnel).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    case,
    func,
    select,
)

from coordination.conferences.models import Decision
from coordination.conferences.queries import working_calendar
from coordination.core.i18n import STOCKHOLM, label, local_today
from coordination.extensions import db
from coordination.referrals.models import Referral, ReferralHistory
from coordination.statistics.reports.base import (
    Filters,
    Report,
    Row,
    counts_of,
    filter_conditions,
    gender_counts,
    simple_report,
    zero_counts,
)
from workflows.calendar import WorkingCalendar
from workflows.conference import (
    Funnel,
    Outcome,
    median_working_days,
    median_working_days_counted,
)
from workflows.referral import ReferralAction, ReferralState


def _referral_conditions(filters: Filters) -> list:
    return filter_conditions(
        filters,
        programme=Referral.programme_id,
        municipality=Referral.home_municipality,
        day=Referral.referral_date,
    )


def _decided_hour(decided_at: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    """The decision time cut to the hour (UTC), for grouping.

    Stockholm's offset from UTC is whole hours, so the hour fixes the local day of the decision;
    grouping by it keeps the working-day count exact with one row per (day, hour) pair.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("hour", decided_at)
    return func.strftime("%Y-%m-%d %H:00:00", decided_at)


def _local_day(value: Any) -> date:
    """Return the Stockholm date of a UTC hour as either database returns it."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(STOCKHOLM).date()


def _median_working_days(groups: dict[tuple[date, Any], int]) -> float | None:
    """Return the median working days from referral date to decision (the local day) of the
    decided referrals grouped by (referral date, decision hour), counted as the conference
    overview counts them: Swedish holidays and the förbund's days off."""
    return median_working_days_counted(
        ((day, _local_day(hour), n) for (day, hour), n in groups.items()), working_calendar()
    )


OPEN_STATES = ("submitted", "completion_requested", "on_agenda")
FUNNEL_KINDS = ("received", "open", "decided", "admitted", "recommended", "withdrawn")


def _funnel_kinds(state: str, outcome: str | None) -> list[str]:
    """Return the funnel steps a referral in this state (with this decision) counts in."""
    kinds = ["received"]
    if state in OPEN_STATES:
        kinds.append("open")
    elif state == "decided":
        kinds.append("decided")
        if outcome == "admit":
            kinds.append("admitted")
        elif outcome == "recommend":
            kinds.append("recommended")
    elif state == "withdrawn":
        kinds.append("withdrawn")
    return kinds


def referral_funnel(filters: Filters, population: str | None) -> Report:
    """Count referrals received, in process, decided (admitted, recommended) and withdrawn.

    One grouped query gives both the steps and the time to decision: per state, outcome and
    gender, and for the decided ones per referral date and decision hour too (a few thousand
    groups); Python adds them up.
    """
    state = Referral.state
    decided = state == ReferralState.DECIDED.value
    day = case((decided, Referral.referral_date)).label("day")
    hour = case((decided, _decided_hour(Decision.decided_at))).label("hour")
    keys = (state, Decision.outcome, Referral.gender, day, hour)
    grouped = db.session.execute(
        select(*keys, func.count().label("n"))
        .select_from(Referral)
        .outerjoin(Decision, Referral.decision_id == Decision.id)
        .where(*_referral_conditions(filters))
        .group_by(*keys)
    )
    tally: dict[tuple[str, str | None, str], int] = {}
    decisions: dict[tuple[date, Any], int] = {}
    for state_, outcome, gender, day_, hour_, n in grouped.tuples():
        column = gender if gender in ("kvinna", "man") else "annat"
        tally[(state_, outcome, column)] = tally.get((state_, outcome, column), 0) + n
        if hour_ is not None:
            decisions[(day_, hour_)] = decisions.get((day_, hour_), 0) + n
    counts = {kind: zero_counts() for kind in FUNNEL_KINDS}
    for (state_, outcome, column), n in tally.items():
        for kind in _funnel_kinds(state_, outcome):
            counts[kind][column] += int(n)
            counts[kind]["total"] += int(n)
    rows = [Row(kind, label("funnel", kind), counts[kind]) for kind in FUNNEL_KINDS]
    median = _median_working_days(decisions)
    note = _(
        "Stegen räknas var för sig och ska inte läggas ihop: en remiss som beslutats räknas både "
        "som mottagen och som beslutad. Mottagna: remisser som skickats in någon gång under "
        "perioden (efter remissdatum). Procent av mottagna remisser. Tiden till beslut räknas i "
        "arbetsdagar från remissdatum till beslutsdagen (helgdagar och förbundets lediga dagar "
        "räknas inte)."
    )
    return Report(
        "referral_funnel",
        _("Remissflödet"),
        "referrals",
        filters,
        rows,
        rows[0].counts,
        note=note,
        summary={"median_working_days_to_decision": None if median is None else round(median, 1)},
        fixed_totals=rows[0].counts,
        total_label=_("Antal remisser (nämnare)"),
    )


def joint_recommendation(filters: Filters, population: str | None) -> Report:
    """Share of decided referrals with a written joint recommendation (target 100 %)."""
    title = _("Beslutade remisser med gemensam rekommendation")
    text = func.coalesce(func.trim(Decision.recommendation), "")
    has_text = case((text != "", "with_recommendation"), else_="without_recommendation").label(
        "kind"
    )
    grouped = db.session.execute(
        select(has_text, *gender_counts(Referral.gender))
        .select_from(Referral)
        .join(Decision, Referral.decision_id == Decision.id)
        .where(Referral.state == "decided", *_referral_conditions(filters))
        .group_by(has_text)
    ).all()
    found = {r.kind: counts_of(r) for r in grouped}
    rows = [
        Row(kind, label("funnel", kind), found.get(kind, zero_counts()))
        for kind in ("with_recommendation", "without_recommendation")
    ]
    return simple_report(
        "joint_recommendation",
        title,
        filters,
        rows,
        unit="referrals",
        note=_(
            "Målet är 100 %: varje beslutad remiss ska ha en skriftlig gemensam rekommendation."
        ),
    )


# --- the conference overview: the funnel of a period -------------------------------------


_Query = TypeVar("_Query", bound=Select)


def _utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    low = datetime.combine(start, time(0), tzinfo=STOCKHOLM).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(0), tzinfo=STOCKHOLM).astimezone(UTC)
    return low, high


def period_funnel(
    start: date,
    end: date,
    *,
    programme_id: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> Funnel:
    """Return the referral funnel of a period (local dates, both ends included).

    The conference overview's figures: what was received, decided and withdrawn in the period,
    and the median working days from referral to decision.
    """
    calendar = calendar or working_calendar()
    low, high = _utc_bounds(start, end)

    def in_programme(query: _Query) -> _Query:
        return query.where(Referral.programme_id == programme_id) if programme_id else query

    received = db.session.scalar(
        in_programme(
            select(func.count())
            .select_from(Referral)
            .where(Referral.referral_date >= start, Referral.referral_date <= end)
        )
    )
    decided_rows = db.session.execute(
        in_programme(
            select(Decision.outcome, Decision.recommendation, Decision.decided_at, Referral)
            .join(Referral, Referral.decision_id == Decision.id)
            .where(Decision.decided_at >= low, Decision.decided_at < high)
        )
    ).all()
    withdrawn = db.session.scalar(
        in_programme(
            select(func.count(func.distinct(ReferralHistory.referral_id)))
            .select_from(ReferralHistory)
            .join(Referral, Referral.id == ReferralHistory.referral_id)
            .where(
                ReferralHistory.action == ReferralAction.WITHDRAW.value,
                ReferralHistory.from_state != ReferralState.DRAFT.value,
                ReferralHistory.at >= low,
                ReferralHistory.at < high,
            )
        )
    )
    pairs = [
        (referral.referral_date or local_today(referral.submitted_at), local_today(decided_at))
        for _o, _r, decided_at, referral in decided_rows
    ]
    return Funnel(
        received=received or 0,
        decided=len(decided_rows),
        admitted=sum(1 for row in decided_rows if row[0] == Outcome.ADMIT.value),
        recommended=sum(1 for row in decided_rows if row[0] == Outcome.RECOMMEND.value),
        withdrawn=withdrawn or 0,
        median_working_days=median_working_days(pairs, calendar),
        with_recommendation=sum(1 for row in decided_rows if (row[1] or "").strip()),
    )
