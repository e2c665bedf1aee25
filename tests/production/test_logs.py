"""Structured JSON logs with allow-listed fields only, and no personal data in them."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest

from coordination.observability.logs import ContextFilter, JsonFormatter, json_handler
from tests.factories import make_programme, make_user, referral_data, token_headers

NAME = ("Zyxomira", "Quellbrandt")


@pytest.fixture()
def captured():
    """Everything logged (from DEBUG up), as the JSON lines production writes."""
    stream = io.StringIO()
    handler = json_handler(stream)
    root = logging.getLogger()
    level = root.level
    # The test run's in-process migration (alembic's fileConfig) disabled the loggers that
    # existed then; a production process never migrates in-process, so turn them back on.
    loggers = [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.disabled
    ]
    for logger in loggers:
        logger.disabled = False
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    for logger in loggers:
        logger.disabled = True


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def test_a_referral_submission_leaves_no_personal_data_in_the_logs(api, captured):
    programme = make_programme()
    referrer = make_user("referrer")
    make_user("team_lead")  # the submission notifies the team leads
    data = referral_data(first_name=NAME[0], last_name=NAME[1], phone="070-987 65 43")
    number = data["identity_number"]
    body = _json(data) | {"programme_id": programme.id, "submit": True}
    headers = token_headers(referrer)

    created = api.post(f"/api/v1/referrals?note={NAME[1]}", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    duplicate = api.post("/api/v1/referrals", json=body, headers=headers)  # an error path too
    assert duplicate.status_code == 409
    read = api.get(f"/api/v1/referrals/{created.get_json()['id']}", headers=headers)
    assert read.get_json()["last_name"] == NAME[1]

    text = captured.getvalue()
    for secret in (*NAME, number, number.replace("-", ""), number[2:], "070-987 65 43"):
        assert secret not in text
    requests = [e for e in _lines(captured) if e["logger"] == "coordination.request"]
    assert [(e["endpoint"], e["status"]) for e in requests] == [
        ("api.create_referral", 201),
        ("api.create_referral", 409),
        ("api.get_referral", 200),
    ]


def test_a_request_line_has_the_fields_and_the_request_id(api, captured):
    response = api.get("/livez?personnummer=19900101-1234", headers={"X-Request-ID": "abc-123-def"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "abc-123-def"
    [entry] = [e for e in _lines(captured) if e["logger"] == "coordination.request"]
    assert entry["endpoint"] == "observability.livez"
    assert entry["request_id"] == "abc-123-def"
    assert entry["status"] == 200 and entry["method"] == "GET"
    assert isinstance(entry["duration_ms"], float)
    assert {"time", "level", "message"} <= set(entry)
    assert "19900101" not in captured.getvalue()


def test_an_unusable_request_id_is_replaced(api):
    response = api.get("/livez", headers={"X-Request-ID": "<script>"})
    assert response.headers["X-Request-ID"] != "<script>"
    assert len(response.headers["X-Request-ID"]) == 32


def _format(record: logging.LogRecord) -> dict:
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_fields_outside_the_allow_list_are_dropped():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "saved %s", ("form",), None)
    record.form = {"first_name": NAME[0]}
    record.query_string = "name=" + NAME[1]
    record.status = 201
    entry = _format(record)
    assert entry["message"] == "saved form"
    assert entry["status"] == 201
    assert NAME[0] not in json.dumps(entry) and NAME[1] not in json.dumps(entry)


def test_a_database_error_is_logged_without_its_message_a_network_error_with_it():
    from psycopg.errors import UniqueViolation
    from sqlalchemy.exc import IntegrityError

    def logged(exc: BaseException) -> dict:
        try:
            raise exc
        except BaseException:
            import sys

            record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
            record.exc_info = sys.exc_info()
            return _format(record)

    database = logged(
        IntegrityError(
            "INSERT INTO person ...",
            {"identity_number": "19900101-1234", "last_name": NAME[1]},
            UniqueViolation("Key (identity_number)=(19900101-1234) already exists."),
        )
    )
    assert database["exception"]["type"] == "IntegrityError"
    assert database["exception"]["stack"]
    assert "19900101" not in json.dumps(database) and NAME[1] not in json.dumps(database)

    network = logged(ConnectionRefusedError(111, "Connection refused"))
    assert network["exception"]["message"] == "[Errno 111] Connection refused"


def test_gunicorn_access_lines_are_json_without_the_query_string():
    from gunicorn.config import Config

    from coordination.observability.gunicorn_logging import JsonLogger

    config = Config()
    config.set("accesslog", "-")
    logger = JsonLogger(config)
    stream = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(stream)

    class Response:
        status = "200 OK"
        headers = [("Content-Type", "text/html"), ("X-Request-ID", "req-12345678")]

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/referrals/7",
        "QUERY_STRING": f"q={NAME[1]}",
        "RAW_URI": f"/referrals/7?q={NAME[1]}",
        "REMOTE_ADDR": "10.1.2.3",
        "HTTP_USER_AGENT": "Browser",
    }
    logger.access(Response(), None, environ, timedelta(milliseconds=12))
    entry = json.loads(stream.getvalue())
    assert entry["logger"] == "gunicorn.access"
    assert entry["path"] == "/referrals/7"
    assert entry["status"] == 200
    assert entry["request_id"] == "req-12345678"
    assert entry["duration_ms"] == 12.0
    assert NAME[1] not in stream.getvalue() and "10.1.2.3" not in stream.getvalue()
