"""The exit through the pages and the API: every error at once, who may do what, identity."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from coordination.cases.models import CaseHistory
from coordination.exits import queries
from coordination.exits.models import ExitRegistration, Packet
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    RETURN_REFERRAL_RECOMMENDATIONS,
    RETURN_REFERRAL_TEXTS,
    exit_data,
    make_admitted_case,
    make_programme,
    make_return_referral,
    make_user,
    token_headers,
)


def _coordinator(case):
    from coordination.auth.models import User
    from coordination.exits.permissions import coordinator_id_of

    return db.session.get(User, coordinator_id_of(case))


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_exit_form_reports_every_error_at_once_and_keeps_the_case(client):
    case = make_admitted_case()
    client.login(_coordinator(case).email, PASSWORD)
    page = client.get(f"/cases/{case.id}/exit")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Avslutsanledning" in body and "Försörjning vid avslutet" in body
    refused = client.post_form(
        f"/cases/{case.id}/exit", {"support_at_exit": ["finns_inte"], "exited_on": "16/4"}
    )
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    for message in (
        "Välj avslutsanledning.",
        "Välj försörjning ur listan.",
        "Välj sysselsättning vid avslutet.",
        "Välj om personen har arbete vid avslutet.",
        "Ange ett datum som ÅÅÅÅ-MM-DD.",
    ):
        assert message in body, message
    db.session.expire_all()
    assert case.state == "enrolled"
    assert queries.exit_registration_of(case.id) is None


def test_the_api_reports_every_error_at_once(api):
    case = make_admitted_case()
    headers = token_headers(_coordinator(case))
    response = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json={"exit_reason": "okand", "support_at_exit": [], "exited_on": "2999-01-01"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {
        "exit_reason",
        "support_at_exit",
        "occupation_at_exit",
        "work_at_exit",
        "exited_on",
    }
    unknown = api.post(f"/api/v1/cases/{case.id}/exit", json={"reason": "x"}, headers=headers)
    assert unknown.status_code == 422 and "reason" in unknown.get_json()["errors"]


def test_the_api_registers_the_exit_with_its_draft_and_follow_ups(api):
    case = make_admitted_case()
    response = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json=exit_data(exit_reason="arbete", work_at_exit="ej_subventionerat"),
        headers=token_headers(_coordinator(case)),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["case_state"] == "exiting" and body["exit_reason"] == "arbete"
    assert body["return_referral_id"] == queries.return_referral_of(case.id).id
    assert [f["occasion"] for f in body["follow_ups"]] == ["follow_up_6", "follow_up_12"]


def test_a_waiting_case_cannot_exit(api):
    case = make_admitted_case(programme=make_programme(capacity=0))
    assert case.state == "waiting"
    response = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json=exit_data(),
        headers=token_headers(make_user("team_lead")),
    )
    assert response.status_code == 409
    assert "I kö" in response.get_json()["detail"]


def test_a_discharged_case_already_exiting_only_gets_its_registration(api):
    case = make_admitted_case()
    coordinator = _coordinator(case)
    # As the escalation's discharge leaves it: exiting, with its own history row.
    case.state = "exiting"
    db.session.add(
        CaseHistory(case_id=case.id, from_state="enrolled", to_state="exiting", action="start_exit")
    )
    db.session.commit()
    rows = db.session.scalar(select(func.count()).where(CaseHistory.case_id == case.id))
    response = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json=exit_data(exit_reason="avbrutit_uteblivit"),
        headers=token_headers(coordinator),
    )
    assert response.status_code == 201
    assert db.session.scalar(select(func.count()).where(CaseHistory.case_id == case.id)) == rows
    assert queries.exit_registration_of(case.id).exit_reason == "avbrutit_uteblivit"
    # While the return referral is a draft the registration can be corrected, once.
    again = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json=exit_data(exit_reason="flytt"),
        headers=token_headers(coordinator),
    )
    assert again.status_code == 201
    assert db.session.scalar(select(func.count()).where(ExitRegistration.case_id == case.id)) == 1
    assert queries.exit_registration_of(case.id).exit_reason == "flytt"


def test_the_coordinator_completes_and_signs_on_the_pages(client):
    document = make_return_referral("draft")
    case = document.case
    coordinator = _coordinator(case)
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/return-referrals/{document.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Det här saknas innan återremissen kan undertecknas" in body
    assert "Beskriv fortsatta vårdbehov i hälsoprofilen." in body
    assert "Underteckna och skicka återremissen" not in body

    form = client.get(f"/return-referrals/{document.id}/edit").get_data(as_text=True)
    assert "Remissens fråga: Inskrivning?" in form  # drafted from the referral
    data = {
        **RETURN_REFERRAL_TEXTS,
        "recommendation_af": RETURN_REFERRAL_RECOMMENDATIONS[0]["text"],
        "recommendation_region": RETURN_REFERRAL_RECOMMENDATIONS[1]["text"],
        "version": str(document.version),
    }
    stale = client.post_form(
        f"/return-referrals/{document.id}/edit", {**data, "version": str(document.version - 1)}
    )
    assert stale.status_code == 409
    saved = client.post_form(f"/return-referrals/{document.id}/edit", data)
    assert saved.status_code == 302
    db.session.expire_all()
    assert [r["agency"] for r in queries.recommendations_of(document)] == ["af", "region"]

    page = client.get(f"/return-referrals/{document.id}").get_data(as_text=True)
    assert "Underteckna och skicka återremissen" in page
    # The declaration comes after the document it signs.
    assert page.index('class="summary"') < page.index("Underteckna och skicka återremissen")
    assert "Jag har läst återremissen ovan och undertecknar den." in page
    unconfirmed = client.post_form(f"/return-referrals/{document.id}/finalise", {})
    assert unconfirmed.status_code == 422
    assert "Bekräfta att du har läst igenom återremissen." in unconfirmed.get_data(as_text=True)
    signed = client.post_form(f"/return-referrals/{document.id}/finalise", {"confirm": "on"})
    assert signed.status_code == 302
    db.session.expire_all()
    assert document.state == "delivered" and case.state == "closed"
    page = client.get(f"/return-referrals/{document.id}").get_data(as_text=True)
    assert "Kontrollsumma (SHA-256)" in page and "Komplettera återremissen" not in page
    assert client.get(f"/return-referrals/{document.id}/edit").status_code == 409


def test_only_the_assigned_coordinator_signs(api):
    document = make_return_referral("completed")
    lead = make_user("team_lead")
    other = make_user("coordinator")
    refused = api.post(
        f"/api/v1/return-referrals/{document.id}/finalise", headers=token_headers(lead)
    )
    assert refused.status_code == 403
    hidden = api.post(
        f"/api/v1/return-referrals/{document.id}/finalise", headers=token_headers(other)
    )
    assert hidden.status_code == 404
    incomplete = make_return_referral("draft")
    missing = api.post(
        f"/api/v1/return-referrals/{incomplete.id}/finalise",
        headers=token_headers(_coordinator(incomplete.case)),
    )
    assert missing.status_code == 422
    required = {"health_care_needs", "health_how_met", "participant_comments", "recommendations"}
    # Without a plan or meetings to draft from, the actions taken are still to be written too.
    assert required <= set(missing.get_json()["errors"]) <= required | {"actions_taken"}


RELATIONS = [
    # (who, the draft, the delivered document)
    ("coordinator", 200, 200),
    ("team lead", 200, 200),
    ("referrer", 404, 200),
    ("another referrer", 404, 404),
    ("another coordinator", 404, 404),
]


@pytest.mark.parametrize(("who", "draft_status", "delivered_status"), RELATIONS)
def test_who_reads_the_return_referral(api, who, draft_status, delivered_status):
    draft = make_return_referral("draft")
    delivered = make_return_referral("delivered")

    def user_for(document):
        return {
            "coordinator": lambda: _coordinator(document.case),
            "team lead": lambda: make_user("team_lead"),
            "referrer": lambda: document.referral.referrer,
            "another referrer": lambda: make_user("referrer"),
            "another coordinator": lambda: make_user("coordinator"),
        }[who]()

    for document, expected in ((draft, draft_status), (delivered, delivered_status)):
        headers = token_headers(user_for(document))
        assert api.get(f"/api/v1/return-referrals/{document.id}", headers=headers).status_code == (
            expected
        )
        pdf = api.get(f"/api/v1/return-referrals/{document.id}.pdf", headers=headers)
        assert pdf.status_code == expected


def test_a_protected_name_reaches_only_the_assigned_coordinator(client, api):
    case = make_admitted_case(first_name="Märta", last_name="Skyddsdal", protected_identity=True)
    document = make_return_referral("delivered", case=case)
    packet = document.packet
    code = case.person.code
    coordinator = _coordinator(case)
    referrer = document.referral.referrer

    mine = api.get(f"/api/v1/packets/{packet.id}", headers=token_headers(coordinator)).get_json()
    assert mine["person"] == "Märta Skyddsdal"
    for user in (referrer, make_user("team_lead")):
        headers = token_headers(user)
        body = api.get(f"/api/v1/packets/{packet.id}", headers=headers).get_data(as_text=True)
        assert "Märta" not in body and "Skyddsdal" not in body and code in body
        pdf = _pdf_text(api.get(f"/api/v1/packets/{packet.id}.pdf", headers=headers).data)
        assert "Märta" not in pdf and code in pdf
    client.login(referrer.email, PASSWORD)
    page = client.get(f"/packets/{packet.id}").get_data(as_text=True)
    assert "Märta" not in page and code in page and "Skyddad identitet" in page
    pdf = client.get(f"/packets/{packet.id}.pdf")
    assert pdf.status_code == 200 and "Märta" not in _pdf_text(pdf.data)
    overview = client.get("/exits/").get_data(as_text=True)
    assert code in overview and "Märta" not in overview


def test_outcomes_need_the_acknowledgement_and_a_reason_to_decline(api):
    document = make_return_referral("delivered")
    packet = document.packet
    headers = token_headers(document.referral.referrer)
    early = api.post(
        f"/api/v1/packets/{packet.id}/outcomes",
        json={"outcomes": [{"number": 1, "status": "done"}]},
        headers=headers,
    )
    assert early.status_code == 409
    acknowledged = api.post(f"/api/v1/return-referrals/{document.id}/acknowledge", headers=headers)
    assert acknowledged.status_code == 200 and acknowledged.get_json()["acknowledged_at"]
    twice = api.post(f"/api/v1/packets/{packet.id}/acknowledge", headers=headers)
    assert twice.status_code == 409
    refused = api.post(
        f"/api/v1/packets/{packet.id}/outcomes",
        json={"outcomes": [{"number": 1, "status": "not_done"}, {"number": 9, "status": "done"}]},
        headers=headers,
    )
    assert refused.status_code == 422
    assert set(refused.get_json()["errors"]) == {"outcome_1", "outcome_9"}
    saved = api.post(
        f"/api/v1/packets/{packet.id}/outcomes",
        json={"outcomes": [{"number": 1, "status": "not_done", "note": "Personen flyttade."}]},
        headers=headers,
    )
    assert saved.status_code == 200
    assert saved.get_json()["recommendations"][0]["outcome"]["status"] == "not_done"
    other = api.post(
        f"/api/v1/packets/{packet.id}/outcomes",
        json={"outcomes": [{"number": 2, "status": "done"}]},
        headers=token_headers(_coordinator(document.case)),
    )
    assert other.status_code == 403


def test_the_draft_cannot_be_acknowledged(api):
    document = make_return_referral("completed")
    response = api.post(
        f"/api/v1/return-referrals/{document.id}/acknowledge",
        headers=token_headers(document.referral.referrer),
    )
    assert response.status_code in (404, 409)
    assert db.session.scalar(select(func.count()).select_from(Packet)) == 0


def test_the_openapi_document_describes_the_exit_endpoints(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (
        ("/api/v1/cases/{case_id}/exit", "post"),
        ("/api/v1/return-referrals/{return_referral_id}", "get"),
        ("/api/v1/return-referrals/{return_referral_id}", "put"),
        ("/api/v1/return-referrals/{return_referral_id}.pdf", "get"),
        ("/api/v1/return-referrals/{return_referral_id}/finalise", "post"),
        ("/api/v1/return-referrals/{return_referral_id}/acknowledge", "post"),
        ("/api/v1/packets/{packet_id}", "get"),
        ("/api/v1/packets/{packet_id}/acknowledge", "post"),
        ("/api/v1/packets/{packet_id}/outcomes", "post"),
        ("/api/v1/follow-ups/{follow_up_id}", "post"),
    ):
        assert method in paths[path], (path, method)
