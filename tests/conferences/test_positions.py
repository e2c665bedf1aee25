"""Members record their agency's position before the meeting; the chair's form starts from them;
no decision is saved before the meeting starts (pages and API)."""

from __future__ import annotations

from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.conferences.models import Decision, MemberPosition
from coordination.extensions import db
from coordination.referrals.models import Referral
from tests.factories import (
    PASSWORD,
    decide_referral,
    make_conference,
    make_referral,
    token_headers,
)


def _member(conference, agency):
    return next(m.user for m in conference.agency_members if m.agency == agency)


def _positions(referral_id: int) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.scalars(select(MemberPosition)).all()
    return {p.agency: p.stance for p in rows if p.item.referral_id == referral_id}


def _upcoming():
    """A published conference (everyone present) whose meeting has not started yet."""
    conference = make_conference(state="published", present="all", started=False)
    referral = make_referral("on_agenda", conference=conference, first_name="Signe")
    return conference, referral


def _decision_form(**overrides):
    form = {
        "position_kommun": "Kommunen tillstyrker.",
        "position_af": "Tillstyrker.",
        "position_fk": "Tillstyrker.",
        "position_region": "Tillstyrker.",
        "outcome": "recommend",
        "recommendation": "Samverkan mellan vården och kommunen i första hand.",
    }
    form.update(overrides)
    return form


def test_a_member_records_a_position_before_the_meeting_and_the_chair_sees_it(client):
    conference, referral = _upcoming()
    item_url = f"/conferences/{conference.id}/referrals/{referral.id}"
    member = _member(conference, "af")
    client.login(member.email, PASSWORD)

    start = client.get("/").get_data(as_text=True)
    assert f'href="{item_url}"' in start  # the agenda row on the start page is a link
    assert "Inte registrerat" in start
    page = client.get(item_url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ställningstagande – Arbetsförmedlingen" in body
    assert "Signe" in body
    read = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.user_id == member.id,
            AccessLogEntry.object_type == "referral",
            AccessLogEntry.object_id == str(referral.id),
            AccessLogEntry.action == "read",
        )
    ).all()
    assert read and read[-1].person_id == referral.person_id

    quick = client.post_form(item_url, {"action": "support", "stance": "Erbjuder kartläggning."})
    assert quick.status_code == 302
    assert _positions(referral.id) == {"af": "Tillstyrker. Erbjuder kartläggning."}
    assert "Registrerat" in client.get("/").get_data(as_text=True)

    # Editable until the decision: a position of one's own replaces the quick one.
    changed = client.post_form(
        item_url, {"action": "save", "stance": "Tillstyrker med arbetsträning via AF."}
    )
    assert changed.status_code == 302
    assert _positions(referral.id) == {"af": "Tillstyrker med arbetsträning via AF."}
    empty = client.post_form(item_url, {"action": "save", "stance": "  "})
    assert empty.status_code == 422
    assert "Skriv myndighetens ställningstagande" in empty.get_data(as_text=True)
    assert _positions(referral.id) == {"af": "Tillstyrker med arbetsträning via AF."}

    client.post_form("/logout")
    client.login(conference.chair.user.email, PASSWORD)
    decision_page = client.get(f"/conferences/{conference.id}/referrals/{referral.id}/decision")
    body = decision_page.get_data(as_text=True)
    assert "Tillstyrker med arbetsträning via AF.</textarea>" in body  # prefilled, editable
    assert "Förifyllt med det ledamöterna registrerade före mötet" in body
    assert "Ställningstagande – Arbetsförmedlingen" in body
    assert "Arbetsförmedlingen ställningstagande" not in body
    assert "Mötet har inte börjat" in body
    overview = client.get(item_url).get_data(as_text=True)
    assert "Tillstyrker med arbetsträning via AF." in overview


def test_no_decision_before_the_meeting_starts_on_the_page(client):
    conference, referral = _upcoming()
    client.login(conference.chair.user.email, PASSWORD)
    response = client.post_form(
        f"/conferences/{conference.id}/referrals/{referral.id}/decision", _decision_form()
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in page
    assert "Mötet har inte börjat. Beslut kan sparas från mötets start" in page
    assert "Kommunen tillstyrker.</textarea>" in page  # nothing typed is lost
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "on_agenda"
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


def test_no_decision_before_the_meeting_starts_in_the_api(api):
    conference, referral = _upcoming()
    body = {
        "conference_id": conference.id,
        "outcome": "recommend",
        "recommendation": "Samverkan mellan vården och kommunen.",
        "positions": [{"agency": a, "position": "Tillstyrker."} for a in ("af", "fk", "kommun")]
        + [{"agency": "region", "position": "Tillstyrker."}],
    }
    response = api.post(
        f"/api/v1/referrals/{referral.id}/decision",
        json=body,
        headers=token_headers(conference.chair.user),
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "Mötet har inte börjat" in response.get_json()["errors"]["starts_at"][0]
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "on_agenda"
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0


def test_a_member_cannot_record_another_agencys_position(client):
    conference, referral = _upcoming()
    item_url = f"/conferences/{conference.id}/referrals/{referral.id}"
    client.login(_member(conference, "kommun").email, PASSWORD)
    # A forged agency field is not read: the position is always the member's own agency's.
    forged = client.post_form(item_url, {"action": "support", "agency": "af", "stance": ""})
    assert forged.status_code == 302
    assert _positions(referral.id) == {"kommun": "Tillstyrker."}

    # A member of another conference (the same agency) reaches nothing here.
    other = make_conference(state="published", present="all", started=False)
    client.post_form("/logout")
    client.login(_member(other, "af").email, PASSWORD)
    assert client.get(item_url).status_code == 404
    assert client.post_form(item_url, {"action": "support"}).status_code == 404

    # The chair decides; recording a position is the agency members' own.
    client.post_form("/logout")
    client.login(conference.chair.user.email, PASSWORD)
    assert client.get(item_url).status_code == 200
    assert client.post_form(item_url, {"action": "support"}).status_code == 404
    assert _positions(referral.id) == {"kommun": "Tillstyrker."}


def test_positions_cannot_change_once_the_decision_is_taken(client):
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference)
    member = _member(conference, "fk")
    item_url = f"/conferences/{conference.id}/referrals/{referral.id}"
    client.login(member.email, PASSWORD)
    assert client.post_form(item_url, {"action": "support"}).status_code == 302
    decide_referral(referral, conference)
    page = client.get(item_url).get_data(as_text=True)
    assert "Beslutet är fattat. Ställningstagandet kan inte ändras längre." in page
    refused = client.post_form(item_url, {"action": "save", "stance": "Avstyrker."})
    assert refused.status_code == 409
    assert _positions(referral.id) == {"fk": "Tillstyrker."}


def test_the_member_sees_the_agenda_link_on_the_conference_page(client):
    conference, referral = _upcoming()
    client.login(_member(conference, "region").email, PASSWORD)
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert f"/conferences/{conference.id}/referrals/{referral.id}" in page
    assert "Ta ställning" in page


def test_hostile_text_in_the_position_is_refused_and_kept(client):
    conference, referral = _upcoming()
    item_url = f"/conferences/{conference.id}/referrals/{referral.id}"
    client.login(_member(conference, "kommun").email, PASSWORD)
    for text in ("Zq7nul\x00byte", "Zq7long" + "xå" * 5_000):
        response = client.post_form(item_url, {"action": "save", "stance": text})
        assert response.status_code == 422
        assert "Zq7" in response.get_data(as_text=True)  # what was typed is shown again
    odd = client.post_form(item_url, {"action": "delete-everything", "stance": "x"})
    assert odd.status_code == 422
    assert _positions(referral.id) == {}
