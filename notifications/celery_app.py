"""The Celery application; tasks run inside a Flask application context."""

from __future__ import annotations

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import before_task_publish, worker_process_init

from coordination.tenancy import context as tenancy

celery = Celery("coordination", include=["notifications.tasks"])
_flask_app = None


def configure(app) -> Celery:
    """Point Celery at the app's broker and make every task run in its app context."""
    global _flask_app
    _flask_app = app
    settings = app.config["COORD"]
    if celery.conf.broker_url != settings["BROKER_URL"]:
        # Sends go through a producer pool that Celery caches with its first connection: a new
        # broker (another app in the same process, as tests create) must not reuse the old one.
        celery.close()
        celery.amqp._producer_pool = None
    sweep_seconds = float(settings.get("NOTIFY_SWEEP_SECONDS", 60))
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
        # A web request whose broker is down waits about a second, then the sweep takes over.
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        broker_connection_timeout=3,
        # Redis's socket timeouts; the embedded SQLAlchemy transport (make run) takes none.
        broker_transport_options=(
            {"socket_connect_timeout": 3, "socket_timeout": 10}
            if settings["BROKER_URL"].startswith(("redis://", "rediss://"))
            else {}
        ),
        beat_schedule={
            # The one sweep: every due reminder of the one table, and undelivered notifications.
            "notifications-sweep": {
                "task": "notifications.sweep",
                "schedule": sweep_seconds,
                # A sweep nobody ran in time is pointless: the next one does the same work.
                "options": {"expires": max(sweep_seconds * 2, 5)},
            },
            # The domain jobs (coordination.conferences.jobs, coordination.jobs).
            "conference-cycle": {
                "task": "notifications.conference_cycle",
                "schedule": 15 * 60,
                "options": {"expires": 10 * 60},
            },
            # The access log's sweeper: chains the rows requests wrote (they only insert).
            "access-log-sweep": {
                "task": "notifications.sweep_access_log",
                "schedule": 5,
                "options": {"expires": 10},
            },
            # The access log's hash chain, continued from the last checkpoint.
            "access-log-chain": {
                "task": "notifications.verify_access_log",
                "schedule": 15 * 60,
                "options": {"expires": 10 * 60},
            },
            "daily-duties": {
                "task": "notifications.daily_duties",
                "schedule": crontab(hour=2, minute=15),
                "options": {"expires": 6 * 3600},
            },
        },
    )

    class AppContextTask(Task):
        def __call__(self, *args, **kwargs):
            # Within the förbund of whoever sent it (its `forbund_id` header), else the one
            # current (an eager call), else none: a periodic job then runs once per förbund.
            sent_from = self.request.get("forbund_id")
            with _flask_app.app_context():
                with tenancy.use(sent_from if sent_from is not None else tenancy.current_id()):
                    return super().__call__(*args, **kwargs)

    celery.Task = AppContextTask
    app.extensions["celery"] = celery
    return celery


@worker_process_init.connect
def _fresh_connections_in_child(**_kwargs) -> None:
    """A forked worker child must not share its parent's database connections."""
    if _flask_app is not None:
        from coordination.extensions import db

        with _flask_app.app_context():
            db.engine.dispose(close=False)


@before_task_publish.connect
def _carry_the_forbund(headers=None, **_kwargs) -> None:
    """A task sent within a förbund runs within it: the förbund goes in the message's headers."""
    if headers is not None and tenancy.current_id() is not None:
        headers["forbund_id"] = tenancy.current_id()
