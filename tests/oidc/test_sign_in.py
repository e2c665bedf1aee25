"""Signing in through a unit's OpenID Connect provider: a real provider process, not a mock.

The browser's side at the app is the Flask test client; the person at the provider is a real HTTP
client with its own cookies (tests/oidc/harness.py).
"""

from __future__ import annotations

import html
import itertools
import logging
import re
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.auth.models import UserSession
from coordination.auth.oidc.providers import provider_for_unit
from coordination.extensions import db
from coordination.organisations.models import Membership
from tests.factories import PASSWORD, make_user
from tests.oidc.conftest import (
    CALLBACK,
    CLIENT_ID,
    LOA2,
    LOA3,
    RP,
    nobody_listens,
    unit_with_provider,
)

_numbers = itertools.count(1000)


def hsa_user(*roles: str, unit, active: bool = True):
    """Create a user in the unit with an HSA-id; return the user and the HSA-id."""
    user = make_user(*roles, unit=unit)
    user.hsa_id = f"SE2321000016-{next(_numbers)}"
    user.active = active
    db.session.commit()
    return user, user.hsa_id


def to_provider(response) -> str:
    """The provider URL of the page that sends the browser there (a meta refresh and a link)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    link = re.search(r'id="provider-link" href="([^"]+)"', page)
    refresh = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', page)
    assert link and refresh and link.group(1) == refresh.group(1)
    return html.unescape(link.group(1))


def start(client, unit) -> str:
    return to_provider(client.post_form("/login/oidc", {"unit": str(unit.id)}))


def back_at_app(client, location: str):
    assert location.startswith(CALLBACK), location
    return client.get(location[len(RP) :])


def sign_in(client, provider, unit, account: str = "person-1", **claims):
    location, session = provider.sign_in(start(client, unit), account, **claims)
    return back_at_app(client, location), session


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def failed_logins() -> list[AccessLogEntry]:
    return list(
        db.session.scalars(
            select(AccessLogEntry).where(
                AccessLogEntry.action == "login", AccessLogEntry.outcome == "failed"
            )
        )
    )


def test_the_login_page_offers_the_units_with_a_provider(client, provider):
    unit = unit_with_provider(provider.issuer)
    page = client.get("/login").get_data(as_text=True)
    assert f'<option value="{unit.id}">{unit.name}</option>' in page
    assert 'name="password"' in page  # password and code stay for the other units


def test_a_coordinator_signs_in_and_the_assurance_is_recorded(client, provider):
    unit = unit_with_provider(provider.issuer)
    user, hsa_id = hsa_user("coordinator", unit=unit)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id, acr=LOA3, amr="smartcard")
    assert response.status_code == 302
    assert urlparse(response.headers["Location"]).path == "/"
    assert signed_in(client)
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.method == "oidc"
    assert record.assurance.startswith(LOA3)
    assert record.id_token  # kept (encrypted) for RP-initiated logout
    logged = db.session.scalar(
        select(AccessLogEntry).where(
            AccessLogEntry.user_id == user.id,
            AccessLogEntry.action == "login",
            AccessLogEntry.outcome == "allowed",
        )
    )
    assert logged.assurance == f"{LOA3} amr=smartcard"
    client.post_form("/logout")
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    page = client.get(f"/audit/user/{user.id}").get_data(as_text=True)
    assert f"Tillitsnivå: {LOA3} amr=smartcard" in page  # the auditor sees it


def test_the_provider_is_down(client, provider):
    unit = unit_with_provider(nobody_listens())
    response = client.post_form("/login/oidc", {"unit": str(unit.id)})
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert "Det gick inte att nå din organisations inloggningstjänst" in text
    assert "provider_unreachable" in text
    assert failed_logins()
    assert not signed_in(client)


def test_the_provider_goes_down_before_the_browser_comes_back(client, provider, app):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    location, _session = provider.sign_in(start(client, unit), "p", hsa_id=hsa_id)
    provider_for_unit(unit.id).issuer = nobody_listens()
    db.session.commit()
    response = back_at_app(client, location)
    assert response.status_code == 502
    assert not signed_in(client)


def test_a_wrong_state_is_refused(client, provider):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    location, _session = provider.sign_in(start(client, unit), "p", hsa_id=hsa_id)
    query = parse_qs(urlparse(location).query)
    forged = f"{CALLBACK}?{urlencode({'code': query['code'][0], 'state': 'not-the-state'})}"
    response = back_at_app(client, forged)
    assert response.status_code == 401
    assert "Börja om från inloggningssidan" in response.get_data(as_text=True)
    assert not signed_in(client)
    # the flow is spent: the right state does not work afterwards either
    assert back_at_app(client, location).status_code == 401
    assert not signed_in(client)


def test_a_callback_without_a_flow_is_refused(client, provider):
    response = client.get("/login/oidc/callback?code=abc&state=xyz")
    assert response.status_code == 401
    assert not signed_in(client)


def test_a_used_code_is_refused_by_the_token_endpoint(client, provider):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    location, session = provider.sign_in(start(client, unit), "p", hsa_id=hsa_id)
    assert back_at_app(client, location).status_code == 302
    client.post_form("/logout")
    assert not signed_in(client)
    # a new flow in this browser, with the code of the first one: the provider refuses it
    provider.sign_in(start(client, unit), "p", session=session, hsa_id=hsa_id)
    old_code = parse_qs(urlparse(location).query)["code"][0]
    with client.session_transaction() as cookie:
        state = cookie["oidc_flow"]["state"]
    response = back_at_app(client, f"{CALLBACK}?{urlencode({'code': old_code, 'state': state})}")
    assert response.status_code == 401
    assert "token_endpoint" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_missing_code_and_a_provider_error_are_refused(client, provider):
    unit = unit_with_provider(provider.issuer)
    start(client, unit)
    with client.session_transaction() as cookie:
        state = cookie["oidc_flow"]["state"]
    response = back_at_app(client, f"{CALLBACK}?state={state}")
    assert response.status_code == 401
    assert "missing_code" in response.get_data(as_text=True)
    start(client, unit)
    with client.session_transaction() as cookie:
        state = cookie["oidc_flow"]["state"]
    response = back_at_app(client, f"{CALLBACK}?error=access_denied&state={state}")
    assert "provider_error" in response.get_data(as_text=True)
    assert not signed_in(client)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("bad-signature", "signature"),
        ("wrong-aud", "claim_aud"),
        ("wrong-iss", "claim_iss"),
        ("wrong-nonce", "claim_nonce"),
        ("expired", "claim_exp"),
        ("issued-in-future", "claim_iat"),
    ],
)
def test_an_id_token_that_fails_a_check_is_refused(
    client, provider, mode, reason, caplog, monkeypatch
):
    # Alembic's logging setup in the session's migration disables the loggers that existed then
    monkeypatch.setattr(logging.getLogger("coordination.auth.oidc.views"), "disabled", False)
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    provider.mode(mode)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id, acr=LOA3)
    assert response.status_code == 401
    text = response.get_data(as_text=True)
    assert "Svaret från inloggningstjänsten gick inte att lita på" in text
    assert reason in text
    assert not signed_in(client)
    assert failed_logins()
    assert f"reason={reason}" in caplog.text
    assert hsa_id not in caplog.text  # no personal data in the log


def test_an_unknown_identity_is_refused_and_no_account_is_made(client, provider):
    unit = unit_with_provider(provider.issuer)
    before = db.session.scalar(select(db.func.count()).select_from(UserSession))
    response, _session = sign_in(client, provider, unit, hsa_id="SE2321000016-9999999")
    assert response.status_code == 403
    assert "hör inte till något konto här" in response.get_data(as_text=True)
    assert not signed_in(client)
    assert db.session.scalar(select(db.func.count()).select_from(UserSession)) == before
    assert failed_logins()


def test_a_deactivated_account_is_refused(client, provider):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit, active=False)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id)
    assert response.status_code == 403
    assert "Ditt konto är inaktiverat" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_provider_does_not_sign_in_another_organisations_people(client, provider):
    unit = unit_with_provider(provider.issuer)
    outsider = make_user("referrer")  # a unit without this provider
    outsider.hsa_id = f"SE2321000016-{next(_numbers)}"
    db.session.commit()
    response, _session = sign_in(client, provider, unit, hsa_id=outsider.hsa_id)
    assert response.status_code == 403
    assert "wrong_organisation" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_case_content_role_needs_the_higher_assurance(client, provider):
    unit = unit_with_provider(provider.issuer)
    _coordinator, hsa_id = hsa_user("coordinator", unit=unit)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id, acr=LOA2)
    assert response.status_code == 403
    assert "högre tillitsnivå" in response.get_data(as_text=True)
    assert not signed_in(client)
    _referrer, referrer_hsa = hsa_user("referrer", unit=unit)  # no case content: loa2 will do
    response, _session = sign_in(client, provider, unit, "p2", hsa_id=referrer_hsa, acr=LOA2)
    assert response.status_code == 302
    assert signed_in(client)


def test_a_session_below_the_level_ends_when_a_case_content_role_is_given(client, provider):
    unit = unit_with_provider(provider.issuer)
    user, hsa_id = hsa_user("referrer", unit=unit)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id, acr=LOA2)
    assert response.status_code == 302 and signed_in(client)
    db.session.add(Membership(user_id=user.id, unit_id=unit.id, role="coordinator"))
    db.session.commit()
    db.session.expire_all()
    assert not signed_in(client)


def test_the_requirement_is_a_setting(client, provider, settings):
    settings(OIDC_CASE_CONTENT_MIN_ACR="none")
    unit = unit_with_provider(provider.issuer)
    _coordinator, hsa_id = hsa_user("coordinator", unit=unit)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id, acr=LOA2)
    assert response.status_code == 302


def test_a_units_own_minimum_applies_to_everyone(client, provider):
    unit = unit_with_provider(provider.issuer, min_acr=LOA3)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id, acr=LOA2)
    assert response.status_code == 403
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id)  # no acr at all
    assert response.status_code == 403
    assert not signed_in(client)


def test_matching_by_personnummer_and_by_email(client, provider):
    from coordination.auth.oidc.identities import set_identity

    by_number = unit_with_provider(provider.issuer, claim="personnummer")
    user = make_user("referrer", unit=by_number)
    set_identity(user, hsa_id=None, personnummer="19800101-0027", clear=False)
    db.session.commit()
    assert user.personnummer_digest and "198001010027" not in user.personnummer_digest
    response, _session = sign_in(client, provider, by_number, personnummer="198001010027")
    assert response.status_code == 302
    client.post_form("/logout")
    by_email = unit_with_provider(provider.issuer, claim="email")
    other = make_user("referrer", unit=by_email)
    response, _session = sign_in(client, provider, by_email, "p3", email=other.email.upper())
    assert response.status_code == 302
    client.post_form("/logout")
    response, _session = sign_in(
        client, provider, by_email, "p4", email=other.email, email_verified="false"
    )
    assert response.status_code == 403


def test_a_missing_client_secret_is_a_configuration_error(client, provider, monkeypatch):
    unit = unit_with_provider(provider.issuer)
    monkeypatch.delenv("COORD_TEST_OIDC_SECRET")
    response = client.post_form("/login/oidc", {"unit": str(unit.id)})
    assert response.status_code == 503
    assert "configuration" in response.get_data(as_text=True)


def test_logout_ends_the_session_here_and_at_the_provider(client, provider):
    unit = unit_with_provider(provider.issuer)
    user, hsa_id = hsa_user("referrer", unit=unit)
    response, session = sign_in(client, provider, unit, hsa_id=hsa_id)
    assert response.status_code == 302
    location = to_provider(client.post_form("/logout"))
    assert location.startswith(provider.issuer + "/session/end?")
    query = parse_qs(urlparse(location).query)
    assert query["client_id"] == [CLIENT_ID]
    assert query["post_logout_redirect_uri"] == [RP + "/login"]
    assert query["id_token_hint"][0].count(".") == 2
    assert not signed_in(client)
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.ended_at is not None and record.end_reason == "logout"
    # the provider accepts the hint and the redirect, and sends the browser back to the login page
    assert provider.confirm_logout(session, location) == RP + "/login"
    assert "Du är utloggad." in client.get("/login").get_data(as_text=True)


def test_logout_of_a_password_session_stays_local(client, provider):
    user = make_user("referrer")
    client.login(user.email, PASSWORD)
    response = client.post_form("/logout")
    assert response.headers["Location"].endswith("/login")


def test_back_channel_logout_ends_the_session(client, provider, logout_tokens):
    unit = unit_with_provider(provider.issuer)
    user, hsa_id = hsa_user("referrer", unit=unit)
    response, session = sign_in(client, provider, unit, hsa_id=hsa_id)
    assert response.status_code == 302 and signed_in(client)
    record = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert record.provider_sub == "person-1" and record.provider_sid
    # the person logs out at the provider itself: it posts a logout token to the app
    end_session = provider.issuer + "/session/end?" + urlencode({"client_id": CLIENT_ID})
    logout_tokens.tokens.clear()  # those of earlier tests' logouts
    provider.confirm_logout(session, end_session)
    token = logout_tokens.wait_for_token()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (
        client.post("/login/oidc/backchannel-logout", data={"logout_token": forged}).status_code
        == 400
    )
    assert signed_in(client)
    answer = client.post("/login/oidc/backchannel-logout", data={"logout_token": token})
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    db.session.refresh(record)
    assert record.end_reason == "provider_logout"
    assert not signed_in(client)
    again = client.post("/login/oidc/backchannel-logout", data={"logout_token": token})
    assert again.status_code == 200  # nothing left to end


def test_a_logout_token_from_an_unknown_issuer_is_refused(client, provider):
    answer = client.post("/login/oidc/backchannel-logout", data={"logout_token": "a.b.c"})
    assert answer.status_code == 400


def test_no_organisation_chosen_is_a_field_error(client, provider):
    unit_with_provider(provider.issuer)
    response = client.post_form("/login/oidc", {"unit": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error-summary' in page and "Välj din organisation i listan." in page
    assert 'aria-invalid="true"' in page


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [("/account", "/account"), ("//evil.example/x", "/"), ("/\\evil.example", "/")],
)
def test_the_sign_in_returns_to_a_local_next_only(client, provider, next_url, landing):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    auth = to_provider(
        client.post_form(f"/login/oidc?{urlencode({'next': next_url})}", {"unit": str(unit.id)})
    )
    location, _session = provider.sign_in(auth, "p", hsa_id=hsa_id)
    response = back_at_app(client, location)
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_the_clock_skew_is_bounded(client, provider, settings):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    provider.mode("expired-within-skew")  # exp 20 s ago: within the 60 s allowed
    response, _session = sign_in(client, provider, unit, hsa_id=hsa_id)
    assert response.status_code == 302 and signed_in(client)
    client.post_form("/logout")
    settings(OIDC_CLOCK_SKEW_SECONDS=5)  # the same token is now too late
    response, _session = sign_in(client, provider, unit, "p2", hsa_id=hsa_id)
    assert response.status_code == 401 and "claim_exp" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_provider_whose_metadata_names_another_issuer_is_refused(client, provider):
    unit = unit_with_provider(provider.issuer + "/")  # its metadata says it without the slash
    response = client.post_form("/login/oidc", {"unit": str(unit.id)})
    assert response.status_code == 502
    assert "discovery_issuer" in response.get_data(as_text=True)


def test_a_flow_left_too_long_is_refused(client, provider, monkeypatch):
    from coordination.auth.oidc import protocol

    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    location, _session = provider.sign_in(start(client, unit), "p", hsa_id=hsa_id)
    monkeypatch.setattr(protocol, "FLOW_LIFETIME_SECONDS", -1)
    response = back_at_app(client, location)
    assert response.status_code == 401
    assert "flow_expired" in response.get_data(as_text=True)
    assert not signed_in(client)


def test_a_unit_taken_out_of_use_signs_no_one_in(client, provider):
    unit = unit_with_provider(provider.issuer)
    _user, hsa_id = hsa_user("referrer", unit=unit)
    location, _session = provider.sign_in(start(client, unit), "p", hsa_id=hsa_id)
    unit.active = False
    db.session.commit()
    assert back_at_app(client, location).status_code == 503
    assert not signed_in(client)
    assert f'<option value="{unit.id}">' not in client.get("/login").get_data(as_text=True)
    assert client.post_form("/login/oidc", {"unit": str(unit.id)}).status_code == 422
