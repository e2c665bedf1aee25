"""The second factor: a pending login lives on the server, ends after five wrong codes, cannot be
continued from a copied cookie; the account's code step locks with a backoff that expires."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from coordination.auth import security
from coordination.auth.models import PendingLogin
from coordination.auth.security import CodeOutcome
from coordination.core.db import utcnow
from coordination.extensions import db
from tests.factories import PASSWORD, make_user, totp_code


def _password_step(client, user):
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "/login/code" in response.headers["Location"]


def _signed_in(client) -> bool:
    return client.get("/referrals/").status_code == 200


def _copy_cookie(source, target) -> None:
    with source.session_transaction() as sess:
        stolen = dict(sess)
    with target.session_transaction() as sess:
        sess.update(stolen)


def _right_code(user) -> str:
    db.session.refresh(user)
    return totp_code(user)


def test_five_wrong_codes_end_the_pending_login_and_then_the_right_code_is_refused(client):
    user = make_user("referrer")
    _password_step(client, user)
    for _ in range(4):
        assert client.post_form("/login/code", {"code": "000000"}).status_code == 401
    fifth = client.post_form("/login/code", {"code": "000000"})
    assert fifth.status_code == 302 and fifth.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "För många felaktiga koder. Logga in igen med ditt lösenord." in page
    late = client.post_form("/login/code", {"code": _right_code(user)})
    assert late.status_code == 302 and "/login" in late.headers["Location"]
    assert not _signed_in(client)


def test_copies_of_the_cookie_share_one_count_and_cannot_go_on_after_it_ends(app, client):
    from tests.conftest import FormClient

    user = make_user("referrer")
    _password_step(client, user)
    copies = [FormClient(app.test_client()) for _ in range(2)]
    for copy in copies:
        _copy_cookie(client, copy)
    guessers = [client, *copies, client, copies[0]]  # five guesses spread over three clients
    answers = [g.post_form("/login/code", {"code": "000000"}).status_code for g in guessers]
    assert answers == [401, 401, 401, 401, 302]
    for copy in copies:
        refused = copy.post_form("/login/code", {"code": _right_code(user)})
        assert refused.status_code == 302 and "/login" in refused.headers["Location"]
        assert not _signed_in(copy)


def test_a_cookie_copied_before_the_code_cannot_sign_in_once_the_login_is_complete(app, client):
    from tests.conftest import FormClient

    user = make_user("referrer")
    _password_step(client, user)
    thief = FormClient(app.test_client())
    _copy_cookie(client, thief)
    assert client.post_form("/login/code", {"code": _right_code(user)}).status_code == 302
    assert _signed_in(client)
    replay = thief.post_form("/login/code", {"code": _right_code(user)})
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    assert not _signed_in(thief)


def test_the_cookie_holds_a_nonce_only_and_the_pending_login_lapses(client):
    user = make_user("referrer")
    _password_step(client, user)
    with client.session_transaction() as sess:
        # Only a random nonce (a digit of it may match the user's id by chance: not a finding).
        assert set(sess.keys()) <= {"pending_login", "pending_next", "_flashes"}
        nonce = str(sess.get("pending_login"))
        assert len(nonce) >= 32 and nonce != str(user.id)
    pending = db.session.scalar(select(PendingLogin).where(PendingLogin.user_id == user.id))
    pending.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    late = client.post_form("/login/code", {"code": _right_code(user)})
    assert late.status_code == 302 and "/login" in late.headers["Location"]
    assert not _signed_in(client)


def test_after_a_voided_login_the_account_code_step_is_locked_even_for_the_right_code(client):
    user = make_user("referrer")
    _password_step(client, user)
    for _ in range(5):
        client.post_form("/login/code", {"code": "000000"})
    _password_step(client, user)  # the password again: still accepted
    locked = client.post_form("/login/code", {"code": _right_code(user)})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert "För många felaktiga koder" in locked.get_data(as_text=True)
    assert not _signed_in(client)
    db.session.refresh(user)
    user.totp_locked_until = utcnow() - timedelta(seconds=1)  # the minute has passed
    db.session.commit()
    assert client.post_form("/login/code", {"code": _right_code(user)}).status_code == 302
    assert _signed_in(client)


@pytest.mark.parametrize(
    ("wrong_codes", "locked_minutes"),
    [(4, 0), (5, 1), (10, 2), (15, 4), (20, 8), (25, 16), (30, 32), (35, 60), (60, 60)],
)
def test_the_account_lock_doubles_each_round_up_to_an_hour(app, wrong_codes, locked_minutes):
    user = make_user("referrer")
    for _ in range(wrong_codes):
        user.totp_locked_until = None  # let every guess through to count it
        assert security.verify_code(user, "000000") is CodeOutcome.WRONG
    seconds = security.code_lock_seconds(user)
    assert locked_minutes * 60 - 5 <= seconds <= locked_minutes * 60


def test_wrong_codes_are_forgotten_a_day_later_and_after_the_right_code(app):
    user = make_user("referrer")
    for _ in range(4):
        security.verify_code(user, "000000")
    user.totp_last_failure_at = utcnow() - timedelta(days=1, minutes=1)
    security.verify_code(user, "000000")
    assert user.totp_failures == 1 and security.code_lock_seconds(user) == 0
    for _ in range(3):
        security.verify_code(user, "000000")
    assert security.verify_code(user, totp_code(user)) is CodeOutcome.ACCEPTED
    assert user.totp_failures == 0
    security.verify_code(user, "000000")
    assert security.code_lock_seconds(user) == 0  # one wrong code after a right one: no lock


def test_the_totp_secret_is_encrypted_at_rest(app):
    from cryptography.fernet import Fernet

    from coordination.auth.encryption import derived_key

    user = make_user("referrer")
    secret = user.totp_secret
    stored = db.session.execute(
        text("SELECT totp_secret FROM user_account WHERE id = :id"), {"id": user.id}
    ).scalar_one()
    assert secret not in stored and stored.startswith("gAAAAA")
    key = derived_key(app.config["COORD"]["SECRET_KEY"])
    assert Fernet(key.encode()).decrypt(stored.encode()).decode() == secret


def test_an_encryption_key_of_its_own_is_used_when_set(app, monkeypatch):
    from cryptography.fernet import Fernet

    own = Fernet.generate_key().decode()
    monkeypatch.setitem(app.config["COORD"], "TOTP_ENCRYPTION_KEY", own)
    user = make_user("referrer")
    stored = db.session.execute(
        text("SELECT totp_secret FROM user_account WHERE id = :id"), {"id": user.id}
    ).scalar_one()
    assert Fernet(own.encode()).decrypt(stored.encode()).decode() == user.totp_secret
