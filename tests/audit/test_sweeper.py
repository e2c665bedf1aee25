"""A request only inserts its access-log rows; the sweeper chains the committed ones afterwards.

No writer waits for another (asserted with a lock_timeout: a wait would fail the statement, not
slow it down), rows committed out of id order are chained in the order they became visible, two
sweepers never fork the chain, and the database lets the sweeper fill in only the chain columns.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from coordination.audit import chain, jobs
from coordination.audit.models import AccessLogEntry
from coordination.audit.operations import log_access
from coordination.extensions import db
from coordination.tenancy import context as tenancy
from tests.committed import purge, snapshot
from tests.conftest import FIRST_FORBUND, as_table_owner
from tests.factories import PASSWORD, make_user
from tests.querycount import counted_queries

NO_WAITING = "SET LOCAL lock_timeout = '1s'"  # any lock wait fails the statement


def _rows(ids) -> list[AccessLogEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.id.in_(list(ids)))))


def _log(count: int, marker: str) -> list[int]:
    # Its own object type: the committing tests below leave their rows for good.
    entries = [log_access("sweep-probe", f"{marker}:{i}") for i in range(count)]
    db.session.flush()
    return [entry.id for entry in entries]


def _tamper(entry_id: int, **sql_set) -> None:
    """Change a row as an attacker with the table owner's rights would (guard off, edit, on)."""
    assignments = ", ".join(f"{column} = :{column}" for column in sql_set)
    with as_table_owner():
        db.session.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_no_update"))
        db.session.execute(
            text(f"UPDATE access_log SET {assignments} WHERE id = :id"), {"id": entry_id, **sql_set}
        )
        db.session.execute(text("ALTER TABLE access_log ENABLE TRIGGER access_log_no_update"))
    db.session.expire_all()


def test_a_request_inserts_its_rows_in_one_statement_and_leaves_them_unchained(app):
    with counted_queries() as statements:
        ids = _log(5, "batch")
        db.session.commit()
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1  # one multi-row INSERT, no read of the chain, no lock
    assert not [s for s in statements if "advisory" in s or "access_log.hash" in s]
    assert all(r.chain_seq is None and r.hash == "" for r in _rows(ids))


def test_the_sweeper_chains_waiting_rows_in_order_and_a_second_run_changes_nothing(app):
    ids = _log(4, "sweep")
    db.session.commit()
    first = jobs.sweep_chain()
    assert first["ran"] and first["chained"] >= 4
    rows = sorted(_rows(ids), key=lambda r: r.chain_seq)
    assert [r.id for r in rows] == ids  # committed together: chained in id order
    assert [r.chain_seq for r in rows] == list(range(rows[0].chain_seq, rows[0].chain_seq + 4))
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash and after.hash == chain.digest(after)
    hashes = [(r.chain_seq, r.hash) for r in rows]
    assert jobs.sweep_chain() == {"ran": True, "chained": 0}  # idempotent
    assert [(r.chain_seq, r.hash) for r in sorted(_rows(ids), key=lambda r: r.chain_seq)] == hashes
    assert chain.verify(db.session)[0]


def test_tampering_with_a_chained_row_is_detected(app):
    ids = _log(3, "tamper")
    db.session.commit()
    jobs.sweep_chain()
    _tamper(ids[1], object_id="changed")
    intact, bad_id, _checked = chain.verify(db.session)
    assert (intact, bad_id) == (False, ids[1])


def test_moving_a_chained_row_to_another_place_is_detected(app):
    ids = _log(3, "move")
    db.session.commit()
    jobs.sweep_chain()
    first, _second, third = sorted(_rows(ids), key=lambda r: r.chain_seq)
    places = (first.chain_seq, third.chain_seq)
    _tamper(first.id, chain_seq=-1)
    _tamper(third.id, chain_seq=places[0])
    _tamper(first.id, chain_seq=places[1])
    assert not chain.verify(db.session)[0]


@pytest.mark.parametrize(
    "assignment",
    [
        "chain_seq = 10000000, hash = 'x', object_id = 'changed'",  # more than the chain columns
        "object_id = 'changed'",
    ],
)
def test_the_database_refuses_any_other_change_to_an_unchained_row(app, assignment):
    (entry_id,) = _log(1, "guard")
    db.session.commit()
    with pytest.raises(DBAPIError) as caught, db.session.begin_nested():
        db.session.execute(
            text(f"UPDATE access_log SET {assignment} WHERE id = :id"), {"id": entry_id}
        )
    assert "append-only" in str(caught.value)


def test_the_database_refuses_to_chain_a_chained_row_again(app):
    (entry_id,) = _log(1, "again")
    db.session.commit()
    jobs.sweep_chain()
    with pytest.raises(DBAPIError) as caught, db.session.begin_nested():
        db.session.execute(
            text(
                "UPDATE access_log SET chain_seq = chain_seq + 1000000, hash = 'x' WHERE id = :id"
            ),
            {"id": entry_id},
        )
    assert "append-only" in str(caught.value)


def test_the_auditor_sees_the_rows_waiting_to_be_chained_and_the_check_chains_them(client):
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    jobs.verify_chain()
    ids = _log(3, "waiting")
    db.session.commit()
    waiting = chain.unchained_rows(db.session)
    assert waiting >= 3
    page = client.get("/audit/").get_data(as_text=True)
    assert f"{waiting} av dem har ännu inte lagts in i kedjan." in page

    assert client.post_form("/audit/chain").status_code == 302  # chains what waits, then checks
    checkpoint = chain.latest_checkpoint(db.session)
    assert checkpoint.intact and checkpoint.rows_checked >= 3
    assert all(r.chain_seq is not None and r.chain_seq <= checkpoint.last_seq for r in _rows(ids))
    page = client.get("/audit/").get_data(as_text=True)
    # Only the check's own log row, written after it, waits now.
    assert "1 av dem har ännu inte lagts in i kedjan." in page
    jobs.sweep_chain()
    page = client.get("/audit/").get_data(as_text=True)
    assert "har ännu inte lagts in i kedjan" not in page


def test_the_cli_chains_what_waits_before_it_verifies(app):
    ids = _log(2, "cli")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify-chain"])
    assert result.exit_code == 0, result.output
    assert all(r.chain_seq is not None for r in _rows(ids))
    assert chain.latest_checkpoint(db.session).last_seq >= max(r.chain_seq for r in _rows(ids))


def test_pruning_keeps_an_old_row_chained_after_a_kept_one_so_the_chain_still_links(app):
    from datetime import timedelta

    from coordination.audit.operations import prune_access_log
    from coordination.core.db import utcnow

    (young,) = _log(1, "young")
    db.session.commit()
    jobs.sweep_chain()
    # Written with an old time but chained later (a slow transaction): not the chain's head.
    old = AccessLogEntry(
        action="read", object_type="sweep-probe", at=utcnow() - timedelta(days=2200)
    )
    db.session.add(old)
    db.session.commit()
    late = old.id
    jobs.sweep_chain()
    (after,) = _log(1, "after")
    db.session.commit()
    jobs.sweep_chain()
    prune_access_log(utcnow(), 5)
    db.session.commit()
    assert len(_rows([young, late, after])) == 3
    assert chain.verify(db.session)[0]


# Writers and sweepers on their own connections, committing for real. access_log rows cannot be
# deleted (the database refuses rows younger than five years), so these leave theirs, chained.


def _in_thread(app, work, outcome: dict, name: str) -> threading.Thread:
    def run():
        with app.app_context(), tenancy.use(FIRST_FORBUND):
            try:
                outcome[name] = work()
            except Exception as exc:  # pragma: no cover - reported by the assertions
                outcome[name] = repr(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture()
def cleanup(app):
    """Remove what a committing test added besides its log rows (the checkpoints it recorded)."""
    marks = snapshot()
    yield
    purge(marks)


def _waiting_for_the_chain_lock() -> bool:
    return bool(
        db.session.scalar(
            text(
                # The two-key lock of one förbund's chain: (CHAIN_LOCK, förbund).
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid = :key AND objid = :forbund AND objsubid = 2"
            ),
            {"key": chain.CHAIN_LOCK, "forbund": FIRST_FORBUND},
        )
    )


@pytest.mark.committing
def test_writers_never_wait_for_each_other_nor_for_a_sweeper(app, cleanup):
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def writer_holding_uncommitted_rows():
        ids = _log(3, "held")
        holding.set()
        release.wait(timeout=20)
        db.session.commit()
        return ids

    def sweeper_holding_the_chain_lock():
        chained = chain.chain_pending(db.session)
        holding.set()
        release.wait(timeout=20)
        db.session.commit()
        return chained

    for hold in (writer_holding_uncommitted_rows, sweeper_holding_the_chain_lock):
        holding.clear()
        release.clear()
        thread = _in_thread(app, hold, outcome, hold.__name__)
        try:
            assert holding.wait(timeout=20)
            db.session.execute(text(NO_WAITING))
            ids = _log(2, "free")
            db.session.commit()  # neither the other's open rows nor the chain lock held us up
            assert len(_rows(ids)) == 2
        finally:
            release.set()
            thread.join(timeout=20)
    assert isinstance(outcome["writer_holding_uncommitted_rows"], list)
    assert isinstance(outcome["sweeper_holding_the_chain_lock"], int)
    jobs.sweep_chain()
    assert chain.verify(db.session)[0]


@pytest.mark.committing
def test_rows_committed_out_of_id_order_are_all_chained_without_a_fork(app, cleanup):
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def early_ids_late_commit():
        ids = _log(3, "late")  # ids taken now, committed after the later ids are chained
        holding.set()
        release.wait(timeout=20)
        db.session.commit()
        return ids

    thread = _in_thread(app, early_ids_late_commit, outcome, "late")
    try:
        assert holding.wait(timeout=20)
        later = _log(2, "early")
        db.session.commit()
        jobs.sweep_chain()  # chains `later`; the open transaction's rows are not visible yet
    finally:
        release.set()
        thread.join(timeout=20)
    earlier = outcome["late"]
    assert max(earlier) < min(later)
    assert all(r.chain_seq is None for r in _rows(earlier))
    jobs.sweep_chain()
    rows = {r.id: r for r in _rows(earlier + later)}
    assert all(r.chain_seq is not None for r in rows.values())  # none lost
    assert min(rows[i].chain_seq for i in earlier) > max(rows[i].chain_seq for i in later)
    seqs = sorted(r.chain_seq for r in rows.values())
    assert len(set(seqs)) == len(seqs)
    intact, bad_id, _checked = chain.verify(db.session)
    assert intact, bad_id
    # And the incremental check agrees, from its last checkpoint.
    assert jobs.verify_chain()["intact"]


@pytest.mark.committing
def test_two_sweepers_at_once_chain_each_row_once(app, cleanup):
    first_done, release = threading.Event(), threading.Event()
    outcome: dict = {}
    before = _log(3, "two-a")
    db.session.commit()

    def first_sweeper():
        chained = chain.chain_pending(db.session)
        first_done.set()
        release.wait(timeout=20)
        db.session.commit()
        return chained

    def second_sweeper():
        return chain.chain_pending(db.session), db.session.commit()

    first = _in_thread(app, first_sweeper, outcome, "first")
    second = None
    try:
        assert first_done.wait(timeout=20)
        db.session.execute(text(NO_WAITING))
        after = _log(2, "two-b")  # written while the first sweeper holds the lock
        db.session.commit()
        # A beat sweep finds the lock taken and leaves at once, without waiting.
        db.session.execute(text(NO_WAITING))
        assert jobs.sweep_chain() == {"ran": False, "chained": 0}
        # A waiting sweeper (as a verification runs one) continues from the first one's tail.
        second = _in_thread(app, second_sweeper, outcome, "second")
        while not _waiting_for_the_chain_lock():
            assert second.is_alive(), outcome
            db.session.rollback()  # a fresh snapshot of pg_locks
            time.sleep(0.02)
    finally:
        release.set()
        first.join(timeout=20)
        if second is not None:
            second.join(timeout=20)
    assert outcome["first"] >= 3
    assert outcome["second"][0] >= 2
    rows = sorted(_rows(before + after), key=lambda r: r.chain_seq)
    assert [r.id for r in rows] == before + after
    assert rows[3].prev_hash == rows[2].hash  # the second sweeper read the first one's tail
    assert chain.verify(db.session)[0]
