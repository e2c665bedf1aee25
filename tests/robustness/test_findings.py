"""Each finding of the outside probe, as it was reported: every one failed before the fix."""

from __future__ import annotations

import json

from coordination.core.parsing import is_digits, load_form
from coordination.referrals.schemas import WithdrawSchema
from tests.factories import make_case, make_referral, make_user, token_headers
from tests.robustness.world import form_body

INT_MAX = 2**31 - 1  # PostgreSQL's integer
TOO_BIG = INT_MAX + 1


def test_an_id_past_the_integer_column_is_404_in_every_url(api, client):
    lead = make_user("team_lead")
    headers = token_headers(lead)
    for url in (
        f"/api/v1/referrals/{TOO_BIG}",
        f"/api/v1/cases/{TOO_BIG}",
        "/api/v1/cases/1" + "0" * 30,
    ):
        assert api.get(url, headers=headers).status_code == 404, url
    client.login(lead.email, "correct horse battery")
    assert client.get(f"/cases/{TOO_BIG}").status_code == 404
    assert client.get(f"/conferences/{TOO_BIG}").status_code == 404


def test_an_integer_past_the_column_in_a_query_is_a_field_error(api):
    headers = token_headers(make_user("team_lead"))
    for query, field in (
        (f"programme_id={TOO_BIG}", "programme_id"),
        (f"page={TOO_BIG}", "page"),
        ("page=" + "9" * 5000, "page"),
    ):
        response = api.get(f"/api/v1/referrals?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
        assert field in response.get_json()["errors"]


def test_is_digits_stops_at_the_column():
    assert is_digits(str(INT_MAX)) and not is_digits(str(TOO_BIG)) and not is_digits("9" * 5000)


def test_a_page_reading_a_number_with_type_int_gets_the_default_past_the_column(client):
    lead = make_user("team_lead")
    client.login(lead.email, "correct horse battery")
    response = client.post_form("/cases/coordinators", {"coordinator_id": str(TOO_BIG)})
    assert response.status_code < 500


def test_nul_in_a_form_is_a_field_error_with_all_the_others_and_the_text_is_kept(client):
    referral = make_referral("draft")
    referrer = referral.referrer
    client.login(referrer.email, "correct horse battery")
    response = client.post(
        f"/referrals/{referral.id}/edit",
        data=form_body(
            [
                ("csrf_token", client.csrf()),
                ("version", str(referral.version)),
                ("background", "Bakgrund med\x00nolltecken"),
                ("phone", "Telefon\x00"),
                ("email", "inte en adress"),
                ("consent_given_on", "inte ett datum"),
            ]
        ),
        content_type="application/x-www-form-urlencoded",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count("Texten innehåller ett tecken som inte kan sparas.") >= 2
    assert "Bakgrund med" in page  # what was typed is shown again
    assert "inte en adress" in page  # and the other errors are there at once


def test_load_form_reports_unstorable_text_by_field_with_every_other_error(app):
    from werkzeug.datastructures import MultiDict

    from coordination.core.errors import ValidationFailed

    try:
        load_form(WithdrawSchema(), MultiDict({"reason": "Slut\x00"}))
    except ValidationFailed as exc:
        assert exc.errors == {"reason": ["Texten innehåller ett tecken som inte kan sparas."]}
    else:
        raise AssertionError("a NUL was accepted")


def test_nul_and_lone_surrogates_in_the_api_are_422_by_field(api):
    referral = make_referral("submitted")
    headers = token_headers(referral.referrer)
    for text in ("Fick\x00 arbete", "Fick \ud800arbete"):
        response = api.post(
            f"/api/v1/referrals/{referral.id}/withdraw",
            data=json.dumps({"reason": text}),
            content_type="application/json",
            headers=headers,
        )
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert "reason" in response.get_json()["errors"]
    assert api.get(f"/api/v1/referrals/{referral.id}", headers=headers).get_json()["state"] == (
        "submitted"
    )


def test_nul_in_a_query_string_filter_is_a_clear_4xx(api, client):
    lead = make_user("team_lead")
    response = api.get("/api/v1/cases?state=active%00", headers=token_headers(lead))
    assert response.status_code == 422
    assert "state" in response.get_json()["errors"]
    client.login(lead.email, "correct horse battery")
    assert client.get("/cases/?q=%00").status_code == 422


def test_deeply_nested_json_is_400_problem(api):
    headers = token_headers(make_user("referrer"))
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 50 + "1" + "}" * 50):
        response = api.post(
            "/api/v1/referrals", data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 400
        assert response.mimetype == "application/problem+json"


def test_malformed_json_is_400_problem(api):
    headers = token_headers(make_user("referrer"))
    response = api.post(
        "/api/v1/referrals", data="{not json", content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 400


def test_year_0001_and_9999_in_a_date_filter_are_a_clear_4xx(client):
    auditor = make_user("auditor")
    client.login(auditor.email, "correct horse battery")
    for day in ("0001-01-01", "9999-12-31"):
        response = client.post_form("/audit/samples", {"period_from": day, "period_to": day})
        assert response.status_code in (302, 400), day  # drawn (an empty sample), or refused


def test_a_405_says_which_methods_are_allowed(api, client):
    response = api.delete("/api/v1/referrals", headers=token_headers(make_user("referrer")))
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert client.put("/login").headers.get("Allow")


def test_a_role_that_does_not_exist_is_refused_not_a_server_error(client):
    admin = make_user("admin")
    other = make_case().active_assignment.coordinator
    client.login(admin.email, "correct horse battery")
    unit_id = other.memberships[0].unit_id
    response = client.post_form(
        f"/admin/users/{other.id}", {"name": other.name, f"role-{unit_id}": "emperor"}
    )
    assert response.status_code == 400
