"""The waiting queue: the team lead's page in priority order, and enrolment when a place frees."""

from datetime import date

from sqlalchemy import select

from coordination.cases import queries as case_queries
from coordination.cases.models import Case
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    birth_for_age,
    identity_number,
    make_conference,
    make_programme,
    make_referral,
    make_user,
)


def _admit(conference, *, age, children, referral_date, name):
    referral = make_referral(
        "on_agenda",
        conference=conference,
        identity_number=identity_number(birth_for_age(age, referral_date)),
        children_in_household=children,
        first_name=name,
    )
    referral.referral_date = referral_date
    db.session.commit()
    from tests.factories import decide_referral

    decide_referral(referral, conference, outcome="admit")
    return referral


def test_the_queue_page_lists_waiting_people_by_the_priority_rule(client):
    programme = make_programme(capacity=1)
    conference = make_conference(programme, state="published", present="all")
    _admit(conference, age=40, children=False, referral_date=date(2026, 1, 2), name="Först")
    _admit(conference, age=50, children=True, referral_date=date(2026, 1, 3), name="Äldre")
    _admit(conference, age=30, children=False, referral_date=date(2026, 1, 4), name="Utanbarn")
    _admit(conference, age=33, children=True, referral_date=date(2026, 1, 9), name="Förälder")
    _admit(conference, age=26, children=True, referral_date=date(2026, 1, 5), name="Ungersson")

    waiting = [c.referral.first_name for c in case_queries.queue(programme.id)]
    assert waiting == ["Ungersson", "Förälder", "Äldre", "Utanbarn"]

    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/queue").get_data(as_text=True)
    positions = [page.index(name) for name in ("Ungersson", "Förälder", "Äldre", "Utanbarn")]
    assert positions == sorted(positions)
    assert "1 av 1 platser är upptagna" in page
    assert "Skriv in den som står först i kön" not in page  # no free place


def test_enrolment_from_the_queue_when_a_place_frees(client):
    programme = make_programme(capacity=1)
    conference = make_conference(programme, state="published", present="all")
    first = _admit(conference, age=40, children=False, referral_date=date(2026, 1, 2), name="A")
    second = _admit(conference, age=30, children=True, referral_date=date(2026, 1, 3), name="B")
    third = _admit(conference, age=30, children=False, referral_date=date(2026, 1, 1), name="C")
    programme.capacity = 2
    db.session.commit()
    cases = {
        c.referral_id: c
        for c in db.session.scalars(select(Case).where(Case.programme_id == programme.id))
    }
    assert cases[first.id].state == "enrolled"
    coordinator = make_user("coordinator")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/queue").get_data(as_text=True)
    assert "Skriv in den som står först i kön" in page

    wrong = client.post_form(
        f"/cases/{cases[third.id].id}/enrol", {"coordinator_id": coordinator.id}
    )
    assert wrong.status_code == 409  # the queue again, saying who is first
    assert (
        f"Det är deltagande {cases[second.id].id} som står först i kön enligt prioriteringsregeln."
        in wrong.get_data(as_text=True)
    )
    db.session.expire_all()
    assert db.session.get(Case, cases[third.id].id).state == "waiting"

    response = client.post_form(
        f"/cases/{cases[second.id].id}/enrol", {"coordinator_id": coordinator.id}
    )
    assert response.status_code == 302
    db.session.expire_all()
    enrolled = db.session.get(Case, cases[second.id].id)
    assert enrolled.state == "enrolled"
    assert enrolled.active_assignment.coordinator_id == coordinator.id
    assert [h.action for h in enrolled.history] == ["admit", "enrol"]
    page = client.get("/cases/queue").get_data(as_text=True)
    assert "2 av 2 platser är upptagna" in page


def test_the_queue_is_for_team_leads_only(client):
    member = make_user("conference_member")
    client.login(member.email, PASSWORD)
    assert client.get("/cases/queue").status_code == 403
