"""Several förbund on one installation (DOMAIN.md §14): a user of förbund A gets nothing of
förbund B, on any route or API operation, and the database refuses it too.

Förbund B gets a participant's whole path (referral, conference decision, case, plan, meeting,
return referral); every route is then walked by users of förbund A (förbund 1) with B's ids in
its URL, as the application's own database role, which row-level security binds.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from coordination.extensions import db
from coordination.tenancy import context as tenancy
from coordination.tenancy.operations import create_forbund
from coordination.tenancy.rls import TENANT_TABLES, role_can_bypass
from tests.factories import (
    PASSWORD,
    make_admitted_case,
    make_meeting,
    make_plan,
    make_return_referral,
    make_user,
    token_headers,
)
from workflows.organisation import Role

MARKERS = ("Främlingsson", "Utsocknes", "B-förbundets")

# The table each URL parameter names a row of.
PARAMETER_TABLES = {
    "action_id": "plan_action",
    "attachment_id": "attachment",
    "calculation_id": "socio_calculation",
    "case_id": "case_record",
    "code_id": "code",
    "conference_id": "conference",
    "consent_id": "consent",
    "day_off_id": "day_off",
    "escalation_id": "escalation",
    "follow_up_id": "follow_up",
    "grant_id": "role_grant",
    "group_id": "group_activity",
    "meeting_id": "meeting",
    "member_organisation_id": "member_organisation",
    "notification_id": "notification",
    "packet_id": "packet",
    "participant_id": "sus_participant",
    "person_id": "person",
    "price_list_id": "socio_price_list",
    "programme_id": "programme",
    "referral_id": "referral",
    "request_id": "extract_request",
    "return_referral_id": "return_referral",
    "sample_id": "audit_sample",
    "target_id": "programme_target",
    "task_id": "case_task",
    "unit_id": "organisation_unit",
}


def _rows_of(forbund_id: int) -> dict[str, list[int]]:
    """Every id of every tenant table that belongs to the förbund (read within it)."""
    ids = {}
    with tenancy.use(forbund_id):
        for name in TENANT_TABLES:
            table = db.metadata.tables[name]
            if "id" in table.c:
                ids[name] = list(
                    db.session.execute(
                        select(table.c.id).where(table.c.forbund_id == forbund_id)
                    ).scalars()
                )
    return ids


def _counts(forbund_id: int) -> dict[str, int]:
    with tenancy.use(forbund_id):
        return {
            name: db.session.execute(
                select(func.count()).select_from(db.metadata.tables[name])
            ).scalar_one()
            for name in TENANT_TABLES
            if name != "access_log"
        }


@pytest.fixture()
def forbund_b():
    """Förbund B with one participant's whole path, and B's own staff."""
    other = create_forbund("forbund-b", "B-förbundets samordning")
    db.session.commit()
    with tenancy.use(other.id):
        coordinator = make_user("coordinator", email="coordinator@b.example")
        case = make_admitted_case(
            coordinator=coordinator, first_name="Utsocknes", last_name="Främlingsson"
        )
        make_plan(case)
        make_meeting(case, by=coordinator)
        make_return_referral("delivered", first_name="Utsocknes", last_name="Främlingsson")
        db.session.commit()
    return other


def _url(rule, ids: dict[str, list[int]]) -> tuple[str, bool]:
    """Fill the rule's parameters with B's ids; say whether any id of B is in it."""
    foreign = False

    def fill(match):
        nonlocal foreign
        name = match.group(2)
        table = PARAMETER_TABLES.get(name)
        if table and ids.get(table):
            foreign = True
            return str(ids[table][0])
        if match.group(1) == "int":
            return "1"
        return "pdf" if name == "fmt" else "x"

    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule), foreign


def _walk(app, client, api, headers, ids, method: str) -> list:
    failures = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.endpoint == "static":
            continue
        url, foreign = _url(rule, ids)
        caller = api if url.startswith("/api/") else client
        extra = {"headers": headers} if url.startswith("/api/") else {}
        if method == "GET":
            response = caller.get(url, **extra)
        elif url.startswith("/api/"):
            response = caller.post(url, json={}, **extra)
        else:
            response = client.post_form(url, {})
        body = response.get_data(as_text=True)
        if response.status_code >= 500:
            failures.append((method, url, response.status_code))
        if any(marker in body for marker in MARKERS):
            failures.append((method, url, "shows förbund B's data"))
        if foreign and response.status_code in (200, 201, 204):
            failures.append((method, url, response.status_code, "answered with B's row"))
        if foreign and method == "POST" and response.status_code in (302, 303):
            location = response.headers.get("Location", "")
            if "/login" not in location:
                failures.append((method, url, "a change to B's row went through", location))
    return failures


def test_the_application_role_cannot_bypass_the_policies():
    connection = db.session.connection()
    assert connection.execute(text("SELECT current_user")).scalar() == "coord_app"
    assert not role_can_bypass(connection)


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_no_page_or_api_operation_of_forbund_a_shows_anything_of_forbund_b(
    app, client, api, forbund_b, role
):
    ids = _rows_of(forbund_b.id)
    assert ids["person"] and ids["case_record"] and ids["return_referral"]
    user = make_user(role)  # förbund 1's
    client.login(user.email, PASSWORD)
    headers = token_headers(user)
    assert _walk(app, client, api, headers, ids, "GET") == []


def test_no_change_reaches_forbund_b_from_forbund_a(app, client, api, forbund_b):
    before = _counts(forbund_b.id)
    ids = _rows_of(forbund_b.id)
    user = make_user(*[r.value for r in Role])  # every role at once, in förbund 1
    client.login(user.email, PASSWORD)
    headers = token_headers(user)
    failures = _walk(app, client, api, headers, ids, "POST")
    assert failures == []
    assert _counts(forbund_b.id) == before


def test_a_raw_query_without_a_filter_returns_no_foreign_rows(forbund_b):
    foreign = []
    for name in TENANT_TABLES:
        rows = db.session.execute(  # no WHERE: the policy alone answers
            text(f"SELECT count(*) FROM {name} WHERE forbund_id <> :mine"),
            {"mine": tenancy.current_id()},
        ).scalar()
        if rows:
            foreign.append((name, rows))
    assert foreign == []
    with tenancy.use(None):  # outside every förbund: no förbund's rows at all
        db.session.rollback()
        seen = {
            name: db.session.execute(text(f"SELECT count(*) FROM {name}")).scalar()
            for name in ("person", "referral", "case_record", "meeting", "membership")
        }
    assert seen == dict.fromkeys(seen, 0)
    with tenancy.use(forbund_b.id):  # and within B, B's rows are there
        db.session.rollback()
        assert db.session.execute(text("SELECT count(*) FROM person")).scalar() >= 1


def test_the_database_refuses_a_row_written_into_another_forbund(forbund_b):
    with pytest.raises(Exception) as refused, db.session.begin_nested():
        db.session.execute(
            text(
                "INSERT INTO day_off (forbund_id, date, name) "
                "VALUES (:other, DATE '2027-01-07', 'Smuggled')"
            ),
            {"other": forbund_b.id},
        )
    assert "row-level security" in str(refused.value)


def test_the_code_scopes_every_orm_query_to_the_current_forbund(forbund_b):
    from coordination.people.models import Person

    mine = db.session.scalars(select(Person)).all()
    assert all(p.forbund_id == tenancy.current_id() for p in mine)
    with tenancy.use(forbund_b.id):
        db.session.rollback()
        theirs = db.session.scalars(select(Person)).all()
        assert theirs and all(p.forbund_id == forbund_b.id for p in theirs)


def test_a_coordinator_of_two_forbund_has_a_profile_in_each(forbund_b):
    from coordination.cases.models import CoordinatorProfile
    from coordination.cases.operations import lock_profile

    coordinator = make_user("coordinator")
    lock_profile(coordinator.id).capacity = 12
    db.session.commit()
    with tenancy.use(forbund_b.id):
        db.session.rollback()
        mine_there = select(CoordinatorProfile).where(CoordinatorProfile.user_id == coordinator.id)
        assert db.session.scalars(mine_there).all() == []
        theirs = lock_profile(coordinator.id)  # the same account's profile in B: its own
        assert theirs.forbund_id == forbund_b.id and theirs.capacity != 12
        db.session.commit()
    db.session.rollback()
    mine = db.session.scalars(
        select(CoordinatorProfile).where(CoordinatorProfile.user_id == coordinator.id)
    ).all()
    assert [(p.forbund_id, p.capacity) for p in mine] == [(tenancy.current_id(), 12)]


def test_an_admin_cannot_deactivate_an_account_that_works_in_another_forbund(client, forbund_b):
    from coordination.auth.models import User
    from coordination.organisations.models import OrganisationUnit

    admin = make_user("admin")
    officer = make_user("referrer")
    with tenancy.use(forbund_b.id):
        db.session.rollback()
        unit = db.session.scalars(select(OrganisationUnit)).first()
        from coordination.organisations import grants

        db.session.expire(officer, ["memberships"])
        grants.apply_roles(officer, [(unit, "referrer")], by=None)
        db.session.commit()
    db.session.expire_all()
    client.login(admin.email, PASSWORD)
    response = client.post_form(f"/admin/users/{officer.id}", {"action": "deactivate"})
    assert response.status_code == 409
    assert "roller även i ett annat förbund" in response.get_data(as_text=True)
    assert db.session.get(User, officer.id).active
