"""GET /livez: the process answers, whatever the database and the broker do (GET /healthz is the
readiness check that looks at them)."""

from __future__ import annotations

import pytest

from coordination.app import create_app


def test_livez_answers_ok(api):
    response = api.get("/livez")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.mark.committing
def test_livez_needs_neither_database_nor_broker_while_healthz_reports_them_down():
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
            "BROKER_URL": "redis://127.0.0.1:1/0",
        }
    )
    client = app.test_client()
    assert client.get("/livez").status_code == 200
    assert client.get("/healthz").status_code == 503
