"""From referral to acknowledged packet, with the clock passed in.

A referral is admitted, the case runs (with its plan and meetings where those domains exist), the
coordinator registers the exit, completes and signs the return referral, and the referrer
acknowledges it: the document holds the right content, its PDF every section with å, ä and ö,
the finalised document cannot change, the reminders fall on working days across Easter, and the
follow-ups appear 6 and 12 months later.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from coordination.action_plans.models import PlanAction, PlanGoal, PlanVersion
from coordination.audit.models import AccessLogEntry
from coordination.cases.models import CaseHistory
from coordination.exits import operations as ops
from coordination.exits import queries, return_referrals
from coordination.exits.models import FollowUp, Packet, ReturnReferral
from coordination.extensions import db
from coordination.meetings.models import Attendance, Meeting
from coordination.statistics.queries import participant_for_case
from notifications.delivery import fire_due_reminders
from notifications.models import Notification, Reminder
from tests.factories import (
    PASSWORD,
    exit_data,
    make_admitted_case,
    make_unit,
    make_user,
    token_headers,
)
from workflows.errors import TransitionRefused
from workflows.return_referral import content_hash

ADMITTED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
EXITED_ON = date(2025, 4, 16)
SIGNED = datetime(2025, 4, 16, 13, 0, tzinfo=UTC)  # Wednesday before Easter, 15:00 in Stockholm
QUESTION = "Kan förbundet stödja Åsa mot studier på Komvux i höst?"

TEXTS = {
    "purpose": "Att nå självförsörjning genom studier; Åsa ville börja på Komvux.",
    "actions_taken": "Coachningssamtal varannan vecka, studiebesök och kontakt med vården.",
    "results": "Åsa är antagen till Komvux och har studiestöd från CSN.",
    "health_care_needs": "Fortsatt behandling för sömnbesvär och ångest.",
    "health_how_met": "Vårdcentralens psykolog följer upp; återbesök var tredje månad.",
    "participant_comments": "Jag är nöjd och vill fortsätta på egen hand, säger Åsa.",
}
RECOMMENDATIONS = [
    {"agency": "af", "text": "Arbetsförmedlingen följer upp efter första terminen."},
    {"agency": "region", "text": "Vårdcentralen fortsätter behandlingen av sömnbesvären."},
]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _with_plan(case) -> None:
    """Give the case a signed plan."""
    version = PlanVersion(
        case_id=case.id,
        number=1,
        state="signed",
        own_goal="Jag vill studera till undersköterska.",
        long_term_goal="Studier på Komvux",
        overall_agency="af",
        signed_at=ADMITTED + timedelta(days=20),
    )
    version.goals.append(PlanGoal(position=0, text="Söka till Komvux", target_on=date(2025, 3, 1)))
    version.actions.append(
        PlanAction(ref="a1", position=0, what="Studievägledning", agency="kommun", status="done")
    )
    db.session.add(version)
    db.session.commit()


def _with_meetings(case) -> None:
    """Give the case meetings with attendance."""
    statuses = ["attended", "attended", "attended", "missed", "cancelled_by_participant"]
    for n, status in enumerate(statuses):
        starts = ADMITTED + timedelta(days=7 * (n + 1))
        meeting = Meeting(
            uid=f"exit-scenario-{case.id}-{n}@test",
            case_id=case.id,
            kind="coaching",
            status="booked",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            location="Förbundets kontor",
        )
        meeting.attendance.append(Attendance(case_id=case.id, status=status))
        db.session.add(meeting)
    db.session.commit()


@pytest.fixture()
def people():
    referring_unit = make_unit("kommun", name="Socialtjänsten Älvby")
    referrer = make_user("referrer", unit=referring_unit)
    unit_lead = make_user("team_lead", unit=referring_unit)
    forbund_lead = make_user("team_lead")
    coordinator = make_user("coordinator")
    return {
        "referrer": referrer,
        "unit_lead": unit_lead,
        "forbund_lead": forbund_lead,
        "coordinator": coordinator,
    }


def test_from_referral_to_acknowledged_packet(client, api, people):
    referrer, coordinator = people["referrer"], people["coordinator"]
    case = make_admitted_case(
        coordinator=coordinator,
        referrer=referrer,
        admitted_at=ADMITTED,
        first_name="Åsa",
        last_name="Öberg",
        question_to_conference=QUESTION,
    )
    assert case.state == "enrolled" and case.enrolled_on == ADMITTED.date()
    _with_plan(case)
    _with_meetings(case)

    # The exit, on the page, with the exit date typed in.
    client.login(coordinator.email, PASSWORD)
    response = client.post_form(
        f"/cases/{case.id}/exit",
        {
            "exit_reason": "studier",
            "support_at_exit": ["studiestod"],
            "occupation_at_exit": "studier",
            "work_at_exit": "ej_subventionerat",
            "exited_on": EXITED_ON.isoformat(),
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert case.state == "exiting"
    history = db.session.scalars(
        select(CaseHistory).where(CaseHistory.case_id == case.id).order_by(CaseHistory.id)
    ).all()
    assert history[-1].action == "start_exit" and history[-1].by_id == coordinator.id
    participant = participant_for_case(case.id)
    assert participant.exited_on == EXITED_ON and participant.exit_reason == "studier"
    assert participant.registration("intake").support_codes == ["forsorjningsstod"]
    assert participant.registration("exit").support_codes == ["studiestod"]

    # The draft, compiled from the referral, the plan, the meetings and the registrations.
    document = queries.return_referral_of(case.id)
    assert response.headers["Location"].endswith(f"/return-referrals/{document.id}")
    facts = queries.facts_of(document)
    assert facts["referral"]["question_to_conference"] == QUESTION
    assert QUESTION in queries.sections_of(document)["purpose"]
    assert facts["registrations"]["intake"]["occupation"] == "arbetssokande_utan_sysselsattning"
    assert facts["registrations"]["exit"]["occupation"] == "studier"
    assert facts["exit"] == {
        "exited_on": "2025-04-16",
        "exit_reason": "studier",
        "days_in_programme": 91,
    }
    assert facts["plan"]["versions"][0]["actions"][0]["what"] == "Studievägledning"
    assert "Studier på Komvux" in queries.sections_of(document)["purpose"]
    assert (facts["meetings"]["attended"], facts["meetings"]["missed"]) == (3, 1)
    assert facts["meetings"]["attendance_rate"] == 75.0
    assert "3 genomförda, 1 uteblivna" in queries.sections_of(document)["actions_taken"]

    # The referrer cannot see a draft.
    assert (
        api.get(
            f"/api/v1/return-referrals/{document.id}", headers=token_headers(referrer)
        ).status_code
        == 404
    )

    # The coordinator completes it through the API and signs it (the clock passed in).
    headers = token_headers(coordinator)
    put = api.put(
        f"/api/v1/return-referrals/{document.id}",
        json={**TEXTS, "recommendations": RECOMMENDATIONS},
        headers=headers,
    )
    assert put.status_code == 200, put.get_json()
    document = queries.get_return_referral(document.id, lock=True)
    return_referrals.finalise(document, by=coordinator, now=SIGNED)
    db.session.commit()
    db.session.expire_all()
    assert case.state == "closed"
    assert history[-1].case_id == case.id
    assert document.state == "delivered"
    assert document.signed_by_id == coordinator.id and document.signed_at == SIGNED
    assert document.content_hash == content_hash(document.content)
    packet = document.packet
    assert (packet.kind, packet.recipient_id, packet.delivered_at) == (
        "return_referral",
        referrer.id,
        SIGNED,
    )

    # The referrer's inbox has the packet; reminders after 3 and 7 working days (Easter and
    # 1 May do not count) and the escalation to the referring unit's team lead after 10.
    inbox = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == referrer.id,
            Notification.channel == "inbox",
            Notification.kind == "packet_delivered",
        )
    ).all()
    assert [(n.template, n.link) for n in inbox] == [
        ("return_referral_delivered", f"/packets/{packet.id}")
    ]
    reminders = db.session.scalars(
        select(Reminder)
        .where(Reminder.subject_type == "packet", Reminder.subject_id == packet.id)
        .order_by(Reminder.level)
    ).all()
    assert [(r.level, r.recipient_id, r.due_at, r.status) for r in reminders] == [
        (1, referrer.id, datetime(2025, 4, 23, 13, 0, tzinfo=UTC), "pending"),
        (2, referrer.id, datetime(2025, 4, 29, 13, 0, tzinfo=UTC), "pending"),
        (3, people["unit_lead"].id, datetime(2025, 5, 5, 13, 0, tzinfo=UTC), "pending"),
    ]

    # The first reminder goes out when it falls due.
    fire_due_reminders(datetime(2025, 4, 23, 13, 0, tzinfo=UTC), [])
    reminded = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == referrer.id,
            Notification.channel == "inbox",
            Notification.kind == "packet_reminder",
        )
    ).all()
    assert len(reminded) == 1 and reminded[0].link == f"/packets/{packet.id}"

    # The same content as JSON and as an accessible PDF, for the referrer.
    referrer_headers = token_headers(referrer)
    data = api.get(f"/api/v1/return-referrals/{document.id}", headers=referrer_headers)
    assert data.status_code == 200
    body = data.get_json()
    assert body["state"] == "delivered" and body["person"] == "Åsa Öberg"
    assert body["sections"] == TEXTS
    assert [(r["number"], r["agency"], r["text"]) for r in body["recommendations"]] == [
        (1, "af", RECOMMENDATIONS[0]["text"]),
        (2, "region", RECOMMENDATIONS[1]["text"]),
    ]
    assert body["content_hash"] == document.content_hash
    assert body["facts"]["registrations"]["exit"]["support"] == ["studiestod"]
    assert [r["due_at"] for r in body["packet"]["reminders"]] == [
        "2025-04-23T13:00:00+00:00",
        "2025-04-29T13:00:00+00:00",
        "2025-05-05T13:00:00+00:00",
    ]
    pdf = api.get(f"/api/v1/return-referrals/{document.id}.pdf", headers=referrer_headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    content = _pdf_text(pdf.data)
    for heading in (
        "Återremiss från samordningsförbundet",
        "1. Syfte",
        "2. Genomförda insatser",
        "3. Resultat",
        "4. Rekommendationer för fortsatta insatser",
        "5. Hälsoprofil",
        "Fortsatta vårdbehov",
        "6. Deltagarens egna synpunkter",
        "Underskrift",
    ):
        assert heading in content, heading
    for phrase in (
        "Åsa Öberg",
        "Socialtjänsten Älvby",
        "självförsörjning genom studier",
        "studiebesök och kontakt med vården",
        "antagen till Komvux",
        "sömnbesvär och ångest",
        "Vårdcentralens psykolog följer upp",
        "Jag är nöjd",
        "Arbetsförmedlingen följer upp",
        "Försörjningsstöd",
        "Studiestöd",
    ):
        assert phrase in content, phrase
    printed = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.user_id == referrer.id, AccessLogEntry.action == "print"
        )
    ).all()
    assert [(e.object_type, e.person_id) for e in printed] == [("return_referral", case.person_id)]

    # A finalised document cannot change: not through the operations, the API, the page...
    with pytest.raises(TransitionRefused):
        return_referrals.update_draft(document, data={"purpose": "Ändrat"}, by=coordinator)
    db.session.rollback()
    refused = api.put(
        f"/api/v1/return-referrals/{document.id}", json={"purpose": "Ändrat"}, headers=headers
    )
    assert refused.status_code == 409
    client.login(coordinator.email, PASSWORD)
    page = client.post_form(
        f"/return-referrals/{document.id}/edit", {"purpose": "Ändrat", "version": "3"}
    )
    assert page.status_code == 409
    again = api.post(f"/api/v1/cases/{case.id}/exit", json=exit_data(), headers=headers)
    assert again.status_code == 409
    # ...nor in the database, whoever sends the UPDATE.
    for statement in (
        "UPDATE return_referral SET content = '{}' WHERE id = :id",
        "UPDATE return_referral SET content_hash = 'x' WHERE id = :id",
        "UPDATE return_referral SET state = 'draft', signed_at = NULL, content_hash = NULL "
        "WHERE id = :id",
        "UPDATE packet SET content = '{}' WHERE return_referral_id = :id",
    ):
        with pytest.raises(DBAPIError, match="cannot change"):
            with db.session.begin_nested():
                db.session.execute(text(statement), {"id": document.id})
    db.session.expire_all()
    assert document.content_hash == content_hash(document.content)
    assert queries.sections_of(document) == TEXTS

    # The referrer acknowledges: the remaining reminders stop, the inbox item is done.
    client.post_form("/logout")
    client.login(referrer.email, PASSWORD)
    page = client.get(f"/packets/{packet.id}")
    assert page.status_code == 200 and "Kvittera mottagandet" in page.get_data(as_text=True)
    assert client.post_form(f"/packets/{packet.id}/acknowledge").status_code == 302
    db.session.expire_all()
    assert packet.acknowledged_at is not None and packet.acknowledged_by_id == referrer.id
    assert document.state == "acknowledged"
    assert [r.status for r in reminders] == ["fired", "cancelled", "cancelled"]
    assert all(n.done_at is not None for n in inbox)
    assert client.post_form(f"/packets/{packet.id}/acknowledge").status_code == 403

    # What became of each recommendation.
    recorded = client.post_form(
        f"/packets/{packet.id}/outcomes",
        {"outcome_1": "started", "note_1": "Uppföljning bokad i september.", "outcome_2": "done"},
    )
    assert recorded.status_code == 302
    body = api.get(f"/api/v1/packets/{packet.id}", headers=referrer_headers).get_json()
    assert [
        (r["number"], r["outcome"]["status"], r["outcome"]["note"]) for r in body["recommendations"]
    ] == [
        (1, "started", "Uppföljning bokad i september."),
        (2, "done", None),
    ]

    # The follow-ups 6 and 12 months after the exit, with their reminders to the coordinator.
    follow_ups = db.session.scalars(
        select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.due_on)
    ).all()
    assert [(f.occasion, f.due_on, f.assignee_id) for f in follow_ups] == [
        ("follow_up_6", date(2025, 10, 16), coordinator.id),
        ("follow_up_12", date(2026, 4, 16), coordinator.id),
    ]
    tasks = db.session.scalars(
        select(Reminder)
        .where(Reminder.kind == "follow_up_task", Reminder.recipient_id == coordinator.id)
        .order_by(Reminder.due_at)
    ).all()
    assert [(t.subject_id, t.due_at, t.link) for t in tasks] == [
        (
            follow_ups[0].id,
            datetime(2025, 10, 16, 6, 0, tzinfo=UTC),
            f"/follow-ups/{follow_ups[0].id}",
        ),
        (
            follow_ups[1].id,
            datetime(2026, 4, 16, 6, 0, tzinfo=UTC),
            f"/follow-ups/{follow_ups[1].id}",
        ),
    ]
    fire_due_reminders(datetime(2025, 10, 16, 6, 0, tzinfo=UTC), [])
    due = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == coordinator.id,
            Notification.kind == "follow_up_task",
            Notification.channel == "inbox",
        )
    ).all()
    assert [n.template for n in due] == ["follow_up_due"]
    client.post_form("/logout")
    client.login(coordinator.email, PASSWORD)
    overview = client.get("/exits/").get_data(as_text=True)
    assert "Uppföljning efter 6 månader" in overview and "Uppföljning efter 12 månader" in overview

    # Registering the 6-month follow-up records SUS and stops its reminder.
    ops.register_follow_up(
        follow_ups[0],
        data={"support": ["studiestod"], "occupation": "studier", "work": "ej_subventionerat"},
        by=coordinator,
        now=datetime(2025, 10, 20, 9, 0, tzinfo=UTC),
    )
    db.session.commit()
    db.session.expire_all()
    assert participant.registration("follow_up_6").support_codes == ["studiestod"]
    assert tasks[1].status == "pending"
    assert db.session.get(ReturnReferral, document.id).state == "acknowledged"
    assert db.session.scalar(select(Packet.id).where(Packet.case_id == case.id)) == packet.id
