"""The förbund's member organisations: the register on its page and in the API, units belonging
to one, and a live case's SUS record carrying the referring organisation (DOMAIN.md §12)."""

from __future__ import annotations

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations.models import MemberOrganisation, OrganisationUnit
from coordination.statistics.queries import participant_for_case
from tests.factories import (
    PASSWORD,
    make_case,
    make_return_referral,
    make_unit,
    make_user,
    token_headers,
)


def _member(code: str) -> MemberOrganisation | None:
    return db.session.scalar(select(MemberOrganisation).where(MemberOrganisation.code == code))


def _register(code: str, name: str, kind: str) -> MemberOrganisation:
    organisation = MemberOrganisation(code=code, name=name, kind=kind)
    db.session.add(organisation)
    db.session.commit()
    return organisation


def test_an_admin_registers_a_member_organisation_on_the_page(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    response = client.post_form(
        "/admin/member-organisations",
        {"name": "Växjö kommun", "code": "vaxjo_kommun", "kind": "kommun"},
    )
    assert response.status_code == 302
    page = client.get("/admin/member-organisations").get_data(as_text=True)
    assert "Växjö kommun är tillagd." in page
    assert "<code>vaxjo_kommun</code>" in page and "<td>Kommun</td>" in page
    organisation = _member("vaxjo_kommun")
    assert (organisation.name, organisation.kind) == ("Växjö kommun", "kommun")
    logged = db.session.scalar(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "member_organisation",
            AccessLogEntry.object_id == str(organisation.id),
        )
    )
    assert logged is not None and logged.action == "create"


def test_every_problem_with_a_new_member_organisation_is_shown_at_once(client):
    _register("af_vaxjo", "AF Växjö", "af")
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    clash = client.post_form(
        "/admin/member-organisations", {"name": "af växjö", "code": "af_vaxjo", "kind": "af"}
    )
    assert clash.status_code == 422
    page = clash.get_data(as_text=True)
    assert "Det finns redan en medlemsorganisation med det namnet." in page
    assert "Det finns redan en medlemsorganisation med den koden." in page
    assert 'value="af växjö"' in page  # what was typed is kept
    bad = client.post_form(
        "/admin/member-organisations", {"name": " ", "code": "Växjö kommun!", "kind": "polisen"}
    ).get_data(as_text=True)
    assert "Skriv organisationens namn." in bad
    assert "Koden får bara ha små bokstäver" in bad
    assert "Välj vilken myndighet organisationen hör till." in bad
    kind_code = client.post_form(
        "/admin/member-organisations", {"name": "Kommunen", "code": "kommun", "kind": "kommun"}
    ).get_data(as_text=True)
    assert "Koden är redan en myndighets kod." in kind_code
    assert db.session.query(MemberOrganisation).count() == 1


def test_the_name_can_be_corrected_but_the_code_and_kind_never_change(client):
    organisation = _register("fk_vaxjo", "FK Vaxjo", "fk")
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    page = client.get(f"/admin/member-organisations/{organisation.id}").get_data(as_text=True)
    assert "<code>fk_vaxjo</code>" in page and 'name="code"' not in page
    assert 'name="kind"' not in page
    saved = client.post_form(
        f"/admin/member-organisations/{organisation.id}",
        # A code or kind posted anyway is not taken: the edit is of the name alone.
        {"name": "Försäkringskassan Växjö", "code": "fk_alvesta", "kind": "af"},
    )
    assert saved.status_code == 302
    db.session.expire_all()
    organisation = db.session.get(MemberOrganisation, organisation.id)
    assert (organisation.code, organisation.name, organisation.kind) == (
        "fk_vaxjo",
        "Försäkringskassan Växjö",
        "fk",
    )
    empty = client.post_form(f"/admin/member-organisations/{organisation.id}", {"name": ""})
    assert empty.status_code == 422
    assert "Skriv organisationens namn." in empty.get_data(as_text=True)
    assert client.get("/admin/member-organisations/999999").status_code == 404


def test_only_admins_keep_the_register(client):
    analyst = make_user("analyst")
    client.login(analyst.email, PASSWORD)
    assert client.get("/admin/member-organisations").status_code == 403


def test_the_api_lists_the_register_in_pages_and_registers_one(api):
    for code, name, kind in (
        ("region_kronoberg", "Region Kronoberg", "region"),
        ("alvesta_kommun", "Alvesta kommun", "kommun"),
        ("af_vaxjo", "AF Växjö", "af"),
        ("vaxjo_kommun", "Växjö kommun", "kommun"),
    ):
        _register(code, name, kind)
    headers = token_headers(make_user("referrer"))
    first = api.get("/api/v1/member-organisations?per_page=3", headers=headers).get_json()
    assert first["total"] == 4
    assert [(i["code"], i["kind"]) for i in first["items"]] == [
        ("alvesta_kommun", "kommun"),
        ("vaxjo_kommun", "kommun"),
        ("af_vaxjo", "af"),
    ]
    second = api.get("/api/v1/member-organisations?per_page=3&page=2", headers=headers)
    assert [i["name"] for i in second.get_json()["items"]] == ["Region Kronoberg"]
    too_many = api.get("/api/v1/member-organisations?per_page=101", headers=headers)
    assert too_many.status_code == 422

    admin = token_headers(make_user("admin"))
    created = api.post(
        "/api/v1/member-organisations",
        json={"code": "fk_vaxjo", "name": "FK Växjö", "kind": "fk"},
        headers=admin,
    )
    assert created.status_code == 201
    assert created.get_json() | {"id": 0} == {
        "id": 0,
        "code": "fk_vaxjo",
        "name": "FK Växjö",
        "kind": "fk",
    }
    refused = api.post(
        "/api/v1/member-organisations",
        json={"code": "fk_vaxjo", "name": "FK Växjö", "kind": "fk"},
        headers=admin,
    )
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert set(refused.get_json()["errors"]) == {"code", "name"}
    malformed = api.post(
        "/api/v1/member-organisations",
        json={"code": "FK!", "kind": "polisen", "colour": "blå"},
        headers=admin,
    )
    assert malformed.status_code == 422
    assert set(malformed.get_json()["errors"]) == {"code", "name", "kind", "colour"}
    forbidden = api.post(
        "/api/v1/member-organisations",
        json={"code": "x_kommun", "name": "X kommun", "kind": "kommun"},
        headers=headers,
    )
    assert forbidden.status_code == 403
    assert _member("x_kommun") is None


def test_the_api_and_its_openapi_document_describe_the_register(api):
    document = api.get("/api/v1/openapi.json").get_json()
    operations = document["paths"]["/api/v1/member-organisations"]
    assert {"get", "post"} <= set(operations)
    schema = document["components"]["schemas"]["MemberOrganisationLoadSchema"]
    assert set(schema["required"]) == {"code", "name", "kind"}
    assert schema["properties"]["kind"]["enum"] == ["kommun", "af", "fk", "region"]


def test_a_unit_belongs_to_a_member_organisation_of_its_own_kind(client):
    vaxjo = _register("vaxjo_kommun", "Växjö kommun", "kommun")
    af = _register("af_vaxjo", "AF Växjö", "af")
    unit = make_unit("kommun", name="Växjö kommun, socialtjänsten")
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    form = {"name": unit.name, "agency_kind": "kommun", "municipality": "Växjö", "active": "on"}
    wrong = client.post_form(
        f"/admin/units/{unit.id}", form | {"member_organisation_id": str(af.id)}
    )
    assert wrong.status_code == 422
    assert "Medlemsorganisationen hör till en annan myndighet än enheten." in wrong.get_data(
        as_text=True
    )
    unknown = client.post_form(f"/admin/units/{unit.id}", form | {"member_organisation_id": "x"})
    assert "Välj en medlemsorganisation i listan." in unknown.get_data(as_text=True)
    saved = client.post_form(
        f"/admin/units/{unit.id}", form | {"member_organisation_id": str(vaxjo.id)}
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(OrganisationUnit, unit.id).member_organisation_id == vaxjo.id
    listing = client.get("/admin/units").get_data(as_text=True)
    assert "<td>Växjö kommun</td>" in listing
    edit = client.get(f"/admin/units/{unit.id}").get_data(as_text=True)
    assert f'<option value="{vaxjo.id}" selected>Växjö kommun (Kommun)</option>' in edit


def test_a_live_case_carries_its_referring_member_organisation_into_the_statistics(api):
    alvesta = _register("alvesta_kommun", "Alvesta kommun", "kommun")
    unit = make_unit("kommun", name="Alvesta kommun, socialtjänsten")
    unit.member_organisation = alvesta
    db.session.commit()
    case = make_case(referrer=make_user("referrer", unit=unit))
    make_return_referral("acknowledged", case=case, exited_on=local_today())
    participant = participant_for_case(case.id)
    assert (participant.referring_agency, participant.referring_organisation) == (
        "kommun",
        "alvesta_kommun",
    )
    report = api.get(
        "/api/v1/statistics/referring_agency?level=organisation&population=active",
        headers=token_headers(make_user("analyst")),
    ).get_json()
    assert [(r["code"], r["label"], r["total"]) for r in report["rows"]] == [
        ("alvesta_kommun", "Alvesta kommun", 1)
    ]
