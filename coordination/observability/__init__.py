"""Watching production: structured logs, Prometheus metrics, liveness.

Invariants:
- A log line is one JSON object (with COORD_LOG_FORMAT=json) and carries only allow-listed fields:
  time, level, logger, message, request id, endpoint, method, status, duration, task. Request
  bodies, query strings, form fields and URLs with parameters are never logged, and an exception
  is logged by type and stack only (database errors carry the row's values in their message).
- Request metrics are labelled by endpoint (the route's name), never by URL, so no id reaches a
  label. Metrics are served on their own port (COORD_METRICS_PORT), never by the public app.
- The state gauges (queue length, reminders, notifications, worker heartbeats) are read at scrape
  time with short timeouts; a source that does not answer is reported as down, not as zero.
- coordination/ never imports notifications/: the notification tables are read by name.
"""
