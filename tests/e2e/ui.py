"""Playwright helpers: a browser per person, sign-in with the TOTP code, axe and screenshots."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import create_engine, text

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
BLOCKING = ("serious", "critical")


@dataclass
class PageReport:
    """What axe found on one page the journey visited."""

    name: str
    url: str
    violations: list[dict] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"{self.name} ({self.url}):"]
        for v in self.violations:
            targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} -> {targets}")
        return "\n".join(lines)


class Browser:
    """Headless Chromium and what the run collects: screenshots and axe reports per page."""

    def __init__(self, executable: str, base_url: str, axe: Path, output: Path) -> None:
        self.executable, self.base_url, self.axe, self.output = executable, base_url, axe, output
        self.axe_results: list[PageReport] = []
        self._count = 0

    def __enter__(self) -> Browser:
        self._playwright = sync_playwright().start()
        self.chromium = self._playwright.chromium.launch(
            executable_path=self.executable, args=CHROMIUM_ARGS
        )
        return self

    def __exit__(self, *exc) -> None:
        self.chromium.close()
        self._playwright.stop()

    def new_context(self, **options):
        """A fresh browser profile (cookies of its own), Swedish, in Stockholm time."""
        defaults = {
            "base_url": self.base_url,
            "locale": "sv-SE",
            "timezone_id": "Europe/Stockholm",
            "bypass_csp": True,  # lets axe be injected; the app's own CSP stays strict
            "accept_downloads": True,
            "viewport": {"width": 1280, "height": 900},
        }
        defaults.update(options)
        context = self.chromium.new_context(**defaults)
        context.set_default_timeout(15_000)
        return context

    def check(self, page: Page, name: str) -> PageReport:
        """Screenshot the page and record its serious and critical axe violations."""
        page.wait_for_load_state("load")
        self._count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        page.screenshot(path=str(self.output / f"{self._count:02d}-{slug}.png"), full_page=True)
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(self.axe))
        result = page.evaluate(
            "axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"
        )
        report = PageReport(
            name=name,
            url=page.url.removeprefix(self.base_url),
            violations=[v for v in result["violations"] if v["impact"] in BLOCKING],
        )
        self.axe_results.append(report)
        return report


class Person:
    """One user of the journey with a browser of their own; signs in on first use."""

    def __init__(self, browser: Browser, stack, key: str, **info) -> None:
        self.browser, self.stack, self.key = browser, stack, key
        self.id, self.email, self.name, self.secret = (
            info["id"],
            info["email"],
            info["name"],
            info["secret"],
        )
        self.context = None
        self._page: Page | None = None

    @property
    def page(self) -> Page:
        if self._page is None:
            self.context = self.browser.new_context()
            self._page = self.context.new_page()
            self.sign_in(self._page)
        return self._page

    def code(self) -> str:
        """The six digits the authenticator app shows now (never a step already used)."""
        engine = create_engine(self.stack.database_url)
        try:
            with engine.connect() as conn:
                last = conn.execute(
                    text("SELECT totp_last_step FROM user_account WHERE id = :id"), {"id": self.id}
                ).scalar_one()
        finally:
            engine.dispose()
        totp = pyotp.TOTP(self.secret)
        current = int(time.time() // totp.interval)
        if last >= current:  # the code of this step is used: wait for the next one
            time.sleep((last + 1) * totp.interval - time.time() + 0.5)
            current = int(time.time() // totp.interval)
        return totp.generate_otp(current)

    def sign_in(self, page: Page) -> None:
        """Email and password, then the code from the app, as a person signs in."""
        page.goto("/login")
        page.get_by_label("E-postadress").fill(self.email)
        page.get_by_label("Lösenord").fill(self.stack.password)
        page.get_by_role("button", name="Logga in", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Kod från din app")
        page.get_by_label("Sexsiffrig kod").fill(self.code())
        page.get_by_role("button", name="Logga in", exact=True).click()
        expect(page.get_by_role("button", name="Logga ut")).to_be_visible()

    def close(self) -> None:
        if self.context is not None:
            self.context.close()


class Cast(dict):
    """The people by key: cast.referrer, cast.team_lead, ..."""

    def __getattr__(self, key: str) -> Person:
        try:
            return self[key]
        except KeyError as exc:
            raise AttributeError(key) from exc
