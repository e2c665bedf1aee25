"""The home municipality as a code list: SCB's 290 codes, the referral form and API take a code,
the import a code or a name, the municipality report labels rows by the list, and free text kept
from before the list shows as it reads (never re-mapped silently)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from coordination.codes.operations import valid_codes
from coordination.extensions import db
from coordination.referrals.models import Referral
from coordination.statistics.importing import IMPORT_COLUMNS
from coordination.statistics.models import SusParticipant
from tests.factories import (
    PASSWORD,
    make_programme,
    make_referral,
    make_sus_participant,
    make_user,
    referral_data,
    token_headers,
)
from workflows.municipalities import MUNICIPALITIES, municipality_code

ROW = (
    "{ref},kvinna,1990,{municipality},kommun,2013-01-10,,,forsorjningsstod,,uppgift_saknas,,,,"
    "gymnasium,upp_till_1_ar"
)


def _json(data: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}


def _import(api, *municipalities: str):
    rows = [ROW.format(ref=f"M{i}", municipality=m) for i, m in enumerate(municipalities)]
    content = ("\n".join([",".join(IMPORT_COLUMNS), *rows]) + "\n").encode()
    return api.post(
        "/api/v1/imports/participants",
        data={"file": (io.BytesIO(content), "history.csv")},
        headers=token_headers(make_user("admin")),
        content_type="multipart/form-data",
    )


def test_the_list_holds_the_290_municipalities_with_their_scb_codes():
    codes = valid_codes("municipality")
    assert len(codes) == 290 == len(MUNICIPALITIES)
    names = dict(MUNICIPALITIES)
    assert (names["0780"], names["0764"], names["0180"], names["1480"]) == (
        "Växjö",
        "Alvesta",
        "Stockholm",
        "Göteborg",
    )
    assert all(len(code) == 4 and code.isdigit() for code in codes)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Växjö", "0780"),
        ("växjö kommun", "0780"),
        ("  VÄXJÖ  Kommun ", "0780"),
        ("0764", "0764"),
        ("Upplands-Bro", "0139"),
        ("Malung-Sälen kommun", "2023"),
        ("Dalby", None),  # a place, not a municipality: never guessed
        ("Växjö stad", None),
        ("780", None),
        ("", None),
    ],
)
def test_free_text_matches_a_municipality_only_by_its_code_or_name(text, code):
    assert municipality_code(text) == code


def test_the_referral_form_offers_the_list_and_the_detail_page_shows_the_name(client):
    referral = make_referral("draft", home_municipality="0780")
    client.login(referral.referrer.email, PASSWORD)
    form = client.get(f"/referrals/{referral.id}/edit").get_data(as_text=True)
    assert '<select class="select" id="field-home_municipality"' in form
    assert '<option value="0780" selected>Växjö</option>' in form
    assert '<option value="0764">Alvesta</option>' in form
    detail = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Växjö" in detail and "0780" not in detail


def test_a_referral_saved_as_free_text_keeps_it_and_must_choose_a_code_to_be_sent(client):
    referral = make_referral("draft", home_municipality="Gamla byn")
    client.login(referral.referrer.email, PASSWORD)
    form = client.get(f"/referrals/{referral.id}/edit").get_data(as_text=True)
    assert '<option value="Gamla byn" selected>Gamla byn</option>' in form
    assert "Gamla byn" in client.get(f"/referrals/{referral.id}").get_data(as_text=True)


def test_the_api_takes_a_municipality_code_and_refuses_anything_else(api):
    programme = make_programme()
    headers = token_headers(make_user("referrer"))
    body = _json(referral_data(home_municipality="Växjö")) | {
        "programme_id": programme.id,
        "submit": True,
    }
    refused = api.post("/api/v1/referrals", json=body, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["home_municipality"] == ["Välj hemkommun ur listan."]

    body["home_municipality"] = "0780"
    created = api.post("/api/v1/referrals", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["state"] == "submitted"
    stored = db.session.get(Referral, created.get_json()["id"])
    assert stored.home_municipality == "0780"


def test_the_import_takes_a_code_or_a_name_and_names_an_unknown_one(api):
    refused = _import(api, "0780", "Dalby")
    assert refused.status_code == 422
    assert [(e["line"], e["column"]) for e in refused.get_json()["row_errors"]] == [
        (3, "home_municipality")
    ]
    assert "Okänd kommun" in refused.get_json()["row_errors"][0]["reason"]

    done = _import(api, "0780", "Alvesta kommun", "växjö", "")
    assert done.status_code == 201, done.get_json()
    stored = {
        ref: home
        for ref, home in db.session.execute(
            select(SusParticipant.participant_ref, SusParticipant.home_municipality)
        )
    }
    assert stored == {"M0": "0780", "M1": "0764", "M2": "0780", "M3": None}


def test_the_municipality_report_labels_rows_by_the_list_and_keeps_free_text(client, api):
    make_programme()
    for municipality in ("0780", "0780", "0764", "Gamla byn"):
        make_sus_participant(home_municipality=municipality)
    db.session.commit()
    analyst = make_user("analyst")
    response = api.get(
        "/api/v1/statistics/municipality?population=enrolled&date_from=2024-01-01"
        "&date_to=2024-12-31",
        headers=token_headers(analyst),
    )
    assert response.status_code == 200, response.get_json()
    rows = [(r["code"], r["label"], r["total"]) for r in response.get_json()["rows"]]
    assert rows == [("0764", "Alvesta", 1), ("0780", "Växjö", 2), ("Gamla byn", "Gamla byn", 1)]

    client.login(analyst.email, PASSWORD)
    page = client.get("/statistics/reports/municipality").get_data(as_text=True)
    assert '<option value="0780">Växjö</option>' in page  # the filter, by name
