"""The bench's data generator (make bench-web builds 200,000 participants with it) writes rows
the app reads as its own: a tiny set in the test database, read through the pages."""

import re

import pytest
from flask import current_app

from coordination.audit import chain
from coordination.auth.passwords import hash_password
from coordination.cases.models import Case
from coordination.extensions import db
from coordination.web_bench import floor
from coordination.web_bench.data import PASSWORD, build
from tests.conftest import FIRST_FORBUND, as_table_owner


@pytest.fixture()
def seeded():
    """Sixty participants, written with the bench's SQL into this test's transaction.

    The bench writes as the tables' owner (COPY is refused where row-level security applies).
    """
    connection = db.session.connection().connection.driver_connection
    with as_table_owner():
        return build(
            connection,
            60,
            secret_key=current_app.config["COORD"]["SECRET_KEY"],
            password_hash=hash_password(PASSWORD),
            forbund_id=FIRST_FORBUND,
        )


def test_a_coordinator_signs_in_and_sees_every_seeded_open_case(client, seeded):
    coordinator = max(seeded.users["coordinator"], key=lambda u: len(seeded.loads[u.id]))
    assert len(seeded.loads[coordinator.id]) >= 5
    assert client.login(coordinator.email, PASSWORD).status_code == 302

    page = client.get("/cases/")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for case_id in seeded.loads[coordinator.id]:
        assert f'href="/cases/{case_id}"' in text
    others = [c for c in seeded.open_case_ids if c not in seeded.loads[coordinator.id]]
    assert others and all(f'href="/cases/{c}"' not in text for c in others)


def test_the_team_lead_reads_the_seeded_referrals_and_a_case(client, seeded):
    lead = seeded.users["team_lead"][0]
    assert client.login(lead.email, PASSWORD).status_code == 302

    listing = client.get("/referrals/")
    assert listing.status_code == 200
    assert seeded.referral_ids
    for referral_id in seeded.referral_ids:
        assert f'href="/referrals/{referral_id}"' in listing.get_data(as_text=True)

    case = db.session.get(Case, seeded.open_case_ids[0])
    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert case.person.last_name in page.get_data(as_text=True)


def test_the_seeded_access_log_is_a_verifiable_chain(seeded):
    intact, broken_at, checked = chain.verify(db.session)
    assert intact, f"the chain breaks at {broken_at}"
    assert checked >= 60 * 5


def test_the_team_leads_caseload_floor_returns_the_rows_the_page_shows(client, seeded):
    """The floor it is measured against is the same rows in the same order: warnings first."""
    lead = seeded.users["team_lead"][0]
    assert client.login(lead.email, PASSWORD).status_code == 302
    text = client.get("/cases/").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'href="/cases/(\d+)"', text)]

    cursor = db.session.connection().connection.driver_connection.cursor()
    rows = floor.caseload_team_lead(cursor, lead.id)

    assert [row[0] for row in rows] == list(dict.fromkeys(shown))
    assert {row[-1] for row in rows} == {len(seeded.open_case_ids)}
    assert rows[0][-2] > rows[-1][-2]  # the warned cases come first
