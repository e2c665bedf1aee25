"""The JSON API v1 (shared/API.md): the same operations, permissions and access log as the pages.

Invariants: bearer tokens only (no cookies, so no CSRF surface); errors are problem+json with all
validation errors at once; objects the caller may not see answer 404.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from coordination.api import auth, catalogue, openapi, referrals  # noqa: E402,F401


def _load_every_api_module() -> None:
    """Import every module of this package, so that each one's endpoints are registered."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if info.name not in ("registry",):
            importlib.import_module(f"{__name__}.{info.name}")


_load_every_api_module()
