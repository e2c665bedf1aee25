"""Several förbund (DOMAIN.md §14) in a real browser: an officer with roles in two förbund
chooses one after signing in, sees which in the header, and changes with the header's link."""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD, REDIS_URL
from tests.e2e.ui import Person

pytestmark = pytest.mark.e2e

EMAIL = "tva.forbund@e2e.example"
FIRST = "Samordningsförbundet"  # the installation's first förbund, named by the migration


@pytest.fixture(scope="module")
def officer(stack, browser):
    """An AF officer who refers in the first förbund and is an administrator in Finsam Norr."""
    from coordination.app import create_app
    from coordination.auth.operations import create_user
    from coordination.auth.security import enrol_totp
    from coordination.extensions import db
    from coordination.organisations.models import OrganisationUnit
    from coordination.tenancy.admin import create_forbund_with_admin
    from coordination.tenancy.context import use

    app = create_app(
        {"DATABASE_URL": stack.database_url, "BROKER_URL": REDIS_URL, "SECRET_KEY": stack.secret}
    )
    secret = pyotp.random_base32()
    with app.app_context():
        with use(1):
            unit = db.session.query(OrganisationUnit).filter_by(agency_kind="af").first()
            user = create_user(
                email=EMAIL,
                name="Tove Tvåförbund",
                password=PASSWORD,
                memberships=[(unit, "referrer")],
            )
            enrol_totp(user, secret)
            db.session.commit()
            user_id = user.id
        created = create_forbund_with_admin(
            slug="finsam-norr", name="Finsam Norr", admin_email=EMAIL
        )
        with use(created.forbund.id):
            db.session.commit()
        db.engine.dispose()
    person = Person(
        browser, stack, "dual", id=user_id, email=EMAIL, name="Tove Tvåförbund", secret=secret
    )
    yield person
    person.close()


def test_an_officer_of_two_forbund_chooses_one_and_changes(officer, browser):
    page = officer.page  # signs in: with roles in two förbund, the choice comes first
    expect(page.get_by_role("heading", level=1)).to_have_text("Välj förbund")
    report = browser.check(page, "choose a förbund")
    assert not report.violations, report.describe()

    page.get_by_role("button", name="Arbeta i det här förbundet").click()
    expect(page.get_by_role("alert")).to_contain_text("Välj ett av förbunden i listan.")

    page.get_by_label("Finsam Norr").check()
    page.get_by_role("button", name="Arbeta i det här förbundet").click()
    header = page.get_by_role("banner")
    expect(header).to_contain_text("Finsam Norr")
    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu.get_by_role("link", name="Användare")).to_be_visible()  # admin there

    header.get_by_role("link", name="Byt förbund").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Välj förbund")
    page.get_by_label(FIRST, exact=True).check()
    page.get_by_role("button", name="Arbeta i det här förbundet").click()
    expect(header).to_contain_text(FIRST)
    expect(header).not_to_contain_text("Finsam Norr")
    expect(menu.get_by_role("link", name="Användare")).to_have_count(0)  # a referrer here
