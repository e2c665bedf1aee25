"""Command-line tools: `flask units create`, `flask users create`, `flask audit verify-chain`,
`flask seed-demo`."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from coordination.audit.chain import verify_full
from coordination.audit.jobs import verify_chain as verify_new
from coordination.auth.models import User
from coordination.auth.operations import create_user
from coordination.core.db import utcnow
from coordination.core.errors import ValidationFailed
from coordination.demo import DEMO_PASSWORD, load_demo
from coordination.extensions import db
from coordination.organisations import grants
from coordination.organisations.models import OrganisationUnit
from coordination.organisations.units import save_unit
from coordination.people.retention import erase_expired
from coordination.tenancy import cli as tenancy_cli


def register_cli(app: Flask) -> None:
    """Attach the project's commands to `flask`."""
    users = AppGroup("users", help="Manage user accounts.")

    @users.command("create")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        help="UNIT_NAME:ROLE, e.g. 'Samordningsförbundet:admin' (repeatable).",
    )
    @click.option("--locale", default="sv", type=click.Choice(["sv", "en"]))
    def create(email: str, name: str, password: str, roles: tuple[str, ...], locale: str):
        """Create a user with one or more roles in organisation units.

        The command line is trusted (it runs on the server): every role takes effect at once,
        also those that need a second administrator on the web, and the grant is recorded with
        the command line as its granter. This is how the first administrators are made.
        """
        memberships = []
        for item in roles:
            unit_name, _sep, role = item.rpartition(":")
            unit = db.session.scalar(
                select(OrganisationUnit).where(OrganisationUnit.name == unit_name)
            )
            if unit is None:
                raise click.ClickException(f"No organisation unit named {unit_name!r}.")
            memberships.append((unit, role))
        try:
            user = create_user(
                email=email, name=name, password=password, memberships=memberships, locale=locale
            )
            grants.log_granted(user.id)
        except ValidationFailed as exc:
            db.session.rollback()
            raise tenancy_cli.refused(exc) from exc
        db.session.commit()
        click.echo(f"Created user {user.id} <{user.email}>.")

    app.cli.add_command(users)

    units = AppGroup("units", help="Manage organisation units.")

    @units.command("create")
    @click.option("--name", required=True)
    @click.option(
        "--kind",
        "agency_kind",
        required=True,
        type=click.Choice(["forbund", "kommun", "af", "fk", "region"]),
        help="The agency the unit belongs to.",
    )
    @click.option("--municipality", default=None, help="Required for a municipality's unit.")
    def create_unit(name: str, agency_kind: str, municipality: str | None):
        """Create an organisation unit (the first one before the first administrator)."""
        try:
            unit = save_unit(None, name=name, agency_kind=agency_kind, municipality=municipality)
        except ValidationFailed as exc:
            db.session.rollback()
            raise tenancy_cli.refused(exc) from exc
        db.session.commit()
        click.echo(f"Created unit {unit.id} {unit.name!r}.")

    app.cli.add_command(units)

    audit = AppGroup("audit", help="The access log.")

    @audit.command("verify-chain")
    @click.option("--full", is_flag=True, help="Walk the whole chain, not only the new rows.")
    def verify_chain(full: bool):
        """Verify the access log's hash chain and record a checkpoint; exit 1 if it is broken."""
        if full:
            checkpoint = verify_full(db.session, triggered_by="cli")
            db.session.commit()
            intact, bad_id = checkpoint.intact, checkpoint.broken_at_id
            checked = checkpoint.rows_checked
        else:
            result = verify_new()
            intact, bad_id = result.get("intact", True), result.get("broken_at_id")
            checked = result["rows_checked"]
        if not intact:
            raise click.ClickException(
                f"Access log chain broken at row {bad_id} ({checked} rows verified)."
            )
        click.echo(f"Access log chain intact: {checked} rows verified.")

    app.cli.add_command(audit)

    @app.cli.command("retention")
    def retention():
        """Erase personal data of people whose business closed longer ago than the period."""
        years = int(app.config["COORD"]["RETENTION_YEARS"])
        erased = erase_expired(utcnow(), years)
        db.session.commit()
        click.echo(f"Erased the personal data of {erased} people (retention {years} years).")

    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
    def seed_demo(if_empty: bool):
        """Load a demo förbund: agencies, units, a programme, users of every role, referrals."""
        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("Demo data not loaded: the database already has users.")
            return
        logins = load_demo()
        db.session.commit()
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, role in logins:
            click.echo(f"  {role:<18} {email}")

    tenancy_cli.register(app)
    # Every other command works within one förbund: --forbund SLUG, or the only one.
    tenancy_cli.scope_commands(
        app,
        ["users", "units", "audit", "retention", "seed-demo", "notifications"]
        + [name for name, bp in app.blueprints.items() if bp.cli.commands],
    )
