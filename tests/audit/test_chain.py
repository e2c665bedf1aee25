"""The hash chain is verified incrementally from checkpoints: by beat, by the auditor's button (a
bounded step), and in full from the command line. The start page shows the last result.

Rows are chained by the sweeper after their commit (tests/audit/test_sweeper.py); the tampering
here happens to chained rows, as a row changed before it is chained is chained as it then is."""

from types import SimpleNamespace

from sqlalchemy import func, select, text

from coordination.audit import chain, jobs
from coordination.audit.models import CHAIN_COLUMNS, AccessLogEntry, ChainCheckpoint
from coordination.extensions import db
from tests.conftest import as_table_owner
from tests.factories import PASSWORD, make_user


def _probes(count: int, *, chained: bool = True) -> list[int]:
    entries = [
        AccessLogEntry(action="read", object_type="probe", object_id=str(i)) for i in range(count)
    ]
    db.session.add_all(entries)
    db.session.commit()
    if chained:
        jobs.sweep_chain()
    return [e.id for e in entries]


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


def _checkpoints() -> int:
    return db.session.scalar(select(func.count()).select_from(ChainCheckpoint))


def _auditor(client):
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    return auditor


def test_the_start_page_shows_the_last_result_and_does_not_walk_the_chain(client):
    _probes(5)
    _auditor(client)
    page = client.get("/audit/").get_data(as_text=True)
    assert "Loggkedjan har inte kontrollerats ännu." in page
    assert "nyare rader väntar på kontroll" in page
    assert _checkpoints() == 0  # loading the page verified nothing

    jobs.verify_chain()
    last = chain.latest_checkpoint(db.session)
    page = client.get("/audit/").get_data(as_text=True)
    assert f"Loggkedjan är hel till och med rad {last.last_id}." in page
    assert f"{last.rows_checked} rader kontrollerade" in page
    assert _checkpoints() == 1


def test_the_auditor_verifies_new_rows_a_bounded_step_at_a_time(client, monkeypatch):
    monkeypatch.setattr(jobs, "REQUEST_BATCH", 4)
    auditor = _auditor(client)
    jobs.verify_chain()
    ids = _probes(6)
    first = client.post_form("/audit/chain")
    assert first.status_code == 302
    step = chain.latest_checkpoint(db.session)
    assert (step.triggered_by, step.user_id, step.rows_checked) == ("auditor", auditor.id, 4)
    page = client.get("/audit/").get_data(as_text=True)
    assert "Fler rader väntar" in page
    second = client.post_form("/audit/chain")
    assert second.status_code == 302
    more = chain.latest_checkpoint(db.session)
    assert more.first_id == step.last_id + 1 and more.rows_checked > 0  # continued, not redone
    monkeypatch.setattr(jobs, "REQUEST_BATCH", 1000)
    client.post_form("/audit/chain")
    done = chain.latest_checkpoint(db.session)
    assert done.intact and done.last_id > ids[-1]
    assert "Loggkedjan är hel" in client.get("/audit/").get_data(as_text=True)


def test_a_row_tampered_after_the_checkpoint_is_found_by_the_next_run(client):
    jobs.verify_chain()
    ids = _probes(4)
    _tamper(ids[2], object_id="changed")
    result = jobs.verify_chain()
    assert (result["intact"], result["broken_at_id"]) == (False, ids[2])
    again = jobs.verify_chain()  # the alarm stays until someone handles it
    assert (again["intact"], again["broken_at_id"]) == (False, ids[2])
    _auditor(client)
    page = client.get("/audit/").get_data(as_text=True)
    assert f"Loggkedjan är bruten vid rad {ids[2]}." in page


def test_a_row_tampered_before_the_checkpoint_is_found_by_the_full_verification(app):
    ids = _probes(4)
    assert jobs.verify_chain()["intact"]
    _tamper(ids[1], outcome="refused")
    assert jobs.verify_chain()["intact"]  # the incremental run reads only what is new
    result = app.test_cli_runner().invoke(args=["audit", "verify-chain", "--full"])
    assert result.exit_code == 1
    assert f"broken at row {ids[1]}" in result.output
    full = chain.latest_checkpoint(db.session)
    assert (full.full, full.intact, full.broken_at_id) == (True, False, ids[1])


def test_a_rewritten_and_rehashed_history_is_caught_by_the_checkpoints(app):
    ids = _probes(4)
    assert jobs.verify_chain()["intact"]
    # Rewrite one row and recompute every hash after it: the chain is whole again, but the
    # checkpoint vouched for the old hash of its last row.
    _tamper(ids[1], object_id="rewritten")
    rows = db.session.scalars(
        select(AccessLogEntry).where(AccessLogEntry.id >= ids[1]).order_by(AccessLogEntry.id)
    ).all()
    previous = db.session.get(AccessLogEntry, ids[0]).hash
    for row in rows:
        forged = SimpleNamespace(**{name: getattr(row, name) for name in CHAIN_COLUMNS})
        forged.prev_hash = previous
        previous = chain.digest(forged)
        _tamper(forged.id, prev_hash=forged.prev_hash, hash=previous)
    assert chain._walk(db.session, after_seq=None, previous=None, limit=None).intact
    intact, bad_id, _checked = chain.verify(db.session)
    assert not intact and bad_id == chain.latest_checkpoint(db.session).last_id


def test_the_cli_verifies_new_rows_and_the_whole_chain(app):
    _probes(3)
    runner = app.test_cli_runner()
    incremental = runner.invoke(args=["audit", "verify-chain"])
    assert incremental.exit_code == 0, incremental.output
    assert "Access log chain intact" in incremental.output
    full = runner.invoke(args=["audit", "verify-chain", "--full"])
    assert full.exit_code == 0, full.output
    assert chain.latest_checkpoint(db.session).full
