"""A real OpenID Connect provider process for the tests (provider.mjs on Node), and a person at it.

`ProviderProcess(clients).start()` runs `node tests/oidc/provider.mjs` on a free port and waits
until it answers; `stop()` ends it. `sign_in(auth_url, account, ...)` plays the person at the
provider with a real HTTP client (its own cookies): it follows the authorization URL, signs the
account in through the provider's test interaction and returns where the provider sends the
browser back (the relying party's redirect URI with code and state).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin

import requests

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "provider.mjs"
MODULES = HERE / "node_modules" / "oidc-provider"
STARTUP_SECONDS = 30


class ProviderUnavailable(RuntimeError):
    """Node, the npm packages or the process itself is missing: the message says what to do."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class ProviderProcess:
    """One oidc-provider process with the given clients."""

    def __init__(self, clients: list[dict]):
        self.clients = clients
        self.port = 0
        self.process: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(  # open while the process runs
            prefix="oidc-provider-", suffix=".log", delete=False
        )

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return Path(self._log.name).read_text(encoding="utf-8", errors="replace")

    def start(self) -> ProviderProcess:
        node = shutil.which("node")
        if node is None:
            raise ProviderUnavailable(
                "node is not installed: the OpenID Connect tests start a real provider on Node "
                "(apt-get install nodejs npm)"
            )
        if not MODULES.is_dir():
            raise ProviderUnavailable(
                "oidc-provider is not installed: run `npm ci` in tests/oidc (make test does)"
            )
        self.port = free_port()
        env = {
            **os.environ,
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENTS": json.dumps(self.clients),
            "NODE_ENV": "test",
        }
        self.process = subprocess.Popen(
            [node, str(SCRIPT)],
            cwd=HERE,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ProviderUnavailable(
                    f"the OpenID Connect provider exited ({self.process.returncode}):\n"
                    + self.output()
                )
            if "READY" in self.output() and _answers(self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise ProviderUnavailable(
            f"the OpenID Connect provider did not answer within {STARTUP_SECONDS} s:\n"
            + self.output()
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None
        self._log.close()
        Path(self._log.name).unlink(missing_ok=True)

    def mode(self, name: str) -> None:
        """Switch the provider's test-only tampering with ID tokens (see provider.mjs)."""
        response = requests.get(f"{self.issuer}/test/mode", params={"set": name}, timeout=5)
        response.raise_for_status()

    def sign_in(
        self, auth_url: str, account: str, *, session: requests.Session | None = None, **claims
    ) -> tuple[str, requests.Session]:
        """Sign `account` in at the provider; return the redirect back and the provider session.

        `claims` go to the provider's test interaction: hsa_id, personnummer, email, acr, amr.
        """
        session = session or requests.Session()
        response = session.get(auth_url, allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), response.text
        location = urljoin(self.issuer, response.headers["Location"])
        if location.startswith(f"{self.issuer}/interaction/"):  # else: still signed in there
            params = {"account": account, **{k: v for k, v in claims.items() if v is not None}}
            response = session.get(
                location + "/test-login", params=params, allow_redirects=False, timeout=10
            )
            assert response.status_code in (302, 303), response.text
            location = urljoin(self.issuer, response.headers["Location"])
        while location.startswith(self.issuer):
            response = session.get(location, allow_redirects=False, timeout=10)
            assert response.status_code in (302, 303), response.text
            location = urljoin(self.issuer, response.headers["Location"])
        return location, session

    def confirm_logout(self, session: requests.Session, end_session_url: str) -> str:
        """Follow RP-initiated logout at the provider (its confirm form); return where it ends."""
        page = session.get(end_session_url, allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.text
        form = re.search(r'action="([^"]+)"', page.text)
        xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
        assert form and xsrf, page.text
        done = session.post(
            urljoin(self.issuer, form.group(1)),
            data={"xsrf": xsrf.group(1), "logout": "yes"},
            allow_redirects=False,
            timeout=10,
        )
        assert done.status_code in (302, 303), done.text
        return done.headers["Location"]


class LogoutTokenCatcher:
    """A relying party's back-channel logout URI that keeps what the provider posts to it."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        tokens: list[str] = []
        self.tokens = tokens

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802  (http.server's name)
                length = int(self.headers.get("Content-Length", "0"))
                body = parse_qs(self.rfile.read(length).decode())
                tokens.extend(body.get("logout_token", []))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/backchannel-logout"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait_for_token(self, seconds: float = 10) -> str:
        deadline = time.monotonic() + seconds
        while not self.tokens:
            assert time.monotonic() < deadline, "the provider posted no logout token"
            time.sleep(0.05)
        return self.tokens.pop(0)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
