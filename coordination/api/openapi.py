"""GET /api/v1/openapi.json, generated from the registered operations and their schemas."""

from __future__ import annotations

import re

from flask import jsonify
from marshmallow import Schema, fields

from coordination.api import bp
from coordination.api.registry import OPERATIONS, endpoint

_SIMPLE = {
    fields.Integer: {"type": "integer"},
    fields.Float: {"type": "number"},
    fields.Boolean: {"type": "boolean"},
    fields.AwareDateTime: {"type": "string", "format": "date-time"},
    fields.DateTime: {"type": "string", "format": "date-time"},
    fields.Date: {"type": "string", "format": "date"},
    fields.String: {"type": "string"},
    fields.Raw: {},
}


def field_schema(field: fields.Field) -> dict:
    """Describe one marshmallow field as JSON Schema."""
    if isinstance(field, fields.List):
        return {"type": "array", "items": field_schema(field.inner)}
    if isinstance(field, fields.Nested):
        nested = field.nested if isinstance(field.nested, type) else type(field.nested)
        return {"$ref": f"#/components/schemas/{nested.__name__}"}
    for kind, description in _SIMPLE.items():
        if type(field) is kind or isinstance(field, kind):
            out = dict(description)
            break
    else:
        out = {}
    if field.allow_none:
        out["nullable"] = True
    return out


def schema_object(schema_cls: type[Schema], components: dict) -> dict:
    """Describe a schema class as a JSON Schema object, registering nested ones."""
    schema = schema_cls()
    props, required = {}, []
    for name, field in schema.fields.items():
        props[field.data_key or name] = field_schema(field)
        if field.required:
            required.append(field.data_key or name)
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            field = field.inner
        if isinstance(field, fields.Nested):
            nested = field.nested if isinstance(field.nested, type) else type(field.nested)
            if nested.__name__ not in components:
                components[nested.__name__] = {}
                components[nested.__name__] = schema_object(nested, components)
    body = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        body["required"] = required
    return body


def build_spec() -> dict:
    """Build the OpenAPI 3.1 document."""
    components: dict = {
        "Problem": {
            "type": "object",
            "properties": {
                "type": {"type": "string"},
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "detail": {"type": "string"},
                "errors": {"type": "object", "additionalProperties": {"type": "array"}},
            },
        }
    }
    paths: dict = {}
    for op in OPERATIONS:
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", op.path)
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "integer"}}
            for n in re.findall(r"{(\w+)}", path)
        ]
        operation: dict = {"summary": op.summary, "parameters": params, "responses": {}}
        if not op.public:
            operation["security"] = [{"bearer": []}]
        if op.body is not None:
            components.setdefault(op.body.__name__, schema_object(op.body, components))
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": f"#/components/schemas/{op.body.__name__}"}
                    }
                },
            }
        ok: dict = {"description": "No Content" if op.status == 204 else "OK"}
        if op.response is not None:
            components.setdefault(op.response.__name__, schema_object(op.response, components))
            ref = {"$ref": f"#/components/schemas/{op.response.__name__}"}
            if op.many:
                ref = {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": ref},
                        "total": {"type": "integer"},
                    },
                }
            ok["content"] = {"application/json": {"schema": ref}}
        operation["responses"][str(op.status)] = ok
        problem_ref = {
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            }
        }
        for code, text in (
            ("401", "Unauthorized"),
            ("404", "Not found"),
            ("409", "Conflict"),
            ("422", "Validation failed"),
        ):
            operation["responses"][code] = {"description": text, **problem_ref}
        for code, text in (op.responses or {}).items():
            answer: dict = {"description": text, **problem_ref}
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
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@endpoint(bp, "GET", "/openapi.json", "This OpenAPI document", public=True)
def openapi():
    """Serve the OpenAPI document."""
    return jsonify(build_spec())
