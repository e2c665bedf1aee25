"""The access log: a row per kind of access, append-only in the database, tamper-evident."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from coordination.audit.chain import verify
from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from coordination.tenancy import context as tenancy
from tests.conftest import as_table_owner
from tests.factories import PASSWORD, make_referral, make_user


def _rows(**where):
    query = select(AccessLogEntry)
    for key, value in where.items():
        query = query.where(getattr(AccessLogEntry, key) == value)
    return db.session.scalars(query.order_by(AccessLogEntry.id)).all()


def test_each_kind_of_access_leaves_a_row(client):
    referral = make_referral("draft")
    user = referral.referrer
    client.login(user.email, "wrong password")
    client.login(user.email, PASSWORD)
    client.get(f"/referrals/{referral.id}")
    client.post_form(f"/referrals/{referral.id}/submit")
    stranger = make_user("referrer")
    client.post_form("/logout")
    client.login(stranger.email, PASSWORD)
    client.get(f"/referrals/{referral.id}")
    kinds = {(r.action, r.outcome) for r in _rows()}
    with tenancy.use(None):  # a wrong password names no account: the installation's own log
        assert ("login", "failed") in {(r.action, r.outcome) for r in _rows()}
    assert ("login", "allowed") in kinds
    assert ("read", "allowed") in kinds
    assert ("submit", "allowed") in kinds
    assert ("logout", "allowed") in kinds
    refused = [r for r in _rows(outcome="refused") if r.user_id == stranger.id]
    assert refused, "a refused access is logged"
    read = _rows(action="read", object_type="referral")[0]
    assert read.user_id == user.id and read.role == "referrer" and read.unit_id is not None
    assert read.person_id is None or isinstance(read.person_id, int)
    assert read.at.tzinfo is not None


def test_rows_are_hash_chained_and_tampering_is_detected():
    make_referral("submitted")
    for _ in range(3):
        db.session.add(AccessLogEntry(action="read", object_type="probe", object_id="1"))
    db.session.commit()
    intact, bad, checked = verify(db.session)
    assert intact and bad is None and checked >= 3
    rows = _rows(object_type="probe")
    assert rows[1].prev_hash == rows[0].hash
    # Tamper as an attacker with the table owner's rights would: disable the guard, edit a row.
    with as_table_owner():
        db.session.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_no_update"))
        db.session.execute(
            text("UPDATE access_log SET object_id = '2' WHERE id = :id"), {"id": rows[1].id}
        )
        db.session.execute(text("ALTER TABLE access_log ENABLE TRIGGER access_log_no_update"))
    db.session.expire_all()
    intact, bad, _checked = verify(db.session)
    assert not intact and bad == rows[1].id


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_log SET outcome = 'allowed'",
        "DELETE FROM access_log",
        "TRUNCATE access_log CASCADE",
    ],
)
def test_update_delete_and_truncate_are_refused_by_the_database(statement):
    db.session.add(AccessLogEntry(action="read", object_type="probe"))
    db.session.commit()
    with pytest.raises(DBAPIError) as caught:  # the guard holds even for the tables' owner
        with as_table_owner(), db.session.begin_nested():
            db.session.execute(text(statement))
    assert "append-only" in str(caught.value)
    assert _rows(object_type="probe")


def test_rows_past_five_years_are_pruned_and_the_rest_still_verify():
    from datetime import timedelta

    from coordination.audit.operations import prune_access_log
    from coordination.core.db import utcnow

    old = AccessLogEntry(action="read", object_type="probe", at=utcnow() - timedelta(days=6 * 366))
    db.session.add(old)
    db.session.commit()
    db.session.add(AccessLogEntry(action="read", object_type="probe"))
    db.session.commit()
    assert prune_access_log(utcnow(), 5) == 1
    db.session.commit()
    assert [r.object_type for r in _rows(object_type="probe")] == ["probe"]
    assert verify(db.session)[0]
