"""The one place that scopes every ORM statement to the current förbund, and tells PostgreSQL.

`install` hooks the app's session class:

- `do_orm_execute`: every ORM SELECT, UPDATE and DELETE (lazy and selectin loads included) gets
  "forbund_id = current förbund" on every tenant entity it touches, joins and subqueries
  included. Not the alias a joined eager load adds (`joinedload`): use it only for a many-to-one
  parent, which is in the same förbund; a collection is loaded with `selectinload`, which is
  scoped. Outside every förbund that is "forbund_id IS NULL": nothing of any förbund (the
  access log's installation rows only). `unscoped()` lifts it for the installation's own work
  (the förbund list, a user's förbund, the archive): PostgreSQL's policies still apply there.
- `after_begin`: each transaction starts with `app.forbund_id` set (PostgreSQL), which is what the
  row-level-security policies read.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from coordination.tenancy.context import current_id, tell
from coordination.tenancy.models import OptionalTenantMixin, TenantMixin

UNSCOPED = "coordination_unscoped"


def unscoped(statement):
    """Return the statement without the code's förbund filter (the database's still applies)."""
    return statement.execution_options(**{UNSCOPED: True})


def _scope(state: ORMExecuteState) -> None:
    # Lazy loads are scoped here too, to the förbund current when they run: the criteria are not
    # kept on the loaded objects (propagate_to_loaders=False), so an object read before a förbund
    # was chosen (the user at sign-in) loads its relationships within the one chosen since.
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(UNSCOPED):
        return
    state.statement = state.statement.options(*_criteria(current_id()))


@cache
def _criteria(forbund_id: int | None) -> tuple:
    """The two criteria options for one förbund (None: outside every förbund), built once per
    process: building them analyses their lambdas, and every ORM statement takes them."""
    if forbund_id is None:
        return (
            with_loader_criteria(
                TenantMixin, _nothing, include_aliases=True, propagate_to_loaders=False
            ),
            with_loader_criteria(
                OptionalTenantMixin,
                _installation_rows,
                include_aliases=True,
                propagate_to_loaders=False,
            ),
        )
    return (
        with_loader_criteria(
            TenantMixin,
            lambda cls: cls.forbund_id == forbund_id,
            include_aliases=True,
            propagate_to_loaders=False,
        ),
        with_loader_criteria(
            OptionalTenantMixin,
            lambda cls: cls.forbund_id == forbund_id,
            include_aliases=True,
            propagate_to_loaders=False,
        ),
    )


def own_rows(table):
    """Return "the current förbund's rows" for a Core statement on a tenant table (or its class),
    which the session's scoping does not see: `connection.execute(select(...).where(...))`."""
    forbund_id = current_id()
    column = table.c.forbund_id if hasattr(table, "c") else table.forbund_id
    return column.is_(None) if forbund_id is None else column == forbund_id


def _nothing(cls):
    return cls.forbund_id.is_(None)  # never true: the column is NOT NULL


def _installation_rows(cls):
    return cls.forbund_id.is_(None)


def _tell_database(session, transaction, connection) -> None:
    tell(connection)


def install(session_class) -> None:
    """Hook the scoping onto the session class, once."""
    for name, hook in (("do_orm_execute", _scope), ("after_begin", _tell_database)):
        if not event.contains(session_class, name, hook):
            event.listen(session_class, name, hook)
