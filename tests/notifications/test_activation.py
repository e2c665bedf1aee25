"""An administrator never knows a user's password (issue 16): a new account's owner gets a
single-use, expiring link by email and chooses the password; the link is shown to nobody else."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.auth.activation import activation_link
from coordination.auth.operations import authenticate, find_user
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from notifications.delivery import deliver
from notifications.models import Notification
from tests.factories import PASSWORD, make_user

CHOSEN = "mitt eget långa lösenord"


def _create_account(client, email: str):
    admin = make_user("admin")
    unit = db.session.scalars(select(OrganisationUnit)).first()
    client.login(admin.email, PASSWORD)
    form = client.get("/admin/users/new").get_data(as_text=True)
    assert 'name="password"' not in form
    response = client.post_form(
        "/admin/users/new",
        {"email": email, "name": "Ny Person", f"role-{unit.id}": "referrer", "locale": "sv"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "/activate" not in response.get_data(as_text=True)
    client.post_form("/logout")
    return admin, find_user(email)


def test_the_owner_chooses_the_password_through_the_emailed_link_once(client, sink, enqueued):
    _admin, user = _create_account(client, "ny@test.example")
    assert authenticate(user.email, "") is None and authenticate(user.email, PASSWORD) is None
    email = db.session.scalar(
        select(Notification).where(
            Notification.recipient_id == user.id, Notification.channel == "email"
        )
    )
    assert email.link is None and "activate" not in str(email.params)  # the link is stored nowhere
    assert deliver(email.id) == "sent"
    received = sink.snapshot()[0]
    assert received.to == (user.email,)
    link = re.search(r"http://\S+/activate\?t=\S+", received.text).group(0)
    token = parse_qs(urlparse(link).query)["t"][0]
    path = link[link.index("/activate") :]
    logged = db.session.scalars(select(AccessLogEntry.object_id)).all()
    assert not any(token in (value or "") for value in logged)

    assert client.get(path).status_code == 200
    mismatch = client.post_form("/activate", {"t": token, "new": CHOSEN, "confirm": "annat"})
    assert mismatch.status_code == 422
    short = client.post_form("/activate", {"t": token, "new": "kort", "confirm": "kort"})
    assert short.status_code == 422 and "minst 12 tecken" in short.get_data(as_text=True)
    done = client.post_form("/activate", {"t": token, "new": CHOSEN, "confirm": CHOSEN})
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    db.session.expire_all()
    assert authenticate(user.email, CHOSEN) is not None
    again = client.get(path)
    assert again.status_code == 400 and "Länken gäller inte längre" in again.get_data(as_text=True)
    reused = client.post_form("/activate", {"t": token, "new": PASSWORD, "confirm": PASSWORD})
    assert reused.status_code == 400
    db.session.expire_all()
    assert authenticate(user.email, PASSWORD) is None
    signed_in = client.post_form("/login", {"email": user.email, "password": CHOSEN})
    assert signed_in.status_code == 302 and "/login/enrol" in signed_in.headers["Location"]


def test_an_old_or_forged_link_does_not_open(client, app):
    _admin, user = _create_account(client, "gammal@test.example")
    with app.test_request_context():
        old = activation_link(user, now=utcnow() - timedelta(days=3, minutes=1))
        live = activation_link(user)
    assert client.get(old).status_code == 400
    forged = live[:-3] + ("aaa" if not live.endswith("aaa") else "bbb")
    assert client.get(forged).status_code == 400
    assert client.get("/activate").status_code == 400
    assert client.get(live).status_code == 200


def test_the_administrator_can_send_a_new_link_until_the_password_is_chosen(client):
    admin, user = _create_account(client, "igen@test.example")
    client.login(admin.email, PASSWORD)
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Skicka en ny länk" in page and "/activate" not in page
    sent = client.post_form(f"/admin/users/{user.id}", {"action": "resend_activation"})
    assert sent.status_code == 302
    emails = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == user.id,
            Notification.channel == "email",
            Notification.kind == "account_activation",
        )
    ).all()
    assert len(emails) == 2 and all(e.link is None for e in emails)
    from coordination.auth.operations import set_password

    set_password(user, CHOSEN)
    db.session.commit()
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Skicka en ny länk" not in page
    refused = client.post_form(f"/admin/users/{user.id}", {"action": "resend_activation"})
    assert refused.status_code == 409
