"""Signing in with e-identification: an admin gives a unit its provider, a member signs in there.

The provider is a real OpenID Connect provider process (tests/oidc/provider.mjs, oidc-provider
from npm); Chromium goes to it and back, and logs out there too (RP-initiated logout).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text

from tests.e2e.conftest import OIDC_SECRET
from tests.oidc.harness import ProviderProcess, ProviderUnavailable

pytestmark = pytest.mark.e2e

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
HSA_ID = "SE2321000016-E2E1"


@pytest.fixture(scope="module")
def provider(stack):
    process = ProviderProcess(
        [
            {
                "client_id": "samordning",
                "client_secret": OIDC_SECRET,
                "redirect_uris": [f"{stack.base_url}/login/oidc/callback"],
                "post_logout_redirect_uris": [f"{stack.base_url}/login"],
            }
        ]
    )
    try:
        process.start()
    except ProviderUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield process
    process.stop()


def _admin_sets_up_the_unit_and_the_member(cast, browser, provider) -> None:
    page = cast.admin.page
    page.goto("/admin/units")
    page.get_by_role("link", name="Vårdcentralen Dalby").click()
    page.get_by_role("link", name="Inloggning med e-legitimation (OpenID Connect)").click()
    report = browser.check(page, "unit sign-in settings")
    assert not report.violations, report.describe()
    page.get_by_label("Utfärdare (issuer)").fill(provider.issuer)
    page.get_by_label("Klient-id").fill("samordning")
    page.get_by_label("Miljövariabel med klienthemligheten").fill("COORD_E2E_OIDC_SECRET")
    page.get_by_label("HSA-id (hsa_id)").check()
    page.get_by_role("button", name="Spara inloggningen").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Inloggningen för Vårdcentralen Dalby är sparad."
    )
    page.goto(f"/admin/users/{cast.member_region.id}")
    page.get_by_role("link", name="Ändra uppgifterna för e-legitimation").click()
    report = browser.check(page, "user e-identification")
    assert not report.violations, report.describe()
    page.get_by_label("HSA-id").fill(HSA_ID)
    page.get_by_role("button", name="Spara").click()
    expect(page.get_by_role("status")).to_contain_text("Uppgifterna för inloggning")


def test_a_conference_member_signs_in_and_out_with_e_identification(cast, browser, stack, provider):
    _admin_sets_up_the_unit_and_the_member(cast, browser, provider)
    looking = browser.new_context()
    try:
        page = looking.new_page()
        page.goto("/login")
        report = browser.check(page, "login with e-identification")
        assert not report.violations, report.describe()
    finally:
        looking.close()
    # The member's browser applies the app's Content-Security-Policy (axe is not injected here)
    context = browser.new_context(bypass_csp=False)
    blocked: list[str] = []
    try:
        page = context.new_page()
        page.on(
            "console",
            lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto("/login")
        page.get_by_label("Din organisation").select_option(label="Vårdcentralen Dalby")
        page.get_by_role("button", name="Logga in med e-legitimation").click()
        page.wait_for_url(f"{provider.issuer}/interaction/**")
        # At the provider: the person signs in (the test provider's interaction has no form)
        query = urlencode({"account": "lars", "hsa_id": HSA_ID, "acr": LOA3})
        page.goto(f"{page.url}/test-login?{query}")
        expect(page.get_by_role("button", name="Logga ut")).to_be_visible()
        assert page.url.startswith(stack.base_url)
        engine = create_engine(stack.database_url)
        try:
            with engine.connect() as conn:
                assurance = conn.execute(
                    text(
                        "SELECT assurance FROM access_log WHERE user_id = :id AND action = 'login'"
                        " AND outcome = 'allowed' ORDER BY id DESC LIMIT 1"
                    ),
                    {"id": cast.member_region.id},
                ).scalar_one()
        finally:
            engine.dispose()
        assert assurance == LOA3
        page.get_by_role("button", name="Logga ut").click()
        page.wait_for_url(f"{provider.issuer}/session/end**")
        page.get_by_role("button", name="Yes, sign me out").click()
        page.wait_for_url(f"{stack.base_url}/login")
        expect(page.get_by_role("status")).to_contain_text("Du är utloggad.")
        page.goto("/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Logga in")
        assert blocked == []
    finally:
        context.close()
