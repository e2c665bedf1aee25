"""The start page and the accessibility statement."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func

from coordination.core.permissions import access
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.referrals.permissions import visible_query

bp = Blueprint("home", __name__)


@bp.get("/")
@access()
def index():
    """Show what the signed-in user has to do, by role."""
    counts = dict(
        db.session.execute(
            visible_query(current_user)
            .with_only_columns(Referral.state, func.count())
            .group_by(Referral.state)
        ).all()
    )
    return render_template("home/index.html", counts=counts)


@bp.get("/tillganglighet")
@access(public=True)
def accessibility():
    """The accessibility statement required by DOS-lagen."""
    return render_template("home/accessibility.html")
