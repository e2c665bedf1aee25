"""Self-rating on a live case (DOMAIN.md §12): from the case page, in the API, after the exit too,
and announced to the coordinator when due."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.core.i18n import local_today
from coordination.exits.operations import ensure_sus_participant
from coordination.extensions import db
from coordination.jobs import daily_duties
from coordination.statistics import operations as stats
from coordination.statistics.queries import participant_for_case
from notifications.models import Notification
from notifications.rendering import render
from tests.factories import PASSWORD, make_case, make_user, token_headers
from workflows.statistics import PROGRESSION_QUESTIONS


def _form(day: date, value: int, **changes) -> dict:
    return {
        "rated_on": day.isoformat(),
        **{q: str(value) for q in PROGRESSION_QUESTIONS},
        **changes,
    }


def _enrolled_case(coordinator, enrolled_on: date):
    """A case enrolled on a given day, with its SUS record from that day."""
    case = make_case(coordinator=coordinator)
    case.enrolled_on = enrolled_on
    participant = ensure_sus_participant(case)
    participant.enrolled_on = enrolled_on
    db.session.commit()
    return case


def _log(user, action: str) -> list[tuple]:
    rows = db.session.execute(
        select(AccessLogEntry.object_type, AccessLogEntry.person_id).where(
            AccessLogEntry.user_id == user.id, AccessLogEntry.action == action
        )
    )
    return list(rows)


def test_the_coordinator_rates_with_the_participant_from_the_case_page(client):
    coordinator = make_user("coordinator")
    today = local_today()
    case = _enrolled_case(coordinator, today - timedelta(days=200))
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/cases/{case.id}/ratings">Självskattning</a>' in page

    ratings_url = f"/cases/{case.id}/ratings"
    page = client.get(ratings_url).get_data(as_text=True)
    assert "inte gjort någon självskattning" in page
    assert page.count("<fieldset") == 10 and page.count("<legend") == 10
    first, second = today - timedelta(days=100), today - timedelta(days=5)
    assert client.post_form(ratings_url, _form(first, 4)).status_code == 302
    response = client.post_form(ratings_url, _form(second, 7, cooperation="9"))
    assert response.status_code == 302 and response.headers["Location"] == ratings_url
    page = client.get(ratings_url).get_data(as_text=True)
    assert '<td class="table__numeric">40</td>' in page  # the first total
    assert '<td class="table__numeric">72</td>' in page  # the second: nine 7s and a 9
    participant = participant_for_case(case.id)
    assert [r.total for r in participant.ratings] == [40, 72]
    # Every read and write of the page is in the access log, with the person.
    assert ("sus_participant", case.person_id) in _log(coordinator, "read")
    assert _log(coordinator, "update") == [("sus_participant", case.person_id)] * 2


def test_every_error_of_a_rating_is_shown_at_once(client):
    coordinator = make_user("coordinator")
    case = _enrolled_case(coordinator, local_today() - timedelta(days=30))
    client.login(coordinator.email, PASSWORD)
    data = _form(local_today() - timedelta(days=60), 5, cooperation="11")
    del data["job_goal_clarity"]
    response = client.post_form(f"/cases/{case.id}/ratings", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in html
    for field in ("rated_on", "cooperation", "job_goal_clarity"):
        assert f'href="#field-{field}"' in html
    assert "före inskrivningen" in html
    ok = _form(local_today(), 5)
    assert client.post_form(f"/cases/{case.id}/ratings", ok).status_code == 302
    again = client.post_form(f"/cases/{case.id}/ratings", ok)
    assert again.status_code == 422 and "redan en skattning det datumet" in again.get_data(
        as_text=True
    )
    future = client.post_form(f"/cases/{case.id}/ratings", _form(local_today() + timedelta(1), 5))
    assert future.status_code == 422 and "i framtiden" in future.get_data(as_text=True)
    assert len(participant_for_case(case.id).ratings) == 1


def test_ratings_can_be_entered_after_the_exit(client):
    coordinator = make_user("coordinator")
    today = local_today()
    case = _enrolled_case(coordinator, today - timedelta(days=300))
    participant = participant_for_case(case.id)
    stats.record_registration(
        participant,
        "exit",
        registered_on=today - timedelta(days=10),
        support=["ingen_offentlig"],
        exit_reason="arbete",
    )
    db.session.commit()
    client.login(coordinator.email, PASSWORD)
    history = _form(today - timedelta(days=200), 3)
    assert client.post_form(f"/cases/{case.id}/ratings", history).status_code == 302
    # The participant's SUS page takes history after the exit too.
    url = f"/statistics/participants/{participant.id}"
    assert "Registrera en självskattning" in client.get(url).get_data(as_text=True)
    later = _form(today - timedelta(days=20), 6)
    assert client.post_form(f"{url}/ratings", later).status_code == 302
    assert [r.total for r in participant_for_case(case.id).ratings] == [30, 60]


@pytest.mark.parametrize(("role", "status"), [("analyst", 403), ("admin", 403), ("referrer", 403)])
def test_the_ratings_page_is_for_the_coordinator_and_team_leads(client, role, status):
    case = _enrolled_case(make_user("coordinator"), local_today() - timedelta(days=30))
    client.login(make_user(role).email, PASSWORD)
    assert client.get(f"/cases/{case.id}/ratings").status_code == status


def test_another_coordinator_does_not_find_the_case_and_a_team_lead_does(client):
    case = _enrolled_case(make_user("coordinator"), local_today() - timedelta(days=30))
    client.login(make_user("coordinator").email, PASSWORD)
    assert client.get(f"/cases/{case.id}/ratings").status_code == 404
    data = _form(local_today(), 5)
    assert client.post_form(f"/cases/{case.id}/ratings", data).status_code == 404
    client.post_form("/logout")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    assert client.get(f"/cases/{case.id}/ratings").status_code == 200
    assert client.post_form(f"/cases/{case.id}/ratings", data).status_code == 302
    assert participant_for_case(case.id).ratings[0].recorded_by_id == lead.id


def test_the_api_lists_and_records_a_cases_ratings(api):
    coordinator = make_user("coordinator")
    today = local_today()
    case = _enrolled_case(coordinator, today - timedelta(days=200))
    headers = token_headers(coordinator)
    url = f"/api/v1/cases/{case.id}/ratings"
    assert api.get(url, headers=headers).get_json() == {"items": [], "total": 0}
    scores = [4, 5, 6, 7, 8, 9, 10, 1, 2, 3]
    for day in (today - timedelta(days=90), today - timedelta(days=2)):
        response = api.post(
            url, json={"rated_on": day.isoformat(), "scores": scores}, headers=headers
        )
        assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["rated_on"], body["scores"], body["total"]) == (
        (today - timedelta(days=2)).isoformat(),
        scores,
        55,
    )
    listed = api.get(f"{url}?per_page=1&page=2", headers=headers).get_json()
    assert listed["total"] == 2
    assert [(i["rated_on"], i["total"]) for i in listed["items"]] == [
        ((today - timedelta(days=2)).isoformat(), 55)
    ]
    assert _log(coordinator, "update") == [("sus_participant", case.person_id)] * 2
    assert ("sus_participant", case.person_id) in _log(coordinator, "read")


def test_the_api_reports_every_problem_of_a_rating_at_once(api):
    coordinator = make_user("coordinator")
    case = _enrolled_case(coordinator, local_today() - timedelta(days=30))
    url = f"/api/v1/cases/{case.id}/ratings"
    headers = token_headers(coordinator)
    before = (local_today() - timedelta(days=60)).isoformat()
    response = api.post(url, json={"rated_on": before, "scores": [5] * 9}, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {"rated_on", "scores"}
    out_of_range = {"rated_on": local_today().isoformat(), "scores": [5] * 9 + [11]}
    response = api.post(url, json=out_of_range, headers=headers)
    assert response.status_code == 422 and set(response.get_json()["errors"]) == {"scores"}
    extra = {"rated_on": local_today().isoformat(), "scores": [5] * 10, "note": "x"}
    assert api.post(url, json=extra, headers=headers).status_code == 422
    assert api.get(url, headers=headers).get_json()["total"] == 0
    stranger = token_headers(make_user("coordinator"))
    assert api.get(url, headers=stranger).status_code == 404
    ok = {"rated_on": local_today().isoformat(), "scores": [5] * 10}
    assert api.post(url, json=ok, headers=stranger).status_code == 404
    assert api.get(url, headers=token_headers(make_user("analyst"))).status_code == 403


def test_the_openapi_document_describes_the_rating_endpoints(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/cases/{case_id}/ratings"])
    assert "post" in paths["/api/v1/imports/ratings"]


def _inbox(api, user) -> list[dict]:
    body = api.get("/api/v1/inbox?done=false", headers=token_headers(user)).get_json()
    return [i for i in body["items"] if i["kind"] == "rating_due"]


def test_a_due_rating_reaches_the_coordinators_inbox_once(api):
    coordinator = make_user("coordinator")
    enrolled_on = local_today() - timedelta(days=120)
    case = _enrolled_case(coordinator, enrolled_on)
    case.person.first_name, case.person.last_name = "Åsa", "Öberg"
    db.session.commit()
    assert daily_duties()["ratings_due"] == 1
    items = _inbox(api, coordinator)
    assert len(items) == 1
    due_on = participant_for_case(case.id).rating_due_recorded_on
    assert items[0]["link"] == f"/cases/{case.id}/ratings"
    assert items[0]["title"].startswith(f"Deltagande {case.id}: dags för självskattning, från ")
    # The job runs again (the next night, or twice): still one task.
    assert daily_duties()["ratings_due"] == 0
    assert len(_inbox(api, coordinator)) == 1
    # No personal data in what is sent: only the case number and the day.
    sent = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == coordinator.id, Notification.kind == "rating_due"
        )
    ).all()
    assert {n.channel for n in sent} >= {"inbox", "email"}
    for notification in sent:
        assert notification.params == {"case_id": case.id, "due_on": due_on.isoformat()}
        words = render(notification)
        for text in (words.title, words.text, words.html):
            assert "Åsa" not in text and "Öberg" not in text
            assert case.person.identity_number not in text
    # Recording the rating is the task done.
    rating = {"rated_on": local_today().isoformat(), "scores": [6] * 10}
    headers = token_headers(coordinator)
    response = api.post(f"/api/v1/cases/{case.id}/ratings", json=rating, headers=headers)
    assert response.status_code == 201
    assert _inbox(api, coordinator) == []


def test_a_due_rating_of_a_case_without_coordinator_goes_to_the_team_leads(api):
    coordinator = make_user("coordinator")
    case = _enrolled_case(coordinator, local_today() - timedelta(days=120))
    lead = make_user("team_lead")
    coordinator.active = False
    db.session.commit()
    daily_duties()
    assert [i["link"] for i in _inbox(api, lead)] == [f"/cases/{case.id}/ratings"]
