"""The Celery application; tasks run inside a Flask application context."""

from __future__ import annotations

from celery import Celery, Task

celery = Celery("coordination", include=[])
_flask_app = None


def configure(app) -> Celery:
    """Point Celery at the app's broker and make every task run in its app context."""
    global _flask_app
    _flask_app = app
    settings = app.config["COORD"]
    celery.conf.update(
        broker_url=settings["BROKER_URL"],
        result_backend=settings["RESULT_BACKEND"],
        task_serializer="json",
        accept_content=["json"],
        result_serializer="json",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        timezone="Europe/Stockholm",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
    )

    class AppContextTask(Task):
        def __call__(self, *args, **kwargs):
            with _flask_app.app_context():
                return super().__call__(*args, **kwargs)

    celery.Task = AppContextTask
    app.extensions["celery"] = celery
    return celery
