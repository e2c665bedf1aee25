"""The minutes (protokoll) as a page and a PDF: Swedish letters intact, the print logged."""

import io

from pypdf import PdfReader
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from tests.factories import PASSWORD, decide_referral, make_conference, make_referral, make_user

RECOMMENDATION = "Återkoppling till vårdcentralen; Åsa på Försäkringskassan följer ärendet."


def _held_conference():
    conference = make_conference(state="published", present=["kommun", "af", "fk"])
    decided = make_referral("on_agenda", conference=conference, first_name="Örjan")
    decide_referral(decided, conference, recommendation=RECOMMENDATION)
    admitted = make_referral("on_agenda", conference=conference, first_name="Märta")
    decide_referral(admitted, conference, outcome="admit", coordinator=make_user("coordinator"))
    return conference, decided, admitted


def test_minutes_page_lists_attendance_positions_and_decisions(client):
    conference, decided, admitted = _held_conference()
    client.login(conference.chair.user.email, PASSWORD)
    page = client.get(f"/conferences/{conference.id}/minutes")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Protokoll från remissgruppens möte" in body
    assert RECOMMENDATION in body
    assert "Örjan Testsson" in body and "Märta Testsson" in body
    assert "Skrivs in i insatsen" in body
    assert "Region (hälso- och sjukvård)" in body  # listed as a member, recorded absent


def test_minutes_pdf_keeps_swedish_letters_and_logs_the_print(client):
    conference, decided, _admitted = _held_conference()
    lead = conference.chair.user
    client.login(lead.email, PASSWORD)
    response = client.get(f"/conferences/{conference.id}/minutes.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert "Protokoll från remissgruppens möte" in content
    assert "Örjan" in content
    assert "Återkoppling till vårdcentralen" in content
    assert "Försäkringskassan" in content
    printed = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.user_id == lead.id, AccessLogEntry.action == "print"
        )
    ).all()
    assert {(e.object_type, e.person_id) for e in printed} >= {
        ("conference", None),
        ("referral", decided.person_id),
    }


def test_members_outside_the_consent_see_the_minutes_without_the_person(client):
    conference = make_conference(state="published", present="all")
    referral = make_referral(
        "on_agenda", conference=conference, consent_agencies=["kommun", "af"], first_name="Östen"
    )
    decide_referral(referral, conference, recommendation=RECOMMENDATION)
    fk_member = next(m.user for m in conference.agency_members if m.agency == "fk")
    client.login(fk_member.email, PASSWORD)
    body = client.get(f"/conferences/{conference.id}/minutes").get_data(as_text=True)
    assert "Östen" not in body
    assert RECOMMENDATION not in body
    assert "samtycket omfattar inte din myndighet" in body


def test_no_minutes_before_the_agenda_is_published(client):
    conference = make_conference()
    member = conference.agency_members[0].user
    client.login(member.email, PASSWORD)
    assert client.get(f"/conferences/{conference.id}/minutes").status_code == 404
