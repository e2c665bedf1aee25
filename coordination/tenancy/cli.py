"""`flask forbund …`: the installation's förbund and its platform accounts, from the server's
command line; and the `--forbund` every other command of the project takes (COORD_FORBUND; the
only förbund when the installation has one)."""

from __future__ import annotations

import functools

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from coordination.auth.activation import activation_link
from coordination.auth.models import PLATFORM_ROLES
from coordination.auth.operations import find_user
from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.tenancy.admin import create_forbund_with_admin, create_platform_user
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund

FORBUND_OPTION = "forbund"


def resolve(slug: str | None) -> int:
    """Return the id of the förbund a command works in: the one named, else the only one."""
    active = list(db.session.scalars(select(Forbund).where(Forbund.active).order_by(Forbund.id)))
    if slug:
        for forbund in active:
            if forbund.slug == slug:
                return forbund.id
        raise click.ClickException(f"No active förbund with the short name {slug!r}.")
    if len(active) == 1:
        return active[0].id
    names = ", ".join(f.slug for f in active) or "none yet"
    raise click.ClickException(
        f"Name the förbund with --forbund or COORD_FORBUND (this installation has: {names})."
    )


def scope_commands(app: Flask, groups: list[str]) -> None:
    """Give every command of the named groups (or the named commands) a `--forbund` option and
    run it within that förbund; idempotent, as create_app runs more than once in a process."""
    for name in groups:
        command = app.cli.commands.get(name)
        if command is None:
            continue
        commands = (
            list(command.commands.values()) if isinstance(command, click.Group) else [command]
        )
        for each in commands:
            _scope(each)


def _scope(command: click.Command) -> None:
    if getattr(command, "_forbund_scoped", False):
        return
    command.params.append(
        click.Option(
            ["--forbund", FORBUND_OPTION],
            envvar="COORD_FORBUND",
            default=None,
            help="The förbund's short name (default: the only one).",
        )
    )
    original = command.callback

    @functools.wraps(original)  # type: ignore[arg-type]
    def within_forbund(*args, **kwargs):
        forbund_id = resolve(kwargs.pop(FORBUND_OPTION, None))
        db.session.rollback()
        with use(forbund_id):
            return original(*args, **kwargs)  # type: ignore[misc]

    command.callback = within_forbund
    command._forbund_scoped = True  # type: ignore[attr-defined]


def refused(exc: ValidationFailed) -> click.ClickException:
    """Every error of a refused ValidationFailed, a line per field."""
    lines = [f"{field}: {'; '.join(map(str, msgs))}" for field, msgs in exc.errors.items()]
    return click.ClickException("\n".join(lines))


def register(app: Flask) -> None:
    """Attach `flask forbund create|list|platform-user|app-role|export|import`."""
    group = AppGroup("forbund", help="The förbund this installation serves.")

    @group.command("create")
    @click.option("--slug", required=True, help="Short name: a–z, 0–9 and '-', e.g. finsam-norr.")
    @click.option("--name", required=True, help="The förbund's name.")
    @click.option("--admin-email", required=True, help="Its first administrator's email.")
    @click.option("--admin-name", default=None, help="Needed when the account is new.")
    @click.option(
        "--admin-password",
        default=None,
        envvar="COORD_ADMIN_PASSWORD",
        help="Needed when the account is new (or COORD_ADMIN_PASSWORD; asked when missing).",
    )
    def create(slug: str, name: str, admin_email: str, admin_name, admin_password):
        """Create a förbund, its office unit and its first administrator.

        The administrator is an existing account (an officer of another förbund) or a new one;
        they then add the förbund's units, users and settings on the web. The platform
        administrator's page (/platform/forbund) does the same (tenancy.operations).
        """
        existing = find_user(admin_email or "")
        if existing is None and admin_name and admin_password is None:
            admin_password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            created = create_forbund_with_admin(
                slug=slug,
                name=name,
                admin_email=admin_email,
                admin_name=admin_name,
                admin_password=admin_password if existing is None else None,
            )
            with use(created.forbund.id):
                db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            raise refused(exc) from exc
        forbund, admin = created.forbund, created.admin
        click.echo(
            f"Created förbund {forbund.id} {forbund.slug!r} ({forbund.name}) "
            f"with administrator <{admin.email}>."
        )

    @group.command("platform-user")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option(
        "--role",
        required=True,
        type=click.Choice(list(PLATFORM_ROLES)),
        help="platform_admin: creates förbund; national_analyst: statistics across förbund.",
    )
    @click.option(
        "--password",
        default=None,
        envvar="COORD_PLATFORM_PASSWORD",
        help="The password (or COORD_PLATFORM_PASSWORD; asked when missing).",
    )
    @click.option(
        "--activation",
        is_flag=True,
        help="Set no password: print a link (valid three days) with which its owner chooses one.",
    )
    def platform_user(email: str, name: str, role: str, password, activation: bool):
        """Create an account with a role on the installation, and no role in any förbund.

        Such an account sees no participant and no case: the platform administrator creates
        förbund and their first administrators; the national analyst sees statistics across
        förbund, aggregated, small counts hidden.
        """
        if activation and password:
            raise click.ClickException("Give either --password or --activation, not both.")
        if not activation and password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_platform_user(email=email, name=name, role=role, password=password)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            raise refused(exc) from exc
        click.echo(f"Created {role} {user.id} <{user.email}>.")
        if activation:
            base = current_app.config["COORD"]["BASE_URL"].rstrip("/")
            click.echo(
                f"Give its owner this link to choose a password: {base}{activation_link(user)}"
            )

    @group.command("list")
    def list_forbund():
        """List the förbund: id, short name, name, and whether active."""
        for forbund in db.session.scalars(select(Forbund).order_by(Forbund.id)):
            state = "active" if forbund.active else "inactive"
            click.echo(f"{forbund.id}\t{forbund.slug}\t{forbund.name}\t{state}")

    @group.command("app-role")
    @click.argument("role")
    def app_role(role: str):
        """Create the application's database role and grant it the rows (run as the owner).

        The role logs in (set its password yourself), is bound by the row-level security of
        every tenant table and can change no table or policy. Point COORD_DATABASE_URL at it and
        COORD_MIGRATION_DATABASE_URL at the owner.
        """
        from coordination.tenancy.rls import grant_app_role, role_can_bypass

        connection = db.session.connection()
        if connection.dialect.name != "postgresql":
            raise click.ClickException("Row-level security needs PostgreSQL.")
        grant_app_role(connection, role)
        db.session.commit()
        click.echo(f"Role {role} may read and write the rows its förbund's policies allow.")
        if role_can_bypass(connection):
            click.echo("Note: you ran this as a role that bypasses row-level security.")

    @group.command("export")
    @click.argument("slug")
    @click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False), help="The zip to write."
    )
    def export_command(slug: str, out: str):
        """Write one förbund's rows, accounts and attached files to an archive (a zip file).

        The archive holds personal data in the clear: keep it as safely as the database.
        """
        from coordination.tenancy.archive import ArchiveError, export_forbund

        try:
            manifest = export_forbund(slug, out)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc
        rows = sum(t["rows"] for t in manifest["tables"].values())
        click.echo(
            f"Exported förbund {slug!r}: {rows} rows in {len(manifest['tables'])} tables and "
            f"{len(manifest['attachments'])} attached files, at revision {manifest['revision']}, "
            f"to {out}."
        )

    @group.command("import")
    @click.argument("archive", type=click.Path(exists=True, dir_okay=False))
    @click.option(
        "--slug", default=None, help="The new förbund's short name (default: the archive's)."
    )
    @click.option("--name", default=None, help="The new förbund's name (default: the archive's).")
    def import_command(archive: str, slug: str | None, name: str | None):
        """Create a new förbund from an archive, all or nothing, verified by counts and checksums.

        The archive's accounts are matched by email to this installation's; the others are
        created without a usable password: send them an activation link.
        """
        from coordination.tenancy.archive import ArchiveError
        from coordination.tenancy.archive_import import import_forbund

        try:
            result = import_forbund(archive, slug=slug, name=name)
        except ArchiveError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(
            f"Imported förbund {result.forbund_id} {result.slug!r}: "
            f"{sum(result.rows.values())} rows verified, {result.attachments} attached files, "
            f"{result.users_matched} accounts matched by email and {result.users_created} new "
            f"(they need activation); the access log chain was computed again over "
            f"{result.log_rows_rechained} rows."
        )

    app.cli.add_command(group)
