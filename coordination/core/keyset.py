"""Keyset pagination of a list page: newest first by a time and the id, a page at a time.

The links carry the sort key of the row they continue from (`after` the last row shown, `before`
the first), never an offset: the database reads the page from an index on (time, id) however deep
the page, and rows written meanwhile do not shift it. The count ("Visar 1–50 av N") is one SQL
statement beside the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, tuple_

from coordination.extensions import db

PAGE_SIZE = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """The sort key of one row: its time and its id."""

    at: datetime
    id: int

    def token(self) -> str:
        """Return the key as it goes in a link: microseconds since 1970, a dash, the id."""
        return f"{(self.at - _EPOCH) // _MICROSECOND}-{self.id}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        """Read a link's key; anything else (hand-edited, out of range) is no key at all."""
        micros, _dash, row_id = (token or "").partition("-")
        if not all(part.isascii() and part.isdigit() for part in (micros, row_id)):
            return None
        if len(micros) > 18 or len(row_id) > 10 or int(row_id) >= 2**31:  # not a row's key
            return None
        try:
            return cls(_EPOCH + int(micros) * _MICROSECOND, int(row_id))
        except OverflowError:
            return None


@dataclass(frozen=True)
class KeysetPage:
    """One page of rows and where it sits in the whole list."""

    rows: list[Any]
    total: int
    first: int  # position of the first row shown, from 1 (0 when the page is empty)
    next: str | None  # the `after` key of the next page, None on the last
    previous: str | None  # the `before` key of the previous page, None on the first

    @property
    def last(self) -> int:
        """Return the position of the last row shown."""
        return self.first + len(self.rows) - 1 if self.rows else 0


def keyset_page(
    query: Select,
    at_column,
    id_column,
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    options: tuple = (),
) -> KeysetPage:
    """Return the page of `query` (newest first) after or before a row's key, and the count.

    Two statements whatever the page: the rows (loaded with `options`), then the count of the
    whole list with the number of rows newer than the first one shown (its position).
    """
    key = tuple_(at_column, id_column)
    after_key, before_key = Cursor.parse(after), Cursor.parse(before)
    if before_key is not None:
        rows_query = query.where(key > tuple_(before_key.at, before_key.id))
        rows_query = rows_query.order_by(at_column, id_column)
    else:
        rows_query = query
        if after_key is not None:
            rows_query = rows_query.where(key < tuple_(after_key.at, after_key.id))
        rows_query = rows_query.order_by(at_column.desc(), id_column.desc())
    rows = list(db.session.scalars(rows_query.options(*options).limit(size)))
    if before_key is not None:
        rows.reverse()
    if not rows:
        total = db.session.scalar(query.order_by(None).with_only_columns(func.count()))
        return KeysetPage(rows=[], total=total or 0, first=0, next=None, previous=None)
    top = Cursor(getattr(rows[0], at_column.key), rows[0].id)
    newer = func.count().filter(key > tuple_(top.at, top.id))
    total, ahead = db.session.execute(
        query.order_by(None).with_only_columns(func.count(), newer)
    ).one()
    bottom = Cursor(getattr(rows[-1], at_column.key), rows[-1].id)
    return KeysetPage(
        rows=rows,
        total=total,
        first=ahead + 1,
        next=bottom.token() if ahead + len(rows) < total else None,
        previous=top.token() if ahead > 0 else None,
    )
