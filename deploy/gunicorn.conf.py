"""Gunicorn for production: `gunicorn -c deploy/gunicorn.conf.py` (the app is wsgi:app).

Settings come from COORD_* variables (deploy/env.example): COORD_BIND (address:port, or
unix:/path), COORD_WEB_WORKERS (default 2), COORD_WEB_TIMEOUT, COORD_METRICS_ADDRESS and
COORD_METRICS_PORT. Logs are JSON lines on stderr; the access log has the path without the query
string. The master serves Prometheus metrics on COORD_METRICS_PORT, summed over the workers
through PROMETHEUS_MULTIPROC_DIR (a fresh temporary directory unless the unit sets one).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Before anything imports prometheus_client: the workers write their values to files here.
os.environ.setdefault("COORD_LOG_FORMAT", "json")
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="coord-web-metrics-")

from coordination.config import load_settings  # noqa: E402
from coordination.observability.logs import configure_logging  # noqa: E402

settings = load_settings()  # refuses to start in production without a secret key and database
configure_logging("json")

wsgi_app = "wsgi:app"
chdir = str(ROOT)
bind = [settings["BIND"]]
workers = int(settings["WEB_WORKERS"])
worker_class = "sync"  # one request per process: the database pool stays per process
timeout = int(settings["WEB_TIMEOUT"])  # a worker silent this long is killed and replaced
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (memory), staggered by the jitter
max_requests_jitter = 200
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")  # the reverse proxy
proxy_allow_ips = forwarded_allow_ips

accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = "coordination.observability.gunicorn_logging.JsonLogger"
capture_output = False
control_socket_disable = True  # no gunicornc: systemd and signals manage the processes


def on_starting(server) -> None:
    """Start from empty metric files: counts restart with the master."""
    from coordination.observability.metrics import clear_multiprocess_dir

    clear_multiprocess_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def when_ready(server) -> None:
    """Serve the metrics of all workers, and the state gauges, from the master."""
    port = int(settings["METRICS_PORT"])
    if not port:
        return
    from coordination.observability.metrics import registry_for, serve

    registry = registry_for(settings, os.environ["PROMETHEUS_MULTIPROC_DIR"])
    server.metrics_server = serve(registry, port, str(settings["METRICS_ADDRESS"]))


def post_fork(server, worker) -> None:
    """A worker does not serve metrics: close its inherited copy of the metrics socket."""
    metrics_server = getattr(server, "metrics_server", None)
    if metrics_server is not None:
        metrics_server.socket.close()


def child_exit(server, worker) -> None:
    """Tell prometheus_client a worker is gone (its live gauges no longer count)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
