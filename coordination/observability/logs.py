"""One JSON object per log line, with allow-listed fields only and no personal data.

`configure_logging("json")` puts the JSON formatter on the root handler (the web app, gunicorn's
workers and the Celery worker all log through it). Fields are copied from a log record only when
they are named in FIELDS: whatever else a caller passes in `extra=` is dropped, so a form, a body
or a query string cannot reach the log by accident. Exceptions are written as their type and
stack; the message is kept only for network errors (OSError), because a database error's message
repeats the values of the row it refused (a name, a personnummer).
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

FIELDS = (
    "request_id",
    "endpoint",
    "method",
    "status",
    "duration_ms",
    "path",
    "task",
    "task_id",
    "worker",
)

# Callables that return context fields for the record being written (the current request, the
# current Celery task); the web app and the worker each add theirs.
ContextProvider = Callable[[], dict]
_providers: list[ContextProvider] = []


def add_context_provider(provider: ContextProvider) -> None:
    """Add a source of context fields (once; adding the same provider again does nothing)."""
    if provider not in _providers:
        _providers.append(provider)


class ContextFilter(logging.Filter):
    """Fill the context fields (request id, endpoint, task) the record does not already have."""

    def filter(self, record: logging.LogRecord) -> bool:
        for provider in _providers:
            try:
                context = provider()
            except Exception:  # a log line must never fail because its context could not be read
                continue
            for key, value in context.items():
                if key in FIELDS and getattr(record, key, None) is None:
                    setattr(record, key, value)
        return True


def _exception(exc_info) -> dict:
    exc_type, exc, tb = exc_info
    info: dict = {"type": exc_type.__name__ if exc_type else "Exception"}
    if isinstance(exc, OSError):  # connection refused, timeouts: no row values in these
        info["message"] = str(exc)
    info["stack"] = [
        f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in traceback.extract_tb(tb)
    ]
    cause = exc.__cause__ or exc.__context__ if exc is not None else None
    if cause is not None and cause is not exc:
        info["cause"] = type(cause).__name__
    return info


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON with the allow-listed fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = _exception(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def json_handler(stream=None) -> logging.Handler:
    """Return a handler that writes JSON lines with the context fields."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    return handler


def configure_logging(log_format: str = "json", level: int | str = logging.INFO) -> None:
    """With "json", make the root logger write JSON lines to stderr; "text" leaves it as it is.

    Only plain stderr handlers (as logging.basicConfig makes) are switched to JSON; handlers of
    other kinds (files, test capture) are left alone.
    """
    if log_format != "json":
        return
    root = logging.getLogger()
    plain = [h for h in root.handlers if type(h) is logging.StreamHandler]
    if not plain:
        root.addHandler(json_handler())
    for handler in plain:
        handler.setFormatter(JsonFormatter())
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings become JSON lines too, not raw text on stderr
    # The development server logs each request line with its query string: not in JSON mode.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
