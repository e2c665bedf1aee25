"""Structural rules: deny by default on every route, and imports that flow one way."""

import ast
from pathlib import Path

from flask import Blueprint

from coordination.core.permissions import rule_for

ROOT = Path(__file__).resolve().parent.parent


def test_every_route_declares_an_access_rule(app):
    missing = [
        rule.endpoint for rule in app.url_map.iter_rules() if rule_for(app, rule.endpoint) is None
    ]
    assert missing == [], f"routes without an access rule: {missing}"


def test_a_route_without_a_rule_is_refused():
    from coordination.app import create_app

    probe_app = create_app({"DATABASE_URL": "sqlite://", "TESTING": True})
    bp = Blueprint("probe", __name__)

    @bp.get("/probe-without-rule")
    def probe():
        return "secret"

    probe_app.register_blueprint(bp)
    missing = [
        r.endpoint
        for r in probe_app.url_map.iter_rules()
        if rule_for(probe_app, r.endpoint) is None
    ]
    assert missing == ["probe.probe"]
    response = probe_app.test_client().get("/probe-without-rule")
    assert response.status_code == 403
    assert b"secret" not in response.data


def _imports(folder: str) -> list[tuple[str, str]]:
    found = []
    for path in (ROOT / folder).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path), alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.append((str(path), node.module))
    return found


def test_workflows_imports_no_framework_and_no_app():
    banned = ("flask", "sqlalchemy", "celery", "coordination", "notifications", "marshmallow")
    bad = [(p, m) for p, m in _imports("workflows") if m.split(".")[0] in banned]
    assert bad == []


def test_coordination_reaches_notifications_only_from_the_app_factory():
    bad = [
        (p, m)
        for p, m in _imports("coordination")
        if m.split(".")[0] == "notifications" and not p.endswith("coordination/app.py")
    ]
    assert bad == []
