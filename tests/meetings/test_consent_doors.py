"""Consent at the meeting's doors (../shared/DOMAIN.md §10): an invitee from another agency reads
a case's meeting and its invitation only while a valid consent covers their agency."""

from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.consent import operations as consent_ops
from coordination.consent.models import Consent
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    make_agency_user,
    make_case,
    make_meeting,
    make_user,
    token_headers,
)


def _withdraw_all(case) -> None:
    for consent in db.session.scalars(select(Consent).where(Consent.person_id == case.person_id)):
        consent_ops.withdraw_consent(consent, by=case.active_assignment.coordinator)
    db.session.commit()


def _refusals() -> int:
    return db.session.scalar(
        select(func.count(AccessLogEntry.id)).where(AccessLogEntry.outcome == "refused")
    )


def test_after_a_withdrawal_an_invitee_of_another_agency_reads_no_meeting(api, client, enqueued):
    case = make_case()
    invitee = make_agency_user("fk")
    colleague = make_user("coordinator")
    meeting = make_meeting(case, kind="network", attendees=[invitee, colleague])
    api_urls = [f"/api/v1/meetings/{meeting.id}", f"/api/v1/meetings/{meeting.id}.ics"]
    pages = [f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/invitation.ics"]
    headers = token_headers(invitee)
    for url in api_urls:
        assert api.get(url, headers=headers).status_code == 200, url

    _withdraw_all(case)
    before = _refusals()
    for url in api_urls:
        assert api.get(url, headers=headers).status_code == 404, url
    client.login(invitee.email, PASSWORD)
    for url in pages:
        assert client.get(url).status_code == 404, url
    assert case.person.last_name not in client.get("/meetings/").get_data(as_text=True)
    assert _refusals() == before + len(api_urls) + len(pages)

    # The förbund's own staff keep their access: the case's coordinator and an invited colleague.
    for user in (case.active_assignment.coordinator, colleague):
        for url in api_urls:
            assert api.get(url, headers=token_headers(user)).status_code == 200, url
