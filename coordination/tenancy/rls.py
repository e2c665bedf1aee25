"""PostgreSQL's half of the separation: row-level security keyed on the current förbund.

Every tenant table gets one policy, `forbund_isolation`: a row is visible, and may be written,
only when its `forbund_id` is the transaction's `app.forbund_id` (scoping.py sets it at the start
of every transaction from the current förbund). Outside every förbund the setting is empty and no
row of any förbund is visible; the access log's installation rows (sign-ins before a förbund is
chosen, forbund_id NULL) are visible only there.

The policies bind every role but the tables' owner and superusers. The application therefore
connects as its own role (`grant_app_role`): not the owner, not a superuser, without BYPASSRLS;
migrations run as the owner (COORD_MIGRATION_DATABASE_URL).
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Every table whose rows belong to a förbund (the TenantMixin models); a test keeps it in step.
TENANT_TABLES = (
    "access_log access_log_checkpoint agency_position agenda_item attachment attendance "
    "attendance_history audit_sample audit_sample_entry case_history case_record case_task code "
    "conference conference_member consent coordinator_assignment coordinator_profile day_off "
    "decision escalation exit_registration extract_request follow_up group_activity "
    "group_enrolment ladder_step letterhead meeting meeting_attendee member_organisation "
    "member_position membership notification notification_preference organisation_unit packet "
    "person plan_action plan_goal plan_sign_off plan_version programme programme_target "
    "progression_rating recommendation_outcome referral referral_history reminder "
    "return_referral role_grant socio_calculation socio_price_entry socio_price_list "
    "socio_programme_cost sus_import_batch sus_participant sus_registration sus_support"
).split()

# Tables whose rows may belong to the installation rather than a förbund (forbund_id NULL).
OPTIONAL_TABLES = ("access_log",)

CURRENT_FORBUND_FUNCTION = """
CREATE OR REPLACE FUNCTION current_forbund_id() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.forbund_id', true), '')::integer $$
"""

# The förbund a user holds roles in, read past the policies (it runs as the tables' owner): the
# sign-in needs them before a förbund is chosen. It tells förbund ids only, never a row.
USER_FORBUND_FUNCTION = """
CREATE OR REPLACE FUNCTION user_forbund_ids(uid integer) RETURNS SETOF integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
AS $$ SELECT DISTINCT forbund_id FROM membership WHERE user_id = uid ORDER BY 1 $$
"""


def policy_statements(table: str) -> list[str]:
    """Return the statements that put the förbund policy on one table."""
    if table in OPTIONAL_TABLES:
        condition = "forbund_id IS NOT DISTINCT FROM current_forbund_id()"
    else:
        condition = "forbund_id = current_forbund_id()"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS forbund_isolation ON {table}",
        f"CREATE POLICY forbund_isolation ON {table} USING ({condition}) WITH CHECK ({condition})",
    ]


_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_role(connection: Connection, role: str) -> None:
    """Create the application's role if it is missing, and give it the rows, never the policies.

    The role may log in (its password is the operator's to set), is no superuser, cannot bypass
    row-level security and owns nothing; what the owner creates later is granted to it too.
    """
    if not _ROLE_NAME.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    connection.execute(  # two installers at once: the second finds the role made
        text(
            "DO $$ BEGIN "
            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    )
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
    ):
        connection.execute(text(statement))


def role_can_bypass(connection: Connection) -> bool:
    """Tell whether the connected role escapes the policies (superuser or BYPASSRLS)."""
    return bool(
        connection.execute(
            text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).scalar()
    )
