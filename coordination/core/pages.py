"""Rendering a page from what the request loaded, then committing."""

from __future__ import annotations

from flask import render_template

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
