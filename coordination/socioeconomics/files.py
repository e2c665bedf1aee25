"""Loading a price list from a file (CSV or YAML), all rows or none."""

from __future__ import annotations

import csv
import io

import yaml
from flask_babel import gettext as _

from coordination.core.errors import ValidationFailed
from coordination.socioeconomics.models import PriceList
from coordination.socioeconomics.operations import ENTRY_FIELDS, create_price_list

REQUIRED = ("variable", "code", "actor", "kind", "amount")


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"file": [message]})


def parse_price_file(filename: str, content: bytes) -> list[tuple[str, dict]]:
    """Read a price-list file into (where, entry) pairs; raise on a file that cannot be read.

    CSV: a header with variable, code, actor, kind, amount and optionally source (comma or
    semicolon separated). YAML: a list of entries with the same keys, or {entries: [...]}.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(_("Filen måste vara kodad som UTF-8.")) from exc
    lower = (filename or "").lower()
    if lower.endswith((".yaml", ".yml")):
        return _parse_yaml(text)
    if lower.endswith(".csv"):
        return _parse_csv(text)
    raise _refuse(_("Välj en CSV- eller YAML-fil."))


def _parse_csv(text: str) -> list[tuple[str, dict]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [(h or "").strip() for h in reader.fieldnames or []]
    if any(c not in header for c in REQUIRED) or any(c not in ENTRY_FIELDS for c in header):
        raise _refuse(
            _("Rubrikraden ska ha kolumnerna %(columns)s.", columns=", ".join(ENTRY_FIELDS))
        )
    entries = []
    for row in reader:
        clean = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        if None in row:  # more cells than the header names
            clean["_extra"] = "x"
        entries.append((_("rad %(line)s", line=reader.line_num), clean))
    return entries


def _parse_yaml(text: str) -> list[tuple[str, dict]]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _refuse(_("YAML-filen kunde inte läsas.")) from exc
    if isinstance(data, dict) and isinstance(data.get("entries"), list):
        data = data["entries"]
    if not isinstance(data, list):
        raise _refuse(_("YAML-filen ska vara en lista med priser (eller entries: och en lista)."))
    entries = []
    for number, item in enumerate(data, start=1):
        where = _("post %(number)s", number=number)
        if not isinstance(item, dict):
            entries.append((where, {"_bad": "x"}))
            continue
        entries.append(
            (where, {str(k): "" if v is None else str(v).strip() for k, v in item.items()})
        )
    return entries


def load_price_file(
    filename: str, content: bytes, *, name: str, year: object, by=None
) -> PriceList:
    """Create a new price-list version from a file; every bad row is reported, none is saved."""
    rows = parse_price_file(filename, content)
    if not rows:
        raise _refuse(_("Filen innehåller inga priser."))
    return create_price_list(name=name, year=year, rows=rows, note=filename[:200], by=by)
