"""Writes: price lists (edited, copied as a new version, loaded from a file), programme costs and
saved calculations. Every check reports all its problems at once; nothing is half-written."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, select

from coordination.codes.operations import known_codes
from coordination.core.db import get_row
from coordination.core.errors import Conflict, ValidationFailed
from coordination.core.parsing import is_digits
from coordination.extensions import db
from coordination.programmes.models import Programme
from coordination.socioeconomics import labels
from coordination.socioeconomics.models import (
    PriceEntry,
    PriceList,
    ProgrammeCost,
    SavedCalculation,
)
from workflows.socioeconomics import (
    ACTORS,
    DEFAULT_SHARES,
    KINDS,
    PUBLIC_ACTORS,
    VARIABLES,
    share_problems,
)

ENTRY_FIELDS = ("variable", "code", "actor", "kind", "amount", "source")
MAX_AMOUNT = 10**12
_SPACES = re.compile(r"[\s\u00a0\u202f]")


def parse_amount(raw: object) -> tuple[int | None, str | None]:
    """Read whole kronor ("110 000" too); return (amount, problem)."""
    text = _SPACES.sub("", str(raw if raw is not None else ""))
    if not text:
        return None, _("Ange ett belopp i hela kronor.")
    if not re.fullmatch(r"-?[0-9]{1,13}", text):
        return None, _("Ange beloppet i hela kronor, utan decimaler.")
    amount = int(text)
    if amount < 0:
        return None, labels.problem("negative_amount")
    if amount > MAX_AMOUNT:
        return None, _("Beloppet är för stort.")
    return amount, None


def entry_problems(entry: dict) -> tuple[dict | None, list[str]]:
    """Check one price-list row; return the clean row (or None) and its problems."""
    problems: list[str] = []
    unknown = sorted(set(entry) - set(ENTRY_FIELDS))
    if unknown:
        problems.append(_("okända fält %(fields)s", fields=", ".join(unknown)))
    variable = str(entry.get("variable") or "").strip()
    code = str(entry.get("code") or "").strip()
    actor = str(entry.get("actor") or "").strip()
    kind = str(entry.get("kind") or "").strip()
    source = str(entry.get("source") or "").strip()
    if variable not in VARIABLES:
        problems.append(_("variabeln ska vara en av %(names)s", names=", ".join(VARIABLES)))
    elif code not in known_codes(variable):
        problems.append(
            _("koden %(code)s finns inte i kodlistan %(list)s", code=code, list=variable)
        )
    if actor not in ACTORS:
        problems.append(_("aktören ska vara en av %(names)s", names=", ".join(ACTORS)))
    if kind not in KINDS:
        problems.append(_("typen ska vara cost (kostnad) eller revenue (intäkt)"))
    amount, problem = parse_amount(entry.get("amount"))
    if problem:
        problems.append(problem)
    if len(source) > 300:
        problems.append(_("källan får vara högst 300 tecken"))
    if problems:
        return None, problems
    return {
        "variable": variable,
        "code": code,
        "actor": actor,
        "kind": kind,
        "amount": amount,
        "source": source or None,
    }, []


def check_entries(rows: list[tuple[str, dict]]) -> list[dict]:
    """Check every row; return the clean rows or raise with each bad row's problems."""
    problems: list[str] = []
    clean: list[dict] = []
    seen: set[tuple[str, str, str]] = set()
    for where, entry in rows:
        row, found = entry_problems(entry)
        if row is not None:
            key = (row["variable"], row["code"], row["actor"])
            if key in seen:
                found = [_("samma kod och aktör finns redan på en annan rad")]
            seen.add(key)
        problems.extend(f"{where}: {p}" for p in found)
        if row is not None and not found:
            clean.append(row)
    if problems:
        raise ValidationFailed(
            _("Prislistan sparades inte: rätta felen."), errors={"entries": problems}
        )
    return clean


def is_used(price_list: PriceList) -> bool:
    """Tell whether a saved calculation used this version (then it never changes)."""
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(SavedCalculation)
            .where(SavedCalculation.price_list_id == price_list.id)
        )
    )


def _header_problems(name: str, year: object) -> tuple[dict[str, list[str]], int | None]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Ange prislistans namn.")]
    elif len(name) > 120:
        errors["name"] = [_("Namnet får vara högst 120 tecken.")]
    text = str(year or "").strip()
    if not is_digits(text) or not 2000 <= int(text) <= 2100:
        errors["year"] = [_("Ange ett år från 2000 till 2100.")]
        return errors, None
    return errors, int(text)


def next_version(name: str, year: int) -> int:
    """Return the next free version number of a name and year."""
    highest = db.session.scalar(
        select(func.max(PriceList.version)).where(PriceList.name == name, PriceList.year == year)
    )
    return (highest or 0) + 1


def create_price_list(
    *, name: str, year: object, rows: list[tuple[str, dict]], note: str | None = None, by=None
) -> PriceList:
    """Create a price list (the next version of its name and year) with its entries."""
    errors, year_number = _header_problems(name or "", year)
    clean: list[dict] = []
    try:
        clean = check_entries(rows)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(_("Prislistan sparades inte: rätta felen."), errors=errors)
    assert year_number is not None
    price_list = PriceList(
        name=name.strip(),
        year=year_number,
        version=next_version(name.strip(), year_number),
        note=(note or "").strip()[:500] or None,
        created_by_id=getattr(by, "id", None),
        entries=[PriceEntry(**row) for row in clean],
    )
    db.session.add(price_list)
    db.session.flush()
    return price_list


def save_entries(price_list: PriceList, rows: list[tuple[str, dict]]) -> PriceList:
    """Replace the entries of an unused version (a used one is copied as a new version first)."""
    if is_used(price_list):
        raise Conflict(
            _(
                "Den här versionen av prislistan har använts i en sparad beräkning och ändras "
                "inte. Kopiera den som en ny version och ändra kopian."
            )
        )
    clean = check_entries(rows)
    price_list.entries.clear()
    db.session.flush()
    price_list.entries.extend(PriceEntry(**row) for row in clean)
    db.session.flush()
    return price_list


def copy_as_new_version(price_list: PriceList, by=None) -> PriceList:
    """Copy a version, entries and sources included, as the next version of its name and year."""
    copy = PriceList(
        name=price_list.name,
        year=price_list.year,
        version=next_version(price_list.name, price_list.year),
        note=price_list.note,
        based_on_id=price_list.id,
        created_by_id=getattr(by, "id", None),
        entries=[
            PriceEntry(**{f: getattr(e, f) for f in ENTRY_FIELDS}) for e in price_list.entries
        ],
    )
    db.session.add(copy)
    db.session.flush()
    return copy


def _share(raw: object, errors: dict, field: str) -> Decimal:
    text = str(raw if raw is not None else "").strip().replace(",", ".").rstrip("%").strip()
    try:
        value = Decimal(text or "0")
        if not value.is_finite() or value != value.quantize(Decimal("0.01")):
            raise InvalidOperation
    except InvalidOperation:
        errors.setdefault(field, []).append(_("Ange andelen i procent, högst två decimaler."))
        return Decimal(0)
    if value < 0 or value > 100:
        errors.setdefault(field, []).append(_("Andelen ska vara från 0 till 100 procent."))
    return value


def save_programme_cost(programme: Programme, data: dict) -> ProgrammeCost:
    """Record a programme's cost of one year: a budget or a cost per participant, and the
    funders' shares (which must sum to 100 %)."""
    errors: dict[str, list[str]] = {}
    year_text = str(data.get("year") or "").strip()
    year = int(year_text) if is_digits(year_text) and 2000 <= int(year_text) <= 2100 else None
    if year is None:
        errors["year"] = [_("Ange ett år från 2000 till 2100.")]
    amounts: dict[str, int | None] = {}
    for field in ("budget", "cost_per_participant"):
        raw = str(data.get(field) or "").strip()
        amounts[field] = None
        if raw:
            amounts[field], problem = parse_amount(raw)
            if problem:
                errors[field] = [problem]
    if not errors.get("budget") and not errors.get("cost_per_participant"):
        if (amounts["budget"] is None) == (amounts["cost_per_participant"] is None):
            errors["budget"] = [
                _("Ange antingen en budget för året eller en kostnad per deltagare.")
            ]
    shares = {
        actor: _share(data.get(f"share_{actor}", DEFAULT_SHARES[actor]), errors, f"share_{actor}")
        for actor in PUBLIC_ACTORS
    }
    if not any(k.startswith("share_") for k in errors) and share_problems(shares):
        errors["share_state"] = [labels.problem("shares_not_100")]
    source = str(data.get("source") or "").strip()
    if len(source) > 300:
        errors["source"] = [_("Källan får vara högst 300 tecken.")]
    if errors:
        raise ValidationFailed(_("Kostnaden sparades inte: rätta felen."), errors=errors)
    cost = db.session.scalar(
        select(ProgrammeCost).where(
            ProgrammeCost.programme_id == programme.id, ProgrammeCost.year == year
        )
    ) or ProgrammeCost(programme_id=programme.id, year=year)
    cost.budget, cost.cost_per_participant = amounts["budget"], amounts["cost_per_participant"]
    for actor, value in shares.items():
        setattr(cost, f"share_{actor}", value)
    cost.source = source or None
    db.session.add(cost)
    db.session.flush()
    return cost


def save_calculation(report, by=None) -> SavedCalculation:
    """Keep a cohort calculation (its figures as JSON) for the board and for comparisons.

    The price-list version is locked first, so an edit of it in flight finishes before the
    version counts as used (and a later edit is refused).
    """
    get_row(PriceList, report.price_list.id, lock=True)
    saved = SavedCalculation(
        programme_id=report.programme.id,
        exited_from=report.exited_from,
        exited_to=report.exited_to,
        price_list_id=report.price_list.id,
        horizon_years=report.horizon,
        participants=report.result.participants,
        used_exit_data=report.result.used_exit_data,
        figures=report.as_json(),
        created_by_id=getattr(by, "id", None),
    )
    db.session.add(saved)
    db.session.flush()
    return saved
