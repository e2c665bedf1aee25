"""The priority rule's age band is a programme setting (default 25–45): on the admin page and in the
API, validated, and used to order the queue."""

from __future__ import annotations

from datetime import date

from coordination.cases import queries as case_queries
from coordination.extensions import db
from coordination.programmes.models import Programme
from tests.factories import (
    PASSWORD,
    birth_for_age,
    decide_referral,
    identity_number,
    make_conference,
    make_programme,
    make_referral,
    make_user,
    token_headers,
)
from workflows.case import QueueEntry, order_queue


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
    decide_referral(referral, conference, outcome="admit")
    return referral


def _form(**overrides) -> dict:
    form = {"name": "Steget före", "active": "on", "priority_rule": "age_25_45_children_first"}
    form.update(overrides)
    return form


def test_a_new_programme_has_the_band_25_to_45_and_the_api_shows_it(client, api):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    page = client.get("/programmes/new").get_data(as_text=True)
    assert 'name="priority_age_low"' in page and 'value="25"' in page
    assert 'name="priority_age_high"' in page and 'value="45"' in page
    make_programme(name="Standard")
    body = api.get("/api/v1/programmes", headers=token_headers(admin)).get_json()
    shown = next(p for p in body["items"] if p["name"] == "Standard")
    assert (shown["priority_age_low"], shown["priority_age_high"]) == (25, 45)


def test_the_admin_page_refuses_a_band_upside_down_or_beyond_sensible_ages(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    refused = client.post_form(
        "/programmes/new", _form(priority_age_low="50", priority_age_high="40")
    )
    assert refused.status_code == 422
    assert "Den lägsta åldern får inte vara högre än den högsta." in refused.get_data(as_text=True)
    refused = client.post_form(
        "/programmes/new", _form(priority_age_low="-1", priority_age_high="130")
    )
    assert refused.status_code == 422
    assert db.session.query(Programme).filter_by(name="Steget före").count() == 0

    saved = client.post_form(
        "/programmes/new", _form(priority_age_low="18", priority_age_high="29")
    )
    assert saved.status_code == 302
    programme = db.session.query(Programme).filter_by(name="Steget före").one()
    assert programme.priority_age_band == (18, 29)


def test_the_queue_puts_parents_in_the_programme_band_first(client):
    programme = make_programme(capacity=1, priority_age_low=18, priority_age_high=29)
    conference = make_conference(programme, state="published", present="all")
    _admit(conference, age=40, children=False, referral_date=date(2026, 1, 2), name="Plats")
    _admit(conference, age=35, children=True, referral_date=date(2026, 1, 3), name="Trettiofem")
    _admit(conference, age=22, children=True, referral_date=date(2026, 1, 8), name="Tjugotvå")
    waiting = [c.referral.first_name for c in case_queries.queue(programme.id)]
    # 35 would come first under the default 25–45; in this programme's 18–29 band, 22 does.
    assert waiting == ["Tjugotvå", "Trettiofem"]

    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    page = client.get("/cases/queue").get_data(as_text=True)
    assert "Prioriterad ålder: 18–29 år." in page
    assert page.index("Tjugotvå") < page.index("Trettiofem")


def test_the_rule_orders_by_the_band_it_is_given():
    def entry(case_id, age, children):
        on = date(2026, 3, 1)
        return QueueEntry(case_id, birth_for_age(age, on), on, children, None)

    entries = [entry(1, 40, True), entry(2, 27, True), entry(3, 27, False)]
    rule = "age_25_45_children_first"
    assert [e.case_id for e in order_queue(entries, rule)] == [1, 2, 3]
    assert [e.case_id for e in order_queue(entries, rule, (20, 30))] == [2, 1, 3]
    assert [e.case_id for e in order_queue(entries, rule, (41, 64))] == [1, 2, 3]
