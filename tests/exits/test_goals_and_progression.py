"""The return referral shows the plan's goals with how far each was reached (recorded at exit) and
the participant's progression between the first and the last self-rating: page, API and PDF."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from coordination.auth.models import User
from coordination.exits import operations as exit_ops
from coordination.exits import queries
from coordination.extensions import db
from coordination.statistics.models import ProgressionRating
from tests.factories import (
    PASSWORD,
    make_admitted_case,
    make_agency_user,
    make_plan,
    token_headers,
)
from workflows.statistics import PROGRESSION_QUESTIONS

GOALS = [
    {"text": "Klara en praktikvecka.", "target_on": date(2030, 1, 15)},
    {"text": "Ta bussen själv till praktiken.", "target_on": date(2030, 1, 31)},
]


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _case(ratings: list[tuple[date, int]]):
    case = make_admitted_case()
    version = make_plan(case, contact=make_agency_user("af"), signed=True, goals=GOALS)
    participant = exit_ops.ensure_sus_participant(case)
    for rated_on, score in ratings:
        db.session.add(
            ProgressionRating(
                participant=participant,
                rated_on=rated_on,
                **dict.fromkeys(PROGRESSION_QUESTIONS, score),
            )
        )
    db.session.commit()
    return case, version, db.session.get(User, case.coordinator_id)


def _exit_form(version, statuses: list[str]) -> dict:
    form = {
        "exit_reason": "studier",
        "support_at_exit": "studiestod",
        "occupation_at_exit": "studier",
        "work_at_exit": "ej_subventionerat",
    }
    for i, (goal, status) in enumerate(zip(version.goals, statuses, strict=True)):
        form[f"goals.{i}.goal_id"] = goal.id
        form[f"goals.{i}.status"] = status
    return form


def test_the_exit_records_goal_status_and_the_return_referral_shows_it_with_progression(
    client, api
):
    case, version, coordinator = _case([(date(2024, 2, 1), 4), (date(2024, 5, 2), 6)])
    client.login(coordinator.email, PASSWORD)
    form = client.get(f"/cases/{case.id}/exit").get_data(as_text=True)
    assert "Har delmålen i handlingsplanen nåtts?" in form
    assert "Delmål 1: Klara en praktikvecka." in form

    refused = client.post_form(
        f"/cases/{case.id}/exit", {**_exit_form(version, ["reached", "kanske"])}
    )
    assert refused.status_code == 422
    db.session.expire_all()
    assert case.state == "active"  # not exiting: nothing was recorded

    done = client.post_form(f"/cases/{case.id}/exit", _exit_form(version, ["reached", ""]))
    assert done.status_code == 302
    document = queries.return_referral_of(case.id)
    page = client.get(f"/return-referrals/{document.id}").get_data(as_text=True)
    assert "Delmål i handlingsplanen och om de har nåtts" in page
    assert "Nått" in page and "vid avslut" in page and coordinator.name in page
    assert "Inte bedömt" in page  # the second goal was left unjudged
    assert "Första självskattningen 2024-02-01: summa 40 av 100." in page
    assert "Senaste 2024-05-02: summa 60 av 100. Förändring: Förbättring (2 skattningar)." in page

    body = api.get(
        f"/api/v1/return-referrals/{document.id}", headers=token_headers(coordinator)
    ).get_json()
    goals = body["facts"]["plan"]["versions"][-1]["goals"]
    assert [(g["text"], g["status"], g["status_occasion"]) for g in goals] == [
        ("Klara en praktikvecka.", "reached", "exit"),
        ("Ta bussen själv till praktiken.", None, None),
    ]
    assert body["facts"]["progression"] == {
        "ratings": 2,
        "first": {"rated_on": "2024-02-01", "total": 40},
        "last": {"rated_on": "2024-05-02", "total": 60},
        "change": "positive",
    }

    pdf = _pdf_text(client.get(f"/return-referrals/{document.id}.pdf").data)
    assert "Klara en praktikvecka." in pdf and "Nått" in pdf
    assert "Förbättring" in pdf


def test_no_rating_is_said_plainly(client):
    case, version, coordinator = _case([])
    exit_ops.register_exit(
        case,
        data={
            "exit_reason": "studier",
            "support_at_exit": ["studiestod"],
            "occupation_at_exit": "studier",
            "work_at_exit": "ej_subventionerat",
            "goals": [{"goal_id": version.goals[1].id, "status": "not_reached"}],
        },
        by=coordinator,
    )
    db.session.commit()
    document = queries.return_referral_of(case.id)
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/return-referrals/{document.id}").get_data(as_text=True)
    assert "Inga självskattningar är registrerade." in page
    assert "Inte nått" in page


def test_one_rating_is_said_plainly_and_no_change_is_classified(client, api):
    case, _version, coordinator = _case([(date(2024, 3, 1), 5)])
    response = api.post(
        f"/api/v1/cases/{case.id}/exit",
        json={
            "exit_reason": "arbete",
            "support_at_exit": ["ingen_offentlig"],
            "occupation_at_exit": "arbete",
            "work_at_exit": "ej_subventionerat",
        },
        headers=token_headers(coordinator),
    )
    assert response.status_code == 201, response.get_json()
    document = queries.return_referral_of(case.id)
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/return-referrals/{document.id}").get_data(as_text=True)
    assert "En självskattning är registrerad (2024-03-01, summa 50 av 100)." in page
    body = api.get(
        f"/api/v1/return-referrals/{document.id}", headers=token_headers(coordinator)
    ).get_json()
    assert body["facts"]["progression"]["change"] is None
    assert body["facts"]["progression"]["ratings"] == 1
