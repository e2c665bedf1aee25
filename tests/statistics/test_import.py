"""The participant import: every bad row reported by line, column and reason; all or nothing."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from coordination.extensions import db
from coordination.statistics.importing import IMPORT_COLUMNS
from coordination.statistics.models import SusParticipant, SusRegistration, SusSupport
from tests.factories import PASSWORD, make_programme, make_user, token_headers

HEADER = ",".join(IMPORT_COLUMNS)
GOOD = (
    "A1,kvinna,1990,Borås,kommun,2013-01-10,2013-06-20,arbete,"
    "forsorjningsstod;aktivitetsstod,ingen_offentlig,uppgift_saknas,ej_subventionerat,"
    "arbetssokande_utan_sysselsattning,arbete,grundskola,upp_till_2_ar"
)
ACTIVE = "A2,man,1985,Mark,af,2013-02-01,,,a_kassa,,uppgift_saknas,,,,gymnasium,upp_till_1_ar"


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _post(api, content: bytes, user=None):
    user = user or make_user("admin")
    return api.post(
        "/api/v1/imports/participants",
        data={"file": (io.BytesIO(content), "history.csv")},
        headers=token_headers(user),
        content_type="multipart/form-data",
    )


def test_a_good_file_is_imported_with_registrations_per_occasion(api):
    response = _post(api, _csv(GOOD, ACTIVE))
    assert response.status_code == 201, response.get_json()
    assert response.get_json() | {"batch_id": 0} == {
        "batch_id": 0,
        "participants": 2,
        "registrations": 3,
        "support_registrations": 4,
    }
    exited = db.session.scalar(select(SusParticipant).where(SusParticipant.participant_ref == "A1"))
    assert (exited.source, exited.age_at_enrolment, exited.months_in_programme) == ("import", 23, 6)
    intake, leaving = exited.registration("intake"), exited.registration("exit")
    assert sorted(intake.support_codes) == ["aktivitetsstod", "forsorjningsstod"]
    assert (intake.work, intake.education, intake.time_on_support) == (
        "uppgift_saknas",
        "grundskola",
        "upp_till_2_ar",
    )
    assert (leaving.support_codes, leaving.work, leaving.occupation) == (
        ["ingen_offentlig"],
        "ej_subventionerat",
        "arbete",
    )


BAD_ROWS = [
    # (row, column, words in the reason)
    (GOOD.replace("A1,kvinna", "A1,kvinnor"), "gender", "finns inte i kodlistan"),
    (GOOD.replace(",1990,", ",90,"), "birth_year", "fyra siffror"),
    (GOOD.replace("2013-01-10", "10/1/2013"), "enrolled_on", "ÅÅÅÅ-MM-DD"),
    (GOOD.replace("2013-06-20", "2012-06-20"), "exited_on", "före inskrivningen"),
    (GOOD.replace(",kommun,", ",skolan,"), "referring_agency", "kommun, af, fk, region"),
    (GOOD.replace("2013-06-20,arbete,", "2013-06-20,,"), "exit_reason", "avslutsanledning"),
    (
        GOOD.replace("forsorjningsstod;aktivitetsstod", "forsorjningsstod;bidrag"),
        "support_before",
        "bidrag",
    ),
    (
        GOOD.replace("forsorjningsstod;aktivitetsstod", "a_kassa;a_kassa"),
        "support_before",
        "två gånger",
    ),
    (ACTIVE.replace(",gymnasium,", ",gymnasiet,"), "education", "finns inte"),
    (ACTIVE.replace("a_kassa,,", "a_kassa,a_kassa,"), "support_after", "utskrivningsdatum"),
    (GOOD.replace("A1,", ","), "participant_ref", "saknas"),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_each_kind_of_bad_row_is_named_by_line_column_and_reason(api, row, column, reason):
    response = _post(api, _csv(ACTIVE.replace("A2", "B1"), row))
    assert response.status_code == 422
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["row_errors"] == [
        {"line": 3, "column": column, "reason": problem["row_errors"][0]["reason"]}
    ]
    assert reason in problem["row_errors"][0]["reason"]
    assert _count(SusParticipant) == 0  # nothing, not even the good first row


def test_all_errors_at_once_and_nothing_is_imported(api):
    rows = [
        GOOD,
        GOOD.replace("A1,kvinna,1990", "A3,okänd,19x0"),
        ACTIVE,
        GOOD.replace(",Borås,", ",Borås"),
    ]
    response = _post(api, _csv(*rows))
    assert response.status_code == 422
    errors = response.get_json()["row_errors"]
    assert [(e["line"], e["column"]) for e in errors] == [
        (3, "gender"),
        (3, "birth_year"),
        (5, "-"),
    ]
    assert "16" in errors[2]["reason"]  # the row has 15 fields, the header 16
    assert (_count(SusParticipant), _count(SusRegistration), _count(SusSupport)) == (0, 0, 0)


def test_header_problems_and_duplicates(api):
    missing = _post(api, b"participant_ref,gender,colour\nA1,kvinna,blue\n").get_json()
    columns = {e["column"] for e in missing["row_errors"]}
    assert {"birth_year", "enrolled_on", "colour"} <= columns
    assert all(e["line"] == 1 for e in missing["row_errors"])
    twice = _post(api, _csv(GOOD, GOOD)).get_json()["row_errors"]
    assert twice == [
        {"line": 3, "column": "participant_ref", "reason": "Samma referens finns redan på rad 2."}
    ]
    programme = make_programme()
    admin = make_user("admin")
    first = api.post(
        f"/api/v1/imports/participants?programme_id={programme.id}",
        data=_csv(GOOD),
        headers=token_headers(admin) | {"Content-Type": "text/csv"},
    )
    assert first.status_code == 201
    again = api.post(
        f"/api/v1/imports/participants?programme_id={programme.id}",
        data=_csv(GOOD),
        headers=token_headers(admin) | {"Content-Type": "text/csv"},
    )
    assert again.status_code == 422
    assert again.get_json()["row_errors"][0]["reason"] == "Deltagaren A1 finns redan i statistiken."


def test_only_admins_import(api):
    assert _post(api, _csv(GOOD), user=make_user("analyst")).status_code == 403


def test_the_import_page_lists_every_error_and_keeps_nothing(client):
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    page = client.get("/statistics/import")
    assert page.status_code == 200
    assert HEADER in page.get_data(as_text=True)
    content = _csv(GOOD, GOOD.replace("A1,kvinna", "A9,kvinnor"))
    response = client.post_form(
        "/statistics/import", {"file": (io.BytesIO(content), "history.csv")}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ingenting importerades" in html
    assert '<td class="table__numeric">3</td>' in html
    assert "<code>gender</code>" in html
    assert "Koden kvinnor finns inte i kodlistan gender." in html
    assert _count(SusParticipant) == 0

    response = client.post_form("/statistics/import", {"file": (io.BytesIO(_csv(GOOD)), "ok.csv")})
    assert response.status_code == 302
    page = client.get("/statistics/import").get_data(as_text=True)
    assert "1 deltagare importerades från ok.csv." in page
    assert _count(SusParticipant) == 1
