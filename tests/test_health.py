"""GET /healthz checks the database and the broker."""

import pytest

from coordination.app import create_app
from tests.conftest import DATABASE_URL, REDIS_URL


def test_healthy(api):
    response = api.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.committing
def test_broker_down_answers_503():
    app = create_app({"DATABASE_URL": DATABASE_URL, "BROKER_URL": "redis://127.0.0.1:1/0"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "down", "database": "ok", "broker": "down"}


@pytest.mark.committing
def test_database_down_answers_503():
    app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
            "BROKER_URL": REDIS_URL,
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"
