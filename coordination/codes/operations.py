"""Reading and seeding code lists."""

from __future__ import annotations

from flask_babel import get_locale
from sqlalchemy import select

from coordination.codes.models import Code
from coordination.extensions import db
from workflows.codes import DEFAULT_CODE_LISTS


def ensure_default_codes() -> int:
    """Insert the default codes that are missing; return how many were added."""
    existing = {(c.list_name, c.code) for c in db.session.scalars(select(Code))}
    added = 0
    for list_name, entries in DEFAULT_CODE_LISTS.items():
        for position, (code, label_sv, label_en) in enumerate(entries):
            if (list_name, code) not in existing:
                db.session.add(
                    Code(
                        list_name=list_name,
                        code=code,
                        label_sv=label_sv,
                        label_en=label_en,
                        position=position,
                    )
                )
                added += 1
    db.session.flush()
    return added


def active_codes(list_name: str) -> list[Code]:
    """Return the codes offered in new registrations, in the list's order."""
    return list(
        db.session.scalars(
            select(Code)
            .where(Code.list_name == list_name, Code.historical.is_(False))
            .order_by(Code.position, Code.id)
        )
    )


def choices(list_name: str) -> list[tuple[str, str]]:
    """Return (code, label) pairs in the user's language for a select or checkbox group."""
    english = str(get_locale() or "sv") == "en"
    return [(c.code, c.label_en if english else c.label_sv) for c in active_codes(list_name)]


def code_label(list_name: str, code: str | None) -> str:
    """Return the label of a code (historical ones included), or the code itself."""
    if not code:
        return ""
    found = db.session.scalar(select(Code).where(Code.list_name == list_name, Code.code == code))
    if found is None:
        return code
    return found.label_en if str(get_locale() or "sv") == "en" else found.label_sv


def valid_codes(list_name: str) -> set[str]:
    """Return the codes that new registrations may use."""
    return {c.code for c in active_codes(list_name)}
