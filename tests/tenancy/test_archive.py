"""Moving a förbund (DOMAIN.md §14): the demo förbund exported from one installation and imported
into another, freshly migrated, is the same förbund there: counts and checksums match the
manifest, the access log's chain holds, and its coordinator sees the same pages.

Both installations are databases of this module's own (the import commits, and the access log is
append-only), made here and dropped afterwards; both connect as the application's role, so the
row-level security of every tenant table applies to the export and the import.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import zipfile

import pytest
from sqlalchemy import Integer, func, select, text

from coordination.audit import chain
from coordination.audit.operations import log_access
from coordination.auth.activation import unusable_password_hash
from coordination.auth.models import User
from coordination.auth.operations import set_password
from coordination.cases.models import Case
from coordination.demo import DEMO_PASSWORD, load_demo
from coordination.extensions import db
from coordination.organisations.models import OrganisationUnit
from coordination.people.models import Person
from coordination.referrals import attachments
from coordination.referrals.models import Referral
from coordination.statistics.reports import REPORTS
from coordination.tenancy import archive_import
from coordination.tenancy.archive import ArchiveError, manifest_of
from coordination.tenancy.archive_import import import_forbund
from coordination.tenancy.context import use
from coordination.tenancy.models import Forbund
from coordination.tenancy.operations import create_forbund
from coordination.tenancy.rls import TENANT_TABLES
from notifications.models import Notification
from tests.installations import drop, installation, own_url
from tests.test_demo import sign_in

pytestmark = pytest.mark.committing

COORDINATOR = "koordinator@demo.example"
TEAM_LEAD = "samordnare@demo.example"
MATCHED = "granskare@demo.example"  # has an account on the target already: matched by email
PDF = b"%PDF-1.4 remissens bilaga\n"


@pytest.fixture(scope="module")
def source(app, tmp_path_factory):
    """The installation the förbund leaves: the demo in förbund 1, an attachment, a chained access
    log with a checkpoint, and a second förbund whose rows must stay behind."""
    url = own_url("archive_source")
    application = installation(url, str(tmp_path_factory.mktemp("source_files")))
    with application.app_context(), use(1):
        load_demo()
        db.session.flush()
        coordinator = db.session.scalar(select(User).where(User.email == COORDINATOR))
        referral = db.session.scalars(select(Referral).order_by(Referral.id)).first()
        attachments.store(referral, filename="bilaga.pdf", content=PDF, by=coordinator)
        for person in db.session.scalars(select(Person).order_by(Person.id)):
            log_access("person", person.id, person_id=person.id, user=coordinator)
        log_access("referral", referral.id, person_id=referral.person_id, user=coordinator)
        db.session.commit()
        chain.verify_increment(db.session, triggered_by="cli")
        db.session.commit()
        other = create_forbund("annat", "Annat förbund")
        with use(other.id):
            db.session.add(OrganisationUnit(name="Annat förbunds kansli", agency_kind="forbund"))
            db.session.commit()
    yield application
    drop(application, url)


@pytest.fixture(scope="module")
def target(app, tmp_path_factory):
    """The installation the förbund moves to: freshly migrated, one account already there."""
    url = own_url("archive_target")
    application = installation(url, str(tmp_path_factory.mktemp("target_files")))
    with application.app_context(), use(1):
        db.session.add(
            User(email=MATCHED, name="Gun på målet", password_hash=unusable_password_hash())
        )
        # Every table's ids start elsewhere than the source's, each table at its own place: an id
        # not mapped, or mapped through the wrong table, shows.
        for number, table in enumerate(db.metadata.sorted_tables, start=1):
            if "id" in table.c and isinstance(table.c.id.type, Integer) and table.c.id.primary_key:
                db.session.execute(
                    text("SELECT setval(pg_get_serial_sequence(:t, 'id'), :v)"),
                    {"t": table.name, "v": 1000 * number},
                )
        db.session.commit()
    yield application
    drop(application, url)


def _invoke(application, args: list[str]) -> str:
    """Run a command; return its output, or raise what it raised."""
    result = application.test_cli_runner().invoke(args=args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def moved(source, target, tmp_path_factory):
    """Export förbund 1 of the source with the command, import it into the target with the
    command; return (archive path, the import's förbund id)."""
    path = tmp_path_factory.mktemp("archive") / "forbund.zip"
    exported = _invoke(source, ["forbund", "export", "forbund-1", "--out", str(path)])
    assert "Exported förbund 'forbund-1'" in exported
    imported = _invoke(
        target, ["forbund", "import", str(path), "--slug", "sodra-dalen", "--name", "Södra Dalen"]
    )
    assert "1 accounts matched by email" in imported
    with target.app_context():
        forbund_id = db.session.scalar(select(Forbund.id).where(Forbund.slug == "sodra-dalen"))
        db.session.rollback()
    return path, forbund_id


def _counts(forbund_id: int) -> dict[str, int]:
    with use(forbund_id):
        counts = {
            name: db.session.scalar(
                select(func.count())
                .select_from(db.metadata.tables[name])
                .where(db.metadata.tables[name].c.forbund_id == forbund_id)
            )
            for name in TENANT_TABLES
        }
        db.session.rollback()
    return counts


def test_the_archive_holds_the_forbund_and_nothing_of_another(source, moved):
    path, _forbund_id = moved
    manifest = manifest_of(path)
    assert manifest["forbund"] == {"slug": "forbund-1", "name": "Samordningsförbundet"}
    with source.app_context():
        counts = _counts(1)
    assert {name: manifest["tables"][name]["rows"] for name in TENANT_TABLES} == counts
    assert counts["referral"] > 0 and counts["case_record"] > 0 and counts["access_log"] > 0
    with zipfile.ZipFile(path) as archive:
        for name, expected in manifest["tables"].items():
            data = archive.read(f"tables/{name}.jsonl")
            assert hashlib.sha256(data).hexdigest() == expected["sha256"]
        units = archive.read("tables/organisation_unit.jsonl").decode()
        users = [
            json.loads(line) for line in archive.read("tables/user_account.jsonl").splitlines()
        ]
    assert "Annat förbunds kansli" not in units
    assert users and all("password_hash" not in u and "totp_secret" not in u for u in users)
    assert [a["sha256"] for a in manifest["attachments"].values()] == [
        hashlib.sha256(PDF).hexdigest()
    ]


def test_the_import_matches_the_manifest(target, moved):
    path, forbund_id = moved
    manifest = manifest_of(path)
    with target.app_context():
        assert _counts(forbund_id) == {n: manifest["tables"][n]["rows"] for n in TENANT_TABLES}
        with use(forbund_id):
            stored = db.session.scalars(select(attachments.Attachment)).all()
            assert [
                hashlib.sha256(attachments.path_of(a).read_bytes()).hexdigest() for a in stored
            ] == [a["sha256"] for a in manifest["attachments"].values()]
            # The chain was computed again over the new ids, and the checkpoint's anchor with it.
            intact, broken_at, checked = chain.verify(db.session)
            assert intact and broken_at is None
            assert checked == manifest["tables"]["access_log"]["rows"]
            # Every log row names the new person ids.
            people = set(db.session.scalars(select(Person.id)))
            logged = set(
                db.session.scalars(
                    select(chain.AccessLogEntry.person_id).where(
                        chain.AccessLogEntry.person_id.is_not(None)
                    )
                )
            )
            assert logged and logged <= people
            read = db.session.scalars(
                select(chain.AccessLogEntry.object_id).where(
                    chain.AccessLogEntry.object_type == "person"
                )
            ).all()
            assert read and {int(i) for i in read} <= people
            # The notifications' links name the new rows.
            cases = set(db.session.scalars(select(Case.id)))
            named = [
                n.params["case_id"]
                for n in db.session.scalars(select(Notification))
                if "case_id" in (n.params or {})
            ]
            assert named and set(named) <= cases
            subjects = [
                n.subject_id
                for n in db.session.scalars(select(Notification))
                if n.subject_type == "case"
            ]
            assert set(subjects) <= cases
            db.session.rollback()
        users = {u.email: u for u in db.session.scalars(select(User))}
        assert users[COORDINATOR].password_hash.startswith("unset:")
        assert users[COORDINATOR].totp_secret is None
        assert users[MATCHED].name == "Gun på målet"  # the target's own account, not a copy
        db.session.rollback()


def _visible(page: str, forbund_name: str) -> str:
    """Return a page's visible text and link targets with ids, tokens and the förbund's name
    normalised."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'name="csrf_token" value="[^"]*"', "", page)
    links = " ".join(re.findall(r'(?:href|action)="([^"]*)"', page))
    words = html.unescape(re.sub(r"<[^>]+>", " ", page))
    both = (words + " " + links).replace(forbund_name, "FÖRBUNDET")
    both = re.sub(r"/\d+(?=[/?\"#\s]|$)", "/ID", both)
    both = re.sub(r"\b(Deltagande|deltagande|Remiss|remiss)( nr)? \d+", r"\1 N", both)
    return " ".join(both.split())


def _signed_in(application, email: str):
    user = db.session.scalar(select(User).where(User.email == email))
    if user.password_hash.startswith("unset:"):  # activated again, as its owner would
        set_password(user, DEMO_PASSWORD)
        db.session.commit()
    return sign_in(application, email)


def _get(browser, url: str) -> str:
    response = browser.get(url, follow_redirects=True)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _first_link(page: str, pattern: str) -> str:
    found = re.search(f'href="({pattern})"', page)
    assert found, pattern
    return found.group(1)


def _pages(application, forbund_name: str) -> dict[str, str]:
    """Return what the coordinator and the team lead see on their main pages, normalised."""
    pages = {}
    with application.app_context():
        coordinator = _signed_in(application, COORDINATOR)
        pages["/cases/"] = _get(coordinator, "/cases/")
        pages["case"] = _get(coordinator, _first_link(pages["/cases/"], r"/cases/\d+"))
        lead = _signed_in(application, TEAM_LEAD)
        pages["/referrals/"] = _get(lead, "/referrals/")
        referral = _first_link(pages["/referrals/"], r"/referrals/\d+")
        pages["referral"] = _get(lead, referral)
        attachment = lead.get(_first_link(pages["referral"], r"/referrals/\d+/attachments/\d+"))
        assert attachment.status_code == 200 and attachment.data == PDF
        pages["/statistics/"] = _get(lead, "/statistics/")
        for name in REPORTS:
            pages[name] = _get(lead, f"/statistics/reports/{name}")
        db.session.rollback()
    return {url: _visible(page, forbund_name) for url, page in pages.items()}


def test_the_same_users_see_the_same_pages_on_the_target(source, target, moved):
    before = _pages(source, "Samordningsförbundet")
    after = _pages(target, "Södra Dalen")
    assert "Aisha Demosson" in before["case"]
    for url, page in before.items():
        assert after[url] == page, url


def test_an_archive_of_another_revision_is_refused_and_nothing_is_written(target, moved, tmp_path):
    path, _forbund_id = moved
    older = tmp_path / "older.zip"

    def _older(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        return json.dumps({**json.loads(data), "revision": "0026_older"}).encode()

    _copy(path, older, _older)
    before = _installation_state(target)
    with target.app_context():
        result = target.test_cli_runner().invoke(
            args=["forbund", "import", str(older), "--slug", "annan", "--name", "Annan"]
        )
        assert result.exit_code != 0
        assert "migration revision '0026_older'" in result.output
        assert "nothing was imported" in result.output
        with pytest.raises(ArchiveError, match="Upgrade the older one"):
            import_forbund(older, slug="annan", name="Annan")
    assert _installation_state(target) == before


def _copy(path, to, change) -> None:
    """Copy an archive, passing each member's (name, bytes) through `change`."""
    with zipfile.ZipFile(path) as archive, zipfile.ZipFile(to, "w") as copy:
        for item in archive.infolist():
            copy.writestr(item, change(item.filename, archive.read(item)))


def _installation_state(application) -> tuple[int, int, list[str]]:
    with application.app_context():
        state = (
            db.session.scalar(select(func.count()).select_from(Forbund)),
            db.session.scalar(select(func.count()).select_from(User)),
            sorted(p.name for p in attachments.storage_dir().iterdir()),
        )
        db.session.rollback()
    return state


@pytest.fixture()
def another(app, tmp_path):
    """A third installation, freshly migrated, with nothing of the archive's in it yet."""
    url = own_url("archive_another")
    application = installation(url, str(tmp_path / "files"))
    yield application
    drop(application, url)


def test_a_damaged_archive_is_refused_midway_and_nothing_is_written(another, moved, tmp_path):
    """The table inserted last (after the attachment's file was stored) does not match its
    checksum: the import fails there, and the förbund, its accounts, rows and files are gone."""
    path, _forbund_id = moved
    manifest = manifest_of(path)
    with another.app_context():
        order = [t.name for t in archive_import._insert_order(archive_import._tenant_tables())]
    last = [n for n in order[order.index("attachment") :] if manifest["tables"][n]["rows"]][-1]
    damaged = tmp_path / "damaged.zip"
    _copy(
        path,
        damaged,
        lambda name, data: (
            data.replace(b"}", b',"x":1}', 1) if name == f"tables/{last}.jsonl" else data
        ),
    )
    before = _installation_state(another)
    with another.app_context(), pytest.raises(ArchiveError, match="does not match its checksum"):
        import_forbund(damaged, slug="skadad", name="Skadad")
    assert _installation_state(another) == before


def test_an_existing_short_name_is_refused(target, moved):
    path, _forbund_id = moved
    before = _installation_state(target)
    with target.app_context():
        result = target.test_cli_runner().invoke(
            args=["forbund", "import", str(path), "--slug", "sodra-dalen", "--name", "Ny"]
        )
    assert result.exit_code != 0 and "'sodra-dalen' exists already" in result.output
    assert _installation_state(target) == before


def test_a_second_copy_into_the_same_installation_is_refused_as_a_clash(target, moved):
    """Moving is to another installation: a second copy of the same förbund into one installation
    clashes on what must be unique across it (its meetings' calendar UIDs, which calendars keep
    forever); the import says so and writes nothing."""
    path, _forbund_id = moved
    before = _installation_state(target)
    with target.app_context(), pytest.raises(ArchiveError, match="clash.*uq_meeting_uid"):
        import_forbund(path, slug="kopia", name="Kopia")
    assert _installation_state(target) == before
