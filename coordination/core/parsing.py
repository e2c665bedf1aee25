"""Reading what users type into forms, query strings and JSON: one way, the load schemas.

The API loads a JSON body with a package's load schema; a page loads its form with the same
schema through `load_form` (or `read_form` where a draft keeps what could be read).
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from marshmallow import Schema, fields, missing
from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import MultiDict

from coordination.core.errors import ValidationFailed
from coordination.core.i18n import translate_schema_messages


def is_digits(value) -> bool:
    """Tell whether the value is a non-empty run of ASCII digits, which int() reads.

    str.isdigit() alone also accepts "²" and other digits int() refuses (a 500 on bad input).
    """
    text = str(value)
    return text.isascii() and text.isdigit()


def flatten_schema_messages(messages) -> dict[str, list[str]]:
    """Turn marshmallow's nested messages into dotted field names (goals.0.text), translated.

    A message about one item of a list of plain values (a ticked box) belongs to the list's field.
    """
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            translated = translate_schema_messages({"x": value})["x"]
            field = prefix
            while "." in field and is_digits(field.rsplit(".", 1)[1]):
                field = field.rsplit(".", 1)[0]
            flat.setdefault(field or "_schema", []).extend(translated)

    walk("", messages)
    return flat


def load_partial(schema: Schema, raw: dict) -> tuple[dict, dict[str, list[str]]]:
    """Load `raw` with the schema; return what could be read and, by field, what could not."""
    try:
        return schema.load(raw), {}
    except SchemaError as exc:
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, flatten_schema_messages(exc.messages)


def load_checked(
    schema: Schema, raw: dict, rules: Callable[[dict], dict[str, list[str]]], message: str = ""
) -> dict:
    """Load `raw` with the schema; when some values cannot be read, still check the domain rules
    on those that can, so every error is reported at once (ValidationFailed, by field)."""
    data, schema_errors = load_partial(schema, raw)
    if not schema_errors:
        return data
    errors = dict(rules(data))
    errors.update(schema_errors)
    raise ValidationFailed(
        message or _("Uppgifterna innehåller fel. Rätta dem och försök igen."), errors=errors
    )


# --- HTML forms ---------------------------------------------------------------------------------


def _form_value(field: fields.Field, values: list[str]):
    """One field's form value as the schema's input; `missing` for the schema's default.

    A form sends every field it shows, so a field it leaves out is an empty one: an unticked box
    or an unchosen radio button is not sent at all.
    """
    if isinstance(field, fields.List):
        return [v for v in values if v]
    value = values[0] if values else ""
    if isinstance(field, fields.Boolean) and not value:
        return None if field.allow_none else False
    if value != "":
        return value
    if field.allow_none:
        return None
    if field.load_default is not missing or not isinstance(field, fields.String):
        return missing  # the schema's default, or its "required"
    return ""


def _form_rows(
    schema: Schema, form: MultiDict, prefix: str, filled_by: tuple[str, ...] | None
) -> list[dict]:
    """The rows `prefix.0.name`, `prefix.1.name`, … in order; rows left empty are dropped."""
    indices = sorted(
        {
            int(key.split(".")[1])
            for key in form
            if key.startswith(prefix + ".") and key.count(".") == 2 and is_digits(key.split(".")[1])
        }
    )
    rows = []
    for i in indices:
        row = MultiDict(
            (name, (form.get(f"{prefix}.{i}.{name}") or "").strip())
            for name in _input_names(schema)
            if f"{prefix}.{i}.{name}" in form
        )
        if any(row.get(name) for name in (filled_by or row.keys())):
            rows.append(form_input(schema, row))
    return rows


def _input_names(schema: Schema) -> list[str]:
    return [field.data_key or name for name, field in schema.load_fields.items()]


def form_input(
    schema: Schema,
    form: MultiDict,
    *,
    names: dict[str, str] | None = None,
    filled_by: dict[str, tuple[str, ...]] | None = None,
) -> dict:
    """Read an HTML form into the input the schema (the API's) loads.

    An empty or absent field is a missing value (None where the schema allows it, else the
    schema's default, else "" for text); a repeated field is a list, an unticked box False, and
    rows named `goals.0.text` a list of dicts without the rows left empty (`filled_by` names the
    fields that make a row count). `names` maps a schema field to the form's name for it where
    they differ. Fields the schema does not know (the CSRF token, the button) are not read.
    """
    names = names or {}
    raw: dict = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        form_name = names.get(key, key)
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            inner = field.inner.schema
            raw[key] = _form_rows(inner, form, form_name, (filled_by or {}).get(key))
            continue
        value = _form_value(field, form.getlist(form_name))
        if value is not missing:
            raw[key] = value
    return raw


def _field_at(schema: Schema, key: str) -> fields.Field | None:
    """The schema's field for an error key: `note`, or a row's `actions.0.contact_id`."""
    head, *rest = key.split(".")
    field = next(
        (f for name, f in schema.load_fields.items() if (f.data_key or name) == head), None
    )
    while field is not None and rest:
        if not (isinstance(field, fields.List) and isinstance(field.inner, fields.Nested)):
            return None
        if len(rest) < 2 or not is_digits(rest[0]):
            return None
        field = _field_at(field.inner.schema, rest[1])
        rest = rest[2:]
    return field


def form_errors(schema: Schema, errors: dict, names: dict[str, str] | None = None) -> dict:
    """Key the errors by the form's names, so the error summary links to the right fields; a
    field whose schema gives the form's own words for it (metadata `form_error`) says those."""
    names = names or {}
    renamed: dict[str, list[str]] = {}
    for key, messages in errors.items():
        field = _field_at(schema, key)
        if field is not None and field.metadata.get("form_error"):
            messages = [str(field.metadata["form_error"])]
        head, dot, rest = key.partition(".")
        renamed.setdefault(names.get(head, head) + dot + rest, []).extend(messages)
    return renamed


def load_form(
    schema: Schema,
    form: MultiDict,
    rules: Callable[[dict], dict[str, list[str]]] | None = None,
    *,
    names: dict[str, str] | None = None,
    filled_by: dict[str, tuple[str, ...]] | None = None,
    message: str = "",
) -> dict:
    """Load an HTML form with the schema the API uses for the same input.

    Return the data, or raise ValidationFailed with every error at once keyed by the form's
    field names: the schema's, and the domain `rules` checked on the values that could be read.
    """
    raw = form_input(schema, form, names=names, filled_by=filled_by)
    try:
        return load_checked(schema, raw, rules or (lambda data: {}), message)
    except ValidationFailed as exc:
        exc.errors = form_errors(schema, exc.errors, names)
        raise


def read_form(
    schema: Schema,
    form: MultiDict,
    *,
    names: dict[str, str] | None = None,
    filled_by: dict[str, tuple[str, ...]] | None = None,
) -> tuple[dict, dict[str, list[str]]]:
    """Load what can be read of an HTML form; return it with the errors by the form's names."""
    data, errors = load_partial(schema, form_input(schema, form, names=names, filled_by=filled_by))
    return data, form_errors(schema, errors, names)
