"""What a case reads from the packages above it: its action plan and its meetings.

A case comes before its plan and its meetings, so those packages hand their readers in when the
app is created (`connect`, called by create_app); cases never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_READERS: dict[str, Callable] = {}


def connect(
    *,
    latest_version: Callable,
    signed_version: Callable,
    contact_agencies: Callable[[int, Iterable[int]], dict[int, set[str]]],
    contact_case_ids: Callable[[int], set[int]],
    meeting_summary: Callable[[list[int]], dict[int, dict]],
) -> None:
    """Take the plan's and the meetings' readers."""
    _READERS.update(
        latest_version=latest_version,
        signed_version=signed_version,
        contact_agencies=contact_agencies,
        contact_case_ids=contact_case_ids,
        meeting_summary=meeting_summary,
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


def meeting_summary(case_ids: Iterable[int]) -> dict[int, dict]:
    """Return {case_id: {next_meeting_at, missed_count, escalated, open_tasks, ...}}."""
    ids = list(case_ids)
    return _reader("meeting_summary")(ids) if ids else {}
