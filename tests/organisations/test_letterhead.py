"""The förbund's letterhead on every document: name and contact at the top, the confidentiality
marking on each page of a document about a person, kept by an admin on one page."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.auth.models import User
from coordination.extensions import db
from coordination.organisations.models import Letterhead
from tests.factories import (
    PASSWORD,
    admit_case,
    decide_referral,
    make_agency_user,
    make_conference,
    make_plan,
    make_referral,
    make_return_referral,
    make_unit,
    make_user,
)

CONTACT = {
    "name": "Samordningsförbundet Värend",
    "address": "Box 1234, 351 12 Växjö",
    "phone": "0470-12 34 56",
    "email": "kansli@varend.example",
    "website": "www.varend.example",
}


def _pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def _save(client, **changes):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    response = client.post_form("/admin/letterhead", {**CONTACT, **changes})
    client.post_form("/logout")
    return response


def test_an_admin_saves_the_letterhead_and_the_plan_carries_it_with_the_marking(client):
    assert _save(client).status_code == 302
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    make_plan(case, contact=make_agency_user("af"), signed=True)
    client.login(coordinator.email, PASSWORD)

    pages = _pages(client.get(f"/cases/{case.id}/plan.pdf").data)

    first = pages[0]
    for value in CONTACT.values():
        assert value in first
    assert "kan omfattas av sekretess enligt offentlighets- och sekretesslagen" in first
    assert all("Sekretess enligt OSL (2009:400)" in page for page in pages)


def test_the_return_referral_and_the_minutes_carry_the_letterhead_and_the_signing_lines(client):
    _save(client)
    document = make_return_referral("delivered")
    coordinator = db.session.get(User, document.case.coordinator_id)
    client.login(coordinator.email, PASSWORD)
    pages = _pages(client.get(f"/return-referrals/{document.id}.pdf").data)
    assert CONTACT["name"] in pages[0] and CONTACT["email"] in pages[0]
    assert all("Sekretess enligt OSL (2009:400)" in page for page in pages)
    client.post_form("/logout")

    conference = make_conference(state="published", present=["kommun", "af", "fk"])
    referral = make_referral("on_agenda", conference=conference)
    decide_referral(referral, conference)
    client.login(conference.chair.user.email, PASSWORD)
    pages = _pages(client.get(f"/conferences/{conference.id}/minutes.pdf").data)
    text = " ".join(pages)
    assert CONTACT["name"] in pages[0]
    assert "Justering" in text and "Justerarens underskrift" in text
    assert f"Ordförande: {conference.chair.user.name}" in text


def test_before_it_is_saved_documents_carry_the_forbund_units_name(client):
    make_unit("forbund", name="Samordningsförbundet Norra Kalmar")
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator)
    make_plan(case, contact=make_agency_user("af"), signed=True)
    client.login(coordinator.email, PASSWORD)
    pages = _pages(client.get(f"/cases/{case.id}/plan.pdf").data)
    assert "Samordningsförbundet Norra Kalmar" in pages[0]


def test_wrong_fields_are_all_reported_and_nothing_is_saved(client):
    response = _save(client, name=" ", phone="ring mig", email="kansli", website="inte en adress")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in body
    for message in (
        "Skriv förbundets namn.",
        "Skriv telefonnumret med siffror",
        "Skriv e-postadressen som namn@exempel.se.",
        "Skriv webbadressen som www.exempel.se.",
    ):
        assert message in body
    assert 'value="ring mig"' in body  # what was typed is kept
    assert db.session.scalar(select(func.count()).select_from(Letterhead)) == 0


def test_saving_again_updates_the_one_letterhead_and_is_logged(client):
    _save(client)
    _save(client, phone="010-111 22 33")
    rows = db.session.scalars(select(Letterhead)).all()
    assert [(r.name, r.phone) for r in rows] == [(CONTACT["name"], "010-111 22 33")]
    logged = db.session.scalars(
        select(AccessLogEntry.action).where(AccessLogEntry.object_type == "letterhead")
    ).all()
    assert logged == ["update", "update"]


def test_only_an_admin_reaches_the_letterhead_page(client):
    client.login(make_user("coordinator").email, PASSWORD)
    assert client.get("/admin/letterhead").status_code == 403
