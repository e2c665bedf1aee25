"""Organisation units: the admin page, the command, and roles only in units in use."""

from __future__ import annotations

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from tests.factories import PASSWORD, make_unit, make_user


def _unit(name: str) -> OrganisationUnit | None:
    return db.session.scalar(select(OrganisationUnit).where(OrganisationUnit.name == name))


def test_an_admin_adds_a_unit_and_can_then_give_roles_in_it(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    response = client.post_form(
        "/admin/units",
        {"name": "Arbetsförmedlingen Kungsbacka", "agency_kind": "af", "municipality": ""},
    )
    assert response.status_code == 302
    page = client.get("/admin/units").get_data(as_text=True)
    assert "Enheten Arbetsförmedlingen Kungsbacka är tillagd." in page
    assert "Arbetsförmedlingen Kungsbacka" in page and "Arbetsförmedlingen</td>" in page
    unit = _unit("Arbetsförmedlingen Kungsbacka")
    assert unit.agency_kind == "af" and unit.active
    logged = db.session.scalar(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "organisation_unit",
            AccessLogEntry.object_id == str(unit.id),
        )
    )
    assert logged is not None and logged.action == "create"
    assert f'name="role-{unit.id}"' in client.get("/admin/users/new").get_data(as_text=True)


def test_every_problem_with_a_unit_is_shown_at_once_and_nothing_is_saved(client):
    admin = make_user("admin")
    make_unit("af", name="AF Väst")
    client.login(admin.email, PASSWORD)
    before = db.session.query(OrganisationUnit).count()
    clash = client.post_form(
        "/admin/units", {"name": "af väst", "agency_kind": "kommun", "municipality": ""}
    )
    assert clash.status_code == 422
    page = clash.get_data(as_text=True)
    assert "Det finns redan en enhet med det namnet." in page
    assert "Skriv vilken kommun enheten hör till." in page
    assert 'value="af väst"' in page  # what was typed is kept
    empty = client.post_form("/admin/units", {"name": " ", "agency_kind": "polisen"})
    text = empty.get_data(as_text=True)
    assert "Skriv enhetens namn." in text and "Välj vilken myndighet enheten hör till." in text
    assert db.session.query(OrganisationUnit).count() == before


def test_a_unit_taken_out_of_use_offers_no_new_roles_but_keeps_the_old_ones(client):
    admin = make_user("admin")
    unit = make_unit("region", name="Vårdcentralen Norr")
    holder = make_user("referrer", unit=unit)
    client.login(admin.email, PASSWORD)
    edit = client.post_form(
        f"/admin/units/{unit.id}",
        {"name": "Vårdcentralen Norr", "agency_kind": "region", "municipality": ""},
    )
    assert edit.status_code == 302
    db.session.expire_all()
    assert db.session.get(OrganisationUnit, unit.id).active is False
    listing = client.get("/admin/units").get_data(as_text=True)
    assert "Används inte" in listing
    assert f'name="role-{unit.id}"' not in client.get("/admin/users/new").get_data(as_text=True)
    form = client.get(f"/admin/users/{holder.id}").get_data(as_text=True)
    assert f'name="role-{unit.id}"' in form  # the holder's role is still shown, and kept on save
    client.post_form(f"/admin/users/{holder.id}", {f"role-{unit.id}": "referrer"})
    db.session.expire_all()
    assert [(m.unit_id, m.role) for m in holder.memberships] == [(unit.id, "referrer")]


def test_the_agency_of_a_unit_with_people_cannot_change(client):
    admin = make_user("admin")
    unit = make_unit("fk", name="Försäkringskassan Syd")
    make_user("referrer", unit=unit)
    client.login(admin.email, PASSWORD)
    response = client.post_form(
        f"/admin/units/{unit.id}",
        {"name": "Försäkringskassan Syd", "agency_kind": "af", "active": "on"},
    )
    assert response.status_code == 422
    assert "Myndigheten kan inte ändras" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrganisationUnit, unit.id).agency_kind == "fk"


def test_only_admins_manage_units(client):
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    assert client.get("/admin/units").status_code == 403
    assert client.post_form("/admin/units", {"name": "X", "agency_kind": "af"}).status_code == 403


def test_the_command_creates_a_unit_or_says_every_problem(app):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "units",
            "create",
            "--name",
            "Kommunen Öst",
            "--kind",
            "kommun",
            "--municipality",
            "Öst",
        ]
    )
    assert made.exit_code == 0, made.output
    assert "Created unit" in made.output
    assert _unit("Kommunen Öst").municipality == "Öst"
    again = runner.invoke(args=["units", "create", "--name", "kommunen öst", "--kind", "kommun"])
    assert again.exit_code != 0
    assert "name: Det finns redan en enhet med det namnet." in again.output
    assert "municipality: Skriv vilken kommun enheten hör till." in again.output
