"""GET /api/v1/openapi.json, generated from the registered operations and their schemas."""

from __future__ import annotations

import re

from flask import jsonify
from marshmallow import Schema, fields, validate

from coordination.api import bp
from coordination.api.registry import OPERATIONS, Operation, endpoint
from coordination.core.parsing import INT_MAX

_SIMPLE: dict[type, dict] = {
    fields.Integer: {"type": "integer"},
    fields.Float: {"type": "number"},
    fields.Decimal: {"type": "number"},
    fields.Boolean: {"type": "boolean"},
    fields.AwareDateTime: {"type": "string", "format": "date-time"},
    fields.DateTime: {"type": "string", "format": "date-time"},
    fields.Date: {"type": "string", "format": "date"},
    fields.Time: {"type": "string", "format": "time"},
    fields.Email: {"type": "string", "format": "email"},
    fields.String: {"type": "string"},
    fields.Dict: {"type": "object"},
}

# What every answer may be besides the success: problem+json, as core.errors writes it.
ERRORS = {
    "400": "Malformed request (not JSON, nested too deeply, a value out of range)",
    "401": "No valid bearer token",
    "403": "The caller may not do this",
    "404": "No such object, or one the caller may not know exists",
    "409": "Conflict or illegal transition",
    "422": "Validation failed: errors by field, all at once",
}
PUBLIC_ERRORS = ("400", "401", "404", "409", "422", "429")
MEDIA_TYPES = {".ics": "text/calendar", ".pdf": "application/pdf"}


def _nested(field: fields.Nested) -> type[Schema]:
    return type(field.schema)  # marshmallow resolves a class, an instance, a name or a lambda


def _constraints(field: fields.Field, out: dict) -> None:
    """Validators as JSON Schema: OneOf as enum, Length and Range as bounds."""
    for validator in field.validators:
        if isinstance(validator, validate.OneOf):
            out["enum"] = list(validator.choices)
        elif isinstance(validator, validate.Length):
            low, high = (
                ("minItems", "maxItems")
                if out.get("type") == "array"
                else (
                    "minLength",
                    "maxLength",
                )
            )
            if validator.equal is not None:
                out[low] = out[high] = validator.equal
            if validator.min is not None:
                out[low] = validator.min
            if validator.max is not None:
                out[high] = validator.max
        elif isinstance(validator, validate.Range):
            if validator.min is not None:
                key = "minimum" if validator.min_inclusive else "exclusiveMinimum"
                out[key] = validator.min
            if validator.max is not None:
                key = "maximum" if validator.max_inclusive else "exclusiveMaximum"
                out[key] = validator.max


def _nullable(out: dict) -> dict:
    """Let a described value also be null (OpenAPI 3.1: JSON Schema's type list)."""
    if "$ref" in out:
        return {"anyOf": [out, {"type": "null"}]}
    if "type" in out:
        out["type"] = [out["type"], "null"]
    if "enum" in out:
        out["enum"] = [*out["enum"], None]
    return out


class Components:
    """The document's schemas, one per class and direction (read or written): a class the API
    both reads and writes is described twice, as `Name` and `NameInput`, since nullability and
    unknown fields differ."""

    def __init__(self) -> None:
        self.schemas: dict = {}
        self.names: dict[tuple[type, bool], str] = {}

    def ref(self, schema_cls: type[Schema], *, dumped: bool) -> dict:
        """A $ref to the class's schema, described on first use."""
        key = (schema_cls, dumped)
        if key not in self.names:
            name = schema_cls.__name__
            if name in self.schemas:
                name += "Output" if dumped else "Input"
            self.names[key] = name
            self.schemas[name] = {}  # a placeholder first: a schema may nest itself
            self.schemas[name] = self.describe(schema_cls, dumped=dumped)
        return {"$ref": f"#/components/schemas/{self.names[key]}"}

    def describe(self, schema_cls: type[Schema], *, dumped: bool) -> dict:
        """A schema class as a JSON Schema object.

        What the API reads refuses unknown fields and names the required ones; what it writes
        may grow (API.md).
        """
        schema = schema_cls()
        chosen = schema.dump_fields if dumped else schema.load_fields
        props, required = {}, []
        for name, field in chosen.items():
            key = field.data_key or name
            props[key] = self.field(field, dumped=dumped)
            if field.required and not dumped:
                required.append(key)
        body: dict = {"type": "object", "properties": props}
        if not dumped:
            body["additionalProperties"] = False
        if required:
            body["required"] = required
        return body

    def field(self, field: fields.Field, *, dumped: bool) -> dict:
        """Describe one marshmallow field as JSON Schema.

        A field the API reads is null only where it allows None; a field it writes may be null
        unless it is required (marshmallow writes None for whatever is None).
        """
        out: dict
        if isinstance(field, fields.List):
            out = {"type": "array", "items": self.field(field.inner, dumped=dumped)}
        elif isinstance(field, fields.Nested):
            ref = self.ref(_nested(field), dumped=dumped)
            out = {"type": "array", "items": ref} if field.many else ref
        else:
            out = next(
                (dict(d) for kind, d in _SIMPLE.items() if isinstance(field, kind)),
                {},  # Raw, Function, Method: any JSON value
            )
        _constraints(field, out)
        if out and (field.allow_none or (dumped and not field.required)):
            out = _nullable(out)
        if field.metadata.get("description"):
            out = dict(out, description=field.metadata["description"])
        return out


PROBLEM = {
    "type": "object",
    "required": ["type", "status", "title", "detail"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _parameters(op: Operation, path: str) -> list[dict]:
    """Path ids (what an `integer` column holds) and, for lists, page and per_page."""
    params = []
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", op.path):
        kind = (
            {"type": "integer", "minimum": 0, "maximum": INT_MAX}
            if converter == "int"
            else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": kind})
    for name, schema in (op.query or {}).items():
        params.append({"name": name, "in": "query", "schema": schema})
    if op.many and op.method == "get":
        params += [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "per_page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": 100},
            },
        ]
    return params


def build_spec() -> dict:
    """Build the OpenAPI 3.1 document."""
    components = Components()
    components.schemas["Problem"] = PROBLEM
    paths: dict = {}
    problem_content = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
    }
    for op in OPERATIONS:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.path)
        operation: dict = {
            "summary": op.summary,
            "parameters": _parameters(op, path),
            "responses": {},
        }
        if not op.public:
            operation["security"] = [{"bearer": []}]
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": components.ref(op.body, dumped=False)}},
            }
        ok: dict = {"description": "No Content" if op.status == 204 else "OK"}
        if op.response is not None:
            ref = components.ref(op.response, dumped=True)
            if op.many:
                ref = {
                    "type": "object",
                    "required": ["items", "total"],
                    "properties": {
                        "items": {"type": "array", "items": ref},
                        "total": {"type": "integer"},
                    },
                }
            ok["content"] = {"application/json": {"schema": ref}}
        else:
            media = next((m for end, m in MEDIA_TYPES.items() if path.endswith(end)), None)
            if media is not None:
                ok["content"] = {media: {"schema": {"type": "string"}}}
        operation["responses"][str(op.status)] = ok
        codes = PUBLIC_ERRORS if op.public else tuple(ERRORS)
        for code in codes:
            text = ERRORS.get(code, "Too many attempts: wait and try again")
            operation["responses"][code] = {"description": text, "content": problem_content}
        for code, text in (op.responses or {}).items():  # the operation's own further answers
            answer: dict = {"description": text, "content": problem_content}
            if code == "429":
                answer["headers"] = {
                    "Retry-After": {
                        "description": "Seconds to wait before trying again",
                        "schema": {"type": "integer"},
                    }
                }
            operation["responses"][code] = answer
        paths.setdefault(path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Samordning API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@endpoint(bp, "GET", "/openapi.json", "This OpenAPI document", public=True)
def openapi():
    """Serve the OpenAPI document."""
    return jsonify(build_spec())
