"""The case API: the list with filters and pages, one case's fields, and the OpenAPI document."""

from tests.factories import admit_case, make_conference, make_plan, make_user, token_headers


def test_the_case_list_is_paginated_and_filtered(api):
    lead = make_user("team_lead")
    conference = make_conference(state="published", present="all")
    cases = [admit_case(conference=conference) for _ in range(3)]
    make_plan(cases[0], signed=True)
    headers = token_headers(lead)
    ids = {c.id for c in cases}
    first = api.get("/api/v1/cases?per_page=2&page=1", headers=headers).get_json()
    assert first["total"] == 3 and len(first["items"]) == 2
    active = api.get("/api/v1/cases?state=active&per_page=100", headers=headers).get_json()
    assert {i["id"] for i in active["items"]} & ids == {cases[0].id}
    mine = api.get(
        f"/api/v1/cases?coordinator_id={cases[1].coordinator_id}", headers=headers
    ).get_json()
    assert [i["id"] for i in mine["items"]] == [cases[1].id]
    bad = api.get("/api/v1/cases?state=flying&per_page=500", headers=headers)
    assert bad.status_code == 422
    assert {"state", "per_page"} <= set(bad.get_json()["errors"])


def test_digits_int_cannot_read_are_a_clear_error_not_a_crash(api, client):
    """'²' passes str.isdigit() but not int(): the filters and the plan form refuse it."""
    from tests.factories import PASSWORD

    lead = make_user("team_lead")
    case = admit_case()
    listed = api.get("/api/v1/cases?programme_id=²&coordinator_id=³", headers=token_headers(lead))
    assert listed.status_code == 422
    assert set(listed.get_json()["errors"]) == {"programme_id", "coordinator_id"}
    client.login(lead.email, PASSWORD)
    assert client.get("/cases/?programme_id=²").status_code == 200
    form = {"own_goal": "Mål", "actions.0.what": "Praktik", "actions.0.contact_id": "²"}
    edited = client.post_form(f"/cases/{case.id}/plan/edit", form)
    assert edited.status_code == 422
    assert "Välj kontaktperson för insatsen." in edited.get_data(as_text=True)


def test_one_case_shows_state_coordinator_plan_and_the_meeting_figures(api):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator, complexity_weight=3)
    make_plan(case, signed=True)
    body = api.get(f"/api/v1/cases/{case.id}", headers=token_headers(coordinator)).get_json()
    assert body["state"] == "active"
    assert body["coordinator"] == {"id": coordinator.id, "name": coordinator.name}
    assert body["complexity_weight"] == 3
    assert body["plan"]["in_force_version"] == 1 and body["plan"]["open_actions"] == 1
    assert body["days_in_programme"] == 0
    # Filled by the meetings package (null while the case has no meetings).
    assert {"next_meeting_at", "missed_meeting_count", "escalated"} <= set(body)
    assert body["warnings"] == []


def test_the_openapi_document_describes_the_case_and_plan_endpoints(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (
        ("/api/v1/cases", "get"),
        ("/api/v1/cases/{case_id}", "get"),
        ("/api/v1/cases/{case_id}/coordinator", "post"),
        ("/api/v1/cases/{case_id}/consent", "post"),
        ("/api/v1/cases/{case_id}/plan", "get"),
        ("/api/v1/cases/{case_id}/plan", "put"),
        ("/api/v1/cases/{case_id}/plan/sign-off", "post"),
    ):
        assert method in paths[path]
