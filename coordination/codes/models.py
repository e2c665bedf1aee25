"""Code list entries."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from coordination.extensions import db
from coordination.tenancy.models import TenantMixin


class Code(TenantMixin, db.Model):
    """One code in one list, with its labels, order and whether it is historical."""

    __tablename__ = "code"
    __table_args__ = (
        UniqueConstraint("forbund_id", "list_name", "code", name="uq_code_list_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(40), index=True)
    code: Mapped[str] = mapped_column(String(80))
    label_sv: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)
    historical: Mapped[bool] = mapped_column(default=False)
