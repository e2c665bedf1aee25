"""Domain errors and their HTTP mapping: HTML pages for people, problem+json for the API."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from marshmallow import ValidationError as SchemaValidationError
from sqlalchemy.exc import DataError, StatementError
from werkzeug.exceptions import HTTPException

from coordination.core.i18n import label, translate_schema_messages
from coordination.extensions import db
from workflows.errors import TransitionRefused


class DomainError(Exception):
    """A refusal that the user can understand; subclasses choose the HTTP status."""

    status = 400
    title = "Bad request"

    def __init__(self, message: str, *, errors: dict | None = None, payload: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.payload = payload or {}


class ValidationFailed(DomainError):
    """One or more rules are violated; `errors` maps each field to all its messages."""

    status = 422
    title = "Validation failed"


class Conflict(DomainError):
    """The request conflicts with the current state (a duplicate, a concurrent change)."""

    status = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    """The object's state does not allow the requested transition."""

    title = "Illegal transition"


class Forbidden(DomainError):
    """The caller may know the object exists but may not do this to it."""

    status = 403
    title = "Forbidden"


class NotFound(DomainError):
    """The object does not exist or the caller may not know that it does."""

    status = 404
    title = "Not found"


def wants_json() -> bool:
    """Tell whether the current request is an API request."""
    return request.path.startswith("/api/") or request.path == "/healthz"


def problem(status: int, title: str, detail: str, errors: dict | None = None, **extra):
    """Build an RFC 9457 problem+json response."""
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def state_label(state: str) -> str:
    """Return the readable name of a state code."""
    return label("state", state)


def register_error_handlers(app: Flask, *, persist_refusals: Callable[[], None]) -> None:
    """Map domain errors, schema errors and HTTP errors to pages or problem+json.

    After the rollback of a refused request, `persist_refusals` (from the access log, a package
    above core) writes the request's refused-access rows.
    """

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        persist_refusals()
        if wants_json():
            return problem(exc.status, exc.title, exc.message, exc.errors, **exc.payload)
        return (
            render_template("errors/error.html", status=exc.status, message=exc.message),
            exc.status,
        )

    @app.errorhandler(TransitionRefused)
    def transition_refused(exc: TransitionRefused):
        return domain_error(
            IllegalTransition(
                _(
                    "Det går inte att göra det här nu: ärendet har status %(state)s.",
                    state=state_label(exc.state),
                ),
                payload={"state": exc.state, "action": exc.action},
            )
        )

    @app.errorhandler(SchemaValidationError)
    def schema_error(exc: SchemaValidationError):
        db.session.rollback()

        messages = translate_schema_messages(exc.messages)
        detail = _("Uppgifterna innehåller fel. Rätta dem och försök igen.")
        if wants_json():
            return problem(422, "Validation failed", detail, messages)
        return render_template("errors/error.html", status=422, message=detail), 422

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            400: _("Begäran kunde inte tolkas."),
            401: _("Du måste logga in."),
            403: _("Du har inte behörighet till det här."),
            404: _("Sidan eller uppgiften finns inte."),
            405: _("Metoden är inte tillåten här."),
            413: _("Filen är för stor."),
            429: _("För många försök. Vänta en stund och försök igen."),
        }
        message = messages.get(exc.code or 500, exc.description or exc.name)
        if exc.code in (401, 403, 404):
            db.session.rollback()
            persist_refusals()
        status = exc.code or 500
        if wants_json():
            response = problem(status, exc.name, message)
        else:
            page = render_template("errors/error.html", status=status, message=message)
            response = app.make_response((page, status))
        # What the exception says about the answer stays with it: Allow on a 405, Retry-After.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(StatementError)
    @app.errorhandler(OverflowError)
    def value_out_of_range(exc: Exception):
        """A value the database or the calendar cannot hold (a number past the column, a date
        before year 1) came past the checks: the request is at fault, not the server."""
        cause = exc.orig if isinstance(exc, StatementError) else exc
        if not isinstance(exc, DataError) and not isinstance(cause, OverflowError):
            return unexpected(exc)  # a constraint or a bug: the server's fault
        db.session.rollback()
        app.logger.warning(
            "value out of range on %s %s: %s", request.method, request.url_rule, type(exc).__name__
        )
        message = _(
            "Ett värde i begäran går inte att hantera: ett för stort tal, ett datum utanför "
            "kalendern eller ett tecken som inte kan sparas."
        )
        if wants_json():
            return problem(400, "Bad Request", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.url_rule)
        message = _("Ett oväntat fel inträffade. Inget sparades. Försök igen.")
        if wants_json():
            return problem(500, "Internal Server Error", message)
        return render_template("errors/error.html", status=500, message=message), 500
