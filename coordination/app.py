"""The application factory."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_sqlalchemy.session import Session as AppSession

from coordination.action_plans import operations as plans
from coordination.action_plans import permissions as plan_perms
from coordination.action_plans import queries as plan_queries
from coordination.action_plans import registrations as action_plans
from coordination.action_plans.views import bp as action_plans_bp
from coordination.api import bp as api_bp
from coordination.audit import break_glass
from coordination.audit import operations as access_log
from coordination.audit.views import bp as audit_bp
from coordination.auth.models import User
from coordination.auth.oidc import backchannel  # noqa: F401  (its route on oidc_bp)
from coordination.auth.oidc.providers import session_assurance_holds
from coordination.auth.oidc.views import bp as oidc_bp
from coordination.auth.operations import token_for
from coordination.auth.security import end_session, session_alive
from coordination.auth.views import bp as auth_bp
from coordination.cases import hooks as case_hooks
from coordination.cases import registrations as cases
from coordination.cases.views import bp as cases_bp
from coordination.cli import register_cli
from coordination.codes.views import bp as codes_bp
from coordination.conferences import permissions as conference_perms
from coordination.conferences import registrations as conferences
from coordination.conferences.views import bp as conferences_bp
from coordination.config import ROOT, flask_config, load_settings
from coordination.consent import registrations as consent
from coordination.consent.views import bp as consent_bp
from coordination.core import events, i18n, parsing, permissions, request_end
from coordination.core.errors import register_error_handlers
from coordination.exits import rating_views  # noqa: F401  (the case's self-ratings on exits_bp)
from coordination.exits import registrations as exits
from coordination.exits.views import bp as exits_bp
from coordination.extensions import babel, csrf, db, login_manager, migrate
from coordination.health import bp as health_bp
from coordination.home import bp as home_bp
from coordination.meetings import group_views, ladder_views  # noqa: F401  (pages on meetings_bp)
from coordination.meetings import queries as meeting_queries
from coordination.meetings import report as meeting_report
from coordination.meetings.views import bp as meetings_bp
from coordination.observability.views import bp as observability_bp
from coordination.organisations import letterhead
from coordination.organisations.views import bp as organisations_bp
from coordination.people import registrations as people
from coordination.platform import views as platform_views
from coordination.platform.views import bp as platform_bp
from coordination.programmes.views import bp as programmes_bp
from coordination.referrals import permissions as referral_perms
from coordination.referrals import registrations as referrals
from coordination.referrals.views import bp as referrals_bp
from coordination.socioeconomics.views import bp as socioeconomics_bp
from coordination.statistics import intake_views  # noqa: F401  (pages on cases_bp)
from coordination.statistics import rating_views as _rating_import  # noqa: F401  (on statistics_bp)
from coordination.statistics import reports as statistics_reports
from coordination.statistics.views import bp as statistics_bp
from coordination.tenancy import operations as tenancy
from coordination.tenancy import scoping as tenancy_scoping
from coordination.tenancy import views as tenancy_views

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'; object-src 'none'"
)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: defaults, then COORD_* variables, then overrides."""
    settings = load_settings(overrides)
    for url in (settings["DATABASE_URL"], settings["BROKER_URL"]):
        if "sqlite:///" in url:  # the embedded default keeps its files in instance/
            Path(url.split("sqlite:///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "coordination" / "static"),
    )
    app.config.update(flask_config(settings))
    parsing.install(app)  # before the blueprints: their rules bind the `int` converter
    logging.basicConfig(level=logging.INFO)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "coordination" / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    _import_models()
    _install_subscribers()
    _register_domains_once()
    _register_blueprints(app)
    _install_throttling(app)
    _install_session_rules(app)
    tenancy_views.install(app)  # its first hook runs before every other
    # A read-only request's transaction is committed at its end, before the förbund is left
    # (teardowns run newest first), so that its prepared statements survive.
    request_end.install(app, AppSession)
    register_error_handlers(app, persist_refusals=access_log.persist_refusals)
    permissions.install(app, log_access=access_log.log_access, break_glass=break_glass.use)
    platform_views.install(app)  # a platform account opens no förbund's page
    i18n.install(app)
    app.jinja_env.globals.update(document_sender=letterhead.sender)  # documents' letterhead
    _install_notifications(app)

    register_cli(app)

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Whom Flask-Login loaded for this request, asked without the database: the page has
        # committed, and `current_user` would reload the expired user (three statements).
        user = g.get("_login_user")
        if user is not None and not user.is_anonymous:
            response.headers["Cache-Control"] = "no-store"  # pages with personal data
        return response

    return app


def _install_throttling(app: Flask) -> None:
    """Limit failed sign-ins per client address (the proxy's X-Forwarded-For behind nginx)."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from coordination.auth import throttling

    hops = int(app.config["COORD"]["TRUSTED_PROXIES"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]
    throttling.install(app)


def _install_subscribers() -> None:
    """Hook domain events and the domains' reactions to the app's session class.

    Nothing registers itself on import; everything that reacts to a flush, a commit or a domain
    event is listed here (notifications add theirs in `notifications.install`). Each install is
    idempotent, so calling create_app again registers nothing twice.
    """
    from flask_sqlalchemy.session import Session as AppSession

    from coordination.action_plans import in_force as plan_in_force
    from coordination.cases import registrations as case_registrations
    from coordination.conferences.agenda import close_items_left_on_agenda
    from coordination.exits.subscribers import deliver_recommendations
    from coordination.statistics.intake import register_enrolments

    tenancy_scoping.install(AppSession)  # every ORM statement scoped to the current förbund
    events.install(AppSession)
    case_registrations.install(AppSession)
    plan_in_force.install(AppSession)  # the case keeps its plan in force for the caseload
    events.subscribe_outbox(close_items_left_on_agenda)
    events.subscribe_outbox(deliver_recommendations)
    events.subscribe_outbox(register_enrolments)


def _import_models() -> None:
    """Import every models module so that metadata and migrations see all tables."""
    from coordination.action_plans import models as _action_plans  # noqa: F401
    from coordination.audit import models as _audit  # noqa: F401
    from coordination.auth import models as _auth  # noqa: F401
    from coordination.cases import models as _cases  # noqa: F401
    from coordination.codes import models as _codes  # noqa: F401
    from coordination.conferences import models as _conferences  # noqa: F401
    from coordination.consent import models as _consent  # noqa: F401
    from coordination.exits import models as _exits  # noqa: F401
    from coordination.meetings import models as _meetings  # noqa: F401
    from coordination.organisations import models as _orgs  # noqa: F401
    from coordination.people import models as _people  # noqa: F401
    from coordination.programmes import models as _programmes  # noqa: F401
    from coordination.referrals import models as _referrals  # noqa: F401
    from coordination.socioeconomics import models as _socioeconomics  # noqa: F401
    from coordination.statistics import models as _statistics  # noqa: F401
    from coordination.tenancy import models as _tenancy  # noqa: F401


_registered = False


def _register_domains_once() -> None:
    """Connect each domain to the hooks of those below it, once per process."""
    global _registered
    if not _registered:
        case_hooks.connect(
            latest_version=plans.latest_version,
            signed_version=plans.signed_version,
            contact_agencies=plan_perms.contact_agencies,
            contact_case_ids=plan_perms.contact_case_ids,
            plan_columns=plan_queries.case_columns,
            meeting_columns=meeting_queries.case_columns,
        )
        referral_perms.let_conference_members_read(
            conference_perms.member_may_view_referral, conference_perms.member_visible_referral_ids
        )

        # Erasers run in this order: the conferences' finds its decisions through the referral's
        # link to the person, which the referrals' eraser then cuts.
        for domain in (people, conferences, referrals, consent, cases, action_plans, exits):
            domain.register()
        statistics_reports.register(meeting_report.DEFINITION)
        _registered = True


def _register_blueprints(app: Flask) -> None:
    """Register every domain's pages, then the API."""
    for blueprint in (
        home_bp,
        auth_bp,
        oidc_bp,
        health_bp,
        programmes_bp,
        referrals_bp,
        api_bp,
        action_plans_bp,
        audit_bp,
        cases_bp,
        codes_bp,
        conferences_bp,
        consent_bp,
        exits_bp,
        meetings_bp,
        observability_bp,
        organisations_bp,
        statistics_bp,
        socioeconomics_bp,
        tenancy_views.bp,
        platform_bp,
    ):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens only, never cookies


def _install_session_rules(app: Flask) -> None:
    @login_manager.user_loader
    def _load(user_key: str):
        if request.path.startswith("/api/"):
            return None  # the API never trusts the session cookie
        user_id, _sep, version = user_key.partition(":")
        user = db.session.get(User, int(user_id)) if parsing.is_digits(user_id) else None
        if user is None or not user.active or str(user.session_version) != version:
            return None
        record = session_alive(user.id, session.get("sid"))
        if record is None:
            return None  # ended on the server: logout elsewhere, password change, deactivation
        if not session_assurance_holds(user, record):
            return None  # signed in through a provider below what the user's roles now need
        return user

    @login_manager.request_loader
    def _load_from_token(req):
        header = req.headers.get("Authorization", "")
        if req.path.startswith("/api/") and header.startswith("Bearer "):
            token = token_for(header[7:].strip())
            if token is None:
                return None
            if token in db.session.dirty:  # its last use noted (now and then, not every call):
                db.session.commit()  # kept even if the request's own work fails
            tenancy.enter(token.forbund_id, token.user)  # the token's förbund (DOMAIN.md §14)
            return token.user
        return None

    @app.before_request
    def _idle_timeout():
        if request.path.startswith(("/api/", "/static/", "/healthz")):
            return None
        if not current_user.is_authenticated:
            return None
        now = datetime.now(UTC).timestamp()
        settings = app.config["COORD"]
        seen = session.get("seen", now)
        started = session.get("login_at", now)
        idle = now - seen > int(settings["IDLE_TIMEOUT_MINUTES"]) * 60
        too_long = now - started > int(settings["ABSOLUTE_TIMEOUT_HOURS"]) * 3600
        if idle or too_long:
            end_session(session.get("sid"), "timeout")
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("Du har loggats ut eftersom du varit inaktiv en längre tid."), "info")
            return redirect(url_for("auth.login"))
        session["seen"] = now
        return None


def _install_notifications(app: Flask) -> None:
    """Connect the notification layer (it sits downstream of the application)."""
    from notifications import install

    install(app)
