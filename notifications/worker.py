"""The worker and beat entry point: `celery -A notifications.worker worker|beat`."""

from coordination.app import create_app
from notifications import health
from notifications.celery_app import celery

flask_app = create_app()
health.install(celery, flask_app)  # limits, heartbeat, JSON logs, worker metrics
app = celery
