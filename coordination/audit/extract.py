"""The register extract (registerutdrag): everything held about a person, and who accessed it.

Each domain adds a section with `section(title, func)` when the app is created; the extract lists
them in the order they were added.
"""

from __future__ import annotations

from collections.abc import Callable

from coordination.audit.review import entries_for_person

SECTIONS: list[tuple[object, Callable[[int], list[dict]]]] = []


def section(title, func: Callable[[int], list[dict]]) -> None:
    """Register a function person_id → list of records (plain dicts) under a title (once)."""
    if all(known is not func for _title, known in SECTIONS):
        SECTIONS.append((title, func))


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def record_of(obj, names: list[str]) -> dict:
    """Return the named attributes of a row as a plain dict (dates as ISO strings)."""
    return {name: _plain(getattr(obj, name)) for name in names}


def build_extract(person_id: int) -> dict:
    """Return every section of the extract and the log of who accessed the person's data."""
    sections = [{"title": str(title), "records": func(person_id)} for title, func in SECTIONS]
    accesses = []
    for entry in entries_for_person(person_id, limit=100000):
        accesses.append(
            {
                "at": entry.at.isoformat(),
                "user": entry.user.name if entry.user else None,
                "unit_id": entry.unit_id,
                "role": entry.role,
                "action": entry.action,
                "object": f"{entry.object_type} {entry.object_id or ''}".strip(),
                "outcome": entry.outcome,
                "break_glass": entry.break_glass,
            }
        )
    return {"person_id": person_id, "sections": sections, "accesses": accesses}
