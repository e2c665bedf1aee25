"""The token endpoint tells nothing about the password; tokens are listed, revocable, and end with
a password change."""

import logging
import re

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.auth.models import ApiToken
from coordination.auth.operations import issue_token, set_password
from coordination.extensions import db
from tests.factories import PASSWORD, make_user, token_headers, totp_code
from tests.querycount import counted_queries

TOKEN = "/api/v1/auth/token"


def _token(api, user, label=None):
    body = {"email": user.email, "password": PASSWORD, "otp": totp_code(user)}
    if label:
        body["label"] = label
    response = api.post(TOKEN, json=body)
    assert response.status_code == 200, response.get_json()
    db.session.refresh(user)
    return response.get_json()["token"]


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_wrong_password_and_wrong_or_missing_code_answer_alike(api, app, caplog, monkeypatch):
    # alembic's fileConfig in the test run's migration disabled the loggers existing then
    monkeypatch.setattr(logging.getLogger("coordination.api.auth"), "disabled", False)
    monkeypatch.setitem(app.config["COORD"], "LOGIN_MAX_FAILURES", 100)
    user = make_user("referrer")
    attempts = {
        "wrong password": {"email": user.email, "password": "nope"},
        "wrong password, right code": {
            "email": user.email,
            "password": "nope",
            "otp": totp_code(user),
        },
        "no such account": {"email": "nobody@test.example", "password": PASSWORD},
        "missing code": {"email": user.email, "password": PASSWORD},
        "wrong code": {"email": user.email, "password": PASSWORD, "otp": "000000"},
    }
    answers = {}
    with caplog.at_level(logging.WARNING, logger="coordination.api.auth"):
        for name, body in attempts.items():
            response = api.post(TOKEN, json=body)
            answers[name] = (response.status_code, response.mimetype, response.get_json())
    assert len(set(map(repr, answers.values()))) == 1, answers
    assert answers["wrong code"][0] == 401
    reasons = [r.getMessage() for r in caplog.records if "API token refused" in r.getMessage()]
    assert any("wrong email or password" in r for r in reasons)
    assert any("missing one-time code" in r for r in reasons)
    assert any("one-time code wrong" in r for r in reasons)
    assert not any(user.email in r or PASSWORD in r for r in reasons)  # no personal data
    failed = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.action == "login", AccessLogEntry.outcome == "failed"
        )
    ).all()
    assert sum(1 for e in failed if e.user_id == user.id) == 2  # the password was right
    assert sum(1 for e in failed if e.user_id is None) >= 3


def test_a_locked_code_step_answers_like_a_wrong_password(api, app, monkeypatch):
    monkeypatch.setitem(app.config["COORD"], "LOGIN_MAX_FAILURES", 100)
    user = make_user("referrer")
    for _ in range(5):
        api.post(TOKEN, json={"email": user.email, "password": PASSWORD, "otp": "000000"})
    locked = api.post(
        TOKEN, json={"email": user.email, "password": PASSWORD, "otp": totp_code(user)}
    )
    wrong = api.post(TOKEN, json={"email": user.email, "password": "nope"})
    assert locked.status_code == wrong.status_code == 401
    assert locked.get_json() == wrong.get_json()


def test_tokens_are_listed_without_their_secrets_and_revoked_by_their_owner(api):
    user = make_user("referrer")
    first = _token(api, user, label="Verksamhetssystemet")
    second = _token(api, user)
    assert api.get("/api/v1/referrals", headers=_bearer(first)).status_code == 200
    listed = api.get("/api/v1/auth/tokens", headers=_bearer(second))
    assert listed.status_code == 200
    body = listed.get_json()
    assert body["total"] == 2
    assert first not in listed.get_data(as_text=True) and second not in listed.get_data(
        as_text=True
    )
    by_label = {item["label"]: item for item in body["items"]}
    assert set(by_label) == {"Verksamhetssystemet", None}
    assert by_label["Verksamhetssystemet"]["last_used_at"]
    assert set(by_label["Verksamhetssystemet"]) == {
        "id",
        "label",
        "created_at",
        "last_used_at",
        "expires_at",
    }

    target = by_label["Verksamhetssystemet"]["id"]
    assert api.delete(f"/api/v1/auth/tokens/{target}", headers=_bearer(second)).status_code == 204
    assert api.get("/api/v1/referrals", headers=_bearer(first)).status_code == 401
    again = api.delete(f"/api/v1/auth/tokens/{target}", headers=_bearer(second))
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert api.get("/api/v1/auth/tokens", headers=_bearer(second)).get_json()["total"] == 1


def test_someone_elses_token_cannot_be_seen_or_revoked(api):
    owner, other = make_user("referrer"), make_user("referrer")
    _token(api, owner)
    theirs = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    headers = token_headers(other)
    assert api.get("/api/v1/auth/tokens", headers=headers).get_json()["total"] == 1  # their own
    refused = api.delete(f"/api/v1/auth/tokens/{theirs.id}", headers=headers)
    assert refused.status_code == 404
    db.session.refresh(theirs)
    assert theirs.revoked is False


def test_the_token_endpoints_are_in_the_openapi_document(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/v1/auth/tokens"]
    revoke = spec["paths"]["/api/v1/auth/tokens/{token_id}"]["delete"]
    assert "204" in revoke["responses"] and revoke["security"] == [{"bearer": []}]
    token = spec["paths"]["/api/v1/auth/token"]["post"]
    assert "Retry-After" in token["responses"]["429"]["headers"]
    assert "token" not in spec["components"]["schemas"]["TokenInfoSchema"]["properties"]


def test_a_password_change_revokes_every_token(api, client):
    user = make_user("referrer")
    headers = token_headers(user)
    other = token_headers(user)
    client.login(user.email, PASSWORD)
    changed = client.post_form(
        "/account/password",
        {
            "current": PASSWORD,
            "new": "ett helt nytt långt lösenord",
            "confirm": "ett helt nytt långt lösenord",
        },
    )
    assert changed.status_code == 302
    assert api.get("/api/v1/referrals", headers=headers).status_code == 401
    assert api.get("/api/v1/referrals", headers=other).status_code == 401


def test_set_password_revokes_tokens_too():
    user = make_user("referrer")
    token_headers(user)
    set_password(user, "ett helt nytt långt lösenord")
    db.session.commit()
    tokens = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert tokens and all(t.revoked for t in tokens)


def test_the_account_page_lists_tokens_and_revokes_one_by_a_named_button(api, client):
    user = make_user("referrer")
    kept, _expiry = issue_token(user, 1, label="Rapportverktyget")
    gone, _expiry = issue_token(user, 1, label="Gamla skriptet")
    db.session.commit()
    client.login(user.email, PASSWORD)
    page = client.get("/account")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert kept not in html and gone not in html
    assert "Återkalla API-nyckel Gamla skriptet" in html
    assert "Återkalla API-nyckel Rapportverktyget" in html
    token = db.session.scalar(select(ApiToken).where(ApiToken.label == "Gamla skriptet"))
    url = f"/account/tokens/{token.id}/revoke"
    done = client.post_form(url)
    assert done.status_code == 302
    after = client.get("/account").get_data(as_text=True)
    assert "API-nyckeln Gamla skriptet är återkallad." in after
    assert "Återkalla API-nyckel Gamla skriptet" not in after
    assert api.get("/api/v1/referrals", headers=_bearer(gone)).status_code == 401
    assert api.get("/api/v1/referrals", headers=_bearer(kept)).status_code == 200

    stale = client.post_form(url)  # a second tab still showing the button
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    summary = re.search(r'class="error-summary".*?</div>', html, re.S)
    assert summary and "Gamla skriptet gäller redan inte längre" in summary.group(0)


def test_the_account_page_refuses_someone_elses_token(client):
    owner, other = make_user("referrer"), make_user("referrer")
    token_headers(owner)
    theirs = db.session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    client.login(other.email, PASSWORD)
    assert client.post_form(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    db.session.refresh(theirs)
    assert theirs.revoked is False


def test_a_tokens_use_is_noted_once_a_minute_and_reads_the_user_once(api):
    """The first call notes the token's use (kept though the call fails); calls within the minute
    write nothing, so nothing is committed and reloaded before the request's own work."""
    user = make_user("referrer")
    secret = _token(api, user)
    assert api.get("/api/v1/referrals/999999", headers=_bearer(secret)).status_code == 404
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    db.session.refresh(token)
    first_use = token.last_used_at
    assert first_use is not None

    db.session.expire_all()  # as a new request finds them: nothing loaded yet
    with counted_queries() as statements:
        assert api.get("/api/v1/referrals", headers=_bearer(secret)).status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE API_TOKEN")]
    assert len([s for s in statements if "FROM user_account" in s]) == 1
    db.session.refresh(token)
    assert token.last_used_at == first_use
