"""The log review pages: by person, by user, samples with sign-off, and the register extract."""

import io
import json

from pypdf import PdfReader

from coordination.extensions import db
from tests.factories import PASSWORD, make_referral, make_user


def _auditor_client(client):
    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    return auditor


def test_who_has_looked_at_a_person(client):
    referral = make_referral("submitted", first_name="Åsa", last_name="Ängström")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    client.get(f"/referrals/{referral.id}")
    client.post_form("/logout")
    _auditor_client(client)
    found = client.post_form("/audit/", {"identity_number": referral.identity_number})
    assert found.status_code == 302
    assert f"/audit/person/{referral.person_id}" in found.headers["Location"]
    page = client.get(found.headers["Location"]).get_data(as_text=True)
    assert f'href="/audit/user/{lead.id}"' in page
    assert "Åsa" not in found.headers["Location"]


def test_unknown_or_invalid_number_gives_a_clear_error(client):
    _auditor_client(client)
    response = client.post_form("/audit/", {"identity_number": "12345"})
    assert response.status_code == 422
    assert "Skriv ett giltigt personnummer" in response.get_data(as_text=True)


def test_only_auditors_reach_the_review(client):
    user = make_user("team_lead")
    client.login(user.email, PASSWORD)
    assert client.get("/audit/").status_code == 403


def test_sample_and_sign_off(client):
    make_referral("submitted")
    referral = make_referral("submitted")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    client.get(f"/referrals/{referral.id}")
    client.post_form("/logout")
    _auditor_client(client)
    assert "Loggkedjan är hel" in client.get("/audit/").get_data(as_text=True)
    drawn = client.post_form("/audit/samples", {"size": "5"})
    assert drawn.status_code == 302
    sample_url = drawn.headers["Location"]
    assert "Utvalda rader" in client.get(sample_url).get_data(as_text=True)
    empty = client.post_form(sample_url, {"finding": "  "})
    assert empty.status_code == 422
    signed = client.post_form(sample_url, {"finding": "Alla åtkomster hade stöd i ärenden."})
    assert signed.status_code == 302
    page = client.get(sample_url).get_data(as_text=True)
    assert "Signerat" in page and "Alla åtkomster hade stöd" in page


def test_register_extract_as_json_and_pdf(client):
    referral = make_referral("submitted", first_name="Örjan", last_name="Åkesson")
    _auditor_client(client)
    data = json.loads(client.get(f"/audit/person/{referral.person_id}/extract.json").data)
    titles = [s["title"] for s in data["sections"]]
    assert titles[:3] == ["Personuppgifter", "Remisser", "Samtycken"]
    assert data["sections"][0]["records"][0]["first_name"] == "Örjan"
    pdf = client.get(f"/audit/person/{referral.person_id}/extract.pdf")
    assert pdf.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Registerutdrag" in text and "Örjan" in text and "Åkesson" in text
    db.session.rollback()
