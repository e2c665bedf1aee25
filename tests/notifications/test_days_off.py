"""The förbund's own days off: the admin page, and the calendar that counts them."""

from __future__ import annotations

from datetime import date

from coordination.extensions import db
from coordination.organisations.calendar import working_calendar
from coordination.organisations.models import DayOff
from tests.factories import PASSWORD, make_user


def test_an_admin_adds_and_removes_a_day_off_and_the_calendar_follows(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    assert working_calendar().is_working_day(date(2030, 5, 31))
    response = client.post_form("/admin/days-off", {"date": "2030-05-31", "name": "Klämdag"})
    assert response.status_code == 302
    page = client.get("/admin/days-off").get_data(as_text=True)
    assert "2030-05-31" in page and "Klämdag" in page
    assert not working_calendar().is_working_day(date(2030, 5, 31))
    assert working_calendar().add_working_days(date(2030, 5, 30), 1) == date(2030, 6, 3)
    entry = db.session.query(DayOff).filter_by(date=date(2030, 5, 31)).one()
    assert client.post_form(f"/admin/days-off/{entry.id}/delete").status_code == 302
    assert working_calendar().is_working_day(date(2030, 5, 31))


def test_every_problem_with_a_day_off_is_shown_at_once(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    response = client.post_form("/admin/days-off", {"date": "2030-12-25", "name": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Dagen är redan en helgdag (juldagen)." in page
    assert "Skriv varför dagen är ledig" in page
    weekend = client.post_form("/admin/days-off", {"date": "2030-06-01", "name": "Lördag"})
    assert "lördag eller söndag" in weekend.get_data(as_text=True)
    bad = client.post_form("/admin/days-off", {"date": "31/5", "name": "x"})
    assert "Ange ett datum som ÅÅÅÅ-MM-DD." in bad.get_data(as_text=True)


def test_a_repeated_day_off_is_refused(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    client.post_form("/admin/days-off", {"date": "2030-05-31", "name": "Klämdag"})
    again = client.post_form("/admin/days-off", {"date": "2030-05-31", "name": "Igen"})
    assert again.status_code == 422
    assert "Dagen finns redan bland de lediga dagarna." in again.get_data(as_text=True)


def test_only_admins_manage_days_off(client):
    user = make_user("team_lead")
    client.login(user.email, PASSWORD)
    assert client.get("/admin/days-off").status_code == 403
