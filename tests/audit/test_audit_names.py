"""The auditor reads names, units and words, not ids and codes (issue 20): the log pages show the
user's name and unit and what was done in Swedish, the raw codes kept in a title attribute;
every action and object the code logs has its words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_babel import refresh

from coordination.audit import labels
from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from tests.factories import PASSWORD, make_case, make_unit, make_user

ROOT = Path(__file__).resolve().parents[2]


def _entry(**fields) -> AccessLogEntry:
    entry = AccessLogEntry(at=datetime.now(UTC) - timedelta(minutes=5), **fields)
    db.session.add(entry)
    db.session.commit()
    return entry


def test_the_users_page_shows_names_units_and_swedish_words(client):
    auditor = make_user("auditor")
    unit = make_unit("af", name="Arbetsförmedlingen Östra")
    reader = make_user("referrer", unit=unit)
    case = make_case()
    _entry(
        user_id=reader.id,
        unit_id=unit.id,
        role="referrer",
        action="read",
        object_type="packet",
        object_id="1",
        person_id=case.person_id,
    )
    _entry(user_id=reader.id, unit_id=unit.id, action="print", object_type="action_plan")
    client.login(auditor.email, PASSWORD)

    for url in (f"/audit/user/{reader.id}", f"/audit/person/{case.person_id}"):
        page = client.get(url).get_data(as_text=True)
        assert f">{reader.name}</a>" in page
        assert "Arbetsförmedlingen Östra" in page
        assert "Läste: Återremisspaket 1" in page
        assert 'title="read packet 1"' in page  # the raw codes stay at hand
    page = client.get(f"/audit/user/{reader.id}").get_data(as_text=True)
    assert "Skrev ut: Handlingsplan" in page
    assert f">{reader.id}</a>" not in page


def test_the_sample_shows_names_and_words(client):
    from coordination.audit import review
    from coordination.core.i18n import local_today

    auditor = make_user("auditor")
    reader = make_user("coordinator")
    case = make_case()
    at = datetime.combine(local_today() - timedelta(days=500), datetime.min.time(), tzinfo=UTC)
    at = at + timedelta(hours=12)
    db.session.add(
        AccessLogEntry(
            at=at,
            user_id=reader.id,
            action="update",
            object_type="case",
            object_id=str(case.id),
            person_id=case.person_id,
        )
    )
    db.session.commit()
    drawn = review.draw_sample(start=at.date(), end=at.date(), size=1, by=auditor)
    db.session.commit()
    client.login(auditor.email, PASSWORD)
    page = client.get(f"/audit/samples/{drawn.id}").get_data(as_text=True)
    assert f">{reader.name}</a>" in page
    assert f"Ändrade: Deltagande {case.id}" in page


def test_english_readers_get_english_words(client):
    auditor = make_user("auditor")
    auditor.locale = "en"
    db.session.commit()
    reader = make_user("referrer")
    _entry(user_id=reader.id, action="list", object_type="referral", object_id="3")
    client.login(auditor.email, PASSWORD)
    refresh()  # the test's requests share one app context, where Flask-Babel caches the locale
    page = client.get(f"/audit/user/{reader.id}").get_data(as_text=True)
    assert "Listed: Referral 3" in page


def _logged_codes() -> tuple[set[str], set[str]]:
    actions: set[str] = set()
    objects: set[str] = set()
    for folder in ("coordination", "notifications"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "log_access" not in text and "read=" not in text:
                continue
            actions |= set(re.findall(r'action="([a-z_]+)"', text))
            objects |= set(re.findall(r'log_access\(\s*"([a-z_]+)"', text))
            objects |= set(re.findall(r'\bread="([a-z_]+)"', text))
    return actions, objects


def test_every_logged_action_and_object_has_words():
    actions, objects = _logged_codes()
    assert {"read", "list", "print", "update", "create", "export"} <= actions
    assert actions - set(labels.ACTIONS) == set()
    assert objects - set(labels.OBJECTS) == set()
    assert labels.action_label("read") == "Läste"
    assert labels.object_label("packet") == "Återremisspaket"
    assert labels.action_label("something_new") == "something_new"
