"""Closing and cancelling a conference: a confirmation page that says what will happen and asks
why; GET changes nothing, nor a POST without a reason; the reason is kept and shown."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coordination.conferences.models import Conference
from coordination.extensions import db
from coordination.referrals.models import Referral, ReferralHistory
from tests.factories import PASSWORD, make_conference, make_referral


def _conference(conference_id: int) -> Conference:
    db.session.expire_all()
    return db.session.get(Conference, conference_id)


@pytest.mark.parametrize(
    ("action", "button", "asked", "done", "state"),
    [
        (
            "cancel",
            "Ställ in mötet",
            "Skriv varför mötet ställs in.",
            "Mötet är inställt.",
            "cancelled",
        ),
        ("close", "Avsluta mötet", "Skriv varför mötet avslutas", "Mötet är avslutat.", "closed"),
    ],
)
def test_the_confirmation_asks_why_and_keeps_the_reason(client, action, button, asked, done, state):
    conference = make_conference(state="published", present="all")
    waiting = make_referral("on_agenda", conference=conference)
    url = f"/conferences/{conference.id}/{action}"
    client.login(conference.chair.user.email, PASSWORD)

    detail = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert f'href="{url}"' in detail  # a link to the confirmation, not a one-click button
    page = client.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Det här händer" in body and "Det går inte att ångra." in body
    assert "1 remiss som inte är beslutad flyttas till nästa möte." in body
    assert f">{button}</button>" in body
    assert f'href="/conferences/{conference.id}"' in body  # the way back
    assert _conference(conference.id).state == "published"  # GET changed nothing

    for form in ({}, {"reason": "   "}):
        refused = client.post_form(url, form)
        assert refused.status_code == 422
        text = refused.get_data(as_text=True)
        assert "Det finns fel i formuläret" in text and asked in text
        assert _conference(conference.id).state == "published"
        assert db.session.get(Referral, waiting.id).state == "on_agenda"

    reason = "Ordföranden är sjuk och ingen ersättare finns."
    confirmed = client.post_form(url, {"reason": reason}, follow_redirects=True)
    assert confirmed.status_code == 200
    text = confirmed.get_data(as_text=True)
    assert done in text and f"Skäl: {reason}" in text
    ended = _conference(conference.id)
    assert ended.state == state
    assert (ended.cancel_reason if action == "cancel" else ended.close_reason) == reason
    assert db.session.get(Referral, waiting.id).state == "submitted"
    if action == "cancel":
        notes = db.session.scalars(
            select(ReferralHistory.note).where(ReferralHistory.referral_id == waiting.id)
        ).all()
        assert f"Mötet ställdes in: {reason}" in notes


def test_members_cannot_end_the_meeting(client):
    conference = make_conference(state="published", present="all")
    member = conference.agency_members[0].user
    client.login(member.email, PASSWORD)
    for action in ("close", "cancel"):
        url = f"/conferences/{conference.id}/{action}"
        assert client.get(url).status_code == 403
        assert client.post_form(url, {"reason": "Vi vill gå hem."}).status_code == 403
    assert _conference(conference.id).state == "published"


def test_an_ended_meeting_is_not_ended_again(client):
    conference = make_conference(state="closed", present="all")
    client.login(conference.chair.user.email, PASSWORD)
    page = client.get(f"/conferences/{conference.id}/cancel").get_data(as_text=True)
    assert "Det går inte längre" in page and "Ställ in mötet</button>" not in page
    refused = client.post_form(f"/conferences/{conference.id}/cancel", {"reason": "Fel möte."})
    assert refused.status_code == 409
    assert _conference(conference.id).state == "closed"
