"""Programme targets (../shared/DOMAIN.md §12): validation, the admin pages, and the target
against outcome report with its numerator and denominator, on the page, in the CSV and the API."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from coordination.core.errors import ValidationFailed
from coordination.demo import DEMO_TARGETS
from coordination.extensions import db
from coordination.programmes import operations as ops
from coordination.programmes.models import ProgrammeTarget
from tests.factories import (
    PASSWORD,
    make_programme,
    make_referral,
    make_sus_participant,
    make_user,
    token_headers,
)

YEAR = {"date_from": "2024-01-01", "date_to": "2024-12-31"}


def test_a_target_is_refused_with_every_error_at_once():
    programme = make_programme()
    with pytest.raises(ValidationFailed) as refused:
        ops.add_target(
            programme,
            {
                "name": " ",
                "variable": "occupation",
                "occasion": "follow_up_12",
                "codes": ["arbete", "astronaut"],
                "target_percent": "150",
            },
        )
    errors = refused.value.errors
    assert set(errors) == {"name", "codes", "target_percent"}
    assert "astronaut" in errors["codes"][0]
    assert errors["target_percent"] == ["Målet ska vara från 0 till 100 procent."]
    for data, field in (
        ({"variable": "exit_reason", "occasion": "intake", "codes": ["arbete"]}, "occasion"),
        ({"variable": "occupation", "occasion": "", "codes": ["arbete"]}, "occasion"),
        ({"variable": "shoe_size", "codes": ["arbete"]}, "variable"),
        ({"variable": "occupation", "occasion": "exit", "codes": []}, "codes"),
    ):
        with pytest.raises(ValidationFailed) as refused:
            ops.add_target(programme, {"name": "Mål", "target_percent": "50", **data})
        assert set(refused.value.errors) == {field}
    for percent in ("-1", "abc", "33.33", "", "NaN"):
        with pytest.raises(ValidationFailed) as refused:
            ops.add_target(
                programme,
                {
                    "name": "M",
                    "variable": "work",
                    "occasion": "exit",
                    "codes": ["subventionerat"],
                    "target_percent": percent,
                },
            )
        assert set(refused.value.errors) == {"target_percent"}
    target = ops.add_target(
        programme,
        {
            "name": "Rek",
            "variable": "joint_recommendation",
            "occasion": "exit",
            "target_percent": "99,5",
        },
    )
    assert (target.occasion, target.codes, float(target.target_percent)) == (
        None,
        ["with_recommendation"],
        99.5,
    )


def test_admin_adds_changes_and_removes_a_target(client):
    programme = make_programme()
    admin = make_user("admin")
    client.login(admin.email, PASSWORD)
    listing = client.get(f"/programmes/{programme.id}/targets")
    assert listing.status_code == 200 and "Insatsen har inga mål ännu." in listing.get_data(True)
    form = client.get(f"/programmes/{programme.id}/targets/new?variable=occupation")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'name="codes" value="arbete"' in html and "Uppföljning efter 12 månader" in html

    url = f"/programmes/{programme.id}/targets/new"
    bad = client.post_form(
        url, data={"variable": "occupation", "name": "", "target_percent": "101"}
    )
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    for message in (
        "Skriv vad målet gäller",
        "Välj vid vilket tillfälle målet mäts.",
        "Välj minst en kod som räknas som måluppfyllelse.",
        "Målet ska vara från 0 till 100 procent.",
    ):
        assert message in body
    good = client.post_form(
        url,
        data={
            "variable": "occupation",
            "name": "I arbete eller studier",
            "occasion": "follow_up_12",
            "codes": ["arbete", "studier"],
            "target_percent": "35",
        },
    )
    assert good.status_code == 302
    target = db.session.scalar(
        select(ProgrammeTarget).where(ProgrammeTarget.programme_id == programme.id)
    )
    assert (target.variable, target.occasion, target.codes, float(target.target_percent)) == (
        "occupation",
        "follow_up_12",
        ["arbete", "studier"],
        35.0,
    )
    edit = f"/programmes/{programme.id}/targets/{target.id}"
    assert 'value="studier" checked' in client.get(edit).get_data(as_text=True)
    changed = client.post_form(
        edit,
        data={
            "variable": "occupation",
            "name": "I arbete",
            "occasion": "exit",
            "codes": ["arbete"],
            "target_percent": "40,5",
        },
    )
    assert changed.status_code == 302
    db.session.refresh(target)
    assert (target.name, target.occasion, target.codes, float(target.target_percent)) == (
        "I arbete",
        "exit",
        ["arbete"],
        40.5,
    )
    assert "I arbete" in client.get(f"/programmes/{programme.id}/targets").get_data(True)
    assert client.post_form(f"{edit}/delete").status_code == 302
    assert db.session.get(ProgrammeTarget, target.id) is None
    other = make_programme()
    assert client.get(f"/programmes/{other.id}/targets/{target.id}").status_code == 404
    client.post_form("/logout")
    analyst = make_user("analyst")
    client.login(analyst.email, PASSWORD)
    assert client.get(f"/programmes/{programme.id}/targets").status_code == 403


@pytest.fixture()
def targeted():
    """The demo's three targets on a programme, with 2024's exits and follow-ups."""
    programme = make_programme()
    for data in DEMO_TARGETS:
        ops.add_target(programme, data)
    db.session.commit()

    def exited(gender, reason, occupation_12=None, exited_on=date(2024, 6, 10)):
        registrations = {
            "intake": {"occupation": "arbetssokande_utan_sysselsattning"},
            "exit": {"registered_on": exited_on, "exit_reason": reason},
        }
        if occupation_12:
            registrations["follow_up_12"] = {"occupation": occupation_12}
        return make_sus_participant(
            gender=gender,
            programme_id=programme.id,
            enrolled_on=date(2023, 9, 1),
            registrations=registrations,
        )

    exited("kvinna", "arbete", "arbete")
    exited("kvinna", "studier", "annat")
    exited("kvinna", "fullfoljd_star_till_arbetsmarknadens_forfogande")
    exited("kvinna", "sjukdom")
    exited("man", "arbete", "arbete")
    exited("man", "sjukdom", "arbete", exited_on=date(2023, 12, 20))  # exited before 2024
    make_sus_participant(  # another programme: not counted
        gender="man",
        registrations={"exit": {"registered_on": date(2024, 5, 5), "exit_reason": "sjukdom"}},
    )
    for gender in ("kvinna", "man"):
        referral = make_referral("decided", programme=programme, gender=gender)
        referral.referral_date = date(2024, 3, 1)
    db.session.commit()
    return programme


def test_targets_against_outcome_in_the_api(api, targeted):
    headers = token_headers(make_user("analyst"))
    body = api.get(
        "/api/v1/statistics/targets",
        query_string={"programme_id": targeted.id, **YEAR},
        headers=headers,
    ).get_json()
    assert body["report"] == "targets" and body["totals"] is None
    figures = [
        (
            r["label"],
            (r["kvinna"], r["man"], r["total"]),
            (r["denominator"]["kvinna"], r["denominator"]["man"], r["denominator"]["total"]),
            r["percent"]["total"],
            r["target_percent"],
            r["met"],
        )
        for r in body["rows"]
    ]
    assert figures == [
        ("Till arbetsmarknadens förfogande vid avslut", (3, 1, 4), (4, 1, 5), 80.0, 90.0, False),
        ("I arbete eller studier 12 månader efter avslut", (1, 1, 2), (2, 1, 3), 66.7, 35.0, True),
        (
            "Beslutade remisser med skriftlig gemensam rekommendation",
            (1, 1, 2),
            (1, 1, 2),
            100.0,
            100.0,
            True,
        ),
    ]
    first = body["rows"][0]
    assert (first["variable"], first["occasion"], first["codes"]) == (
        "exit_reason",
        "exit",
        ["arbete", "studier", "fullfoljd_star_till_arbetsmarknadens_forfogande"],
    )
    suppressed = api.get(
        "/api/v1/statistics/targets",
        query_string={"programme_id": targeted.id, "suppress": "1", **YEAR},
        headers=headers,
    ).get_json()
    row = suppressed["rows"][1]
    assert (row["kvinna"], row["man"], row["total"], row["suppressed"]) == (
        None,
        None,
        None,
        ["kvinna", "man", "total"],
    )
    assert row["denominator"]["total"] is None and row["denominator"]["suppressed"] == [
        "kvinna",
        "man",
        "total",
    ]


def test_targets_page_and_csv(client, targeted):
    user = make_user("analyst")
    client.login(user.email, PASSWORD)
    query = f"programme_id={targeted.id}&date_from=2024-01-01&date_to=2024-12-31"
    html = client.get(f"/statistics/reports/targets?{query}").get_data(as_text=True)
    row = html[html.index('<th scope="row">Till arbetsmarknadens') :].split("</tr>", 1)[0]
    assert "Avslutsanledning vid utskrivning: Arbete, Studier" in row
    cells = [c.split("</td>")[0] for c in row.split('<td class="table__numeric">')[1:]]
    assert cells[:9] == ["3", "75,0", "1", "100,0", "0", "–", "4", "80,0", "5"]
    assert "<td>Nej</td>" in row
    assert "Varje mål har sin egen nämnare" in html
    text = client.get(f"/statistics/reports/targets/export.csv?{query}").get_data()
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    header = next(i for i, r in enumerate(rows) if r and r[0] == "Kod")
    assert rows[header][-4:] == [
        "Nämnare, totalt",
        "Vad som räknas",
        "Mål, procent",
        "Målet uppfyllt",
    ]
    second = rows[header + 2]
    assert second[1] == "I arbete eller studier 12 månader efter avslut"
    assert second[8:10] == ["2", "66.7"]
    assert second[-4] == "3" and second[-2:] == ["35.0", "Ja"]
    assert len([r for r in rows[header + 1 :] if r]) == 3  # no totals row: targets do not add up
