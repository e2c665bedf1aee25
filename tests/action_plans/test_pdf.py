"""The plan as an accessible PDF in plain Swedish for the participant; printing is logged."""

import io

from flask_babel import refresh
from pypdf import PdfReader
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from tests.factories import PASSWORD, admit_case, make_agency_user, make_plan, make_user


def test_the_plan_pdf_is_tagged_plain_swedish_and_logged_as_a_print(client):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator, first_name="Åke", last_name="Öström")
    make_plan(case, contact=make_agency_user("af"), signed=True)
    client.login(coordinator.email, PASSWORD)
    response = client.get(f"/cases/{case.id}/plan.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    for words in (
        "Din plan",
        "Åke Öström",
        "Ditt mål",
        "Jag vill jobba i en butik och känna mig trygg på vägen dit.",
        "Det här ska hända",
        "Praktik i butik, två dagar i veckan.",
        "Arbetsförmedlingen",
        "När insatsen ska ta slut",
        "Alla har godkänt planen.",
    ):
        assert words in text
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged for assistive technology
    assert reader.trailer["/Root"]["/Lang"] == "sv"
    printed = select(AccessLogEntry).where(
        AccessLogEntry.object_type == "action_plan",
        AccessLogEntry.object_id == str(case.id),
        AccessLogEntry.action == "print",
    )
    entry = db.session.scalar(printed)
    assert entry is not None and entry.person_id == case.person_id


def test_only_the_coordinator_or_a_team_lead_prints(client):
    coordinator = make_user("coordinator")
    contact = make_agency_user("af")
    case = admit_case(coordinator=coordinator)
    make_plan(case, contact=contact)
    client.login(contact.email, PASSWORD)
    assert client.get(f"/cases/{case.id}/plan").status_code == 200
    assert client.get(f"/cases/{case.id}/plan.pdf").status_code == 403


def test_the_plan_pdf_is_swedish_also_when_the_staff_member_reads_english(client):
    coordinator = make_user("coordinator")
    coordinator.locale = "en"
    db.session.commit()
    case = admit_case(coordinator=coordinator)
    make_plan(case, contact=make_agency_user("af"), signed=True)
    client.login(coordinator.email, PASSWORD)
    # The test's requests share one app context, where Flask-Babel caches the locale: forget it.
    refresh()
    assert "Joint action plan" in client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    refresh()
    reader = PdfReader(io.BytesIO(client.get(f"/cases/{case.id}/plan.pdf").data))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Din plan" in text and "Your plan" not in text
