"""Choosing the förbund to work in; creating one with its first administrator; the platform's
own accounts (DOMAIN.md §14)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import g, session
from flask_babel import gettext as _
from sqlalchemy import select, text

from coordination.core.errors import ValidationFailed
from coordination.extensions import db
from coordination.tenancy import context
from coordination.tenancy.models import SLUG_PATTERN, Forbund
from coordination.tenancy.scoping import unscoped

SESSION_KEY = "forbund_id"
CHOICES_KEY = "forbund_choices"  # how many förbund the user may choose from: the header's link


def all_forbund() -> list[Forbund]:
    """Return every förbund of the installation, by name."""
    return list(db.session.scalars(select(Forbund).order_by(Forbund.name)))


def forbund_of_user(user_id: int) -> list[Forbund]:
    """Return the förbund in which the user holds a role, by name.

    On PostgreSQL through `user_forbund_ids`, which alone reads memberships past the policies.
    """
    from coordination.organisations.models import Membership

    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        ids = list(
            connection.execute(text("SELECT user_forbund_ids(:u)"), {"u": user_id}).scalars()
        )
    else:
        ids = list(
            db.session.scalars(
                unscoped(select(Membership.forbund_id).where(Membership.user_id == user_id))
            )
        )
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Forbund).where(Forbund.id.in_(ids), Forbund.active).order_by(Forbund.name)
        )
    )


def enter(forbund_id: int | None, user=None) -> None:
    """Work in this förbund for the rest of the request; the signed-in user's roles are re-read.

    The request's teardown goes back to what was current before (`leave`).
    """
    tokens = g.setdefault("forbund_tokens", [])
    tokens.append(context.set_current(forbund_id))
    if user is not None and getattr(user, "id", None) is not None:
        db.session.expire(user, ["memberships"])


def leave_request() -> None:
    """Undo every `enter` of the request, newest first."""
    for token in reversed(g.pop("forbund_tokens", [])):
        context.reset(token)


def choose(user, forbund_id: int) -> bool:
    """Make the förbund the one the user works in (this session); False if they hold no role
    there."""
    if forbund_id not in {f.id for f in forbund_of_user(user.id)}:
        return False
    session[SESSION_KEY] = forbund_id
    enter(forbund_id, user)
    return True


def after_sign_in(user) -> None:
    """Start a new session in the user's förbund when they hold roles in exactly one; with several
    the first page asks which (views.install), and the header offers to change."""
    choices = forbund_of_user(user.id)
    session[CHOICES_KEY] = len(choices)
    if len(choices) == 1:
        session[SESSION_KEY] = choices[0].id
        enter(choices[0].id, user)


def current_forbund() -> Forbund | None:
    """Return the förbund this request works in, or None."""
    forbund_id = context.current_id()
    return None if forbund_id is None else db.session.get(Forbund, forbund_id)


def _clean(slug: str | None, name: str | None) -> tuple[str, str]:
    return (slug or "").strip(), " ".join((name or "").split())


def forbund_errors(slug: str | None, name: str | None) -> dict[str, list[str]]:
    """Return what is wrong with a new förbund's short name and name ({} when nothing)."""
    slug, name = _clean(slug, name)
    errors: dict[str, list[str]] = {}
    if not re.match(SLUG_PATTERN, slug):
        errors["slug"] = [
            _("Kortnamnet består av små bokstäver a–z, siffror och bindestreck, högst 40 tecken.")
        ]
    elif db.session.scalar(select(Forbund.id).where(Forbund.slug == slug)) is not None:
        errors["slug"] = [_("Det finns redan ett förbund med kortnamnet %(slug)s.", slug=slug)]
    if not name or len(name) > 200:
        errors["name"] = [_("Skriv förbundets namn, högst 200 tecken.")]
    elif db.session.scalar(select(Forbund.id).where(Forbund.name == name)) is not None:
        errors["name"] = [_("Det finns redan ett förbund som heter %(name)s.", name=name)]
    return errors


def create_forbund(slug: str, name: str) -> Forbund:
    """Create a förbund with the default code lists; raise ValidationFailed with every error."""
    errors = forbund_errors(slug, name)
    if errors:
        raise ValidationFailed(_("Förbundet kunde inte skapas."), errors=errors)
    slug, name = _clean(slug, name)
    forbund = Forbund(slug=slug, name=name)
    db.session.add(forbund)
    db.session.flush()
    from coordination.codes.operations import ensure_default_codes

    with context.use(forbund.id):
        ensure_default_codes()
    return forbund


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
    from coordination.auth.activation import unusable_password_hash
    from coordination.auth.models import PLATFORM_ROLES, User
    from coordination.auth.operations import find_user
    from coordination.auth.passwords import hash_password, password_problems

    errors: dict[str, list[str]] = {}
    if not email or "@" not in email:
        errors["email"] = [_("Ange en giltig e-postadress.")]
    elif find_user(email) is not None:
        errors["email"] = [_("Det finns redan en användare med den adressen.")]
    if not (name or "").strip():
        errors["name"] = [_("Ange namn.")]
    if role not in PLATFORM_ROLES:
        errors["role"] = [_("Okänd roll: %(role)s.", role=role)]
    if password is not None and password_problems(password):
        errors["password"] = [_("Lösenordet ska ha minst 12 tecken.")]
    if errors:
        raise ValidationFailed(_("Användaren kunde inte skapas."), errors=errors)
    user = User(
        email=email.strip().lower(),
        name=name.strip(),
        password_hash=unusable_password_hash() if password is None else hash_password(password),
        platform_role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user
