"""How a request's open transaction ends: committed when it only read, rolled back otherwise
(coordination/core/request_end.py). A rollback empties psycopg's prepared statements."""

from flask_sqlalchemy.session import Session as AppSession
from sqlalchemy import event, select

from coordination.codes.models import Code
from coordination.core import request_end
from coordination.extensions import db
from tests.factories import PASSWORD, make_user


def _endings(during):
    """Return how each transaction ended ('commit' or 'rollback') while `during()` ran."""
    ended: list[str] = []

    def committed(_session):
        ended.append("commit")

    def rolled_back(_session):
        ended.append("rollback")

    event.listen(AppSession, "after_commit", committed)
    event.listen(AppSession, "after_rollback", rolled_back)
    try:
        during()
    finally:
        event.remove(AppSession, "after_commit", committed)
        event.remove(AppSession, "after_rollback", rolled_back)
    return ended


def test_a_page_that_only_reads_ends_its_transaction_with_a_commit(client):
    user = make_user("coordinator")
    client.login(user.email, PASSWORD)
    ended = _endings(lambda: client.get("/account"))
    assert ended == ["commit"]


def test_a_request_that_wrote_and_did_not_commit_is_not_committed_at_its_end(app):
    with app.test_request_context():
        db.session.add(Code(list_name="work", code="provrad", label_sv="Prov", label_en="Test"))
        db.session.flush()
        ended = _endings(lambda: request_end._end_request(None))
        assert ended == []  # left to the session's removal, which rolls it back
        db.session.rollback()
        assert db.session.scalar(select(Code).where(Code.code == "provrad")) is None


def test_a_failed_request_is_not_committed_at_its_end(app):
    with app.test_request_context():
        db.session.scalar(select(Code).limit(1))
        ended = _endings(lambda: request_end._end_request(RuntimeError("the view failed")))
        assert ended == []
