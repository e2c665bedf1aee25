"""Gunicorn's own logs as JSON lines: its error log, and an access log without query strings.

Used by deploy/gunicorn.conf.py as `logger_class`. An access line has the method, the path only
(PATH_INFO: never the query string, never the raw request line), the status, the duration and the
request id the app answered with; no client address, user agent or referrer.
"""

from __future__ import annotations

import logging

from gunicorn.glogging import Logger

from coordination.observability.logs import JsonFormatter


class JsonLogger(Logger):
    """Gunicorn's logger with JSON formatting."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not self.cfg.accesslog and not self.cfg.logconfig and not self.cfg.logconfig_dict:
            return
        status = resp.status
        code = int(str(status).split(None, 1)[0]) if status else 0
        request_id = next(
            (value for name, value in resp.headers if name.lower() == "x-request-id"), None
        )
        method = environ.get("REQUEST_METHOD", "-")
        path = environ.get("PATH_INFO", "-")
        duration_ms = round(request_time.total_seconds() * 1000, 1)
        try:
            self.access_log.log(
                logging.INFO,
                "%s %s %d",
                method,
                path,
                code,
                extra={
                    "method": method,
                    "path": path,
                    "status": code,
                    "duration_ms": duration_ms,
                    "request_id": request_id,
                },
            )
        except Exception:
            self.error_log.exception("could not write the access log")
