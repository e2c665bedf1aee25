"""The import of historical self-ratings (DOMAIN.md §12): all or nothing, every bad row reported
with line, column and reason, on the page and in the API; and the progression they make."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.core.i18n import local_today
from coordination.exits.operations import ensure_sus_participant
from coordination.extensions import db
from coordination.statistics.models import ProgressionRating
from tests.factories import (
    PASSWORD,
    make_case,
    make_programme,
    make_sus_participant,
    make_user,
    token_headers,
)

HEADER = "participant_ref,rated_on,q1,q2,q3,q4,q5,q6,q7,q8,q9,q10\n"


def _row(ref: str, day: str, *scores: int) -> str:
    values = list(scores) if len(scores) == 10 else [scores[0]] * 10
    return ",".join([ref, day, *map(str, values)]) + "\n"


def _ratings() -> int:
    return db.session.scalar(select(func.count()).select_from(ProgressionRating))


def _upload(client, content: str, **form):
    data = {"file": (io.BytesIO(content.encode()), "skattningar.csv"), **form}
    return client.post_form("/statistics/import/ratings", data, content_type="multipart/form-data")


def test_an_admin_imports_history_for_imported_and_live_participants(client):
    old = make_sus_participant(participant_ref="H-1", enrolled_on=date(2019, 3, 1))
    case = make_case()
    live = ensure_sus_participant(case)
    db.session.commit()
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    index = client.get("/statistics/").get_data(as_text=True)
    assert 'href="/statistics/import/ratings"' in index
    content = (
        HEADER
        + _row("H-1", "2019-04-01", 3)
        + _row("H-1", "2019-07-01", 4, 5, 6, 7, 8, 9, 10, 1, 2, 3)
        + _row(live.participant_ref, local_today().isoformat(), 6)
    )
    response = _upload(client, content)
    assert response.status_code == 200
    assert "3 skattningar för 2 deltagare importerades." in response.get_data(as_text=True)
    db.session.expire_all()
    assert [(r.rated_on, r.total) for r in old.ratings] == [
        (date(2019, 4, 1), 30),
        (date(2019, 7, 1), 55),
    ]
    assert [r.total for r in live.ratings] == [60]
    logged = db.session.execute(
        select(AccessLogEntry.object_id, AccessLogEntry.person_id).where(
            AccessLogEntry.user_id == admin.id, AccessLogEntry.action == "import"
        )
    ).all()
    assert sorted(logged) == sorted([(str(old.id), None), (str(live.id), case.person_id)])


def test_a_file_with_bad_rows_imports_nothing_and_names_every_problem(client):
    make_sus_participant(participant_ref="H-1", enrolled_on=date(2019, 3, 1))
    make_sus_participant(
        participant_ref="H-2", enrolled_on=date(2019, 3, 1), ratings=[(date(2019, 5, 2), 5)]
    )
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    content = (
        HEADER
        + _row("H-1", "2019-04-01", 3)  # good, but the file is refused: not imported
        + _row("H-1", "2019-04-01", 4)  # line 3: the same person and day again
        + _row("NOPE", "2019-04-01", 4)  # line 4: unknown reference
        + _row("H-1", "2019-02-01", 4)  # line 5: before enrolment
        + _row("H-2", "2019-05-02", 4)  # line 6: already rated that day
        + "H-1,2019-13-01,1,2,3,4,5,6,7,8,9,0\n"  # line 7: a bad date and a 0
        + _row("H-1", tomorrow, 11)  # line 8: the future and ten scores out of range
        + "H-1,2019-08-01,1,2\n"  # line 9: too few fields
    )
    client.login(make_user("admin").email, PASSWORD)
    response = _upload(client, content)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ingenting importerades" in html
    assert 'href="#row-errors"' in html
    assert _ratings() == 1  # only H-2's earlier rating
    # Checks of the rows themselves first: every one of them is reported.
    expected_parse = [
        (3, "rated_on", "Samma deltagare och datum finns redan på rad 2."),
        (7, "rated_on", "Ange datumet som ÅÅÅÅ-MM-DD."),
        (7, "q10", "Ange ett heltal från 1 till 10."),
        (8, "rated_on", "Datumet ligger i framtiden."),
        *[(8, f"q{n}", "Ange ett heltal från 1 till 10.") for n in range(1, 11)],
        (9, "-", "Raden har 4 fält, rubrikraden 12."),
    ]
    cells = re.sub(r">\s+<", "><", html)
    for line, column, reason in expected_parse:
        row = f'<td class="table__numeric">{line}</td><td><code>{column}</code></td>'
        assert f"{row}<td>{reason}</td>" in cells, (line, column)


def test_references_are_checked_against_the_participants(api):
    make_sus_participant(participant_ref="H-1", enrolled_on=date(2019, 3, 1))
    make_sus_participant(
        participant_ref="H-2", enrolled_on=date(2019, 3, 1), ratings=[(date(2019, 5, 2), 5)]
    )
    content = (
        HEADER
        + _row("H-1", "2019-04-01", 3)
        + _row("NOPE", "2019-04-01", 4)
        + _row("H-1", "2019-02-01", 4)
        + _row("H-2", "2019-05-02", 4)
    )
    headers = token_headers(make_user("admin")) | {"Content-Type": "text/csv"}
    response = api.post("/api/v1/imports/ratings", data=content.encode(), headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["row_errors"] == [
        {
            "line": 3,
            "column": "participant_ref",
            "reason": "Deltagaren NOPE finns inte i statistiken.",
        },
        {
            "line": 4,
            "column": "rated_on",
            "reason": "Skattningen kan inte vara före inskrivningen.",
        },
        {"line": 5, "column": "rated_on", "reason": "Det finns redan en skattning det datumet."},
    ]
    assert _ratings() == 1


def test_a_reference_in_two_programmes_needs_the_programme(api):
    first, second = make_programme(), make_programme()
    make_sus_participant(participant_ref="H-1", programme_id=first.id, enrolled_on=date(2019, 1, 1))
    make_sus_participant(
        participant_ref="H-1", programme_id=second.id, enrolled_on=date(2019, 1, 1)
    )
    headers = token_headers(make_user("admin")) | {"Content-Type": "text/csv"}
    content = (HEADER + _row("H-1", "2019-04-01", 3)).encode()
    refused = api.post("/api/v1/imports/ratings", data=content, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["row_errors"][0]["column"] == "participant_ref"
    accepted = api.post(
        f"/api/v1/imports/ratings?programme_id={second.id}", data=content, headers=headers
    )
    assert accepted.status_code == 201
    assert accepted.get_json() == {"ratings": 1, "participants": 1}


def test_the_api_takes_a_multipart_file_and_a_bad_header_is_reported(api):
    make_sus_participant(participant_ref="H-1", enrolled_on=date(2019, 3, 1))
    headers = token_headers(make_user("admin"))
    bad = "participant_ref,rated_on,q1,q2,q3,q4,q5,q6,q7,q8,q9,q11\nH-1,2019-04-01\n"
    response = api.post(
        "/api/v1/imports/ratings",
        data={"file": (io.BytesIO(bad.encode()), "r.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert [(e["column"], e["reason"]) for e in response.get_json()["row_errors"]] == [
        ("q10", "Kolumnen saknas i rubrikraden."),
        ("q11", "Okänd kolumn."),
    ]
    good = HEADER + _row("H-1", "2019-04-01", 3)
    response = api.post(
        "/api/v1/imports/ratings",
        data={"file": (io.BytesIO(good.encode()), "r.csv")},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201 and response.get_json()["ratings"] == 1


def test_only_those_who_import_participants_import_ratings(client, api):
    for role in ("coordinator", "team_lead", "analyst"):
        headers = token_headers(make_user(role)) | {"Content-Type": "text/csv"}
        response = api.post("/api/v1/imports/ratings", data=HEADER.encode(), headers=headers)
        assert response.status_code == 403
    client.login(make_user("team_lead").email, PASSWORD)
    assert client.get("/statistics/import/ratings").status_code == 403


def test_progression_compares_the_first_and_the_last_rating(api):
    """Per person with at least two ratings: the first against the last, whatever lies between,
    imported and live ratings alike (DOMAIN.md §12)."""
    make_sus_participant(participant_ref="A", gender="kvinna", enrolled_on=date(2020, 1, 1))
    make_sus_participant(participant_ref="B", gender="kvinna", enrolled_on=date(2020, 1, 1))
    make_sus_participant(participant_ref="C", gender="man", enrolled_on=date(2020, 1, 1))
    make_sus_participant(participant_ref="D", gender="man", enrolled_on=date(2020, 1, 1))
    content = (
        HEADER
        # A: 50, up to 90, back to 50: unchanged, though the middle one was higher.
        + _row("A", "2020-02-01", 5)
        + _row("A", "2020-05-01", 9)
        + _row("A", "2020-08-01", 5)
        # B: 50, down to 20, then 51: positive (the last is above the first).
        + _row("B", "2020-02-01", 5)
        + _row("B", "2020-05-01", 2)
        + _row("B", "2020-08-01", 6, 5, 5, 5, 5, 5, 5, 5, 5, 5)
        # C: the rows in any order; the dates decide: 60 first, 59 last: negative.
        + _row("C", "2020-08-01", 6, 6, 6, 6, 6, 6, 6, 6, 6, 5)
        + _row("C", "2020-02-01", 6)
        # D: one rating only: not classified.
        + _row("D", "2020-02-01", 1)
    )
    admin_headers = token_headers(make_user("admin")) | {"Content-Type": "text/csv"}
    response = api.post("/api/v1/imports/ratings", data=content.encode(), headers=admin_headers)
    assert response.get_json() == {"ratings": 9, "participants": 4}
    report = api.get(
        "/api/v1/statistics/progression", headers=token_headers(make_user("analyst"))
    ).get_json()
    rows = {r["code"]: (r["kvinna"], r["man"], r["total"]) for r in report["rows"]}
    assert rows == {"positive": (1, 0, 1), "unchanged": (1, 0, 1), "negative": (0, 1, 1)}
    assert report["denominator"]["total"] == 3
