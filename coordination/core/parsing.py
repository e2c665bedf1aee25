"""Reading what users type into forms, query strings and JSON: one way, the load schemas.

The API loads a JSON body with a package's load schema; a page loads its form with the same
schema through `load_form` (or `read_form` where a draft keeps what could be read).

Whatever arrives is bounded here, before it reaches the database: numbers fit the columns
(PostgreSQL `integer`), text holds no character PostgreSQL cannot store (NUL) or UTF-8 cannot
encode (a lone surrogate, which only JSON's \\u escapes can carry), JSON nests only so deep.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from flask import Flask, request
from flask import Request as FlaskRequest
from flask_babel import gettext as _
from marshmallow import Schema, fields, missing
from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter

from coordination.core.errors import ValidationFailed
from coordination.core.i18n import translate_schema_messages

INT_MAX = 2**31 - 1  # PostgreSQL's integer: every id column and every count we store
INT_MIN = -(2**31)
JSON_MAX_DEPTH = 32  # the deepest schema nests three levels; 32 leaves room and bounds recursion
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def is_digits(value) -> bool:
    """Tell whether the value is a non-empty run of ASCII digits that int() reads and an
    `integer` column holds (0 to 2^31 - 1).

    str.isdigit() alone also accepts "²" and other digits int() refuses, and a larger number
    overflows the column: both were a 500 on bad input.
    """
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= INT_MAX


def bounded_int(value) -> int:
    """Read an integer that fits an `integer` column; else ValueError (as int() would)."""
    text = str(value).strip()
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 10):
        raise ValueError(f"not an integer in range: {text[:20]!r}")
    number = int(text)
    if not INT_MIN <= number <= INT_MAX:
        raise ValueError(f"not an integer in range: {text[:20]!r}")
    return number


# --- text the database cannot store -------------------------------------------------------------


def unstorable_message() -> str:
    """The field error for text holding a character that cannot be saved."""
    return _("Texten innehåller ett tecken som inte kan sparas.")


def is_unstorable(value) -> bool:
    """Tell whether a value is text with a NUL or a lone surrogate."""
    return isinstance(value, str) and _UNSTORABLE.search(value) is not None


def _readable(text: str) -> str:
    return _UNSTORABLE.sub("\N{REPLACEMENT CHARACTER}", text)


def unstorable_paths(value, prefix: str = "") -> Iterator[str]:
    """Yield the dotted path (`note`, `goals.0.text`) of every unstorable text in the value,
    its keys included."""
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:  # no recursion: the depth of what arrives is not ours to choose
        path, item = stack.pop()
        if is_unstorable(item):
            yield path or "_schema"
        elif isinstance(item, dict):
            for key, inner in item.items():
                name = _readable(str(key))
                if is_unstorable(key):
                    yield f"{path}.{name}" if path else name
                    continue
                stack.append((f"{path}.{name}" if path else name, inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{path}.{i}" if path else str(i), inner) for i, inner in enumerate(item))


def _without_unstorable(value):
    """The value without its unstorable texts (dropped from their dict or list)."""
    if isinstance(value, dict):
        return {
            key: _without_unstorable(inner)
            for key, inner in value.items()
            if not is_unstorable(key) and not is_unstorable(inner)
        }
    if isinstance(value, list):
        return [_without_unstorable(inner) for inner in value if not is_unstorable(inner)]
    return value


def _field_name(path: str) -> str:
    """The field an error belongs to: an item of a list of plain values is its list's."""
    field = path
    while "." in field and field.rsplit(".", 1)[1].isdigit():
        field = field.rsplit(".", 1)[0]
    return field


def unstorable_errors(value) -> dict[str, list[str]]:
    """By field, the error for each unstorable text in the value (empty when there is none)."""
    return {_field_name(path): [unstorable_message()] for path in unstorable_paths(value)}


def json_depth_exceeds(value, limit: int = JSON_MAX_DEPTH) -> bool:
    """Tell whether JSON nests deeper than `limit` containers."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            inner = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in inner)
    return False


# --- the request: ids in URLs, numbers in query strings and forms, JSON --------------------------


class IdConverter(IntegerConverter):
    """The app's `int` URL converter: a value that no `integer` column holds matches no route
    (404), instead of reaching PostgreSQL and overflowing (500)."""

    regex = r"[0-9]{1,10}"

    def __init__(self, map, fixed_digits=0, min=None, max=INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Parameters(ImmutableMultiDict):
    """Query-string and form values whose `get(..., type=int)` reads only what a column holds:
    anything else is the default, as for any value int() cannot read."""

    def get(self, key, default=None, type=None):  # noqa: A002
        return super().get(key, default, bounded_int if type is int else type)

    def getlist(self, key, type=None):  # noqa: A002
        return super().getlist(key, bounded_int if type is int else type)


class Request(FlaskRequest):
    """The app's request: bounded numbers in args and forms, JSON that parses or is a 400."""

    parameter_storage_class = Parameters

    def get_json(self, force=False, silent=False, cache=True):
        """Parse JSON; nesting deeper than Python (or our schemas) can follow is malformed."""
        try:
            data = super().get_json(force=force, silent=silent, cache=cache)
        except RecursionError:
            data, too_deep = None, True
        else:
            too_deep = json_depth_exceeds(data)
        if too_deep:
            if cache:
                self._cached_json = (None, None)
            if silent:
                return None
            raise BadRequest("The JSON body nests too deeply.")
        return data


def bad_query_parameters(args: MultiDict) -> dict[str, list[str]]:
    """By name, the query-string values holding a character that cannot be stored."""
    errors: dict[str, list[str]] = {}
    for key, value in args.items(multi=True):
        if is_unstorable(key) or is_unstorable(value):
            errors[_readable(key)] = [unstorable_message()]
    return errors


def _refuse_unstorable_query() -> None:
    """A filter no column can match is refused before any view reads it (422, by field)."""
    errors = bad_query_parameters(request.args)
    if errors:
        raise ValidationFailed(
            _("Sökningen innehåller ett tecken som inte kan sparas."), errors=errors
        )


def install(app: Flask) -> None:
    """Bound what the app reads: its request class, its `int` URL converter, its query strings.

    Call before any blueprint is registered: a rule binds its converter when it is added.
    """
    app.request_class = Request
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_unstorable_query)


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
    """Load `raw` with the schema; return what could be read and, by field, what could not.

    A text that cannot be stored is left out of what is read (never saved cut short) and is an
    error of its field, reported with all the others.
    """
    unstorable = unstorable_errors(raw)
    if unstorable:
        raw = _without_unstorable(raw)
    try:
        data, errors = schema.load(raw), {}
    except SchemaError as exc:
        data = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        errors = flatten_schema_messages(exc.messages)
    if unstorable:
        by_key = {field.data_key or name: name for name, field in schema.load_fields.items()}
        for path in unstorable:
            data.pop(by_key.get(path.split(".", 1)[0], path), None)
        errors.update(unstorable)
    return data, errors


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


def refuse_unreadable(unreadable: dict[str, list[str]]) -> None:
    """Refuse a form with a value that could not be read, even when the operation took the rest
    (a form whose operation checks the values in its own words reads them with `read_form`)."""
    if unreadable:
        raise ValidationFailed(_("Uppgifterna innehåller fel. Rätta dem och försök igen."))


def with_unreadable(errors: dict, unreadable: dict[str, list[str]]) -> dict:
    """The operation's errors, and the unreadable fields' where it had nothing to say."""
    return {**unreadable, **errors}
