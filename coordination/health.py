"""The liveness and readiness check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from kombu import Connection
from sqlalchemy import text

from coordination.core.permissions import access
from coordination.extensions import db

bp = Blueprint("health", __name__)


def broker_ok(url: str) -> bool:
    """Tell whether the broker answers within a couple of seconds."""
    try:
        with Connection(url, connect_timeout=2, transport_options={"max_retries": 0}) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@bp.get("/healthz")
@access(public=True)
def healthz():
    """Report whether the database and the broker answer (503 when one does not)."""
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:
        db.session.rollback()
        database = "down"
    broker = "ok" if broker_ok(current_app.config["COORD"]["BROKER_URL"]) else "down"
    healthy = database == "ok" and broker == "ok"
    body = {"status": "ok" if healthy else "down", "database": database, "broker": broker}
    return jsonify(body), 200 if healthy else 503
