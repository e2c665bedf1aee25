"""`make run PORT=5106`: deploy/run-local.sh gives the app a base URL on the port it serves.

The script runs for real in a temporary folder whose .venv/bin holds stand-ins for python,
celery and flask; the stand-in flask writes down the COORD_BASE_URL it was started with (the key
notifications.rendering and the iCalendar links read for external URLs).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "run-local.sh"

_STUBS = {
    # The SMTP probe "finds" a server, so no sink is started.
    "python": "#!/bin/sh\nexit 0\n",
    # Worker and beat: the first to stop ends the script (wait -n), after the web server started.
    "celery": "#!/bin/sh\nsleep 1\nexit 0\n",
    "flask": '#!/bin/sh\necho "$COORD_BASE_URL" > "$PWD/base_url"\nsleep 5\n',
    "curl": "#!/bin/sh\nexit 0\n",
}


def _run(tmp_path: Path, port: str | None, base_url: str | None = None) -> tuple[str, str]:
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, body in _STUBS.items():
        stub = bin_dir / name
        stub.write_text(body)
        stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("COORD_BASE_URL", "COORD_SMTP_HOST")
    }
    env["PATH"] = f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"  # the stand-in curl
    if base_url is not None:
        env["COORD_BASE_URL"] = base_url
    args = ["bash", str(SCRIPT)] + ([port] if port else [])
    result = subprocess.run(
        args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    return (tmp_path / "base_url").read_text().strip(), result.stdout


@pytest.mark.parametrize(
    ("port", "expected"), [("5106", "http://127.0.0.1:5106"), (None, "http://127.0.0.1:5000")]
)
def test_the_base_url_follows_the_port(tmp_path, port, expected):
    base_url, output = _run(tmp_path, port)
    assert base_url == expected
    assert f"links in emails point at {expected}" in output


def test_a_base_url_of_your_own_is_kept(tmp_path):
    base_url, output = _run(tmp_path, "5106", base_url="https://samordning.example.se")
    assert base_url == "https://samordning.example.se"
    assert "links in emails point at https://samordning.example.se" in output


def test_make_run_passes_its_port_to_the_script():
    makefile = (SCRIPT.parents[1] / "Makefile").read_text()
    assert "@bash deploy/run-local.sh $(PORT)" in makefile
