"""The case page, the caseload and the coordinators page, for coordinators and team leads."""

import re
from collections import Counter
from datetime import timedelta

from coordination.cases import queries
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    admit_case,
    make_conference,
    make_plan,
    make_programme,
    make_user,
)


def test_the_case_page_shows_state_coordinator_plan_and_history(client):
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator, first_name="Åsa", last_name="Öberg")
    client.login(coordinator.email, PASSWORD)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Åsa Öberg" in page
    assert "Inskrivet" in page
    assert coordinator.name in page
    assert "Ingen handlingsplan är påbörjad." in page
    assert "Antagen av remissgruppen" in page  # the history: what, who, why
    assert "070-123 45 67" in page  # contact details for the coordinator


def test_the_team_leads_case_page_gives_every_field_its_own_id(client):
    """All the case page's forms at once (coordinator, pause, consent): each id once only."""
    lead = make_user("team_lead")
    case = admit_case()
    client.login(lead.email, PASSWORD)
    bad = client.post_form(f"/cases/{case.id}/pause", {"pause_reason": ""})
    page = bad.get_data(as_text=True)
    assert "Byt koordinator" in page and "Orsak till uppehållet" in page
    repeated = [i for i, n in Counter(re.findall(r' id="([^"]+)"', page)).items() if n > 1]
    assert repeated == []
    consent = client.post_form(f"/cases/{case.id}/consent", {"given_on": "igår"})
    assert consent.status_code == 422
    assert '<details class="details" open>' in consent.get_data(as_text=True)


def test_the_caseload_lists_the_coordinators_own_cases_with_the_columns(client):
    coordinator = make_user("coordinator")
    programme = make_programme(max_duration_days=100)
    conference = make_conference(programme, state="published", present="all")
    mine = admit_case(coordinator=coordinator, conference=conference, first_name="Märta")
    admit_case(conference=conference, first_name="Annanskoordinator")
    mine.enrolled_on = mine.enrolled_on - timedelta(days=85)
    db.session.commit()
    client.login(coordinator.email, PASSWORD)
    page = client.get("/cases/").get_data(as_text=True)
    assert "Märta" in page and "Annanskoordinator" not in page
    for column in (
        "Status",
        "Nästa möte",
        "Uteblivna möten",
        "Öppna uppgifter",
        "Planen följs upp",
        "Dagar i insatsen",
        "Varningar",
    ):
        assert column in page
    assert "Nära insatsens längsta tid" in page
    assert "Planen är inte godkänd 20 arbetsdagar efter inskrivningen" in page
    assert "Du har 2 av 15 viktade deltaganden." in page


def test_the_team_leads_caseload_has_everyone_sorting_and_filters(client):
    lead = make_user("team_lead")
    first, second = make_user("coordinator"), make_user("coordinator")
    conference = make_conference(state="published", present="all")
    a = admit_case(coordinator=first, conference=conference, first_name="Alfa")
    b = admit_case(coordinator=second, conference=conference, first_name="Beta")
    make_plan(b, signed=True)
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/?sort=id&dir=asc").get_data(as_text=True)
    assert page.index("Alfa") < page.index("Beta")
    page = client.get("/cases/?sort=id&dir=desc").get_data(as_text=True)
    assert page.index("Beta") < page.index("Alfa")
    assert 'aria-sort="descending"' in page
    only_first = client.get(f"/cases/?coordinator_id={first.id}").get_data(as_text=True)
    assert "Alfa" in only_first and "Beta" not in only_first
    active = client.get("/cases/?state=active").get_data(as_text=True)
    assert "Beta" in active and "Alfa" not in active
    assert a.state == "enrolled"


def test_the_coordinators_page_sets_capacity_and_shows_the_load(client):
    lead = make_user("team_lead")
    coordinator = make_user("coordinator")
    admit_case(coordinator=coordinator, complexity_weight=3)
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/coordinators").get_data(as_text=True)
    assert coordinator.name in page
    response = client.post_form(
        "/cases/coordinators", {"coordinator_id": coordinator.id, "capacity": 4}
    )
    assert response.status_code == 302
    assert queries.profile_for(coordinator.id).capacity == 4
    page = client.get("/cases/coordinators").get_data(as_text=True)
    assert "75\u00a0%" in page  # a percentage keeps its sign on the same line
    bad = client.post_form(
        "/cases/coordinators", {"coordinator_id": coordinator.id, "capacity": -1}
    )
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "Ange kapaciteten som ett heltal från 0 till 200." in text
    # The summary's link leads to the refused row's field, which keeps the typed value.
    assert '<a href="#field-capacity">' in text
    assert re.search(r'id="field-capacity" name="capacity" value="-1"\s+aria-invalid="true"', text)


def test_the_caseload_is_for_coordinators_and_team_leads(client):
    referrer = make_user("referrer")
    client.login(referrer.email, PASSWORD)
    assert client.get("/cases/").status_code == 403
