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


# The declared order of coordination's packages and top-level modules, lowest first. A package
# imports only from the layers below its own, at module level and inside functions alike; the
# packages that share a layer do not import each other. The order follows what each package needs:
# SUS records (statistics) are written when a case exits, so statistics sits below exits; a
# conference's decision enrols a case, so cases sits below conferences. Every domain writes to the
# access log and records consent, so audit and consent sit low; their pages look up what is above
# them (the auditor's pages people and users, the consent pages a referral), so those two modules
# have their own, higher place.
LAYERS = (
    ("config", "extensions", "documents"),
    ("core",),
    ("tenancy",),  # the förbund every table row belongs to
    ("core.reminders",),
    ("audit", "observability"),
    ("codes",),
    ("organisations",),
    ("tenancy.operations",),
    ("auth",),
    ("people",),
    ("consent", "programmes"),
    ("referrals",),
    ("consent.views",),
    ("cases",),
    ("conferences",),
    ("statistics",),
    ("action_plans", "meetings"),
    ("exits",),
    ("socioeconomics",),
    (
        "api",
        "audit.views",
        "home",
        "health",
        "demo",
        "jobs",
        "tenancy.views",
        "tenancy.archive",
        "tenancy.admin",
    ),
    ("tenancy.archive_import", "platform"),
    ("cli", "tenancy.cli"),
    ("app",),
    ("statistics_bench", "web_bench", "access_log_bench", "documents_bench"),
    ("tenancy_bench",),  # the web bench's data set, measured with and without row-level security
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def _part(names: list[str]) -> str:
    """Return the entry of LAYERS that a module (coordination.<names>) belongs to."""
    module = ".".join(names[:2])
    return module if module in LEVEL else names[0]


def _coordination_part(path: Path) -> str:
    """Return the entry of LAYERS that a file of coordination belongs to."""
    names = list(path.relative_to(ROOT / "coordination").with_suffix("").parts)
    return _part(names)


def _upward_imports() -> list[tuple[str, int, str]]:
    bad = []
    for path in sorted((ROOT / "coordination").rglob("*.py")):
        part = _coordination_part(path)
        if part == "migrations":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules = [node.module]
                if node.module == "coordination":
                    modules = [f"coordination.{alias.name}" for alias in node.names]
            else:
                continue
            for module in modules:
                names = module.split(".")
                if names[0] != "coordination" or len(names) < 2:
                    continue
                target = _part(names[1:])
                if target == part or part.startswith(f"{target}."):
                    continue
                if LEVEL[target] >= LEVEL[part]:
                    bad.append((str(path.relative_to(ROOT)), node.lineno, module))
    return bad


def test_every_coordination_package_has_a_place_in_the_order():
    parts = {
        _coordination_part(p)
        for p in (ROOT / "coordination").glob("*")
        if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert parts - {"__init__", "migrations"} == {name.split(".")[0] for name in LEVEL}


def test_packages_import_only_from_the_layers_below():
    bad = _upward_imports()
    assert bad == [], "imports of a package at the same layer or above:\n" + "\n".join(
        f"{path}:{line} imports {module}" for path, line, module in bad
    )


INSTALLED_CHECKS = (
    "find_spec",
    "has_table",
    "pkgutil",
    "import_module",
    "installed(",
    "metadata.tables",
    "metadata.sorted_tables",
)

# The one module that reads every table generically, by design: moving a förbund's rows to another
# installation (DOMAIN.md §14) copies whatever tables the metadata has, asking about none.
SEES_EVERY_TABLE = {"coordination/tenancy/archive.py", "coordination/tenancy/archive_import.py"}


def test_no_domain_asks_whether_another_is_installed():
    asked = [
        (str(path.relative_to(ROOT)), number)
        for folder in ("coordination", "notifications")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if str(path.relative_to(ROOT)) not in SEES_EVERY_TABLE
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(word in line for word in INSTALLED_CHECKS)
    ]
    assert asked == [], f"a domain asks whether another is installed at {asked}"


def test_a_signed_in_user_is_an_actor():
    from coordination.core.actor import Actor
    from tests.factories import make_user

    assert isinstance(make_user("coordinator"), Actor)
