"""What a case reads from the packages above it: its action plan and its meetings.

A case comes before its plan and its meetings, so those packages hand their readers in when the
app is created (`connect`, called by create_app); cases never imports them. The figures a list
shows, sorts and filters on come as SQL expressions over `Case`, so a list is one query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

_READERS: dict[str, Callable] = {}


def connect(
    *,
    latest_version: Callable,
    signed_version: Callable,
    contact_agencies: Callable[[int, Iterable[int]], dict[int, set[str]]],
    contact_case_ids: Callable[[int], set[int]],
    plan_columns: Callable[[], dict],
    meeting_columns: Callable[[datetime | None], dict],
) -> None:
    """Take the plan's and the meetings' readers."""
    _READERS.update(
        latest_version=latest_version,
        signed_version=signed_version,
        contact_agencies=contact_agencies,
        contact_case_ids=contact_case_ids,
        plan_columns=plan_columns,
        meeting_columns=meeting_columns,
    )


def _reader(name: str) -> Callable:
    try:
        return _READERS[name]
    except KeyError:
        raise RuntimeError(
            f"cases.hooks.{name} is not connected (create_app connects it)"
        ) from None


def latest_version(case_id: int):
    """Return the newest version of the case's plan, if there is one."""
    return _reader("latest_version")(case_id)


def signed_version(case_id: int):
    """Return the plan version in force (signed by every party), if there is one."""
    return _reader("signed_version")(case_id)


def contact_agencies(user_id: int, case_ids: Iterable[int]) -> dict[int, set[str]]:
    """Return, by case, the agencies of the live plan actions whose contact the user is."""
    return _reader("contact_agencies")(user_id, list(case_ids))


def contact_case_ids(user_id: int) -> set[int]:
    """Return the cases with a live plan action whose contact the user is."""
    return _reader("contact_case_ids")(user_id)


def plan_columns() -> dict:
    """Return the plan's figures of the case `Case` as SQL expressions (correlated to `Case`).

    "plan_version", "plan_state", "in_force_version", "review_on", "open_actions".
    """
    return _reader("plan_columns")()


def meeting_columns(now: datetime | None = None) -> dict:
    """Return the meetings' figures of the case `Case` as SQL expressions (correlated to `Case`).

    "next_meeting_at", "missed_count", "escalated", "open_tasks"; the next meeting is the first
    after `now`, or after the moment the statement runs.
    """
    return _reader("meeting_columns")(now)
