"""The inbox: page, header count, API, mark done; only the user's own items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from coordination.extensions import db
from tests.factories import PASSWORD, make_inbox_item, make_user, token_headers


def test_the_inbox_page_lists_newest_first_with_unread_marked_and_a_count_in_the_header(client):
    user = make_user("team_lead")
    now = datetime.now(UTC)
    older = make_inbox_item(user, link="/referrals/7", created_at=now - timedelta(hours=2))
    newer = make_inbox_item(
        user,
        kind="completion_requested",
        template="completion_requested",
        params={"referral_id": 8, "due_on": "2026-03-16"},
        link="/referrals/8",
        created_at=now - timedelta(hours=1),
    )
    older.read_at = now
    db.session.commit()
    client.login(user.email, PASSWORD)
    page = client.get("/inbox").get_data(as_text=True)
    first = page.index("Komplettera en remiss senast 16 mars 2026")
    second = page.index("En ny remiss väntar på handläggning")
    assert first < second  # newest first
    assert page.count("Oläst") == 1
    assert 'Inkorg <span class="tag">1<span class="visually-hidden"> olästa</span>' in page
    assert page.count("Markera som klar<span") == 2
    assert f'/inbox/{newer.id}"' in page


def test_opening_an_item_marks_it_read_and_leads_to_its_subject(client):
    user = make_user("team_lead")
    item = make_inbox_item(user, link="/referrals/42")
    client.login(user.email, PASSWORD)
    response = client.get(f"/inbox/{item.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/referrals/42"
    db.session.refresh(item)
    assert item.read_at is not None
    assert "olästa" not in client.get("/inbox").get_data(as_text=True)


def test_marking_done_moves_the_item_to_the_done_list(client):
    user = make_user("team_lead")
    item = make_inbox_item(user)
    client.login(user.email, PASSWORD)
    response = client.post_form(f"/inbox/{item.id}/done", {"visa": "att-gora"})
    assert response.status_code == 302
    todo = client.get("/inbox").get_data(as_text=True)
    assert "Du har inget att göra just nu." in todo
    done = client.get("/inbox?visa=klara").get_data(as_text=True)
    assert "En ny remiss väntar på handläggning" in done and "Klar" in done
    assert "Markera som klar</button>" not in done


def test_someone_elses_item_is_not_found(client):
    owner = make_user("team_lead")
    item = make_inbox_item(owner)
    other = make_user("team_lead")
    client.login(other.email, PASSWORD)
    assert client.get(f"/inbox/{item.id}").status_code == 404
    assert client.post_form(f"/inbox/{item.id}/done").status_code == 404
    db.session.refresh(item)
    assert item.done_at is None and item.read_at is None


def test_the_inbox_needs_a_signed_in_user(client):
    response = client.get("/inbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_api_lists_the_callers_items_paginated_newest_first(api):
    user = make_user("referrer")
    now = datetime.now(UTC)
    ids = [
        make_inbox_item(user, link=f"/referrals/{n}", created_at=now - timedelta(minutes=10 - n)).id
        for n in range(3)
    ]
    make_inbox_item(make_user("referrer"))  # someone else's
    headers = token_headers(user)
    body = api.get("/api/v1/inbox?per_page=2", headers=headers).get_json()
    assert body["total"] == 3
    assert [i["id"] for i in body["items"]] == [ids[2], ids[1]]
    assert body["items"][0] == {
        "id": ids[2],
        "kind": "referral_submitted",
        "title": "En ny remiss väntar på handläggning",
        "link": "/referrals/2",
        "subject_type": None,
        "subject_id": None,
        "unread": True,
        "created_at": body["items"][0]["created_at"],
        "read_at": None,
        "done_at": None,
    }
    page2 = api.get("/api/v1/inbox?per_page=2&page=2", headers=headers).get_json()
    assert [i["id"] for i in page2["items"]] == [ids[0]]


def test_api_marks_done_and_filters(api):
    user = make_user("referrer")
    item = make_inbox_item(user)
    headers = token_headers(user)
    response = api.post(f"/api/v1/inbox/{item.id}/done", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["done_at"] is not None
    assert response.get_json()["unread"] is False
    assert api.get("/api/v1/inbox?done=false", headers=headers).get_json()["total"] == 0
    assert api.get("/api/v1/inbox?done=true", headers=headers).get_json()["total"] == 1
    bad = api.get("/api/v1/inbox?done=maybe", headers=headers)
    assert bad.status_code == 422 and "done" in bad.get_json()["errors"]


def test_api_refuses_other_peoples_items_and_anonymous_callers(api):
    item = make_inbox_item(make_user("referrer"))
    headers = token_headers(make_user("referrer"))
    response = api.post(f"/api/v1/inbox/{item.id}/done", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert api.get("/api/v1/inbox").status_code == 401


def test_the_inbox_endpoints_are_in_the_openapi_document(api):
    spec = api.get("/api/v1/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/v1/inbox"]
    assert "post" in spec["paths"]["/api/v1/inbox/{notification_id}/done"]
