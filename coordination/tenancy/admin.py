"""Creating a förbund with its first administrator, and the installation's own accounts: shared
by `flask forbund create|platform-user` and the platform administrator's page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.tenancy import context
from coordination.tenancy.models import Forbund
from coordination.tenancy.operations import create_forbund, forbund_errors


@dataclass
class NewForbund:
    """A förbund just created, and its first administrator."""

    forbund: Forbund
    admin: Any  # coordination.auth.models.User
    new_account: bool  # True: a new account, owed its activation link unless given a password


def create_forbund_with_admin(
    *,
    slug: str,
    name: str,
    admin_email: str,
    admin_name: str | None = None,
    admin_password: str | None = None,
) -> NewForbund:
    """Create a förbund, its office unit and its first administrator; every error at once.

    The administrator is an existing account (an officer of another förbund: they get the
    administrator role here too) or a new one: with a password (the command line) or without,
    when the owner is owed an activation link (the platform page, as on the administrators' page).
    The grant takes effect at once: the installation's operator is trusted, and the förbund has no
    second administrator to approve it. The errors name the fields slug, name, admin_email,
    admin_name and admin_password.

    Flushes, never commits; the caller commits within `use(result.forbund.id)`, so the
    activation message is written in the new förbund (a notification belongs to one).
    """
    from coordination.auth.operations import create_user, find_user
    from coordination.auth.passwords import password_problems
    from coordination.organisations import grants
    from coordination.organisations.units import save_unit
    from workflows.organisation import AgencyKind, Role

    errors = forbund_errors(slug, name)
    email = (admin_email or "").strip().lower()
    existing = None
    if not email or "@" not in email:
        errors["admin_email"] = [_("Ange administratörens e-postadress.")]
    else:
        existing = find_user(email)
    if existing is not None and existing.platform_role:
        errors["admin_email"] = [
            _("Kontot är ett plattformskonto och kan inte få en roll i ett förbund.")
        ]
    if existing is None and not (admin_name or "").strip():
        errors["admin_name"] = [_("Ange administratörens namn: kontot är nytt.")]
    if existing is None and admin_password is not None and password_problems(admin_password):
        errors["admin_password"] = [_("Lösenordet ska ha minst 12 tecken.")]
    if errors:
        raise ValidationFailed(_("Förbundet kunde inte skapas."), errors=errors)
    forbund = create_forbund(slug, name)
    with context.use(forbund.id):
        office = save_unit(
            None, name=forbund.name, agency_kind=AgencyKind.FORBUND.value, municipality=None
        )
        if existing is None:
            admin = create_user(
                email=email,
                name=admin_name or "",
                password=admin_password,
                memberships=[(office, Role.ADMIN.value)],
            )
        else:  # the roles they hold in this förbund (none yet), plus admin
            admin = existing
            db.session.expire(admin, ["memberships"])
            grants.apply_roles(admin, [(office, Role.ADMIN.value)], by=None)
        grants.log_granted(admin.id)
        db.session.flush()  # this förbund's rows, while its policies are the transaction's
    return NewForbund(forbund=forbund, admin=admin, new_account=existing is None)


def create_platform_user(*, email: str, name: str, role: str, password: str | None = None):
    """Create an account with a role on the installation (no role in any förbund); every error
    at once. Without a password its owner chooses one through an activation link, which the
    caller hands over (`coordination.auth.activation.activation_link`): outside every förbund
    there is no message to send it with."""
    from coordination.auth.models import PLATFORM_ROLES
    from coordination.auth.operations import account_errors, new_account

    errors = account_errors(email, name, password)
    if role not in PLATFORM_ROLES:
        errors["role"] = [_("Okänd roll: %(role)s.", role=role)]
    if errors:
        raise ValidationFailed(_("Användaren kunde inte skapas."), errors=errors)
    return new_account(email, name, password, platform_role=role)
