"""Reading what users type into forms, query strings and JSON."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from marshmallow import Schema
from marshmallow import ValidationError as SchemaError

from coordination.core.errors import ValidationFailed


def is_digits(value) -> bool:
    """Tell whether the value is a non-empty run of ASCII digits, which int() reads.

    str.isdigit() alone also accepts "²" and other digits int() refuses (a 500 on bad input).
    """
    text = str(value)
    return text.isascii() and text.isdigit()


def flatten_schema_messages(messages) -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into dotted field names (goals.0.text), translated."""
    from coordination.core.i18n import translate_schema_messages

    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            translated = translate_schema_messages({"x": value})["x"]
            flat.setdefault(prefix or "_schema", []).extend(translated)

    walk("", messages)
    return flat


def load_checked(
    schema: Schema, raw: dict, rules: Callable[[dict], dict[str, list[str]]], message: str = ""
) -> dict:
    """Load `raw` with the schema; when some values cannot be read, still check the domain rules
    on those that can, so every error is reported at once (ValidationFailed, by field)."""
    try:
        return schema.load(raw)
    except SchemaError as exc:
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        errors = dict(rules(valid))
        errors.update(flatten_schema_messages(exc.messages))
        raise ValidationFailed(
            message or _("Uppgifterna innehåller fel. Rätta dem och försök igen."), errors=errors
        ) from exc
