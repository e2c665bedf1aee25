"""Database helpers shared by every domain: time columns, CHECKed enum columns, job locks,
loading one row by id (locked when it is about to change) and searching text."""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from flask_babel import gettext as _
from sqlalchemy import CheckConstraint, DateTime, String, TypeDecorator, and_, literal, select, text
from sqlalchemy.orm import Session, scoped_session

from coordination.core.errors import NotFound
from coordination.extensions import db

# A session as functions receive it: an ORM session, or Flask-SQLAlchemy's scoped `db.session`,
# which stands for the request's (or the test's) session.
DbSession = Session | scoped_session


class HasId(Protocol):
    """A mapped class with an `id` primary key."""

    id: Any


Row = TypeVar("Row", bound=HasId)


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime on every database, SQLite included."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def enum_column(enum_cls: type[enum.Enum], name: str, **kwargs):
    """Return a string column and the CHECK constraint that keeps it within the enum."""
    values = ", ".join(f"'{member.value}'" for member in enum_cls)
    column = db.Column(name, String(40), **kwargs)
    check = CheckConstraint(f"{name} IN ({values})", name=f"{name}_valid")
    return column, check


def check_in(column: str, values: list[str] | tuple[str, ...], name: str | None = None):
    """Return a CHECK constraint that keeps a string column within a fixed set of values."""
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_valid")


def try_advisory_xact_lock(key: int) -> bool:
    """Take a transaction-level advisory lock if it is free (always true on SQLite).

    A periodic job takes one so that two beats, or a run slower than its interval, never overlap;
    the lock goes with the job's commit or rollback.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return True
    locked = connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})
    return bool(locked.scalar())


def get_row(model: type[Row], row_id, *, lock: bool = False, missing: str | None = None) -> Row:
    """Load one row by id, locking it (SELECT … FOR UPDATE) when it is about to change; else 404.

    The lock reloads the row's columns, so the caller sees what the previous holder committed.
    """
    query = select(model).where(model.id == row_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.session.scalar(query)
    if row is None:
        raise NotFound(missing or _("Sidan eller uppgiften finns inte."))
    return row


SEARCH_MAX = 100
_UNSEARCHABLE = re.compile(r"[\x00\ud800-\udfff]")


def search_text(value: str | None) -> str:
    """Return a search as it is matched: single spaces, at most SEARCH_MAX characters, without
    the characters no text in the database holds (NUL, a lone surrogate)."""
    value = value if isinstance(value, str) else ""
    return " ".join(_UNSEARCHABLE.sub("", value).split())[:SEARCH_MAX]


def _contains(expression, word: str):
    """`expression` contains `word`, case-insensitive (ILIKE on PostgreSQL, LIKE on SQLite),
    LIKE's wildcards in the word taken as plain characters."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return expression.ilike(f"%{escaped}%", escape="\\")


def name_matches(first_name, last_name, text: str):
    """Every word of the search is in the name ("first last"), in SQL."""
    name = first_name + literal(" ") + last_name
    return and_(*(_contains(name, word) for word in search_text(text).split(" ")))


def number_in(text: str) -> int | None:
    """Return the number a search names (digits, "#" before them allowed), or None."""
    number = search_text(text).lstrip("#").strip()
    if number.isascii() and number.isdigit() and len(number) < 10:
        return int(number)
    return None
