"""The worker and beat entry point: `celery -A notifications.worker worker|beat`."""

from coordination.app import create_app
from notifications.celery_app import celery

flask_app = create_app()
app = celery
