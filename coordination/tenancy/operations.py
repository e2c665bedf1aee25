"""Choosing the förbund to work in; creating one with its first administrator; the platform's
own accounts (DOMAIN.md §14)."""

from __future__ import annotations

import re

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
