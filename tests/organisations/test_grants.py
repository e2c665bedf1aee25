"""Separation of duties: a role that opens case content or the log review needs a second admin."""

import ast
from pathlib import Path

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit, RoleGrant
from tests.factories import PASSWORD, make_referral, make_unit, make_user
from workflows.organisation import (
    CASE_CONTENT_ROLES,
    LOG_REVIEW_ROLES,
    SECOND_APPROVAL_ROLES,
    Role,
)

ROOT = Path(__file__).resolve().parents[2]


def _roles_of(user) -> set[tuple[int, str]]:
    db.session.expire_all()
    return {(m.unit_id, m.role) for m in user.memberships}


def _grant(client, user, unit, *roles):
    """As the signed-in admin, tick the roles for `user` (keeping what they hold) and save."""
    db.session.expire_all()
    form: dict = {}
    for membership in user.memberships:
        form.setdefault(f"role-{membership.unit_id}", []).append(membership.role)
    form.setdefault(f"role-{unit.id}", []).extend(roles)
    response = client.post_form(f"/admin/users/{user.id}", form)
    assert response.status_code == 302 and "/admin/users" in response.headers["Location"]
    return response


def _grant_row(user, role) -> RoleGrant:
    return db.session.scalars(
        select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == role)
    ).one()


def test_an_admin_cannot_give_themselves_case_content(client):
    admin = make_user("admin")
    make_user("admin")  # a second admin exists, but has not approved anything
    unit = admin.memberships[0].unit
    referral = make_referral("submitted")
    client.login(admin.email, PASSWORD)
    _grant(client, admin, unit, "team_lead")
    assert (unit.id, "team_lead") not in _roles_of(admin)
    assert client.get(f"/referrals/{referral.id}").status_code == 403
    form = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "Väntar på godkännande" in form
    grant = _grant_row(admin, "team_lead")
    page = client.get("/admin/grants").get_data(as_text=True)
    assert "Gäller dig: en annan administratör godkänner." in page
    refused = client.post_form(f"/admin/grants/{grant.id}", {"decision": "approve"})
    assert refused.status_code == 403
    assert "Du kan inte godkänna en behörighet till dig själv." in refused.get_data(as_text=True)
    assert (unit.id, "team_lead") not in _roles_of(admin)
    assert client.get(f"/referrals/{referral.id}").status_code == 403


def test_an_admin_cannot_make_themselves_auditor_and_review_their_own_accesses(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    _grant(client, admin, admin.memberships[0].unit, "auditor")
    assert client.get("/audit/").status_code == 403
    assert client.get(f"/audit/user/{admin.id}").status_code == 403


def test_a_second_admin_approves_and_the_grant_shows_in_the_review_and_the_log(client):
    first, second = make_user("admin"), make_user("admin")
    user = make_user("referrer")
    unit = make_unit("forbund")
    referral = make_referral("submitted")
    client.login(first.email, PASSWORD)
    _grant(client, user, unit, "team_lead")
    grant = _grant_row(user, "team_lead")
    assert grant.state == "pending" and grant.granted_by_id == first.id
    # the granting admin may not approve it
    page = client.get("/admin/grants").get_data(as_text=True)
    assert "Du gav den: en annan administratör godkänner." in page
    refused = client.post_form(f"/admin/grants/{grant.id}", {"decision": "approve"})
    assert refused.status_code == 403
    client.post_form("/logout")

    client.login(second.email, PASSWORD)
    approved = client.post_form(f"/admin/grants/{grant.id}", {"decision": "approve"})
    assert approved.status_code == 302
    assert "Inga behörigheter väntar" in client.get("/admin/grants").get_data(as_text=True)
    client.post_form("/logout")
    assert (unit.id, "team_lead") in _roles_of(user)
    client.login(user.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == 200
    client.post_form("/logout")

    auditor = make_user("auditor")
    client.login(auditor.email, PASSWORD)
    review = client.get("/audit/").get_data(as_text=True)
    grants = review[review.index('id="heading-grants"') :]
    row = grants[grants.index(f">{user.name}</a>") :].split("</tr>")[0]
    assert f"<td>{first.name} (" in row and f"<td>{second.name} (" in row
    assert "<td>Godkänd</td>" in row
    logged = db.session.scalars(
        select(AccessLogEntry)
        .where(
            AccessLogEntry.object_type == "role_grant", AccessLogEntry.object_id == str(grant.id)
        )
        .order_by(AccessLogEntry.id)
    ).all()
    assert [(e.action, e.user_id) for e in logged] == [("grant", first.id), ("approve", second.id)]


def test_a_grant_can_be_rejected_or_withdrawn(client):
    first, second = make_user("admin"), make_user("admin")
    user = make_user("referrer")
    unit = make_unit("forbund")
    client.login(first.email, PASSWORD)
    _grant(client, user, unit, "coordinator")
    _grant(client, user, unit, "coordinator", "conference_member")
    waiting = _grant_row(user, "conference_member")
    _grant(client, user, unit, "coordinator")  # unticked before anyone approved
    db.session.expire_all()
    assert waiting.state == "withdrawn"
    client.post_form("/logout")
    grant = _grant_row(user, "coordinator")
    client.login(second.email, PASSWORD)
    client.post_form(f"/admin/grants/{grant.id}", {"decision": "reject"})
    db.session.expire_all()
    assert grant.state == "rejected" and grant.decided_by_id == second.id
    assert (unit.id, "coordinator") not in _roles_of(user)
    assert "Inga behörigheter väntar" in client.get("/admin/grants").get_data(as_text=True)
    assert waiting.state == "withdrawn"


def test_roles_without_case_content_take_effect_at_once_and_removal_is_immediate(client):
    admin = make_user("admin")
    user = make_user("referrer")
    unit = make_unit("kommun")
    lead = make_user("team_lead")
    client.login(admin.email, PASSWORD)
    _grant(client, user, unit, "analyst", "referrer")
    assert {(unit.id, "analyst"), (unit.id, "referrer")} <= _roles_of(user)
    own_unit = lead.memberships[0].unit_id
    client.post_form(f"/admin/users/{lead.id}", {f"role-{own_unit}": "referrer"})
    assert _roles_of(lead) == {(own_unit, "referrer")}
    assert _grant_row(lead, "team_lead").state == "ended"


def test_the_command_line_is_trusted_and_records_itself_as_the_granter(app):
    unit = make_unit("forbund", name="Förbundet CLI")
    result = app.test_cli_runner().invoke(
        args=[
            "users",
            "create",
            "--email",
            "forsta@example.se",
            "--name",
            "Första Admin",
            "--password",
            "ett långt lösenord",
            "--role",
            f"{unit.name}:admin",
        ]
    )
    assert result.exit_code == 0, result.output
    from coordination.auth.operations import find_user

    user = find_user("forsta@example.se")
    assert _roles_of(user) == {(unit.id, "admin")}
    grant = _grant_row(user, "admin")
    assert (grant.state, grant.via, grant.granted_by_id) == ("approved", "cli", None)
    logged = db.session.scalars(
        select(AccessLogEntry).where(
            AccessLogEntry.object_type == "role_grant", AccessLogEntry.object_id == str(grant.id)
        )
    ).all()
    assert [(e.action, e.user_id) for e in logged] == [("grant", None)]


def _roles_in_permission_checks() -> set[str]:
    """Every role a permissions module names (Role.X, or a role code in has_any_role([...]))."""
    codes = {r.value for r in Role}
    found: set[str] = set()
    for path in (ROOT / "coordination").glob("*/permissions.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.value.id == "Role" and node.attr in Role.__members__:
                    found.add(Role[node.attr].value)
            elif isinstance(node, ast.Constant) and node.value in codes:
                found.add(node.value)
    return found


def test_every_role_the_permissions_code_opens_content_with_needs_a_second_admin():
    # A referrer sees what they wrote themselves; an analyst only aggregates; an admin imports.
    own_or_aggregate = {Role.REFERRER.value, Role.ANALYST.value, Role.ADMIN.value}
    content = _roles_in_permission_checks() - own_or_aggregate
    assert content == {r.value for r in CASE_CONTENT_ROLES}
    assert CASE_CONTENT_ROLES | LOG_REVIEW_ROLES | {Role.ADMIN} == SECOND_APPROVAL_ROLES
    assert {Role.AUDITOR, Role.REGISTRAR} <= LOG_REVIEW_ROLES


def test_the_admin_form_offers_the_registrar_role(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="registrar"' in page and "Dataskyddshandläggare (registerutdrag)" in page
    assert db.session.scalars(select(OrganisationUnit)).first() is not None
