"""Follow-ups 6 and 12 months after the exit: tasks for the coordinator (or the team leads)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from coordination.audit.extract import build_extract
from coordination.exits import operations as ops
from coordination.exits import queries
from coordination.exits.models import ExitRegistration, FollowUp, Packet, ReturnReferral
from coordination.exits.registrations import _erase_exits
from coordination.extensions import db
from coordination.statistics.queries import participant_for_case
from notifications.models import Reminder
from tests.factories import (
    PASSWORD,
    exit_data,
    make_admitted_case,
    make_return_referral,
    make_user,
    token_headers,
)

ADMITTED = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)


def _coordinator(case):
    from coordination.auth.models import User
    from coordination.exits.permissions import coordinator_id_of

    return db.session.get(User, coordinator_id_of(case))


def _follow_ups(case):
    return db.session.scalars(
        select(FollowUp).where(FollowUp.case_id == case.id).order_by(FollowUp.due_on)
    ).all()


def _tasks(follow_up):
    return db.session.scalars(
        select(Reminder)
        .where(Reminder.subject_type == "follow_up", Reminder.subject_id == follow_up.id)
        .order_by(Reminder.id)
    ).all()


def test_a_follow_up_is_registered_on_its_page_from_its_due_day(client):
    case = make_admitted_case(admitted_at=ADMITTED)
    make_return_referral("acknowledged", case=case, exited_on=date(2025, 4, 16))
    six, twelve = _follow_ups(case)
    coordinator = _coordinator(case)
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/follow-ups/{twelve.id}")
    assert page.status_code == 200 and "Uppföljning efter 12 månader" in page.get_data(as_text=True)
    refused = client.post_form(f"/follow-ups/{twelve.id}", {"support": ["finns_inte"]})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "Välj försörjning ur listan." in body and "Välj sysselsättning." in body
    assert "Välj om personen har arbete." in body
    done = client.post_form(
        f"/follow-ups/{twelve.id}",
        {"support": ["a_kassa"], "occupation": "arbetssokande_i_atgard", "work": "uppgift_saknas"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    registration = participant_for_case(case.id).registration("follow_up_12")
    assert registration.support_codes == ["a_kassa"]
    assert registration.occupation == "arbetssokande_i_atgard"
    assert twelve.registered_by_id == coordinator.id
    assert [t.status for t in _tasks(twelve)] == ["cancelled"]
    assert [t.status for t in _tasks(six)] == ["pending"]


def test_a_follow_up_waits_for_its_day():
    case = make_admitted_case(admitted_at=ADMITTED)
    make_return_referral(
        "delivered",
        case=case,
        exited_on=date(2025, 4, 16),
        now=datetime(2025, 4, 16, 13, 0, tzinfo=UTC),
    )
    six, _twelve = _follow_ups(case)
    from coordination.core.errors import Conflict

    try:
        ops.register_follow_up(
            six,
            data={"support": ["a_kassa"], "occupation": "studier", "work": "uppgift_saknas"},
            by=_coordinator(case),
            now=datetime(2025, 10, 15, 12, 0, tzinfo=UTC),
        )
    except Conflict as exc:
        assert "från och med 2025-10-16" in exc.message
    else:  # pragma: no cover
        raise AssertionError("a follow-up before its day was accepted")


def test_the_team_leads_get_the_follow_ups_of_a_coordinator_who_has_left(client):
    lead = make_user("team_lead")
    case = make_admitted_case(admitted_at=ADMITTED)
    coordinator = _coordinator(case)
    coordinator.active = False
    db.session.commit()
    ops.register_exit(
        case,
        data=exit_data(exited_on=date(2025, 4, 16)),
        by=lead,
        now=datetime(2025, 4, 16, 13, 0, tzinfo=UTC),
    )
    db.session.commit()
    follow_ups = _follow_ups(case)
    assert [f.assignee_id for f in follow_ups] == [None, None]
    leads = {u.id for u in queries.forbund_team_leads()}
    assert lead.id in leads
    assert {t.recipient_id for f in follow_ups for t in _tasks(f)} == leads
    client.login(lead.email, PASSWORD)
    overview = client.get("/exits/").get_data(as_text=True)
    assert "Koordinatorn har slutat: samordnaren ansvarar" in overview


def test_correcting_the_exit_date_moves_the_follow_ups(api):
    case = make_admitted_case(admitted_at=ADMITTED)
    coordinator = _coordinator(case)
    ops.register_exit(case, data=exit_data(exited_on=date(2025, 4, 16)), by=coordinator)
    db.session.commit()
    six = _follow_ups(case)[0]
    first = _tasks(six)
    assert [(t.due_at, t.status) for t in first] == [
        (datetime(2025, 10, 16, 6, 0, tzinfo=UTC), "pending")
    ]
    response = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json={**exit_data(), "exited_on": "2025-05-30"},
        headers=token_headers(coordinator),
    )
    assert response.status_code == 201
    db.session.expire_all()
    assert six.due_on == date(2025, 11, 30)
    assert [(t.due_at, t.status) for t in _tasks(six)] == [
        (datetime(2025, 10, 16, 6, 0, tzinfo=UTC), "cancelled"),
        (datetime(2025, 12, 1, 7, 0, tzinfo=UTC), "pending"),  # 30 Nov is a Sunday
    ]
    listed = api.get("/api/v1/follow-ups", headers=token_headers(coordinator)).get_json()
    assert [(i["occasion"], i["due_on"]) for i in listed["items"]] == [
        ("follow_up_6", "2025-11-30"),
        ("follow_up_12", "2026-05-30"),
    ]
    registered = api.post(
        f"/api/v1/follow-ups/{six.id}",
        json={"support": ["ingen_offentlig"], "occupation": "arbete", "work": "ej_subventionerat"},
        headers=token_headers(coordinator),
    )
    assert registered.status_code == 200
    assert registered.get_json()["support"] == ["ingen_offentlig"]
    assert (
        api.post(
            f"/api/v1/follow-ups/{six.id}", json={}, headers=token_headers(make_user("coordinator"))
        ).status_code
        == 404
    )


def test_the_register_extract_and_retention_cover_the_exit():
    document = make_return_referral("acknowledged")
    case = document.case
    extract = build_extract(case.person_id)
    section = next(
        s for s in extract["sections"] if s["title"] == "Avslut, återremisser och uppföljning"
    )
    kinds = [r["record"] for r in section["records"]]
    assert kinds.count("exit") == 1 and kinds.count("return_referral") == 1
    assert kinds.count("packet") == 1 and kinds.count("follow_up") == 2
    _erase_exits(case.person_id)
    db.session.flush()
    for model in (ExitRegistration, ReturnReferral, FollowUp):
        assert db.session.scalars(select(model).where(model.case_id == case.id)).all() == []
    assert db.session.scalars(select(Packet).where(Packet.person_id == case.person_id)).all() == []
