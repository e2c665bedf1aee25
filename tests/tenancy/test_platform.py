"""The installation's own pages (DOMAIN.md §14): the platform administrator creates förbund with
their first administrators; the national analyst sees statistics across förbund, aggregated and
with small cells hidden; neither reaches a förbund's pages, and no förbund role opens theirs."""

from __future__ import annotations

import csv
import io
from datetime import date

import pyotp
import pytest
from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.auth.activation import awaits_activation
from coordination.auth.models import User
from coordination.auth.operations import find_user
from coordination.auth.security import enrol_totp
from coordination.extensions import db
from coordination.organisations.models import Membership
from coordination.platform import national
from coordination.statistics import reports
from coordination.tenancy.admin import create_platform_user
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund
from coordination.tenancy.operations import create_forbund
from notifications.models import Notification
from tests.factories import PASSWORD, make_referral, make_sus_participant, make_user

PLATFORM_PAGES = (
    "/platform/forbund",
    "/platform/forbund/new",
    "/platform/statistics",
    "/platform/statistics.csv",
)


def make_platform_user(role: str) -> User:
    """Create an account with a platform role and no role in any förbund."""
    user = create_platform_user(
        email=f"{role}@plattform.example", name=f"Plattform {role}", role=role, password=PASSWORD
    )
    enrol_totp(user, pyotp.random_base32())
    db.session.commit()
    return user


def _login(client, user: User) -> None:
    response = client.login(user.email, PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)


def _form(**overrides) -> dict:
    data = {
        "name": "Samordningsförbundet Norr",
        "slug": "finsam-norr",
        "admin_name": "Anna Administratör",
        "admin_email": "anna@norr.example",
    }
    return data | overrides


# --- the platform administrator ----------------------------------------------------------------


def test_the_platform_administrator_creates_a_forbund_with_its_first_administrator(client):
    platform_admin = make_platform_user("platform_admin")
    _login(client, platform_admin)
    start = client.get("/")
    assert start.status_code == 302 and start.headers["Location"].endswith("/platform/forbund")
    listing = client.get("/platform/forbund").get_data(as_text=True)
    assert "Skapa ett förbund" in listing and 'href="/platform/forbund"' in listing

    response = client.post_form("/platform/forbund/new", _form())

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/platform/forbund")
    forbund = db.session.scalar(select(Forbund).where(Forbund.slug == "finsam-norr"))
    assert forbund is not None and forbund.name == "Samordningsförbundet Norr"
    admin = find_user("anna@norr.example")
    assert admin is not None and admin.platform_role is None and awaits_activation(admin)
    with use(forbund.id):
        roles = db.session.scalars(select(Membership.role).where(Membership.user_id == admin.id))
        assert list(roles) == ["admin"]
        sent = db.session.scalars(
            select(Notification.template).where(Notification.recipient_id == admin.id)
        )
        assert "account_activation" in list(sent)
    with use(None):  # the installation's own access-log rows
        logged = db.session.scalars(
            select(AccessLogEntry).where(
                AccessLogEntry.object_type == "forbund", AccessLogEntry.action == "create"
            )
        ).all()
    assert [(e.user_id, e.role, e.object_id) for e in logged] == [
        (platform_admin.id, "platform_admin", str(forbund.id))
    ]
    page = client.get("/platform/forbund").get_data(as_text=True)
    assert "Samordningsförbundet Norr är skapat" in page
    row = page[page.index('<th scope="row">Samordningsförbundet Norr</th>') :]
    assert "finsam-norr" in row and '<td class="table__numeric">1</td>' in row[:400]


def test_an_officer_of_another_forbund_becomes_the_new_forbunds_administrator(client):
    officer = make_user("coordinator")
    _login(client, make_platform_user("platform_admin"))

    response = client.post_form(
        "/platform/forbund/new", _form(admin_email=officer.email.upper(), admin_name="")
    )

    assert response.status_code == 302
    forbund = db.session.scalar(select(Forbund).where(Forbund.slug == "finsam-norr"))
    with use(forbund.id):
        roles = db.session.scalars(select(Membership.role).where(Membership.user_id == officer.id))
        assert list(roles) == ["admin"]
    roles_in_first = db.session.scalars(
        select(Membership.role).where(Membership.user_id == officer.id)
    )
    assert list(roles_in_first) == ["coordinator"]  # untouched in their own förbund


def test_every_error_of_the_form_at_once_and_nothing_created(client):
    taken = db.session.get(Forbund, 1)
    _login(client, make_platform_user("platform_admin"))

    response = client.post_form(
        "/platform/forbund/new", _form(slug=taken.slug, name="", admin_email="", admin_name="")
    )

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html[html.index("error-summary") : html.index("</ul>", html.index("error-summary"))]
    for field in ("slug", "name", "admin_email", "admin_name"):
        assert f'href="#field-{field}"' in summary, field
    assert "Det finns redan ett förbund med kortnamnet" in summary
    assert html.index("error-summary") < html.index('<form method="post"')
    assert db.session.scalar(select(Forbund).where(Forbund.name == "")) is None
    assert list(db.session.scalars(select(Forbund.id))) == [1]


def test_a_platform_account_cannot_become_a_forbunds_administrator(client):
    analyst = make_platform_user("national_analyst")
    _login(client, make_platform_user("platform_admin"))

    response = client.post_form("/platform/forbund/new", _form(admin_email=analyst.email))

    assert response.status_code == 422
    assert "plattformskonto" in response.get_data(as_text=True)


# --- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator", "analyst", "team_lead"])
def test_no_forbund_role_opens_the_platform_pages(client, role):
    _login(client, make_user(role))
    for url in PLATFORM_PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post_form("/platform/forbund/new", _form()).status_code == 403
    assert db.session.scalar(select(Forbund).where(Forbund.slug == "finsam-norr")) is None


def test_each_platform_role_opens_only_its_own_pages(client):
    _login(client, make_platform_user("national_analyst"))
    assert client.get("/platform/forbund").status_code == 403
    assert client.get("/platform/forbund/new").status_code == 403
    assert client.get("/platform/statistics").status_code == 200
    start = client.get("/")
    assert start.headers["Location"].endswith("/platform/statistics")


def test_the_platform_administrator_sees_no_forbund_page_and_no_participant(client):
    referral = make_referral("submitted", first_name="Ingridsdotter", last_name="Pålsdottir")
    make_sus_participant(enrolled_on=date(2025, 3, 1), participant_ref="REF-HEMLIG-1")
    _login(client, make_platform_user("platform_admin"))

    for url in (
        "/cases/",
        "/cases/queue",
        "/referrals/",
        f"/referrals/{referral.id}",
        "/conferences/",
        "/meetings/",
        "/exits/",
        "/programmes/",
        "/statistics/",
        "/statistics/reports/participants",
        "/admin/users",
        "/audit/",
        "/inbox",
        "/inbox/preferences",
        "/forbund",
    ):
        assert client.get(url).status_code == 403, url
    pages = [
        client.get(url, follow_redirects=True)
        for url in ("/", "/platform/forbund", "/platform/forbund/new", "/account")
    ]
    for page in pages:
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        for secret in ("Ingridsdotter", "Pålsdottir", "REF-HEMLIG-1", referral.identity_number):
            assert secret not in html
    menu = pages[0].get_data(as_text=True)
    assert 'href="/platform/forbund"' in menu and "/platform/statistics" not in menu


def test_the_command_line_makes_a_platform_account(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "forbund",
            "platform-user",
            "--email",
            "nationell@example.se",
            "--name",
            "Nina Nationell",
            "--role",
            "national_analyst",
            "--activation",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "/activate?t=" in result.output
    user = find_user("nationell@example.se")
    assert user.platform_role == "national_analyst" and awaits_activation(user)
    assert user.memberships == []

    again = runner.invoke(
        args=[
            "forbund",
            "platform-user",
            "--email",
            "nationell@example.se",
            "--name",
            "",
            "--role",
            "platform_admin",
            "--password",
            "kort",
        ]
    )
    assert again.exit_code != 0
    assert "email:" in again.output and "name:" in again.output and "password:" in again.output


def test_the_command_line_creates_a_forbund_through_the_same_operation(app):
    result = app.test_cli_runner().invoke(
        args=[
            "forbund",
            "create",
            "--slug",
            "finsam-syd",
            "--name",
            "Finsam Syd",
            "--admin-email",
            "sven@syd.example",
            "--admin-name",
            "Sven Syd",
            "--admin-password",
            "ett långt lösenord",
        ]
    )
    assert result.exit_code == 0, result.output
    forbund = db.session.scalar(select(Forbund).where(Forbund.slug == "finsam-syd"))
    admin = find_user("sven@syd.example")
    assert not awaits_activation(admin)
    with use(forbund.id):
        roles = db.session.scalars(select(Membership.role).where(Membership.user_id == admin.id))
        assert list(roles) == ["admin"]


# --- the national analyst ----------------------------------------------------------------------


def _exited(reason: str, *, enrolled_on: date, exited_on: date):
    return make_sus_participant(
        enrolled_on=enrolled_on,
        registrations={
            "intake": {"support": ["a_kassa"], "work": "uppgift_saknas"},
            "exit": {
                "registered_on": exited_on,
                "support": ["ingen_offentlig"],
                "work": "ej_subventionerat",
                "exit_reason": reason,
            },
        },
    )


@pytest.fixture()
def two_forbund():
    """Förbund 1: 8 enrolled in 2025, 6 out to work. Förbund 2: 10 enrolled, 5 out to work and
    2 (a small cell) to studies; and one participant of 2024 that 2025 does not count."""
    for _ in range(6):
        _exited("arbete", enrolled_on=date(2025, 3, 1), exited_on=date(2025, 9, 1))
    for _ in range(2):
        make_sus_participant(enrolled_on=date(2025, 4, 1))
    second = create_forbund("finsam-tva", "Förbund Två")
    db.session.commit()
    with use(second.id):
        for _ in range(5):
            _exited("arbete", enrolled_on=date(2025, 2, 1), exited_on=date(2025, 10, 1))
        for _ in range(2):
            _exited("studier", enrolled_on=date(2025, 2, 1), exited_on=date(2025, 10, 1))
        for _ in range(3):
            make_sus_participant(enrolled_on=date(2025, 5, 1))
        _exited("flytt", enrolled_on=date(2024, 1, 1), exited_on=date(2024, 6, 1))
    return db.session.get(Forbund, 1), second


def test_the_national_figure_is_the_sum_of_each_forbunds_own(app, two_forbund):
    first, second = two_forbund
    table = national.national_table(2025, "Alla förbund")

    by_name = {line.name: line for line in table.lines}
    assert set(by_name) == {first.name, second.name}
    for measure in national.MEASURES:
        assert table.total.counts[measure] == sum(line.counts[measure] for line in table.lines), (
            measure
        )
    assert by_name[second.name].counts == {
        "referrals_received": 0,
        "enrolled": 10,
        "active": 10,
        "exited": 7,
        "exit_work": 5,
        "exit_studies": 2,
        "exit_other": 0,
    }
    assert by_name[first.name].counts["enrolled"] == 8
    assert by_name[first.name].counts["exit_work"] == 6
    # each förbund's figure is what its own participants report says for the year
    filters = national.year_filters(2025)
    for forbund in (first, second):
        with use(forbund.id):
            own = {r.code: r.counts["total"] for r in reports.run("participants", filters).rows}
        line = by_name[forbund.name]
        assert (line.counts["enrolled"], line.counts["active"], line.counts["exited"]) == (
            own["enrolled"],
            own["active"],
            own["exited"],
        )


def test_the_national_analyst_sees_the_table_with_small_cells_hidden(client, two_forbund):
    first, second = two_forbund
    _login(client, make_platform_user("national_analyst"))

    response = client.get("/platform/statistics?year=2025")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    cells = _rows(html)
    # Förbund Två: studies 2 is "<5", and work hidden too, or 7 - 0 - 5 would tell it
    assert cells[second.name] == ["0", "10", "10", "7", "..", "&lt;5", "0"]
    assert cells[first.name] == ["0", "8", "8", "6", "6", "0", "0"]
    assert cells["Alla förbund"] == ["0", "18", "18", "13", "..", "&lt;5", "0"]

    export = client.get("/platform/statistics.csv?year=2025")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[rows.index([]) + 1][0] == "Förbund"
    by_name = {row[0]: row[1:] for row in rows[rows.index([]) + 2 :]}
    assert by_name[second.name] == ["0", "10", "10", "7", "..", "<5", "0"]
    assert by_name["Alla förbund"] == ["0", "18", "18", "13", "..", "<5", "0"]


def test_a_year_out_of_range_is_an_error_on_the_page(client):
    _login(client, make_platform_user("national_analyst"))
    response = client.get("/platform/statistics?year=19x")
    assert response.status_code == 422
    assert 'href="#field-year"' in response.get_data(as_text=True)


def _rows(html: str) -> dict[str, list[str]]:
    """Return the statistics table's cells by the row's heading."""
    import re

    body = html[html.index("<tbody>") : html.index("</tbody>")]
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        heading = re.sub(r"<[^>]+>", "", re.search(r"<th[^>]*>(.*?)</th>", row, re.S).group(1))
        values = [
            re.sub(r"<[^>]+>", "", v).strip() for v in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        out[heading.strip()] = values
    return out


# --- small cells -------------------------------------------------------------------------------


def test_one_hidden_part_of_a_sum_hides_the_next_smallest_part_too():
    counts = {(0, "sum"): 20, (0, "a"): 3, (0, "b"): 0, (0, "c"): 9, (0, "d"): 8}
    sums = [((0, "sum"), [(0, "a"), (0, "b"), (0, "c"), (0, "d")])]
    assert national.hidden_cells(counts, sums) == {(0, "a"): "<5", (0, "d"): ".."}


def test_two_small_parts_need_nothing_more_and_a_lone_part_hides_its_sum():
    counts = {(0, "sum"): 12, (0, "a"): 3, (0, "b"): 2, (0, "c"): 7}
    sums = [((0, "sum"), [(0, "a"), (0, "b"), (0, "c")])]
    assert national.hidden_cells(counts, sums) == {(0, "a"): "<5", (0, "b"): "<5"}
    lone = {(0, "sum"): 9, (1, "sum"): 9, (0, "a"): 9}
    chained = [((1, "sum"), [(0, "sum")])]
    assert national.hidden_cells(lone | {(0, "sum"): 3, (1, "sum"): 3}, chained) == {
        (0, "sum"): "<5",
        (1, "sum"): "<5",
    }
