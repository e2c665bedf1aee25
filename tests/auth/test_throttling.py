"""Failed sign-in attempts are limited per client address and per account (Flask-Limiter on
Redis), answered 429 with Retry-After on the pages and in the API."""

from coordination.config import load_settings, rate_limit_storage
from tests.factories import PASSWORD, make_user

TOKEN = "/api/v1/auth/token"


def _from(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_the_counters_live_in_redis_in_tests_and_in_memory_on_the_embedded_default(app):
    assert type(app.extensions["sign_in_limiter"].storage).__name__ == "RedisStorage"
    embedded = load_settings({}, environ={})
    assert rate_limit_storage(embedded) == "memory://"
    redis = load_settings({"BROKER_URL": "redis://127.0.0.1:6379/3"}, environ={})
    assert rate_limit_storage(redis) == "redis://127.0.0.1:6379/3"
    own = load_settings({"RATE_LIMIT_STORAGE_URL": "redis://cache:6379/1"}, environ={})
    assert rate_limit_storage(own) == "redis://cache:6379/1"


def test_failed_attempts_from_one_address_are_limited_across_login_code_and_token(
    app, client, api, monkeypatch
):
    monkeypatch.setitem(app.config["COORD"], "RATE_LIMIT_PER_IP", "3 per minute")
    users = [make_user("referrer") for _ in range(4)]
    address = "203.0.113.7"
    client.client.environ_base["REMOTE_ADDR"] = address
    assert client.login(users[0].email, "wrong").status_code == 401
    assert client.login(users[1].email, PASSWORD).status_code == 302  # success is not counted
    api.post(TOKEN, json={"email": users[2].email, "password": "nope"}, **_from(address))
    client.post_form("/logout")
    assert client.login(users[3].email, "wrong").status_code == 401  # the third failure

    page = client.login(users[3].email, PASSWORD)  # even the right password now
    assert page.status_code == 429
    assert 0 < int(page.headers["Retry-After"]) <= 60
    assert "För många misslyckade försök" in page.get_data(as_text=True)
    answer = api.post(TOKEN, json={"email": users[3].email, "password": PASSWORD}, **_from(address))
    assert answer.status_code == 429 and answer.mimetype == "application/problem+json"
    assert int(answer.headers["Retry-After"]) > 0

    elsewhere = api.post(
        TOKEN, json={"email": users[3].email, "password": "x"}, **_from("198.51.100.2")
    )
    assert elsewhere.status_code == 401  # another address has its own count


def test_failed_attempts_on_one_account_are_limited_from_any_address(app, api, monkeypatch):
    monkeypatch.setitem(app.config["COORD"], "RATE_LIMIT_PER_ACCOUNT", "3 per minute")
    monkeypatch.setitem(app.config["COORD"], "LOGIN_MAX_FAILURES", 100)
    user, bystander = make_user("referrer"), make_user("referrer")
    for n in range(3):
        refused = api.post(
            TOKEN, json={"email": user.email, "password": "x"}, **_from(f"192.0.2.{n}")
        )
        assert refused.status_code == 401
    limited = api.post(
        TOKEN, json={"email": user.email.upper(), "password": "x"}, **_from("192.0.2.9")
    )
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    other = api.post(TOKEN, json={"email": bystander.email, "password": "x"}, **_from("192.0.2.9"))
    assert other.status_code == 401


def test_wrong_codes_count_against_the_account_of_the_pending_login(app, client, monkeypatch):
    monkeypatch.setitem(app.config["COORD"], "RATE_LIMIT_PER_ACCOUNT", "2 per minute")
    user = make_user("referrer")
    response = client.post_form("/login", {"email": user.email, "password": PASSWORD})
    assert "/login/code" in response.headers["Location"]
    assert client.post_form("/login/code", {"code": "000000"}).status_code == 401
    assert client.post_form("/login/code", {"code": "000000"}).status_code == 401
    limited = client.post_form("/login/code", {"code": "000000"})
    assert limited.status_code == 429 and "Retry-After" in limited.headers


def test_the_wrong_password_lock_answers_429_with_retry_after(client):
    user = make_user("referrer")
    for _ in range(5):
        client.login(user.email, "wrong")
    response = client.login(user.email, PASSWORD)
    assert response.status_code == 429
    assert 14 * 60 < int(response.headers["Retry-After"]) <= 15 * 60
