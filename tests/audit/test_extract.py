"""The register extract (GDPR art. 15): produced by the registrar from a recorded request, logged
with the person, never with a protected person's address or phone; auditors only review logs."""

import io
import json

from pypdf import PdfReader
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry, ExtractRequest
from coordination.extensions import db
from tests.factories import PASSWORD, make_referral, make_user


def _registrar(client):
    registrar = make_user("registrar")
    client.login(registrar.email, PASSWORD)
    return registrar


def _request(client, referral, registrar, **fields):
    form = {
        "identity_number": referral.identity_number,
        "requester": "Personen själv",
        "received_on": "2026-01-05",
        "identity_check": "Id-kort i receptionen",
        "identity_checked_by": str(registrar.id),
    } | fields
    return client.post_form("/audit/extracts", form)


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_an_auditor_can_no_longer_export_everything_about_a_person(client):
    referral = make_referral("submitted", first_name="Örjan", address="Storgatan 1")
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    for fmt in ("json", "pdf"):
        response = client.get(f"/audit/person/{referral.person_id}/extract.{fmt}")
        assert response.status_code == 404
        assert "Örjan" not in response.get_data(as_text=True)
    assert client.get("/audit/extracts").status_code == 403
    page = client.get(f"/audit/person/{referral.person_id}").get_data(as_text=True)
    assert "Registerutdrag" not in page  # the review shows who looked, and offers no extract


def test_the_registrar_records_a_request_then_produces_the_extract(client):
    referral = make_referral("submitted", first_name="Örjan", last_name="Åkesson")
    registrar = _registrar(client)
    recorded = _request(client, referral, registrar)
    assert recorded.status_code == 302
    request_row = db.session.scalars(select(ExtractRequest)).one()
    assert (request_row.person_id, request_row.requester) == (referral.person_id, "Personen själv")
    assert request_row.identity_checked_by_id == registrar.id
    assert request_row.produced_at is None
    page = client.get(recorded.headers["Location"]).get_data(as_text=True)
    assert "Id-kort i receptionen" in page and "Inte framtaget" in page

    data = json.loads(client.get(f"/audit/extracts/{request_row.id}/extract.json").data)
    titles = [s["title"] for s in data["sections"]]
    assert titles[:3] == ["Personuppgifter", "Remisser", "Samtycken"]
    assert data["sections"][0]["records"][0]["first_name"] == "Örjan"
    assert data["request"]["requester"] == "Personen själv"
    pdf = client.get(f"/audit/extracts/{request_row.id}/extract.pdf")
    assert pdf.mimetype == "application/pdf"
    text = _pdf_text(pdf.data)
    assert "Registerutdrag" in text and "Örjan" in text and "Åkesson" in text

    db.session.expire_all()
    assert db.session.get(ExtractRequest, request_row.id).produced_by_id == registrar.id
    exports = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "register_extract", AccessLogEntry.action == "export"
        )
    ).all()
    assert [(e.user_id, e.person_id, e.object_id) for e in exports] == [
        (registrar.id, referral.person_id, str(request_row.id))
    ] * 2
    listing = client.get("/audit/extracts").get_data(as_text=True)
    assert "Framtaget" in listing


def test_a_protected_persons_address_and_phone_are_never_in_the_extract(client):
    referral = make_referral(
        "submitted",
        protected_identity=True,
        phone="070-999 88 77",
        address="Hemliga vägen 7",
        email="skyddad@example.se",
    )
    registrar = _registrar(client)
    _request(client, referral, registrar)
    request_row = db.session.scalars(select(ExtractRequest)).one()
    body = client.get(f"/audit/extracts/{request_row.id}/extract.json").get_data(as_text=True)
    assert "Hemliga vägen" not in body and "999 88 77" not in body
    person = json.loads(body)["sections"][0]["records"][0]
    assert "address" not in person and "phone" not in person
    assert person["email"] == "skyddad@example.se"  # the rest of the extract is whole
    text = _pdf_text(client.get(f"/audit/extracts/{request_row.id}/extract.pdf").data)
    assert "Hemliga vägen" not in text and "999 88 77" not in text


def test_an_unprotected_persons_address_and_phone_are_in_their_extract(client):
    referral = make_referral("submitted", phone="070-555 44 33", address="Öppna gatan 2")
    registrar = _registrar(client)
    _request(client, referral, registrar)
    request_row = db.session.scalars(select(ExtractRequest)).one()
    person = json.loads(client.get(f"/audit/extracts/{request_row.id}/extract.json").data)
    record = person["sections"][0]["records"][0]
    assert (record["address"], record["phone"]) == ("Öppna gatan 2", "070-555 44 33")


def test_a_request_names_who_asked_when_and_who_checked_the_identity(client):
    referral = make_referral("submitted")
    registrar = _registrar(client)
    response = _request(
        client,
        referral,
        registrar,
        identity_number="12345",
        requester=" ",
        received_on="",
        identity_check="",
        identity_checked_by="",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    for message in (
        "Skriv ett giltigt personnummer",
        "Skriv vem som begärde utdraget.",
        "Ange när begäran kom in",
        "Skriv hur den som begärde utdraget styrkte sin identitet.",
        "Välj vem som kontrollerade identiteten.",
    ):
        assert message in page
    assert db.session.scalars(select(ExtractRequest)).all() == []
    other = make_user("referrer")
    not_a_registrar = _request(client, referral, registrar, identity_checked_by=str(other.id))
    assert not_a_registrar.status_code == 422


def test_only_the_registrar_reaches_the_extracts(client):
    for role in ("auditor", "admin", "team_lead"):
        user = make_user(role)
        client.login(user.email, PASSWORD)
        assert client.get("/audit/extracts").status_code == 403
        assert client.get("/audit/extracts/1/extract.json").status_code == 403
        client.post_form("/logout")
