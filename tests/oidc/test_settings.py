"""The admins' pages for sign-in with e-identification: a unit's provider, a user's identifiers."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from coordination.auth.models import OidcProvider, User
from coordination.auth.oidc.identities import normalise_hsa_id, normalise_personnummer
from coordination.auth.oidc.providers import meets
from coordination.extensions import db
from tests.factories import PASSWORD, identity_number, make_unit, make_user
from tests.oidc.conftest import LOA2, LOA3

LOA4 = "http://id.elegnamnden.se/loa/1.0/loa4"
VALID = {
    "issuer": "https://idp.region.example.se",
    "client_id": "samordning",
    "secret_env": "OIDC_REGION_SECRET",
    "claim": "hsa_id",
    "min_acr": "",
}


def _admin(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    return admin


def test_an_admin_sets_and_removes_a_units_provider(client):
    _admin(client)
    unit = make_unit("region")
    assert "/sign-in" in client.get(f"/admin/units/{unit.id}").get_data(as_text=True)
    page = client.get(f"/admin/units/{unit.id}/sign-in").get_data(as_text=True)
    assert "http://127.0.0.1:5000/login/oidc/callback" in page  # the redirect URI to register
    response = client.post_form(f"/admin/units/{unit.id}/sign-in", {**VALID, "min_acr": LOA3})
    assert response.status_code == 302
    provider = db.session.scalar(select(OidcProvider).where(OidcProvider.unit_id == unit.id))
    assert (provider.issuer, provider.client_id, provider.secret_env, provider.claim) == (
        VALID["issuer"],
        "samordning",
        "OIDC_REGION_SECRET",
        "hsa_id",
    )
    assert provider.min_acr == LOA3
    page = client.get(f"/admin/units/{unit.id}/sign-in").get_data(as_text=True)
    assert "Miljövariabeln OIDC_REGION_SECRET är inte satt" in page
    assert "secret" not in {c.name for c in OidcProvider.__table__.columns}  # only the name
    response = client.post_form(f"/admin/units/{unit.id}/sign-in", {"action": "remove"})
    assert response.status_code == 302
    assert db.session.scalar(select(OidcProvider).where(OidcProvider.unit_id == unit.id)) is None


def test_every_problem_with_a_provider_is_shown_at_once_and_nothing_is_saved(client):
    _admin(client)
    unit = make_unit("region")
    response = client.post_form(
        f"/admin/units/{unit.id}/sign-in",
        {
            "issuer": "http://idp.example.se",
            "client_id": "",
            "secret_env": "the secret itself!",
            "claim": "shoe_size",
            "min_acr": "loa9",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'class="error-summary' in page
    for text in (
        "Utfärdarens adress ska börja med https://.",
        "Skriv klient-id:t",
        "Skriv namnet på miljövariabeln",
        "Välj vilket påstående",
        "Välj en tillitsnivå i listan.",
    ):
        assert text in page
    assert db.session.scalar(select(OidcProvider).where(OidcProvider.unit_id == unit.id)) is None


def test_only_an_admin_sets_a_provider(client):
    unit = make_unit("region")
    user = make_user("team_lead")
    client.login(user.email, PASSWORD)
    assert client.get(f"/admin/units/{unit.id}/sign-in").status_code == 403
    assert client.post_form(f"/admin/units/{unit.id}/sign-in", VALID).status_code == 403


def test_an_admin_sets_a_users_hsa_id_and_personnummer(client):
    _admin(client)
    user = make_user("coordinator")
    number = identity_number(date(1975, 6, 15))
    response = client.post_form(
        f"/admin/users/{user.id}/identity", {"hsa_id": "se2321000016-77ab", "personnummer": number}
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.hsa_id == "SE2321000016-77AB"
    assert user.personnummer_digest and number.replace("-", "") not in user.personnummer_digest
    page = client.get(f"/admin/users/{user.id}/identity").get_data(as_text=True)
    assert "Ett personnummer är registrerat" in page and number not in page
    response = client.post_form(
        f"/admin/users/{user.id}/identity",
        {"hsa_id": "SE2321000016-77AB", "personnummer": "", "clear_personnummer": "on"},
    )
    db.session.refresh(user)
    assert user.personnummer_digest is None and user.hsa_id == "SE2321000016-77AB"


def test_bad_identifiers_are_refused_together(client):
    _admin(client)
    taken = make_user("referrer")
    taken.hsa_id = "SE2321000016-1"
    db.session.commit()
    user = make_user("referrer")
    response = client.post_form(
        f"/admin/users/{user.id}/identity",
        {"hsa_id": "SE2321000016-1", "personnummer": "19750615-1234"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Ett annat konto har redan det HSA-id:t." in page
    assert "Skriv personnumret med tolv siffror" in page
    assert db.session.get(User, user.id).hsa_id is None


def test_identifiers_are_normalised():
    assert normalise_hsa_id(" se2321000016-abc ") == "SE2321000016-ABC"
    assert normalise_hsa_id("2321000016-abc") is None
    assert normalise_personnummer("19800101-0027") == "198001010027"
    assert normalise_personnummer("198001010028") is None  # the check digit is wrong
    assert normalise_personnummer("8001010027") is None  # the century is needed


def test_assurance_levels_are_ordered(app):
    assert meets(LOA3, LOA2) and meets(LOA4, LOA3) and meets(LOA3, LOA3)
    assert not meets(LOA2, LOA3)
    assert not meets("urn:unknown", LOA2)  # an unknown level reaches no minimum
    assert not meets(None, LOA2)
    assert meets(None, None) and meets("urn:unknown", "")
