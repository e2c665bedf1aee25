"""Deny by default: every route declares who may use it, and objects are checked per request."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coordination.core.db import HasId, get_row
from coordination.core.errors import Forbidden, NotFound, wants_json
from coordination.extensions import db

Row = TypeVar("Row", bound=HasId)

# What a refusal names in the access log: the object's type and id, and its person when known.
Subject = tuple[str, int | str | None, int | None]


@dataclass(frozen=True)
class AccessRule:
    """Who may reach a route: anyone, any signed-in user, holders of one of the roles (in the
    current förbund), or holders of one of the platform roles (the installation's own pages)."""

    public: bool = False
    roles: frozenset[str] = frozenset()
    platform: frozenset[str] = frozenset()  # user.platform_role (DOMAIN.md §14)

    def describe(self) -> str:
        """Return the rule in words, for the route listing."""
        if self.public:
            return "public"
        if self.platform:
            return "platform roles: " + ", ".join(sorted(self.platform))
        return "roles: " + ", ".join(sorted(self.roles)) if self.roles else "signed in"


def access(*roles: str, public: bool = False) -> Callable:
    """Declare who may use a view: `@access(public=True)`, `@access()`, `@access("admin")`."""
    rule = AccessRule(public=public, roles=frozenset(str(r) for r in roles))

    def decorate(view: Callable) -> Callable:
        view.access_rule = rule  # type: ignore[attr-defined]  # read back by rule_for
        return view

    return decorate


def platform_access(*platform_roles: str) -> Callable:
    """Declare a page of the installation itself, for the holders of one of the platform roles
    (`user.platform_role`, e.g. "platform_admin"): a role in a förbund does not open it."""
    if not platform_roles:
        raise ValueError("a platform page names the platform roles that may use it")
    rule = AccessRule(platform=frozenset(platform_roles))

    def decorate(view: Callable) -> Callable:
        view.access_rule = rule  # type: ignore[attr-defined]
        return view

    return decorate


def rule_for(app: Flask, endpoint: str | None) -> AccessRule | None:
    """Return the declared rule of an endpoint (static files are public)."""
    if endpoint is None:
        return None
    if endpoint == "static" or endpoint.endswith(".static"):
        return AccessRule(public=True)
    view = app.view_functions.get(endpoint)
    return getattr(view, "access_rule", None)


def install(
    app: Flask, *, log_access: Callable[..., object], break_glass: Callable[[str, int], bool]
) -> None:
    """Enforce the declared rules before every request; a route without one is refused.

    The access log sits above core: the app factory hands in its `log_access` (refusals are
    logged) and its break-glass check (`break_glass(kind, id)` is true under a live grant).
    """
    app.extensions["coordination.access_log"] = (log_access, break_glass)

    @app.before_request
    def _enforce():
        if request.endpoint is None:
            return None  # 404/405 answered by routing
        rule = rule_for(app, request.endpoint)
        if rule is None:
            app.logger.error("route %s has no access rule; refused", request.endpoint)
            abort(403)
        if rule.public:
            return None
        if not current_user.is_authenticated:
            if wants_json():
                abort(401)
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        if rule.platform and getattr(current_user, "platform_role", None) not in rule.platform:
            _log_refusal()
            abort(403)
        if rule.roles and not current_user.has_any_role(rule.roles):
            _log_refusal()
            abort(403)
        return None


def _log_refusal(subject: Subject | None = None) -> None:
    """Log a refused access, naming the object (and its person) as far as the request knows it.

    Without a subject: the object the request loaded last (get_visible), else the object the
    URL names (`/cases/<case_id>` names case <case_id>, its person unknown), else the route.
    """
    log_access, _break_glass = current_app.extensions["coordination.access_log"]
    if subject is None:
        loaded = g.get("access_subject")
        subject = loaded() if loaded is not None else _url_subject()
    object_type, object_id, person_id = subject
    log_access(object_type, object_id, outcome="refused", person_id=person_id)


def _url_subject() -> Subject:
    for name, value in (request.view_args or {}).items():
        if name.endswith("_id") and isinstance(value, int):
            return name.removesuffix("_id"), value, None
    return "route", request.endpoint or "", None


def require(condition: bool, subject: Subject | None = None) -> None:
    """Refuse with 403 unless the condition holds (the caller may know the object exists)."""
    if not condition:
        _log_refusal(subject)
        raise Forbidden(_("Du har inte behörighet till det här."))


def require_visible(
    condition: bool, obj: tuple[str, int] | None = None, *, subject: Subject | None = None
) -> None:
    """Answer 404 unless the caller may see the object (or holds a break-glass grant for it).

    `subject` names the refused object and its person in the access log (see _log_refusal).
    """
    if not condition and obj is not None and current_user.has_any_role(["team_lead"]):
        _log_access, break_glass = current_app.extensions["coordination.access_log"]
        if break_glass(*obj):
            return
    if not condition:
        _log_refusal(subject)
        raise NotFound(_("Sidan eller uppgiften finns inte."))


def person_of(row: Any) -> int | None:
    """Return the person a row is about: its own person, else its case's (None for neither)."""
    if hasattr(row, "person_id"):
        return row.person_id
    case = getattr(row, "case", None)
    return getattr(case, "person_id", None)


def get_visible(
    model: type[Row],
    row_id: int,
    may_see: Callable[[Any, Row], bool],
    *,
    glass: tuple[str, int] | Callable[[Row], tuple[str, int] | None] | None = None,
    lock: bool = False,
    read: str | None = None,
    person: Callable[[Row], int | None] | None = None,
    kind: str | None = None,
) -> Row:
    """Load a row the current user may see, or answer 404 (and log the refusal).

    `glass` is the object a team lead's break-glass grant must name to open it (a pair, or a
    function of the found row); `lock` reloads the visible row FOR UPDATE; `read` logs the read
    in the access log under that object type, with the person that `person` finds in the row
    (by default `person_of`). A refusal names the object as `kind` (by default the table's name)
    with its id and, when the row exists, its person; a later refusal in the request (`require`)
    names the same object.
    """
    row = db.session.get(model, row_id)
    find_person = person or person_of

    def subject() -> Subject:  # the person is looked up only when a refusal needs it
        who = find_person(row) if row is not None else None
        return kind or model.__tablename__, row_id, who  # type: ignore[attr-defined]

    g.access_subject = subject
    glass_pair = (glass(row) if row is not None else None) if callable(glass) else glass
    visible = row is not None and may_see(current_user, row)
    require_visible(visible, glass_pair, subject=None if visible else subject())
    if row is None:
        raise NotFound(_("Sidan eller uppgiften finns inte."))
    if lock:
        row = get_row(model, row_id, lock=True)
    if read is not None:
        log_access, _break_glass = current_app.extensions["coordination.access_log"]
        log_access(read, row.id, action="read", person_id=find_person(row))
    return row


def has_role(user, roles: Iterable[str]) -> bool:
    """Tell whether a user holds any of the roles in any unit."""
    return bool(user and user.is_authenticated and user.has_any_role(roles))
