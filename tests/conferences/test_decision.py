"""The one decision: the written joint recommendation in pages, API and database; quorum; cases."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from coordination.cases.models import Case, CaseHistory
from coordination.conferences import decisions as decision_ops
from coordination.conferences.events import ReferralDecided
from coordination.conferences.models import AgendaItem, Decision
from coordination.core import events
from coordination.core.errors import Conflict, ValidationFailed
from coordination.extensions import db
from coordination.referrals.models import Referral
from tests.factories import (
    PASSWORD,
    decide_referral,
    make_conference,
    make_programme,
    make_referral,
    make_user,
    token_headers,
)


def _reload(referral):
    db.session.expire_all()
    return db.session.get(Referral, referral.id)


def _decision_form(conference, **overrides):
    form = {
        "position_kommun": "Kommunen tillstyrker och erbjuder arbetsträning.",
        "position_af": "Arbetsförmedlingen tillstyrker.",
        "position_fk": "Försäkringskassan har inget ärende men stöder planen.",
        "position_region": "Vårdcentralen tar ansvar för hälsokontakten.",
        "outcome": "recommend",
        "recommendation": "Fortsatt samverkan mellan socialtjänsten och vården; ny remiss.",
    }
    form.update(overrides)
    return form


# --- pages -------------------------------------------------------------------------------------


def test_the_chair_decides_on_the_page_and_the_referrer_reads_the_recommendation(client):
    referral = make_referral("on_agenda")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    client.login(conference.chair.user.email, PASSWORD)
    page = client.get(f"/conferences/{conference.id}/referrals/{referral.id}/decision")
    assert page.status_code == 200
    assert "Gemensam rekommendation" in page.get_data(as_text=True)
    response = client.post_form(
        f"/conferences/{conference.id}/referrals/{referral.id}/decision", _decision_form(conference)
    )
    assert response.status_code == 302
    assert _reload(referral).state == "decided"
    detail = client.get(f"/conferences/{conference.id}").get_data(as_text=True)
    assert "Skrivs inte in: gemensam rekommendation" in detail

    client.post_form("/logout")
    client.login(referral.referrer.email, PASSWORD)
    letter = client.get(f"/conferences/referrals/{referral.id}/decision")
    assert letter.status_code == 200
    body = letter.get_data(as_text=True)
    assert "Fortsatt samverkan mellan socialtjänsten och vården" in body
    assert "Arbetsförmedlingen tillstyrker." in body


@pytest.mark.parametrize("outcome", ["admit", "recommend"])
def test_the_page_refuses_a_decision_without_a_written_recommendation(client, outcome):
    referral = make_referral("on_agenda")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    coordinator = make_user("coordinator")
    client.login(conference.chair.user.email, PASSWORD)
    form = _decision_form(
        conference,
        outcome=outcome,
        recommendation="   ",
        coordinator_id=str(coordinator.id),
        complexity_weight="2",
    )
    response = client.post_form(
        f"/conferences/{conference.id}/referrals/{referral.id}/decision", form
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in page
    assert "Den krävs vid båda besluten" in page
    assert "Kommunen tillstyrker och erbjuder arbetsträning." in page  # nothing typed is lost
    assert _reload(referral).state == "on_agenda"
    assert db.session.scalar(select(Case).where(Case.referral_id == referral.id)) is None


def test_the_page_shows_every_error_at_once(client):
    referral = make_referral("on_agenda")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    client.login(conference.chair.user.email, PASSWORD)
    form = _decision_form(
        conference, outcome="admit", recommendation="", position_af="", coordinator_id=""
    )
    response = client.post_form(
        f"/conferences/{conference.id}/referrals/{referral.id}/decision", form
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in (
        "Den krävs vid båda besluten",
        "Skriv ställningstagandet för Arbetsförmedlingen",
        "Välj koordinator för deltagandet",
    ):
        assert message in page


# --- API ---------------------------------------------------------------------------------------


def _body(conference, **overrides):
    body = {
        "conference_id": conference.id,
        "outcome": "recommend",
        "recommendation": "Kontakt med psykiatrin först; därefter arbetsträning via kommunen.",
        "positions": [
            {"agency": a, "position": "Tillstyrker."} for a in sorted(conference.present_agencies)
        ],
    }
    body.update(overrides)
    return body


def test_the_api_records_an_admission_and_opens_an_enrolled_case(api):
    referral = make_referral("on_agenda")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    coordinator = make_user("coordinator")
    headers = token_headers(conference.chair.user)
    response = api.post(
        f"/api/v1/referrals/{referral.id}/decision",
        json=_body(conference, outcome="admit", coordinator_id=coordinator.id, complexity_weight=3),
        headers=headers,
    )
    assert response.status_code == 201, response.get_json()
    decision = response.get_json()
    assert decision["outcome"] == "admit"
    assert decision["agencies"] == ["af", "fk", "kommun", "region"]
    assert decision["case_state"] == "enrolled"
    case = db.session.get(Case, decision["case_id"])
    assert case.complexity_weight == 3
    assert case.active_assignment.coordinator_id == coordinator.id
    assert [h.to_state for h in case.history] == ["enrolled"]
    read = api.get(f"/api/v1/referrals/{referral.id}/decision", headers=headers)
    assert read.get_json()["recommendation"].startswith("Kontakt med psykiatrin")
    agenda = api.get(f"/api/v1/conferences/{conference.id}", headers=headers).get_json()["agenda"]
    assert agenda == [
        {
            "number": 1,
            "referral_id": referral.id,
            "status": "decided",
            "origin": "manual",
            "added_at": agenda[0]["added_at"],
            "outcome": "admit",
        }
    ]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"recommendation": "  \n "}, "recommendation"),
        ({"recommendation": ""}, "recommendation"),
        ({"positions": []}, "positions"),
        ({"outcome": "admit"}, "coordinator_id"),
        ({"outcome": "maybe"}, "outcome"),
        ({"recommendation": None}, "recommendation"),
    ],
)
def test_the_api_refuses_a_decision_that_breaks_the_rules(api, overrides, field):
    referral = make_referral("on_agenda")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    response = api.post(
        f"/api/v1/referrals/{referral.id}/decision",
        json=_body(conference, **overrides),
        headers=token_headers(conference.chair.user),
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert _reload(referral).state == "on_agenda"


def test_a_second_decision_answers_409(api):
    referral = make_referral("decided")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    response = api.post(
        f"/api/v1/referrals/{referral.id}/decision",
        json=_body(conference),
        headers=token_headers(make_user("team_lead")),
    )
    assert response.status_code == 409
    assert "redan beslutad" in response.get_json()["detail"]
    assert response.get_json()["decision_id"] == _reload(referral).decision_id


def test_only_a_team_lead_decides(api):
    referral = make_referral("on_agenda")
    conference = db.session.scalar(
        select(AgendaItem).where(AgendaItem.referral_id == referral.id)
    ).conference
    member = conference.agency_members[0].user
    response = api.post(
        f"/api/v1/referrals/{referral.id}/decision",
        json=_body(conference),
        headers=token_headers(member),
    )
    assert response.status_code == 403


# --- the database ------------------------------------------------------------------------------


def test_the_database_refuses_a_decided_referral_without_a_decision():
    referral = make_referral("on_agenda")
    with pytest.raises(IntegrityError, match="decided_has_decision"):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE referral SET state = 'decided' WHERE id = :id"), {"id": referral.id}
            )


@pytest.mark.parametrize(
    ("recommendation", "agencies", "constraint"),
    [
        ("   ", '["kommun"]', "has_recommendation"),
        ("", '["kommun"]', "has_recommendation"),
        ("Råd om fortsatt planering.", "[]", "has_agencies"),
    ],
)
def test_the_database_refuses_a_decision_without_recommendation_or_agencies(
    recommendation, agencies, constraint
):
    conference = make_conference()
    with pytest.raises(IntegrityError, match=constraint):
        with db.session.begin_nested():
            db.session.execute(
                text(
                    "INSERT INTO decision (conference_id, outcome, recommendation, agencies, "
                    "decided_by_id, decided_at) VALUES (:c, 'recommend', :r, CAST(:a AS json), "
                    ":u, now())"
                ),
                {
                    "c": conference.id,
                    "r": recommendation,
                    "a": agencies,
                    "u": conference.chair.user_id,
                },
            )


def test_the_database_accepts_a_complete_decision_and_refuses_clearing_it():
    referral = make_referral("decided")
    decision = db.session.get(Decision, _reload(referral).decision_id)
    assert decision.recommendation.strip() and decision.agencies
    with pytest.raises(IntegrityError, match="has_recommendation"):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE decision SET recommendation = ' ' WHERE id = :id"),
                {"id": decision.id},
            )
    with pytest.raises(IntegrityError, match="decided_has_decision"):
        with db.session.begin_nested():
            db.session.execute(
                text("UPDATE referral SET decision_id = NULL WHERE id = :id"), {"id": referral.id}
            )


# --- quorum ------------------------------------------------------------------------------------


def test_no_decision_without_every_named_agency_present():
    referral_agencies = ["kommun", "af", "region"]
    conference = make_conference(state="published", present=["kommun", "af", "fk"])
    referral = make_referral("on_agenda", conference=conference, agencies_needed=referral_agencies)
    with pytest.raises(ValidationFailed) as refused:
        decide_referral(referral, conference)
    assert "Region (hälso- och sjukvård)" in refused.value.errors["attendance"][0]
    db.session.rollback()
    assert _reload(referral).state == "on_agenda"


def test_quorum_setting_off_allows_a_decision_with_fewer_agencies():
    programme = make_programme(quorum_all_named_agencies=False)
    conference = make_conference(programme, state="published", present=["kommun"])
    referral = make_referral(
        "on_agenda", conference=conference, agencies_needed=["kommun", "af", "region"]
    )
    decision = decide_referral(referral, conference)
    assert decision.agencies == ["kommun"]
    assert [p.agency for p in decision.positions] == ["kommun"]


def test_no_decision_before_attendance_is_recorded():
    conference = make_conference(state="published")
    referral = make_referral("on_agenda", conference=conference)
    with pytest.raises(ValidationFailed) as refused:
        decide_referral(referral, conference)
    assert "närvarande" in refused.value.errors["attendance"][0]
    db.session.rollback()


def test_an_absent_agency_cannot_take_a_position():
    conference = make_conference(state="published", present=["kommun", "af"])
    referral = make_referral("on_agenda", conference=conference)
    with pytest.raises(ValidationFailed) as refused:
        decide_referral(
            referral,
            conference,
            positions={"kommun": "Ja.", "af": "Ja.", "fk": "Vi hade velat vara med."},
        )
    assert "position_fk" in refused.value.errors
    db.session.rollback()


# --- admission and events ----------------------------------------------------------------------


def test_admission_opens_an_enrolled_case_and_records_the_event():
    conference = make_conference(state="published", present="all")
    referral = make_referral("on_agenda", conference=conference)
    coordinator = make_user("coordinator")
    decision_ops.decide(
        referral.id,
        conference=conference,
        by=conference.chair.user,
        data=decision_ops.DecisionInput(
            outcome="admit",
            recommendation="Skrivs in; fokus på hälsa och arbetsträning.",
            positions={a: "Tillstyrker." for a in conference.present_agencies},
            coordinator_id=coordinator.id,
            complexity_weight=2,
        ),
    )
    decided = next(e for e in events.pending(db.session) if isinstance(e, ReferralDecided))
    case = db.session.scalar(select(Case).where(Case.referral_id == referral.id))
    assert decided == ReferralDecided(
        referral_id=referral.id,
        decision_id=_reload(referral).decision_id,
        conference_id=conference.id,
        programme_id=referral.programme_id,
        outcome="admit",
        referrer_id=referral.referrer_id,
        coordinator_id=coordinator.id,
        case_id=case.id,
        occurred_at=decided.occurred_at,
    )
    db.session.commit()
    assert case.state == "enrolled" and case.enrolled_on is not None
    assert case.person_id == referral.person_id


def test_admission_when_the_programme_is_full_puts_the_case_in_the_queue():
    programme = make_programme(capacity=1)
    conference = make_conference(programme, state="published", present="all")
    first = make_referral("decided", conference=conference, outcome="admit")
    second = make_referral("decided", conference=conference, outcome="admit")
    cases = {
        c.referral_id: c
        for c in db.session.scalars(select(Case).where(Case.programme_id == programme.id))
    }
    assert cases[first.id].state == "enrolled"
    assert cases[second.id].state == "waiting"
    assert cases[second.id].active_assignment is None
    assert cases[second.id].queued_at is not None
    reasons = db.session.scalars(
        select(CaseHistory.reason).where(CaseHistory.case_id == cases[second.id].id)
    ).all()
    assert reasons == ["Antagen av remissgruppen. Insatsen är full; personen står i kö."]


def test_recommend_opens_no_case():
    referral = make_referral("decided", outcome="recommend")
    assert db.session.scalar(select(Case).where(Case.referral_id == referral.id)) is None
    decision = db.session.get(Decision, _reload(referral).decision_id)
    assert decision.coordinator_id is None and decision.complexity_weight is None


def test_a_person_with_an_open_case_cannot_be_referred_again():
    from coordination.referrals import operations as referral_ops

    referral = make_referral("decided", outcome="admit")
    again = make_referral(
        "draft",
        programme=referral.programme,
        identity_number=referral.identity_number,
    )
    with pytest.raises(Conflict, match="redan inskriven"):
        referral_ops.submit(again, by=again.referrer)
    db.session.rollback()
