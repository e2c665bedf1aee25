"""One packet mechanism: the joint recommendation of a referral that was not admitted is
delivered, reminded of, acknowledged and followed up exactly like a return referral."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader
from sqlalchemy import select

from coordination.exits.models import Packet
from coordination.exits.queries import forbund_team_leads
from coordination.extensions import db
from notifications.models import Notification, Reminder
from tests.factories import (
    PASSWORD,
    decide_referral,
    make_admitted_case,
    make_conference,
    make_referral,
    make_return_referral,
    make_unit,
    make_user,
    token_headers,
)
from workflows.return_referral import content_hash

RECOMMENDATION = (
    "Fortsatt samverkan mellan socialtjänsten och vårdcentralen; "
    "Åsa på Försäkringskassan följer ärendet."
)
DECIDED = datetime(2025, 4, 16, 13, 0, tzinfo=UTC)  # Wednesday before Easter, 15:00 in Stockholm


def _recommended(referrer=None, now=None):
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference, referrer=referrer)
    decision = decide_referral(referral, conference, recommendation=RECOMMENDATION, now=now)
    packet = db.session.scalar(select(Packet).where(Packet.decision_id == decision.id))
    return referral, decision, packet


def _reminders(packet):
    return db.session.scalars(
        select(Reminder)
        .where(Reminder.subject_type == "packet", Reminder.subject_id == packet.id)
        .order_by(Reminder.level, Reminder.recipient_id)
    ).all()


def test_a_recommendation_is_delivered_as_a_packet_with_the_same_reminders():
    unit = make_unit("af", name="Arbetsförmedlingen Öresund")
    referrer = make_user("referrer", unit=unit)
    lead = make_user("team_lead", unit=unit)
    referral, decision, packet = _recommended(referrer, now=DECIDED)
    assert packet is not None
    assert (packet.kind, packet.recipient_id, packet.unit_id) == (
        "joint_recommendation",
        referrer.id,
        unit.id,
    )
    assert packet.delivered_at == DECIDED and packet.referral_id == referral.id
    assert packet.content["recommendations"] == [
        {"number": 1, "agency": None, "text": RECOMMENDATION}
    ]
    assert packet.content_hash == content_hash(packet.content)
    inbox = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == referrer.id,
            Notification.kind == "packet_delivered",
            Notification.channel == "inbox",
        )
    ).all()
    assert [(n.template, n.link) for n in inbox] == [
        ("joint_recommendation_delivered", f"/packets/{packet.id}")
    ]
    assert [(r.level, r.recipient_id, r.due_at) for r in _reminders(packet)] == [
        (1, referrer.id, datetime(2025, 4, 23, 13, 0, tzinfo=UTC)),
        (2, referrer.id, datetime(2025, 4, 29, 13, 0, tzinfo=UTC)),
        (3, lead.id, datetime(2025, 5, 5, 13, 0, tzinfo=UTC)),
    ]


def test_the_referrer_acknowledges_a_recommendation_and_follows_it_up(client, api):
    referral, decision, packet = _recommended()
    referrer = referral.referrer
    headers = token_headers(referrer)
    body = api.get(f"/api/v1/packets/{packet.id}", headers=headers).get_json()
    assert body["kind"] == "joint_recommendation" and body["acknowledged_at"] is None
    assert body["content"]["decision"]["outcome"] == "recommend"
    assert [r["to"] for r in body["reminders"]] == ["referrer", "referrer", "team_lead"]

    pdf = api.get(f"/api/v1/packets/{packet.id}.pdf", headers=headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for phrase in (
        "Remissgruppens gemensamma rekommendation",
        "Fortsatt samverkan mellan socialtjänsten och vårdcentralen",
        "Åsa på Försäkringskassan",
        "Myndigheternas ställningstaganden",
        "Remissens fråga",
    ):
        assert phrase in text, phrase

    client.login(referrer.email, PASSWORD)
    page = client.get(f"/packets/{packet.id}").get_data(as_text=True)
    assert "Gemensam rekommendation: paket" in page and "Kvittera mottagandet" in page
    assert page.index('class="summary"') < page.index("Kvittera mottagandet")
    assert client.post_form(f"/packets/{packet.id}/acknowledge").status_code == 302
    db.session.expire_all()
    assert packet.acknowledged_at is not None
    assert {r.status for r in _reminders(packet)} == {"cancelled"}
    again = api.post(f"/api/v1/packets/{packet.id}/acknowledge", headers=headers)
    assert again.status_code == 409

    followed = client.post_form(
        f"/packets/{packet.id}/outcomes", {"outcome_1": "planned", "note_1": "Möte bokat."}
    )
    assert followed.status_code == 302
    db.session.expire_all()
    assert (packet.outcomes[0].status, packet.outcomes[0].note) == ("planned", "Möte bokat.")


def test_an_admission_brings_no_packet():
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference)
    decision = decide_referral(
        referral, conference, outcome="admit", coordinator=make_user("coordinator")
    )
    assert db.session.scalar(select(Packet).where(Packet.decision_id == decision.id)) is None


def test_escalation_falls_to_the_forbund_without_a_team_lead_in_the_unit():
    forbund_lead = make_user("team_lead")  # in a unit of the förbund, as is the chair
    referral, _decision, packet = _recommended(now=DECIDED)
    leads = {u.id for u in forbund_team_leads()}
    assert forbund_lead.id in leads and referral.referring_unit.agency_kind == "kommun"
    reminders = _reminders(packet)
    assert [(r.level, r.recipient_id) for r in reminders if r.level < 3] == [
        (1, referral.referrer_id),
        (2, referral.referrer_id),
    ]
    assert {r.recipient_id for r in reminders if r.level == 3} == leads


def test_a_referrer_who_has_left_is_replaced_by_the_units_team_lead():
    unit = make_unit("fk", name="Försäkringskassan Åby")
    referrer = make_user("referrer", unit=unit)
    lead = make_user("team_lead", unit=unit)
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference, referrer=referrer)
    referrer.active = False
    db.session.commit()
    decision = decide_referral(referral, conference, recommendation=RECOMMENDATION, now=DECIDED)
    packet = db.session.scalar(select(Packet).where(Packet.decision_id == decision.id))
    assert [(r.level, r.recipient_id) for r in _reminders(packet)] == [
        (1, lead.id),
        (2, lead.id),
        (3, lead.id),
    ]
    # The unit's team lead may acknowledge for the referrer.
    from coordination.exits.permissions import can_acknowledge

    assert can_acknowledge(lead, packet)
    assert not can_acknowledge(make_user("team_lead"), packet)


def test_the_packet_list_shows_open_packets_of_both_kinds(api):
    referrer = make_user("referrer")
    _recommended(referrer)
    document = make_return_referral("delivered", case=make_admitted_case(referrer=referrer))
    headers = token_headers(referrer)
    listed = api.get("/api/v1/packets?open=true", headers=headers).get_json()
    assert listed["total"] == 2
    assert sorted(i["kind"] for i in listed["items"]) == ["joint_recommendation", "return_referral"]
    api.post(f"/api/v1/packets/{document.packet.id}/acknowledge", headers=headers)
    listed = api.get("/api/v1/packets?open=true", headers=headers).get_json()
    assert [i["kind"] for i in listed["items"]] == ["joint_recommendation"]
    assert (
        api.get("/api/v1/packets", headers=token_headers(make_user("referrer"))).get_json()["total"]
        == 0
    )
