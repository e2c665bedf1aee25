"""Consent at the packet's doors (../shared/DOMAIN.md §10): after a withdrawal the referrer no
longer reads the packet or the return referral, and a section of a kind of information the
consent does not cover (the health profile) is left out of what the referrer reads."""

from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.consent import operations as consent_ops
from coordination.consent.models import Consent
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    RETURN_REFERRAL_TEXTS,
    make_admitted_case,
    make_return_referral,
    make_user,
    token_headers,
)

HEALTH = RETURN_REFERRAL_TEXTS["health_care_needs"]


def _withdraw_all(case) -> None:
    for consent in db.session.scalars(select(Consent).where(Consent.person_id == case.person_id)):
        consent_ops.withdraw_consent(consent, by=case.active_assignment.coordinator)
    db.session.commit()


def _refusals() -> int:
    return db.session.scalar(
        select(func.count(AccessLogEntry.id)).where(AccessLogEntry.outcome == "refused")
    )


def _doors(document) -> list[str]:
    packet = document.packet
    return [
        f"/api/v1/return-referrals/{document.id}",
        f"/api/v1/return-referrals/{document.id}.pdf",
        f"/api/v1/packets/{packet.id}",
        f"/api/v1/packets/{packet.id}.pdf",
    ]


def test_after_a_withdrawal_the_referrer_reads_neither_packet_nor_return_referral(api, client):
    document = make_return_referral("delivered")
    referrer = document.referral.referrer
    headers = token_headers(referrer)
    for url in _doors(document):
        assert api.get(url, headers=headers).status_code == 200, url
    pages = [f"/return-referrals/{document.id}", f"/return-referrals/{document.id}.pdf"]
    pages += [f"/packets/{document.packet.id}", f"/packets/{document.packet.id}.pdf"]

    _withdraw_all(document.case)
    before = _refusals()
    for url in _doors(document):
        assert api.get(url, headers=headers).status_code == 404, url
    listed = api.get("/api/v1/packets", headers=headers).get_json()
    assert listed == {"items": [], "total": 0}
    client.login(referrer.email, PASSWORD)
    for url in pages:
        assert client.get(url).status_code == 404, url
    assert document.case.person.last_name not in client.get("/exits/").get_data(as_text=True)
    assert _refusals() == before + len(_doors(document)) + len(pages)


def test_the_forbund_keeps_its_own_access_after_a_withdrawal(api):
    document = make_return_referral("delivered")
    _withdraw_all(document.case)
    for user in (document.case.active_assignment.coordinator, make_user("team_lead")):
        for url in _doors(document):
            assert api.get(url, headers=token_headers(user)).status_code == 200, url


def test_without_consent_to_health_information_the_referrer_gets_no_health_profile(api, client):
    case = make_admitted_case(consent_info_kinds=["employment", "benefits"])
    document = make_return_referral("delivered", case=case)
    referrer = document.referral.referrer
    headers = token_headers(referrer)

    packet = api.get(f"/api/v1/packets/{document.packet.id}", headers=headers).get_json()
    assert "health_care_needs" not in packet["content"]["sections"]
    assert "health_how_met" not in packet["content"]["sections"]
    assert packet["withheld_sections"] == ["health_care_needs", "health_how_met"]
    assert HEALTH not in str(packet)
    body = api.get(f"/api/v1/return-referrals/{document.id}", headers=headers).get_json()
    assert HEALTH not in str(body)
    assert "health_care_needs" not in body["sections"]
    assert body["sections"]["purpose"] == RETURN_REFERRAL_TEXTS["purpose"]

    client.login(referrer.email, PASSWORD)
    page = client.get(f"/packets/{document.packet.id}").get_data(as_text=True)
    assert HEALTH not in page
    assert "Hälsoprofilen är utelämnad" in page
    assert RETURN_REFERRAL_TEXTS["purpose"] in page

    # The coordinator, who works for the förbund that holds the consent, still reads it all.
    coordinator = token_headers(case.active_assignment.coordinator)
    whole = api.get(f"/api/v1/packets/{document.packet.id}", headers=coordinator).get_json()
    assert whole["content"]["sections"]["health_care_needs"] == HEALTH
    assert whole["withheld_sections"] == []


def test_with_consent_to_health_information_the_referrer_reads_the_health_profile(api):
    document = make_return_referral("delivered")
    headers = token_headers(document.referral.referrer)
    packet = api.get(f"/api/v1/packets/{document.packet.id}", headers=headers).get_json()
    assert packet["content"]["sections"]["health_care_needs"] == HEALTH
    assert packet["withheld_sections"] == []


def _packet_reminders(packet) -> list[tuple[str, str]]:
    from notifications.models import Reminder

    return [
        (r.kind, r.status)
        for r in db.session.scalars(
            select(Reminder)
            .where(Reminder.subject_type == "packet", Reminder.subject_id == packet.id)
            .order_by(Reminder.level)
        )
    ]


def test_a_withdrawal_stops_the_reminders_of_a_packet_the_referrer_may_no_longer_read():
    from notifications.models import Notification

    document = make_return_referral("delivered")
    packet = document.packet
    owed = _packet_reminders(packet)
    assert owed and {status for _kind, status in owed} == {"pending"}
    _withdraw_all(document.case)
    assert {status for _kind, status in _packet_reminders(packet)} == {"cancelled"}
    inbox = db.session.scalars(
        select(Notification).where(
            Notification.subject_type == "packet",
            Notification.subject_id == packet.id,
            Notification.channel == "inbox",
        )
    ).all()
    assert inbox and all(n.done_at is not None for n in inbox)


def test_a_withdrawal_that_leaves_the_referrers_agency_covered_keeps_the_reminders():
    document = make_return_referral("delivered")
    packet = document.packet
    case = document.case
    consents = db.session.scalars(select(Consent).where(Consent.person_id == case.person_id)).all()
    coordinator = case.active_assignment.coordinator
    consent_ops.record_consent(
        person_id=case.person_id,
        referral_id=case.referral_id,
        data={
            "agencies": list(consents[0].agencies),
            "info_kinds": list(consents[0].info_kinds),
            "given_on": consents[0].given_on,
            "form": consents[0].form,
            "witness": consents[0].witness,
            "valid_until": consents[0].valid_until,
        },
        by=coordinator,
        today=consents[0].given_on,
    )
    db.session.commit()
    consent_ops.withdraw_consent(consents[0], by=coordinator)
    db.session.commit()
    assert {status for _kind, status in _packet_reminders(packet)} == {"pending"}
