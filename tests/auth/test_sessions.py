"""Sessions: rotated at login, ended on the server at logout, throttled logins, headers."""

import re

from sqlalchemy import select

from coordination.auth.models import UserSession
from coordination.auth.operations import set_password
from coordination.extensions import db
from tests.factories import PASSWORD, make_user


def test_session_is_rotated_at_login_no_fixation(client):
    user = make_user("referrer")
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "attacker"
    client.login(user.email, PASSWORD)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("sid")


def test_logout_ends_the_session_on_the_server(client):
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    with client.session_transaction() as sess:
        stolen = dict(sess)
    client.post_form("/logout")
    with client.session_transaction() as sess:  # replay the stolen cookie contents
        sess.update(stolen)
    response = client.get("/referrals/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    ended = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert ended and all(s.end_reason == "logout" for s in ended)


def test_password_change_ends_other_sessions(client, app):
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    set_password(user, "ett helt nytt långt lösenord")
    db.session.commit()
    assert client.get("/referrals/").status_code == 302


def test_second_factor_is_required_and_a_wrong_code_refused(client):
    user = make_user("referrer")
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "/login/code" in response.headers["Location"]
    assert client.get("/referrals/").status_code == 302  # not signed in yet
    wrong = client.post_form("/login/code", {"code": "000000"})
    assert wrong.status_code == 401
    assert "Koden stämmer inte" in wrong.get_data(as_text=True)


def test_a_user_without_two_factor_must_enrol(client):
    import pyotp

    user = make_user("referrer")
    user.totp_secret, user.totp_enrolled_at = None, None
    db.session.commit()
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert "/login/enrol" in response.headers["Location"]
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r"<code>([A-Z2-7]+)</code>", page).group(1)  # the key shown for typing
    with client.session_transaction() as sess:
        assert secret not in str(dict(sess))  # kept on the server, not in the cookie
    done = client.post_form("/login/enrol", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    db.session.refresh(user)
    assert user.totp_enrolled_at is not None
    assert client.get("/referrals/").status_code == 200


def test_five_failures_lock_the_account_for_a_while(client):
    user = make_user("referrer")
    for _ in range(5):
        client.login(user.email, "wrong")
    response = client.login(user.email, PASSWORD)
    assert response.status_code == 429
    assert "För många misslyckade försök" in response.get_data(as_text=True)


def test_security_headers(client):
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    response = client.get("/referrals/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
