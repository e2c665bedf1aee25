"""The JSON API v1 (shared/API.md): the same operations, permissions and access log as the pages.

Invariants: bearer tokens only (no cookies, so no CSRF surface); errors are problem+json with all
validation errors at once; objects the caller may not see answer 404.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Each module adds its endpoints to bp when imported; every one of them is listed here.
from coordination.api import (  # noqa: E402,F401
    action_plans,
    auth,
    cases,
    catalogue,
    conferences,
    consent,
    exits,
    intake,
    meetings,
    member_organisations,
    openapi,
    ratings,
    referrals,
    socioeconomics,
    statistics,
)
