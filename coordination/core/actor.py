"""The acting user: who an operation acts for, as operations and permission checks see them.

Operations take `by: Actor`; the signed-in `coordination.auth.models.User` is one. The protocol
names what the domains may rely on, so core and the domains below auth need not import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Actor(Protocol):
    """A signed-in user: an id, a name, and roles held in organisation units."""

    id: int
    name: str
    email: str

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def roles(self) -> set[str]: ...

    @property
    def agency_kinds(self) -> set[str]: ...

    def has_any_role(self, roles: Iterable[str]) -> bool: ...

    def units_with(self, role: str) -> list: ...
