"""Keyset paging of the lists that grow with the data: about fifty rows a page, counted in SQL.

A page is the rows after (or before) an anchor row in the list's order: its sort key and id,
compared as one row value (`(starts_at, id) > (:starts_at, :id)`), so ties in the sort key are
neither lost nor shown twice. The links carry only the anchor row's id (`?after=123`): its key is
read back from the row, so no name or date of anyone is put in a URL. The position of the page and
the rows beyond it ("Visar 51–100 av 1 234") are counted in SQL. Sort keys must be NOT NULL columns
of the listed model. A long list is counted only so far ("Visar 1–50 av fler än 1 000"): the
count must not grow with the data, and nobody pages through a thousand rows to reach one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import request, url_for
from sqlalchemy import Select, func, literal, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from coordination.core.parsing import is_digits
from coordination.extensions import db

PAGE_SIZE = 50
# A list is counted up to here: beyond it the page says "fler än 1 000", not the exact number.
COUNT_CAP = 1000


@dataclass
class Page:
    """One page of a list: its rows, where it sits in the whole, and the anchors of its links."""

    rows: list
    total: int  # the rows counted: all of them, or (when `more`) the first COUNT_CAP or so
    offset: int
    more: bool = False  # there are more rows than `total`
    name: str = ""
    first_id: int | None = None
    last_id: int | None = None

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __bool__(self) -> bool:
        return bool(self.rows)

    @property
    def first_number(self) -> int:
        """The position of the first row shown, counting from one (0 when none is shown)."""
        return self.offset + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        """The position of the last row shown."""
        return self.offset + len(self.rows)

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.rows) < self.total

    @property
    def after_param(self) -> str:
        return f"{self.name}_after" if self.name else "after"

    @property
    def before_param(self) -> str:
        return f"{self.name}_before" if self.name else "before"

    def url(self, direction: str) -> str:
        """The address of the next or previous page: this page's, with this list's anchor moved."""
        args: dict[str, Any] = {
            k: v
            for k, v in request.args.to_dict(flat=False).items()
            if k not in (self.after_param, self.before_param)
        }
        if direction == "next" and self.last_id is not None:
            args[self.after_param] = self.last_id
        elif direction == "previous" and self.first_id is not None:
            args[self.before_param] = self.first_id
        return url_for(request.endpoint or "", **(request.view_args or {}), **args)


def _anchor(name: str) -> tuple[str | None, int | None]:
    prefix = f"{name}_" if name else ""
    for direction in ("after", "before"):
        raw = request.args.get(f"{prefix}{direction}", "")
        if is_digits(raw):  # a hand-edited or huge anchor is no anchor: the first page
            return direction, int(raw)
    return None, None


def keyset_page(
    query: Select,
    keys: Sequence[InstrumentedAttribute],
    id_column: InstrumentedAttribute,
    *,
    descending: bool = False,
    name: str = "",
    size: int | None = None,
    options: Sequence[Any] = (),
    anchor: tuple[str | None, int | None] | None = None,
) -> Page:
    """Return the page of `query` (a select of one model) that the request's anchor asks for.

    `keys` and `id_column` are the model's sort columns; the request's `after`/`before` (or
    `<name>_after`/`<name>_before` when a page has several lists) names the anchor row;
    `options` (eager loads) apply to the rows only. Four statements at most, plus one per eager
    load: the anchor's key, the rows, the rows ahead of the page, the rows beyond it.
    """
    size = size or PAGE_SIZE
    direction, anchor_id = anchor if anchor is not None else _anchor(name)
    order = [*keys, id_column]
    row_key = tuple_(*order)

    def after(values) -> Any:
        return row_key < tuple_(*values) if descending else row_key > tuple_(*values)

    def before(values) -> Any:
        return row_key > tuple_(*values) if descending else row_key < tuple_(*values)

    anchor_key = None
    if anchor_id is not None:
        anchor_key = db.session.execute(select(*order).where(id_column == anchor_id)).first()
    if anchor_key is None:
        direction = None
    forward = [c.desc() if descending else c.asc() for c in order]
    backward = [c.asc() if descending else c.desc() for c in order]
    if direction == "before":
        rows = list(
            db.session.scalars(
                query.where(before(anchor_key)).options(*options).order_by(*backward).limit(size)
            )
        )[::-1]
    else:
        page_query = query.where(after(anchor_key)) if direction == "after" else query
        rows = list(db.session.scalars(page_query.options(*options).order_by(*forward).limit(size)))

    def key(row) -> list:
        return [getattr(row, c.key) for c in order]

    # What lies ahead of the page is counted exactly (the cost grows with how deep the page is,
    # not with the list); what lies beyond it only up to a limit: a list of 200,000 is not counted
    # to say "fler än 1 000". A page read forwards that is not full ends the list.
    ahead_of_page, beyond_page = None, None
    if rows:
        ahead_of_page = before(key(rows[0])) if direction else None
        if direction == "before" or len(rows) == size:
            beyond_page = after(key(rows[-1]))
    elif direction == "after":  # past the end: every row is ahead of the anchor
        ahead_of_page = ~after(anchor_key)
    elif direction == "before":  # nothing before the anchor: the list starts at it
        beyond_page = ~before(anchor_key)
    ahead = 0 if ahead_of_page is None else _count(query.where(ahead_of_page))
    limit = max(COUNT_CAP - ahead - len(rows), size)
    beyond = 0 if beyond_page is None else _count(query.where(beyond_page), limit + 1)
    return Page(
        rows=rows,
        total=ahead + len(rows) + min(beyond, limit),
        offset=ahead,
        more=beyond > limit,
        name=name,
        first_id=getattr(rows[0], id_column.key) if rows else None,
        last_id=getattr(rows[-1], id_column.key) if rows else None,
    )


def _count(query: Select, limit: int | None = None) -> int:
    """Count the rows of `query`, or only up to `limit` (its rows read in any order)."""
    rows = query.with_only_columns(literal(1), maintain_column_froms=True).order_by(None)
    if limit is not None:
        rows = rows.limit(limit)
    return db.session.execute(select(func.count()).select_from(rows.subquery())).scalar_one()
