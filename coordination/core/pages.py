"""Rendering a page from what the request loaded, then committing."""

from __future__ import annotations

from flask import current_app, render_template

from coordination.extensions import db


def render_committed(template: str, status: int = 200, **context):
    """Render the page, then commit the request's work (its access-log rows with it).

    Committing before rendering expires every object the request loaded, so the template would
    load each one again, row by row. A failed commit still ends in the error page, never in a page
    whose reads were not logged.
    """
    html = render_template(template, **context)
    db.session.commit()
    return html, status


def render_read(
    template: str,
    read: tuple[str, int, int | None],
    status: int = 200,
    **context,
):
    """Log the read of what the page shows (object type, id, person), render it, then commit.

    The one way to show a page about a person again after a refused change: the change was
    rolled back, and any access-log row of the request with it, so the page's read is logged here.
    """
    log_access, _break_glass = current_app.extensions["coordination.access_log"]
    object_type, object_id, person_id = read
    log_access(object_type, object_id, action="read", person_id=person_id)
    return render_committed(template, status, **context)
