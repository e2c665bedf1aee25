"""The förbund (the tenant) and the column every tenant table carries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from coordination.core.db import UTCDateTime, utcnow
from coordination.extensions import db
from coordination.tenancy.context import current_id, require_id

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"


class Forbund(db.Model):
    """One samordningsförbund served by this installation."""

    __tablename__ = "forbund"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A short lower-case name for commands and archives ("finsam-norr"); never changes.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _forbund_for_new_row() -> int:
    return require_id()


class TenantMixin:
    """A row that belongs to one förbund: the current one when it is written."""

    @declared_attr
    def forbund_id(cls) -> Mapped[int]:  # noqa: N805 (declared_attr takes the class)
        return mapped_column(ForeignKey("forbund.id"), default=_forbund_for_new_row, nullable=False)


class OptionalTenantMixin:
    """A row that belongs to one förbund, or to the installation when written outside every
    förbund (the access log's sign-ins before a förbund is chosen)."""

    @declared_attr
    def forbund_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("forbund.id"), default=current_id, nullable=True)
