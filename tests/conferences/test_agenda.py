"""Scheduling, the cut-off, the agenda, publishing and who may read the referrals on it."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from coordination.conferences import agenda as agenda_ops
from coordination.conferences import operations as ops
from coordination.conferences.events import AgendaPublished
from coordination.conferences.models import AgendaItem, Conference
from coordination.core import events
from coordination.extensions import db
from coordination.referrals import operations as referral_ops
from coordination.referrals.models import Referral
from tests.factories import (
    PASSWORD,
    make_conference,
    make_programme,
    make_referral,
    make_unit,
    make_user,
    token_headers,
)
from workflows.calendar import STOCKHOLM, WorkingCalendar

CALENDAR = WorkingCalendar()


def _next_tuesday_after(days: int) -> date:
    day = datetime.now(UTC).astimezone(STOCKHOLM).date() + timedelta(days=days)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _items(conference_id: int) -> list[AgendaItem]:
    return list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.conference_id == conference_id)
            .order_by(AgendaItem.number)
        )
    )


# --- scheduling --------------------------------------------------------------------------------


def test_schedule_ahead_follows_the_cadence_and_skips_days_already_planned():
    programme = make_programme(
        conference_weekday=1, conference_interval_weeks=2, conference_first_date=date(2030, 1, 1)
    )
    make_user("team_lead")
    now = datetime(2030, 3, 1, 10, tzinfo=UTC)
    created = ops.schedule_ahead(programme, now, weeks=8)
    assert [c.held_on for c in created] == [
        date(2030, 3, 12),
        date(2030, 3, 26),
        date(2030, 4, 9),
        date(2030, 4, 23),
    ]
    assert {c.origin for c in created} == {"cadence"}
    assert all(c.chair is not None for c in created)
    again = ops.schedule_ahead(programme, now, weeks=8)
    assert again == []


def test_a_cadence_day_that_is_a_holiday_moves_to_the_next_working_day():
    programme = make_programme(
        conference_weekday=0, conference_interval_weeks=1, conference_first_date=date(2030, 4, 15)
    )
    created = ops.schedule_ahead(programme, datetime(2030, 4, 16, 8, tzinfo=UTC), weeks=1)
    # Easter Monday, 22 April 2030: the conference meets on Tuesday.
    assert [c.held_on for c in created] == [date(2030, 4, 23)]
    cutoff = created[0].agenda_cutoff_at.astimezone(STOCKHOLM)
    assert (cutoff.date(), cutoff.hour) == (date(2030, 4, 16), 17)


def test_the_first_schedule_fixes_the_cadence_anchor():
    programme = make_programme(conference_weekday=2, conference_interval_weeks=3)
    created = ops.schedule_ahead(programme, datetime(2030, 5, 6, 9, tzinfo=UTC), weeks=7)
    assert programme.conference_first_date == date(2030, 5, 8)
    assert [c.held_on for c in created] == [date(2030, 5, 8), date(2030, 5, 29), date(2030, 6, 19)]


def test_a_team_lead_schedules_a_conference_on_the_page(client):
    programme = make_programme()
    lead = make_user("team_lead")
    members = {a: make_user("conference_member", unit=make_unit(a)) for a in ("kommun", "af")}
    client.login(lead.email, PASSWORD)
    assert client.get("/conferences/new").status_code == 200
    held_on = _next_tuesday_after(14)
    response = client.post_form(
        "/conferences/new",
        {
            "programme_id": programme.id,
            "held_on": held_on.isoformat(),
            "at": "13:30",
            "place": "",
            "video_link": "https://video.example/remissgrupp",
            "member_kommun": members["kommun"].id,
            "member_af": members["af"].id,
            "chair_id": lead.id,
        },
    )
    assert response.status_code == 302
    conference = db.session.scalar(
        select(Conference).where(Conference.programme_id == programme.id)
    )
    assert conference.starts_at.astimezone(STOCKHOLM).strftime("%H:%M") == "13:30"
    assert {m.agency for m in conference.members} == {"kommun", "af", "forbund"}
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert "https://video.example/remissgrupp" in page


def test_the_page_refuses_a_conference_without_place_or_on_a_holiday(client):
    programme = make_programme()
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    response = client.post_form(
        "/conferences/new",
        {"programme_id": programme.id, "held_on": "2030-12-25", "at": "09:00", "chair_id": lead.id},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Välj en arbetsdag" in page
    assert "Ange plats eller länk till videomötet" in page


def test_a_value_the_form_cannot_read_is_refused_with_every_other_error(client):
    programme = make_programme()
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    response = client.post_form(
        "/conferences/new",
        {
            "programme_id": programme.id,
            "held_on": "i morgon",
            "at": "09:00",
            "place": "Kansliet",
            "chair_id": "ordföranden",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Ange datum som ÅÅÅÅ-MM-DD." in page and "#field-chair_id" in page
    assert 'value="Kansliet"' in page
    assert (
        db.session.scalar(select(Conference).where(Conference.programme_id == programme.id)) is None
    )


def test_the_api_schedules_a_conference(api):
    programme = make_programme()
    lead = make_user("team_lead")
    kommun = make_user("conference_member", unit=make_unit("kommun"))
    fk = make_user("conference_member", unit=make_unit("fk"))
    held_on = _next_tuesday_after(14)
    response = api.post(
        "/api/v1/conferences",
        json={
            "programme_id": programme.id,
            "starts_at": f"{held_on.isoformat()}T09:00:00+01:00",
            "place": "Förbundets kansli",
            "member_ids": [kommun.id, fk.id],
        },
        headers=token_headers(lead),
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["held_on"] == held_on.isoformat()
    assert sorted((m["agency"], m["role"]) for m in body["members"]) == [
        ("fk", "member"),
        ("forbund", "chair"),
        ("kommun", "member"),
    ]
    assert body["agenda"] == []


# --- the cut-off -------------------------------------------------------------------------------


def test_the_cutoff_puts_submitted_referrals_on_the_agenda_on_the_right_working_day():
    programme = make_programme()
    conference = make_conference(programme, held_on=_next_tuesday_after(21))
    on_time = make_referral("submitted", programme=programme)
    late = make_referral("submitted", programme=programme)
    sent_back = make_referral("completion_requested", programme=programme)
    late.submitted_at = conference.agenda_cutoff_at + timedelta(hours=1)
    db.session.commit()
    cutoff = conference.agenda_cutoff_at
    local_cutoff = cutoff.astimezone(STOCKHOLM)
    assert local_cutoff.hour == 17
    assert CALENDAR.working_days_between(local_cutoff.date(), conference.held_on) == 3

    assert agenda_ops.run_cutoffs(cutoff - timedelta(minutes=1)) == []
    added = agenda_ops.run_cutoffs(cutoff + timedelta(minutes=1))
    db.session.commit()
    assert [i.referral_id for i in added] == [on_time.id]
    assert {i.origin for i in added} == {"cutoff"}
    db.session.expire_all()
    assert db.session.get(Referral, on_time.id).state == "on_agenda"
    assert db.session.get(Referral, late.id).state == "submitted"
    assert db.session.get(Referral, sent_back.id).state == "completion_requested"
    assert (
        agenda_ops.run_cutoffs(cutoff + timedelta(hours=2)) == []
    )  # each conference is cut off once


def test_a_late_referral_goes_to_the_next_conference_at_its_cutoff():
    programme = make_programme()
    first = make_conference(programme, held_on=_next_tuesday_after(21))
    second = make_conference(programme, held_on=_next_tuesday_after(35))
    referral = make_referral("submitted", programme=programme)
    referral.submitted_at = first.agenda_cutoff_at + timedelta(hours=1)
    db.session.commit()
    agenda_ops.run_cutoffs(first.agenda_cutoff_at + timedelta(hours=2))
    assert _items(first.id) == []
    agenda_ops.run_cutoffs(second.agenda_cutoff_at + timedelta(minutes=5))
    db.session.commit()
    assert [i.referral_id for i in _items(second.id)] == [referral.id]


def test_adding_by_hand_on_the_page_and_the_api(client, api):
    programme = make_programme()
    conference = make_conference(programme)
    by_page = make_referral("submitted", programme=programme)
    by_api = make_referral("submitted", programme=programme)
    other_programme = make_referral("submitted")
    lead = conference.chair.user
    client.login(lead.email, PASSWORD)
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert f"Remiss {by_page.id}, remissdatum" in page
    response = client.post_form(f"/conferences/{conference.id}/agenda", {"referral_id": by_page.id})
    assert response.status_code == 302
    headers = token_headers(lead)
    added = api.post(
        f"/api/v1/conferences/{conference.id}/agenda",
        json={"referral_id": by_api.id},
        headers=headers,
    )
    assert added.status_code == 201
    assert [(i["number"], i["referral_id"]) for i in added.get_json()["agenda"]] == [
        (1, by_page.id),
        (2, by_api.id),
    ]
    twice = api.post(
        f"/api/v1/conferences/{conference.id}/agenda",
        json={"referral_id": by_api.id},
        headers=headers,
    )
    assert twice.status_code == 409
    wrong = api.post(
        f"/api/v1/conferences/{conference.id}/agenda",
        json={"referral_id": other_programme.id},
        headers=headers,
    )
    assert wrong.status_code == 422


# --- publishing and visibility -----------------------------------------------------------------


def test_publishing_records_the_reminder_two_working_days_before():
    conference = make_conference(held_on=date(2030, 4, 23))
    agenda_ops.publish(conference, by=conference.chair.user)
    published = next(e for e in events.pending(db.session) if isinstance(e, AgendaPublished))
    assert published.conference_id == conference.id
    assert sorted(published.member_ids) == sorted(m.user_id for m in conference.members)
    due = published.prepare_due_at.astimezone(STOCKHOLM)
    assert (due.date(), due.hour) == (date(2030, 4, 17), 8)  # Easter: Thu 18, Mon 22 off
    db.session.commit()


def _member(conference, agency):
    return next(m.user for m in conference.agency_members if m.agency == agency)


def test_members_read_the_referral_only_after_publishing_and_within_the_consent(client):
    conference = make_conference()
    referral = make_referral(
        "on_agenda", conference=conference, consent_agencies=["kommun", "af", "region"]
    )
    af_member = _member(conference, "af")
    fk_member = _member(conference, "fk")

    client.login(af_member.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    agenda = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert "Dagordningen publiceras före mötet" in agenda

    agenda_ops.publish(conference, by=conference.chair.user)
    db.session.commit()
    page = client.get(f"/referrals/{referral.id}")
    assert page.status_code == 200
    assert "Testa Testsson" in page.get_data(as_text=True)
    listing = client.get("/referrals/").get_data(as_text=True)
    assert f"Remiss {referral.id}" in listing

    client.post_form("/logout")
    client.login(fk_member.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    agenda = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert "Samtycket omfattar inte din myndighet" in agenda
    assert "Testa Testsson" not in agenda


def test_the_api_applies_the_same_visibility(api):
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference, consent_agencies=["kommun", "af"])
    outsider = make_user("conference_member", unit=make_unit("af"))
    assert (
        api.get(f"/api/v1/referrals/{referral.id}", headers=token_headers(outsider)).status_code
        == 404
    )
    assert (
        api.get(f"/api/v1/conferences/{conference.id}", headers=token_headers(outsider)).status_code
        == 404
    )
    region = _member(conference, "region")
    assert (
        api.get(f"/api/v1/referrals/{referral.id}", headers=token_headers(region)).status_code
        == 404
    )
    kommun = _member(conference, "kommun")
    assert (
        api.get(f"/api/v1/referrals/{referral.id}", headers=token_headers(kommun)).status_code
        == 200
    )


def test_a_withdrawn_consent_closes_the_members_access(client):
    conference = make_conference(state="published")
    referral = make_referral("on_agenda", conference=conference)
    member = _member(conference, "af")
    client.login(member.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == 200
    from coordination.consent.models import Consent
    from coordination.core.db import utcnow

    for consent in db.session.scalars(select(Consent).where(Consent.referral_id == referral.id)):
        consent.withdrawn_at = utcnow()
    db.session.commit()
    assert client.get(f"/referrals/{referral.id}").status_code == 404


# --- leaving the agenda ------------------------------------------------------------------------


def test_sending_back_for_completion_from_the_conference(client):
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference)
    client.login(conference.chair.user.email, PASSWORD)
    form_page = client.get(f"/conferences/{conference.id}/referrals/{referral.id}/send-back")
    assert form_page.status_code == 200
    response = client.post_form(
        f"/conferences/{conference.id}/referrals/{referral.id}/send-back",
        {"note": "Beskriv kontakten med psykiatrin.", "due_on": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).state == "completion_requested"
    assert [i.status for i in _items(conference.id)] == ["sent_back"]
    page = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert "Skickad tillbaka för komplettering" in page


def test_a_referral_withdrawn_from_its_own_page_leaves_the_agenda():
    conference = make_conference(state="published")
    referral = make_referral("on_agenda", conference=conference)
    referral = referral_ops.get_referral(referral.id, lock=True)
    referral_ops.withdraw(referral, by=referral.referrer, reason="Har fått arbete.")
    db.session.commit()
    assert [i.status for i in _items(conference.id)] == ["withdrawn"]


def test_closing_moves_undecided_referrals_back_for_the_next_conference():
    conference = make_conference(state="published", present="all")
    waiting = make_referral("on_agenda", conference=conference)
    ops.close(conference, by=conference.chair.user, reason="Alla remisser är behandlade.")
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Referral, waiting.id).state == "submitted"
    assert [i.status for i in _items(conference.id)] == ["removed"]


def test_the_chair_runs_the_conference_on_the_pages(client):
    conference = make_conference(started=True)
    referral = make_referral("on_agenda", conference=conference, agencies_needed=["kommun", "af"])
    lead = conference.chair.user
    client.login(lead.email, PASSWORD)
    assert client.get("/conferences/").status_code == 200
    assert client.post_form(f"/conferences/{conference.id}/publish").status_code == 302
    present = [m.user_id for m in conference.agency_members if m.agency in ("kommun", "af")]
    response = client.post_form(
        f"/conferences/{conference.id}/attendance", {"present": [str(i) for i in present]}
    )
    assert response.status_code == 302
    page = client.get(f"/conferences/{conference.id}/referrals/{referral.id}/decision")
    body = page.get_data(as_text=True)
    assert 'name="position_kommun"' in body and 'name="position_af"' in body
    assert 'name="position_fk"' not in body  # absent agencies take no position
    decided = client.post_form(
        f"/conferences/{conference.id}/referrals/{referral.id}/decision",
        {
            "position_kommun": "Tillstyrker.",
            "position_af": "Tillstyrker.",
            "outcome": "recommend",
            "recommendation": "Arbetsförmedlingens rehabiliteringsinsatser först.",
        },
    )
    assert decided.status_code == 302
    closed = client.post_form(
        f"/conferences/{conference.id}/close", {"reason": "Alla remisser är behandlade."}
    )
    assert closed.status_code == 302
    minutes = client.get(f"/conferences/{conference.id}/minutes").get_data(as_text=True)
    assert "Arbetsförmedlingens rehabiliteringsinsatser först." in minutes
    assert "Avslutat" in minutes


def test_members_see_their_conferences_but_not_the_chairs_tools(client):
    conference = make_conference(state="published")
    member = _member(conference, "kommun")
    client.login(member.email, PASSWORD)
    listing = client.get("/conferences/").get_data(as_text=True)
    assert f"/conferences/{conference.id}" in listing
    assert "Planera ett möte" not in listing
    assert client.get("/conferences/overview").status_code == 403
    assert client.post_form(f"/conferences/{conference.id}/close").status_code == 403
    other = make_conference()
    assert client.get(f"/conferences/{other.id}").status_code == 404


def test_the_openapi_document_describes_the_conference_endpoints(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    for path in (
        "/api/v1/conferences",
        "/api/v1/conferences/{conference_id}",
        "/api/v1/conferences/{conference_id}/agenda",
        "/api/v1/referrals/{referral_id}/decision",
    ):
        assert path in spec["paths"]
    decision = spec["components"]["schemas"]["DecisionLoadSchema"]
    assert set(decision["required"]) == {"conference_id", "outcome", "recommendation"}


def test_the_scheduling_form_has_a_member_field_for_every_agency():
    from coordination.conferences.queries import AGENCIES
    from coordination.conferences.schemas import ConferenceFormSchema

    assert {f"member_{a}" for a in AGENCIES} <= set(ConferenceFormSchema().load_fields)
