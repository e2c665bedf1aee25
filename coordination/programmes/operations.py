"""Creating and changing programmes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.codes.operations import known_codes, list_title
from coordination.core.db import get_row
from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.programmes.models import Programme, ProgrammeTarget
from workflows.programme import JOINT_RECOMMENDATION_CODES, TargetVariable, target_occasions


def save_programme(programme: Programme | None, data: dict) -> Programme:
    """Create a programme or update its settings; names are unique."""
    clash = db.session.scalar(
        select(Programme).where(func.lower(Programme.name) == data["name"].strip().lower())
    )
    if clash is not None and clash is not programme:
        raise ValidationFailed(
            _("Det finns redan en insats med det namnet."),
            errors={"name": [_("Det finns redan en insats med det namnet.")]},
        )
    if programme is None:
        programme = Programme()
        db.session.add(programme)
    for key, value in data.items():
        setattr(programme, key, value.strip() if isinstance(value, str) else value)
    db.session.flush()
    return programme


# --- outcome targets (../shared/DOMAIN.md §12, "Programme targets") -----------------------------


def _target_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a target's input; raise ValidationFailed naming every bad field at once."""
    errors: dict[str, list[str]] = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = [_("Skriv vad målet gäller, till exempel ”I arbete eller studier”.")]
    elif len(name) > 200:
        errors["name"] = [_("Skriv högst 200 tecken.")]
    variable = str(data.get("variable") or "").strip()
    occasion: str | None = str(data.get("occasion") or "").strip() or None
    codes = [str(c).strip() for c in data.get("codes") or [] if str(c).strip()]
    if variable not in {v.value for v in TargetVariable}:
        errors["variable"] = [_("Välj en variabel i listan.")]
    elif variable == TargetVariable.JOINT_RECOMMENDATION:
        occasion, codes = None, list(JOINT_RECOMMENDATION_CODES)
    else:
        allowed = target_occasions(variable)
        if occasion is None and len(allowed) == 1:
            occasion = allowed[0]
        if occasion not in allowed:
            errors["occasion"] = (
                [_("Avslutsanledningen finns bara vid utskrivning: välj utskrivning.")]
                if len(allowed) == 1
                else [_("Välj vid vilket tillfälle målet mäts.")]
            )
        known = known_codes(variable)
        unknown = sorted(set(codes) - known)
        if not codes:
            errors["codes"] = [_("Välj minst en kod som räknas som måluppfyllelse.")]
        elif unknown:
            errors["codes"] = [
                _(
                    "Koderna finns inte i kodlistan %(list)s: %(codes)s.",
                    list=list_title(variable),
                    codes=", ".join(unknown),
                )
            ]
        codes = list(dict.fromkeys(codes))
    raw = str(data.get("target_percent") or "").strip().replace(",", ".").rstrip("%").strip()
    percent: Decimal | None = None
    try:
        percent = Decimal(raw) if raw else None
    except InvalidOperation:
        percent = None
    if percent is None or not percent.is_finite():
        errors["target_percent"] = [_("Ange målet i procent, ett tal från 0 till 100.")]
    elif not Decimal(0) <= percent <= Decimal(100):
        errors["target_percent"] = [_("Målet ska vara från 0 till 100 procent.")]
    elif percent != percent.quantize(Decimal("0.1")):
        errors["target_percent"] = [_("Ange målet med högst en decimal.")]
    if errors:
        raise ValidationFailed(_("Målet kunde inte sparas."), errors=errors)
    return {
        "name": name,
        "variable": variable,
        "occasion": occasion,
        "codes": codes,
        "target_percent": percent,
    }


def add_target(programme: Programme, data: Mapping[str, Any]) -> ProgrammeTarget:
    """Add an outcome target to a programme (codes from the variable's list, 0-100 %)."""
    target = ProgrammeTarget(programme_id=programme.id, **_target_values(data))
    db.session.add(target)
    db.session.flush()
    return target


def update_target(target: ProgrammeTarget, data: Mapping[str, Any]) -> ProgrammeTarget:
    """Change an outcome target (the row is locked while it changes)."""
    values = _target_values(data)
    locked = get_row(ProgrammeTarget, target.id, lock=True)
    for key, value in values.items():
        setattr(locked, key, value)
    db.session.flush()
    return locked


def remove_target(target: ProgrammeTarget) -> None:
    """Remove an outcome target."""
    db.session.delete(target)
    db.session.flush()
