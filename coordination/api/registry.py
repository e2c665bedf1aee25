"""Declaring API endpoints once: route, access rule and OpenAPI description together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import request
from werkzeug.exceptions import BadRequest

from coordination.core.errors import ValidationFailed
from coordination.core.parsing import bounded_int, unstorable_errors, unstorable_message
from coordination.core.permissions import access


@dataclass
class Operation:
    """One documented endpoint."""

    method: str
    path: str
    summary: str
    body: type | None
    response: type | None
    many: bool
    public: bool
    status: int
    responses: dict[str, str] | None = None  # further answers worth documenting: code -> text
    query: dict[str, dict] | None = None  # documented query parameters: name -> JSON Schema


OPERATIONS: list[Operation] = []


def endpoint(
    bp,
    method: str,
    path: str,
    summary: str,
    *,
    body: type | None = None,
    response: type | None = None,
    many: bool = False,
    roles: tuple = (),
    public: bool = False,
    status: int = 200,
    responses: dict[str, str] | None = None,
    query: dict[str, dict] | None = None,
) -> Callable:
    """Register a route with its access rule and its OpenAPI operation."""
    OPERATIONS.append(
        Operation(
            method.lower(),
            bp.url_prefix + path,
            summary,
            body,
            response,
            many,
            public,
            status,
            responses,
            query,
        )
    )

    def decorate(view: Callable) -> Callable:
        view = access(*roles, public=public)(view)
        bp.add_url_rule(path, view.__name__, view, methods=[method.upper()])
        return view

    return decorate


def json_body() -> dict:
    """Return the request's JSON object.

    A body that is not JSON (or nests too deeply) is malformed: 400. JSON that is not an object,
    or holds a text that cannot be stored (NUL, a lone surrogate), is invalid: 422 by field.
    """
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("The body is not a JSON document.")
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The body must be a JSON object.", errors={"_body": ["Expected a JSON object."]}
        )
    errors = unstorable_errors(data)
    if errors:
        raise ValidationFailed(unstorable_message(), errors=errors)
    return data


def page_args() -> tuple[int, int]:
    """Return (page, per_page) from the query string, per_page at most 100."""
    errors = {}
    try:
        page = bounded_int(request.args.get("page", 1))
        if page < 1:
            raise ValueError
    except ValueError:
        errors["page"] = ["Must be a positive integer."]
        page = 1
    try:
        per_page = bounded_int(request.args.get("per_page", 20))
        if not 1 <= per_page <= 100:
            raise ValueError
    except ValueError:
        errors["per_page"] = ["Must be an integer from 1 to 100."]
        per_page = 20
    if errors:
        raise ValidationFailed("Invalid pagination.", errors=errors)
    return page, per_page
