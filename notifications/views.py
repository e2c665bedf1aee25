"""The inbox (page and API), notification preferences, and the admins' list of failed messages."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from coordination.api.registry import endpoint, page_args
from coordination.audit.operations import log_access
from coordination.auth.models import User
from coordination.core.errors import ValidationFailed
from coordination.core.pages import render_committed
from coordination.core.parsing import is_digits
from coordination.core.permissions import access
from coordination.extensions import csrf, db
from notifications import operations as ops
from notifications.kinds import KINDS
from notifications.models import OPTIONAL_CHANNELS, Notification
from notifications.names import names_for
from notifications.rendering import title_of
from notifications.schemas import InboxItemSchema
from workflows.organisation import Role

bp = Blueprint("notifications", __name__)
api_bp = Blueprint("notifications_api", __name__, url_prefix="/api/v1")

PER_PAGE = 50
FILTERS = ("att-gora", "klara", "alla")


def register(app) -> None:
    """Add the blueprints and the header's unread count to an app."""
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # bearer tokens only, like the rest of the API

    @app.context_processor
    def _inbox_count():
        return {"inbox_unread_count": unread_count}


def unread_count() -> int:
    """Return how many of the signed-in user's inbox items are neither read nor done.

    One count over the partial index of the unread items (ix_notification_unread).
    """
    if not (current_user and current_user.is_authenticated):
        return 0
    unread = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient_id == current_user.id,
            Notification.channel == "inbox",
            Notification.read_at.is_(None),
            Notification.done_at.is_(None),
        )
    )
    return unread or 0


def _inbox_query(user, shown: str = "alla"):
    query = select(Notification).where(
        Notification.recipient_id == user.id, Notification.channel == "inbox"
    )
    if shown == "att-gora":
        query = query.where(Notification.done_at.is_(None))
    elif shown == "klara":
        query = query.where(Notification.done_at.is_not(None))
    return query


def _page(query, page: int, per_page: int) -> tuple[list[Notification], int]:
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), total or 0


@bp.get("/inbox")
@access()
def inbox():
    """Show the user's inbox, newest first, unread items marked."""
    shown = request.args.get("visa", "att-gora")
    if shown not in FILTERS:
        shown = "att-gora"
    page = max(request.args.get("sida", 1, type=int) or 1, 1)
    items, total = _page(_inbox_query(current_user, shown), page, PER_PAGE)
    return render_committed(
        "notifications/inbox.html",
        items=items,
        who=names_for(current_user, items),
        total=total,
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        shown=shown,
        title_of=title_of,
    )


@bp.get("/inbox/<int:notification_id>")
@access()
def open_item(notification_id: int):
    """Mark an inbox item read and go to what it is about."""
    item = ops.inbox_item(current_user, notification_id)
    ops.mark_read(item)
    db.session.commit()
    if item.link and item.link.startswith("/") and not item.link.startswith("//"):
        return redirect(item.link)
    return redirect(url_for(".inbox"))


@bp.post("/inbox/<int:notification_id>/done")
@access()
def done(notification_id: int):
    """Mark an inbox item as done."""
    item = ops.inbox_item(current_user, notification_id)
    ops.mark_done(item)
    db.session.commit()
    flash(_("Meddelandet är markerat som klart."), "success")
    shown = request.form.get("visa", "att-gora")
    return redirect(url_for(".inbox", visa=shown if shown in FILTERS else "att-gora"))


BULK_ACTIONS = ("done", "read")
BULK_MAX = 500


@bp.post("/inbox/mark")
@access()
def mark_many():
    """Mark the chosen items of one's own inbox as done or as read (one button for them all)."""
    shown = request.form.get("visa", "att-gora")
    back = redirect(url_for(".inbox", visa=shown if shown in FILTERS else "att-gora"))
    action = request.form.get("action", "done")
    raw = request.form.getlist("ids")[:BULK_MAX]
    ids = sorted({int(v) for v in raw if is_digits(v) and len(v) < 12})
    if action not in BULK_ACTIONS or not ids:
        flash(_("Välj minst ett meddelande."), "error")
        return back
    changed = ops.mark_many(current_user, ids, done=action == "done")
    db.session.commit()
    if action == "done":
        flash(_("%(num)s meddelanden är markerade som klara.", num=changed), "success")
    else:
        flash(_("%(num)s meddelanden är markerade som lästa.", num=changed), "success")
    return back


@bp.route("/inbox/preferences", methods=["GET", "POST"])
@access()
def preferences():
    """Choose, per kind of message, whether it also comes by email and SMS."""
    if request.method == "POST":
        chosen = set()
        for kind in KINDS:
            for channel in request.form.getlist(f"kind-{kind}"):
                if channel in OPTIONAL_CHANNELS:
                    chosen.add((kind, channel))
        ops.set_preferences(current_user, chosen)
        db.session.commit()
        flash(_("Dina val är sparade."), "success")
        return redirect(url_for(".preferences"))
    return render_template(
        "notifications/preferences.html",
        kinds=KINDS,
        channels=OPTIONAL_CHANNELS,
        current=ops.preferences(current_user),
        has_phone=bool(current_user.phone),
    )


@bp.get("/admin/notifications")
@access(Role.ADMIN)
def failed():
    """List the messages that could not be delivered after every attempt."""
    rows = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.status == "failed")
            .order_by(Notification.created_at.desc())
            .limit(500)
        )
    )
    ids = {r.recipient_id for r in rows}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    return render_template("notifications/failed.html", rows=rows, users=users, title_of=title_of)


@bp.post("/admin/notifications/<int:notification_id>/resend")
@access(Role.ADMIN)
def resend(notification_id: int):
    """Send a failed message again ("Skicka igen")."""
    ops.resend(notification_id)
    log_access("notification", notification_id, action="update")
    db.session.commit()
    flash(_("Meddelandet skickas igen."), "success")
    return redirect(url_for(".failed"))


def _dump(item: Notification) -> dict:
    return InboxItemSchema().dump(
        {
            "id": item.id,
            "kind": item.kind,
            "title": title_of(item),
            "link": item.link,
            "subject_type": item.subject_type,
            "subject_id": item.subject_id,
            "unread": item.unread,
            "created_at": item.created_at,
            "read_at": item.read_at,
            "done_at": item.done_at,
        }
    )


@endpoint(
    api_bp,
    "GET",
    "/inbox",
    "The caller's tasks and notifications, newest first (filter done=true|false)",
    response=InboxItemSchema,
    many=True,
)
def api_inbox():
    """List the caller's inbox items."""
    page, per_page = page_args()
    done_filter = request.args.get("done")
    shown = {"true": "klara", "false": "att-gora", None: "alla"}.get(done_filter)
    if shown is None:
        raise ValidationFailed("Invalid filter.", errors={"done": ["Must be true or false."]})
    items, total = _page(_inbox_query(current_user, shown), page, per_page)
    return jsonify({"items": [_dump(i) for i in items], "total": total})


@endpoint(
    api_bp,
    "POST",
    "/inbox/<int:notification_id>/done",
    "Mark an inbox item as done",
    response=InboxItemSchema,
)
def api_done(notification_id: int):
    """Mark one of the caller's inbox items as done."""
    item = ops.inbox_item(current_user, notification_id)
    ops.mark_done(item)
    db.session.commit()
    return jsonify(_dump(item))
