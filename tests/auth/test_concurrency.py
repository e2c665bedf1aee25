"""Sign-in under concurrency, on PostgreSQL with real parallel requests: one code works once, and
simultaneous failed logins are all counted and logged. And the migration that encrypts the stored
TOTP secrets, both ways.

The requests commit for real and sign-ins write the append-only access log, which no test may
delete from (and the migration test changes the schema): so these tests run on a database of their
own, made for this module and dropped.
"""

import threading

import pytest
from sqlalchemy import func, select, text

from coordination.audit.models import AccessLogEntry
from coordination.auth.models import LoginThrottle
from coordination.auth.throttling import account_key
from coordination.extensions import db
from coordination.tenancy import context as tenancy
from tests.conftest import FormClient
from tests.factories import PASSWORD, make_user, totp_code
from tests.installations import drop, installation, own_url

OWN_DATABASE = own_url("signin")


def _installation_failed_logins() -> int:
    """Failed sign-ins of no known account belong to no förbund: the installation's log rows."""
    with tenancy.use(None):
        return db.session.scalar(
            select(func.count()).where(
                AccessLogEntry.action == "login", AccessLogEntry.outcome == "failed"
            )
        )


@pytest.fixture(scope="module")
def own_app(app, tmp_path_factory):
    """The application on a database of this module's own, migrated."""
    application = installation(OWN_DATABASE, str(tmp_path_factory.mktemp("attachments")))
    yield application
    drop(application, OWN_DATABASE)


def _all_at_once(count: int, request) -> list:
    """Run `request(n)` in `count` threads released together; return their answers in order."""
    start = threading.Barrier(count)
    answers: list = [None] * count

    def run(n: int) -> None:
        start.wait(timeout=20)
        try:
            answers[n] = request(n)
        except Exception as exc:  # pragma: no cover - reported by the assertions
            answers[n] = repr(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.committing
def test_one_code_in_parallel_token_requests_succeeds_once(own_app):
    with own_app.app_context():
        user = make_user("referrer")
        body = {"email": user.email, "password": PASSWORD, "otp": totp_code(user)}
        db.session.remove()
    clients = [own_app.test_client() for _ in range(6)]
    answers = _all_at_once(6, lambda n: clients[n].post("/api/v1/auth/token", json=body))
    statuses = sorted(a.status_code if hasattr(a, "status_code") else a for a in answers)
    assert statuses == [200, 401, 401, 401, 401, 401]


@pytest.mark.committing
def test_one_code_in_parallel_at_the_code_step_signs_in_once(own_app):
    with own_app.app_context():
        user = make_user("referrer")
        code = totp_code(user)
        clients = [FormClient(own_app.test_client()) for _ in range(4)]
        forms = []
        for client in clients:  # four browsers, each past the password step
            answer = client.post_form("/login", {"email": user.email, "password": PASSWORD})
            assert "/login/code" in answer.headers["Location"]
            forms.append({"code": code, "csrf_token": client.csrf()})
        db.session.remove()
        answers = _all_at_once(4, lambda n: clients[n].client.post("/login/code", data=forms[n]))
        statuses = sorted(a.status_code if hasattr(a, "status_code") else a for a in answers)
        assert statuses == [302, 401, 401, 401]
        signed_in = [c.get("/referrals/").status_code == 200 for c in clients]
        assert signed_in.count(True) == 1


@pytest.mark.committing
def test_simultaneous_failed_logins_are_all_counted_and_logged(own_app):
    with own_app.app_context():
        email = make_user("referrer").email
        failed_before = _installation_failed_logins()
        clients = [FormClient(own_app.test_client()) for _ in range(4)]
        forms = [{"email": email, "password": "wrong", "csrf_token": c.csrf()} for c in clients]
        db.session.remove()
        answers = _all_at_once(4, lambda n: clients[n].client.post("/login", data=forms[n]))
        assert [getattr(a, "status_code", a) for a in answers] == [401, 401, 401, 401]
        row = db.session.get(LoginThrottle, account_key(email))
        assert row is not None and row.failures == 4
        failed_after = _installation_failed_logins()
        assert failed_after - failed_before == 4


@pytest.mark.committing
def test_the_migration_encrypts_stored_secrets_and_its_downgrade_decrypts_them(own_app):
    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    from coordination.auth.models import User
    from coordination.extensions import migrate

    before = ScriptDirectory.from_config(migrate.get_config()).get_revision("0012_auth_hardening")
    with own_app.app_context():
        user = make_user("referrer")
        user_id, secret = user.id, user.totp_secret

        def stored() -> str:
            query = text("SELECT totp_secret FROM user_account WHERE id = :id")
            value = db.session.execute(query, {"id": user_id}).scalar_one()
            db.session.remove()
            return value

        db.session.remove()
        downgrade(revision=before.down_revision)
        assert stored() == secret  # the plain secret again, as before this revision
        upgrade()
        encrypted = stored()
        assert encrypted != secret and encrypted.startswith("gAAAAA")
        assert db.session.get(User, user_id).totp_secret == secret
        db.session.remove()
