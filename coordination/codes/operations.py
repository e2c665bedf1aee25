"""Reading, seeding and editing code lists; loading codes from a CSV or YAML file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

import yaml
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select, tuple_

from coordination.codes.models import Code
from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from workflows.codes import CODE_LIST_NAMES, DEFAULT_CODE_LISTS
from workflows.municipalities import municipality_code


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
    return code_labels([(list_name, code)]).get((list_name, code or ""), "")


def code_labels(wanted: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], str]:
    """Return the labels of several codes, keyed by (list name, code), in one query: historical
    ones included, a code missing from its list read as itself, an empty code as ""."""
    pairs = {(list_name, code) for list_name, code in wanted if code}
    labels = {pair: pair[1] for pair in pairs}
    if not pairs:
        return labels
    english = str(get_locale() or "sv") == "en"
    found = db.session.execute(
        select(Code.list_name, Code.code, Code.label_sv, Code.label_en).where(
            tuple_(Code.list_name, Code.code).in_(sorted(pairs))
        )
    )
    for row in found:
        labels[(row.list_name, row.code)] = row.label_en if english else row.label_sv
    return labels


def valid_codes(list_name: str) -> set[str]:
    """Return the codes that new registrations may use."""
    return {c.code for c in active_codes(list_name)}


CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_]{0,79}$")


def list_names() -> list[str]:
    """Return the names of the code lists, in the order of ../shared/DOMAIN.md §12."""
    return list(CODE_LIST_NAMES)


def list_title(list_name: str) -> str:
    """Return the readable name of a code list in the user's language."""
    sv, en = CODE_LIST_NAMES.get(list_name, (list_name, list_name))
    return en if _english() else sv


def all_codes(list_name: str) -> list[Code]:
    """Return every code of a list, historical ones included, in the list's order."""
    return list(
        db.session.scalars(
            select(Code).where(Code.list_name == list_name).order_by(Code.position, Code.id)
        )
    )


def codes_among(list_name: str, codes: Iterable[str | None]) -> list[Code]:
    """Return the codes of a list (historical ones included) that are among the given ones, in
    the list's order: what all_codes returns of them, without reading the rest of the list."""
    wanted = sorted({c for c in codes if c is not None})
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(Code)
            .where(Code.list_name == list_name, Code.code.in_(wanted))
            .order_by(Code.position, Code.id)
        )
    )


def known_codes(list_name: str) -> set[str]:
    """Return every code of a list that records may carry (historical ones included)."""
    return {c.code for c in all_codes(list_name)}


def label_of(code: Code) -> str:
    """Return a code's label in the user's language."""
    return code.label_en if _english() else code.label_sv


def _english() -> bool:
    try:
        return str(get_locale() or "sv") == "en"
    except RuntimeError:  # outside a request: Swedish, the default language
        return False


def _check_entry(list_name: str, data: dict, *, new: bool) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if list_name not in CODE_LIST_NAMES:
        errors["list_name"] = [_("Det finns ingen kodlista med det namnet.")]
    if new and not CODE_PATTERN.match(data.get("code") or ""):
        errors["code"] = [
            _("Koden får bara innehålla små bokstäver a–z, siffror och understreck (högst 80).")
        ]
    if not (data.get("label_sv") or "").strip():
        errors["label_sv"] = [_("Ange den svenska benämningen.")]
    for name in ("label_sv", "label_en"):
        if len((data.get(name) or "").strip()) > 200:
            errors[name] = [_("Texten är för lång.")]
    return errors


def _place(list_name: str, code: Code, after: str | None) -> None:
    """Put a code right after another one (or last) and renumber the list 0..n-1."""
    ordered = [c for c in all_codes(list_name) if c is not code]
    index = len(ordered)
    if after:
        found = [i for i, c in enumerate(ordered) if c.code == after]
        if not found:
            raise ValidationFailed(
                _("Koden att placera efter finns inte i listan."),
                errors={"after": [_("Koden att placera efter finns inte i listan.")]},
            )
        index = found[0] + 1
    ordered.insert(index, code)
    for position, entry in enumerate(ordered):
        entry.position = position


def add_code(
    list_name: str,
    *,
    code: str,
    label_sv: str,
    label_en: str = "",
    historical: bool = False,
    after: str | None = None,
) -> Code:
    """Add a code to a list (historical codes are kept for reports, not offered for new data)."""
    data = {"code": code, "label_sv": label_sv, "label_en": label_en}
    errors = _check_entry(list_name, data, new=True)
    if not errors and code in known_codes(list_name):
        errors["code"] = [_("Koden finns redan i listan.")]
    if errors:
        raise ValidationFailed(_("Koden kunde inte läggas till."), errors=errors)
    entry = Code(
        list_name=list_name,
        code=code,
        label_sv=label_sv.strip(),
        label_en=(label_en or label_sv).strip(),
        historical=historical,
        position=0,
    )
    db.session.add(entry)
    _place(list_name, entry, after)
    db.session.flush()
    return entry


def update_code(entry: Code, *, label_sv: str, label_en: str, historical: bool) -> Code:
    """Change a code's labels or historical mark; the code itself never changes."""
    errors = _check_entry(entry.list_name, {"label_sv": label_sv, "label_en": label_en}, new=False)
    if errors:
        raise ValidationFailed(_("Koden kunde inte sparas."), errors=errors)
    entry.label_sv = label_sv.strip()
    entry.label_en = (label_en or label_sv).strip()
    entry.historical = historical
    db.session.flush()
    return entry


def move_code(entry: Code, direction: str) -> None:
    """Move a code one step up or down in its list."""
    ordered = all_codes(entry.list_name)
    index = ordered.index(entry)
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(ordered):
        ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, code in enumerate(ordered):
        code.position = position
    db.session.flush()


FILE_COLUMNS = ("list_name", "code", "label_sv", "label_en", "historical", "after")
_TRUE = {"1", "true", "yes", "ja", "x", "on"}
_FALSE = {"", "0", "false", "no", "nej", "off"}


def parse_code_file(filename: str, content: bytes) -> list[tuple[str, dict]]:
    """Read a code-list file (CSV or YAML) into (where, entry) pairs; raise on a bad file.

    CSV: a header with list_name, code, label_sv and optionally label_en, historical, after.
    YAML: a mapping from list name to a list of entries with the same keys (no list_name).
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            _("Filen måste vara kodad som UTF-8."),
            errors={"file": [_("Filen måste vara kodad som UTF-8.")]},
        ) from exc
    lower = filename.lower()
    if lower.endswith((".yaml", ".yml")):
        return _parse_yaml(text)
    if lower.endswith(".csv"):
        return _parse_csv(text)
    raise ValidationFailed(
        _("Välj en CSV- eller YAML-fil."), errors={"file": [_("Välj en CSV- eller YAML-fil.")]}
    )


def _parse_csv(text: str) -> list[tuple[str, dict]]:
    sample = text.split("\n", 1)[0]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("list_name", "code", "label_sv") if c not in header]
    unknown = [c for c in header if c not in FILE_COLUMNS]
    if missing or unknown:
        message = _("Rubrikraden ska ha kolumnerna %(columns)s.", columns=", ".join(FILE_COLUMNS))
        raise ValidationFailed(message, errors={"file": [message]})
    entries = []
    for row in reader:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        entries.append((_("rad %(line)s", line=reader.line_num), clean))
    return entries


def _parse_yaml(text: str) -> list[tuple[str, dict]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        message = _("YAML-filen kunde inte läsas.")
        raise ValidationFailed(message, errors={"file": [message]}) from exc
    if not isinstance(data, dict):
        message = _("YAML-filen ska vara en lista per kodlista: namn följt av koder.")
        raise ValidationFailed(message, errors={"file": [message]})
    entries = []
    for list_name, items in data.items():
        for number, item in enumerate(items if isinstance(items, list) else [None], start=1):
            where = _("%(list)s, post %(number)s", list=list_name, number=number)
            if not isinstance(item, dict):
                entries.append((where, {"list_name": str(list_name), "_bad": True}))
                continue
            clean = {str(k): "" if v is None else str(v).strip() for k, v in item.items()}
            if isinstance(item.get("historical"), bool):
                clean["historical"] = "true" if item["historical"] else "false"
            entries.append((where, {"list_name": str(list_name), **clean}))
    return entries


def load_code_file(filename: str, content: bytes) -> dict[str, int]:
    """Add or update the codes of a file, all or nothing; return counts of added and updated.

    An existing code keeps its identity: only its labels, historical mark and place change.
    """
    entries = parse_code_file(filename, content)
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for where, entry in entries:
        key = (entry.get("list_name", ""), entry.get("code", ""))
        after = entry.get("after") or ""
        if after and after not in known_codes(key[0]) and (key[0], after) not in seen:
            problems.append(
                _(
                    "%(where)s: koden %(after)s att placera efter finns inte.",
                    where=where,
                    after=after,
                )
            )
        if key in seen:
            problems.append(_("%(where)s: koden finns två gånger i filen.", where=where))
        seen.add(key)
        unknown = sorted(set(entry) - set(FILE_COLUMNS) - {"_bad"})
        if entry.get("_bad") or unknown:
            problems.append(
                _("%(where)s: okända fält eller fel form.", where=where)
                if not unknown
                else _("%(where)s: okända fält %(fields)s.", where=where, fields=", ".join(unknown))
            )
            continue
        if entry.get("historical", "").lower() not in _TRUE | _FALSE:
            problems.append(_("%(where)s: historical ska vara true eller false.", where=where))
        exists = entry.get("code") in known_codes(entry.get("list_name", ""))
        for _field, messages in _check_entry(
            entry.get("list_name", ""), entry, new=not exists
        ).items():
            problems.extend(f"{where}: {m}" for m in messages)
    if not entries:
        problems.append(_("Filen innehåller inga koder."))
    if problems:
        raise ValidationFailed(_("Filen lästes inte in: rätta felen."), errors={"file": problems})
    added = updated = 0
    for _where, entry in entries:
        list_name, code = entry["list_name"], entry["code"]
        historical = entry.get("historical", "").lower() in _TRUE
        existing = db.session.scalar(
            select(Code).where(Code.list_name == list_name, Code.code == code)
        )
        if existing is None:
            add_code(
                list_name,
                code=code,
                label_sv=entry["label_sv"],
                label_en=entry.get("label_en", ""),
                historical=historical,
                after=entry.get("after") or None,
            )
            added += 1
        else:
            update_code(
                existing,
                label_sv=entry["label_sv"],
                label_en=entry.get("label_en") or existing.label_en,
                historical=historical,
            )
            if entry.get("after"):
                _place(list_name, existing, entry["after"])
            updated += 1
    db.session.flush()
    return {"added": added, "updated": updated}


# --- home municipality --------------------------------------------------------------------------


def municipality_entries() -> list[tuple[str, str]]:
    """Return (code, Swedish name) of every code of the municipality list, historical included."""
    return [
        (code, name)
        for code, name in db.session.execute(
            select(Code.code, Code.label_sv)
            .where(Code.list_name == "municipality")
            .order_by(Code.position, Code.id)
        )
    ]


def imported_municipality(
    value: str | None, entries: list[tuple[str, str]]
) -> tuple[str | None, str | None]:
    """Read an imported home municipality: a code or a municipality's name gives its code; an
    empty value gives none; anything else is refused (the code, and the problem or None)."""
    text = (value or "").strip()
    if not text:
        return None, None
    code = municipality_code(text, entries)
    if code is None:
        message = _("Okänd kommun. Ange kommunkod eller kommunnamn, till exempel 0780 eller Växjö.")
        return None, message
    return code, None
