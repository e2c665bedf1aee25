"""Fixtures for signing in through an OpenID Connect provider: a real one, on Node.

The provider (tests/oidc/provider.mjs, panva's oidc-provider from `npm ci` in this folder) runs
once per test process on a free port; each test starts in its "normal" mode.
"""

from __future__ import annotations

import pytest

from coordination.auth.models import OidcProvider
from coordination.extensions import db
from tests.factories import make_unit
from tests.oidc.harness import (
    LogoutTokenCatcher,
    ProviderProcess,
    ProviderUnavailable,
    free_port,
)

RP = "http://127.0.0.1:5000"  # the app's BASE_URL in the tests
CALLBACK = RP + "/login/oidc/callback"
CLIENT_ID = "coordination"
SECRET = "test-client-secret-0123456789abcdef"
SECRET_ENV = "COORD_TEST_OIDC_SECRET"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"


@pytest.fixture(scope="session")
def logout_tokens():
    """Where the provider posts its back-channel logout tokens (a test hands them to the app)."""
    catcher = LogoutTokenCatcher()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def oidc_process(logout_tokens):
    """The provider process of this test process."""
    process = ProviderProcess(
        [
            {
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
                "redirect_uris": [CALLBACK],
                "post_logout_redirect_uris": [RP + "/login"],
                "backchannel_logout_uri": logout_tokens.url,
            }
        ]
    )
    try:
        process.start()
    except ProviderUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield process
    process.stop()


@pytest.fixture()
def provider(oidc_process, monkeypatch):
    """The running provider in its normal mode, with the client secret in the environment."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    oidc_process.mode("normal")
    yield oidc_process
    oidc_process.mode("normal")


@pytest.fixture()
def settings(app, monkeypatch):
    """The app's settings, changeable per test (restored afterwards)."""

    def change(**values):
        for key, value in values.items():
            monkeypatch.setitem(app.config["COORD"], key, value)

    return change


def unit_with_provider(issuer: str, *, claim: str = "hsa_id", min_acr: str | None = None, **kw):
    """Create a unit whose people sign in through the provider at `issuer`."""
    unit = make_unit(kw.pop("agency_kind", "region"))
    db.session.add(
        OidcProvider(
            unit_id=unit.id,
            issuer=issuer,
            client_id=CLIENT_ID,
            secret_env=SECRET_ENV,
            claim=claim,
            min_acr=min_acr,
        )
    )
    db.session.commit()
    return unit


def nobody_listens() -> str:
    """Return an issuer URL on a port where no provider runs."""
    return f"http://127.0.0.1:{free_port()}"
