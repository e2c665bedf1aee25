"""GET /livez, and the per-request hooks: request id, one log line and the metrics per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Blueprint, Flask, g, has_request_context, jsonify, request

from coordination.core.permissions import access
from coordination.observability import logs, metrics

bp = Blueprint("observability", __name__)
log = logging.getLogger("coordination.request")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # as nginx's $request_id, or a UUID
QUIET_ENDPOINTS = {"health.healthz", "observability.livez", "static"}  # polled: logged at DEBUG


@bp.get("/livez")
@access(public=True)
def livez():
    """Answer 200 while the process can serve requests; touches no database and no broker."""
    return jsonify({"status": "ok"})


def _request_context() -> dict:
    if not has_request_context():
        return {}
    return {
        "request_id": g.get("request_id"),
        "endpoint": request.endpoint,
        "method": request.method,
    }


@bp.record_once
def _install(state) -> None:
    install(state.app)


def install(app: Flask) -> None:
    """Switch the logs to JSON if configured, and observe every request of the app."""
    logs.configure_logging(app.config["COORD"].get("LOG_FORMAT", "text"))
    logs.add_context_provider(_request_context)

    @app.before_request
    def _start():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        started = g.pop("request_started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        endpoint = request.endpoint or "unmatched"  # a URL no route knows is not a label
        metrics.observe_request(endpoint, request.method, response.status_code, seconds)
        if g.get("request_id"):
            response.headers["X-Request-ID"] = g.request_id
        # The route's name, never the URL: no query string and no path parameters in the log.
        log.log(
            logging.DEBUG if endpoint in QUIET_ENDPOINTS else logging.INFO,
            "%s %s %d %.1fms",
            request.method,
            endpoint,
            response.status_code,
            seconds * 1000,
            extra={
                "endpoint": endpoint,
                "method": request.method,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
            },
        )
        return response
