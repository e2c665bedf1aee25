"""deploy/ is tested, not just written: every setting documented, the compose file and the service
units name what exists, gunicorn's configuration loads, nginx does not publish the metrics."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from coordination.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
INSTALLED = "/opt/coordination"  # where the units expect the checkout (deploy/OPERATIONS.md)


def _env_example() -> tuple[dict[str, str], list[str]]:
    values, lines = {}, (DEPLOY / "env.example").read_text().splitlines()
    for line in lines:
        found = re.match(r"^COORD_([A-Z0-9_]+)=(.*)$", line)
        if found:
            values[found.group(1)] = found.group(2)
    return values, lines


def test_env_example_lists_every_setting_with_a_comment():
    values, lines = _env_example()
    assert sorted(set(DEFAULTS) - set(values)) == [], "settings missing from deploy/env.example"
    assert sorted(set(values) - set(DEFAULTS)) == [], "unknown settings in deploy/env.example"
    for index, line in enumerate(lines):
        if line.startswith("COORD_"):
            above = lines[:index]
            block = []
            for previous in reversed(above):
                if not previous.startswith("COORD_"):
                    block.append(previous)
                    break
            assert block and block[0].startswith("#"), f"no comment above {line}"


def test_env_example_loads_as_a_production_configuration():
    from coordination.config import load_settings

    values, _lines = _env_example()
    environ = {f"COORD_{k}": v for k, v in values.items()} | {"COORD_SECRET_KEY": "x" * 64}
    settings = load_settings(environ=environ)
    assert settings["ENV"] == "production"
    assert settings["REQUIRE_TOTP"] is True and settings["LOG_FORMAT"] == "json"
    assert settings["METRICS_ADDRESS"] == "127.0.0.1"


def test_every_coord_variable_named_in_deploy_is_a_setting():
    named = set()
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix not in (".pyc",):
            named |= set(re.findall(r"COORD_([A-Z][A-Z0-9_]*[A-Z0-9])", path.read_text()))
    assert sorted(named - set(DEFAULTS)) == []


def test_compose_parses_and_names_the_services():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert services["migrate"]["command"] == ["flask", "db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["command"] == ["gunicorn", "-c", "deploy/gunicorn.conf.py"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
        assert services[name]["env_file"] == "coordination.env"
    celery = ["celery", "-A", "notifications.worker", "--quiet"]  # no banner: JSON lines only
    assert services["worker"]["command"][:5] == [*celery, "worker"]
    assert services["beat"]["command"][:5] == [*celery, "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["worker"]["healthcheck"]["test"][:2] == ["CMD", "deploy/worker-healthcheck"]
    assert services["worker"]["init"] is True
    for service in services.values():  # nothing is published beyond this host
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port
    build = services["web"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().is_file()


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    text = (DEPLOY / "systemd" / name).read_text().replace("\\\n", " ")
    parser.read_string(text)
    return parser


def _local(path: str) -> Path:
    assert path.startswith(INSTALLED + "/"), path
    return ROOT / path[len(INSTALLED) + 1 :]


UNITS = ["coordination-web.service", "coordination-worker@.service", "coordination-beat.service"]


@pytest.mark.parametrize("name", UNITS)
def test_the_units_reference_existing_commands_and_files(name):
    unit = _unit(name)
    service = unit["Service"]
    assert service["EnvironmentFile"] == "/etc/coordination/env"
    assert service["WorkingDirectory"] == INSTALLED
    assert service["Restart"] == "always"
    for key in ("ExecStart", "ExecStartPost", "ExecReload"):
        if key not in service:
            continue
        argv = shlex.split(service[key])
        program = argv[0]
        if program.startswith(INSTALLED):
            assert os.access(_local(program), os.X_OK), f"{name}: {program} is not there"
        else:
            assert Path(program).exists(), f"{name}: {program}"
        for arg in argv[1:]:
            if arg.startswith(INSTALLED):
                assert _local(arg).exists(), f"{name}: {arg} is not there"
        if "-A" in argv:
            module = argv[argv.index("-A") + 1]
            assert (ROOT / (module.replace(".", "/") + ".py")).is_file()


def test_the_worker_is_restarted_when_stuck_and_beat_runs_once():
    worker = _unit("coordination-worker@.service")["Service"]
    assert worker["Type"] == "notify" and worker["NotifyAccess"] == "main"
    assert int(worker["WatchdogSec"]) == DEFAULTS["HEARTBEAT_MAX_AGE"]
    assert "worker-healthcheck --name worker-%i@%H" in worker["ExecStartPost"]
    assert "--hostname=worker-%i@%H" in worker["ExecStart"]
    assert worker["Environment"]  # a metrics directory and port per instance
    beat = _unit("coordination-beat.service")["Service"]
    assert " beat " in beat["ExecStart"]
    assert not any(p.name.startswith("coordination-beat@") for p in (DEPLOY / "systemd").iterdir())
    web = _unit("coordination-web.service")["Service"]
    assert "gunicorn -c /opt/coordination/deploy/gunicorn.conf.py" in web["ExecStart"]


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_the_celery_options_in_the_units_exist(command):
    unit = "coordination-worker@.service" if command == "worker" else "coordination-beat.service"
    argv = shlex.split(_unit(unit)["Service"]["ExecStart"])
    assert argv[1:5] == ["-A", "notifications.worker", "--quiet", command]
    options = {a.split("=")[0] for a in argv[5:] if a.startswith("--")}
    env = dict(os.environ, COORD_DATABASE_URL="sqlite://", COORD_BROKER_URL="memory://")
    help_text = subprocess.run(
        [str(ROOT / ".venv/bin/celery"), "-A", "notifications.worker", command, "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert options and all(option in help_text for option in options), options


def test_gunicorn_reads_its_settings_from_the_environment(tmp_path):
    env = dict(
        os.environ,
        COORD_BIND="127.0.0.1:8123",
        COORD_WEB_WORKERS="3",
        COORD_DATABASE_URL="sqlite://",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "--print-config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    config = dict(
        re.match(r"^(\w+)\s*=\s*(.*)$", line).groups()
        for line in result.stdout.splitlines()
        if re.match(r"^\w+\s*=", line)
    )
    assert config["bind"] == "['127.0.0.1:8123']"
    assert config["workers"] == "3"
    assert config["wsgi_app"] == "wsgi:app"
    assert config["logger_class"].endswith("gunicorn_logging.JsonLogger")
    assert config["accesslog"] == "-"
    assert int(config["timeout"]) == DEFAULTS["WEB_TIMEOUT"]


def test_gunicorn_refuses_production_without_a_secret_key(tmp_path):
    env = dict(os.environ, COORD_ENV="production", PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    env.pop("COORD_SECRET_KEY", None)
    result = subprocess.run(
        [str(ROOT / ".venv/bin/gunicorn"), "-c", "deploy/gunicorn.conf.py", "--print-config"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "COORD_SECRET_KEY" in result.stderr + result.stdout


def test_nginx_terminates_tls_with_hsts_and_does_not_proxy_the_metrics():
    conf = (DEPLOY / "nginx.conf").read_text()
    active = "\n".join(line.split("#", 1)[0] for line in conf.splitlines())
    assert "listen 443 ssl" in active and "ssl_certificate " in active
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d+', active)
    assert "return 301 https://" in active
    for header in ("X-Forwarded-For", "X-Forwarded-Proto", "Host", "X-Request-ID"):
        assert f"proxy_set_header {header} " in active
    assert re.findall(r"proxy_pass\s+(\S+);", active) == ["http://coordination_web"]
    assert re.findall(r"server\s+(127\.0\.0\.1:\d+);", active) == ["127.0.0.1:8000"]
    assert not re.search(r"\b910\d\b", active)
    assert "location = /metrics { return 404; }" in active


def test_the_operations_guide_covers_the_tasks():
    guide = (DEPLOY / "OPERATIONS.md").read_text()
    for needed in (
        "## First start",
        "flask db upgrade",
        "pg_dump --format=custom",
        "pg_restore",
        "## Rotating the secret key",
        "## Adding workers",
        "## Metrics",
        "## Alerts",
        "deploy/worker-healthcheck",
    ):
        assert needed in guide, needed


def test_prod_smoke_is_a_make_target_and_part_of_ci():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^prod-smoke:", makefile, re.MULTILINE)
    assert "deploy/prod-smoke" in makefile
    assert "make prod-smoke" in (ROOT / ".ci" / "run").read_text()
