"""The intake registration (SUS) of a live case: made at enrolment from the referral, completed
by the coordinator on the case page and in the API (../shared/DOMAIN.md §12)."""

from __future__ import annotations

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.auth.models import User
from coordination.cases import operations as case_ops
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.statistics.queries import participant_for_case
from tests.conftest import FormClient
from tests.factories import (
    PASSWORD,
    admit_case,
    make_case,
    make_programme,
    make_user,
    token_headers,
)

COMPLETE = {
    "work": "uppgift_saknas",
    "occupation": "arbetssokande_i_atgard",
    "education": "gymnasium",
    "time_on_support": "upp_till_2_ar",
    "support": ["forsorjningsstod", "annan_offentlig"],
}


def _log(person_id: int) -> list[tuple[str, str, str]]:
    rows = db.session.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.person_id == person_id)
        .order_by(AccessLogEntry.id)
    )
    return [(r.object_type, r.action, r.outcome) for r in rows]


def _coordinator(case) -> User:
    return db.session.get(User, case.coordinator_id)


def test_an_enrolled_case_gets_its_sus_record_and_intake_from_the_referral():
    case = make_case(home_municipality="0780", occupation="arbetssokande_utan_sysselsattning")
    participant = participant_for_case(case.id)
    assert participant is not None
    assert (participant.participant_ref, participant.source) == (f"case-{case.id}", "live")
    assert participant.enrolled_on == case.enrolled_on == local_today()
    assert participant.gender == "kvinna" and participant.birth_year == case.person.birth_date.year
    assert (participant.home_municipality, participant.referring_agency) == ("0780", "kommun")
    intake = participant.registration("intake")
    assert (intake.work, intake.occupation, intake.education, intake.time_on_support) == (
        None,
        "arbetssokande_utan_sysselsattning",
        "gymnasium",
        "upp_till_2_ar",
    )
    assert intake.support_codes == ["forsorjningsstod"]


def test_a_case_enrolled_from_the_queue_gets_its_record_then():
    programme = make_programme(capacity=1)
    first = admit_case(programme=programme)
    waiting = admit_case(programme=programme)
    assert waiting.state == "waiting" and participant_for_case(waiting.id) is None
    lead = make_user("team_lead")
    programme.capacity = 2
    db.session.commit()
    case_ops.enrol_from_queue(waiting, coordinator=make_user("coordinator"), by=lead)
    db.session.commit()
    assert participant_for_case(first.id) is not None
    participant = participant_for_case(waiting.id)
    assert participant.enrolled_on == waiting.enrolled_on
    assert participant.registration("intake").support_codes == ["forsorjningsstod"]


def test_the_coordinator_completes_the_intake_from_the_case_page(client):
    case = make_case()
    client.login(_coordinator(case).email, PASSWORD)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="heading-intake"' in page
    assert "Inskrivningen är inte komplett. Saknas: arbete." in page
    assert f'href="/cases/{case.id}/intake"' in page

    form = client.get(f"/cases/{case.id}/intake")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert 'name="work"' in html and 'value="forsorjningsstod" checked' in html

    bad = {"work": "", "occupation": "", "education": "gymnasium", "support": ["bidrag"]}
    response = client.post_form(f"/cases/{case.id}/intake", bad)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Det finns fel i formuläret" in html
    for field in ("work", "occupation", "time_on_support", "support"):
        assert f'href="#field-{field}"' in html, field
    assert participant_for_case(case.id).registration("intake").work is None

    response = client.post_form(f"/cases/{case.id}/intake", COMPLETE)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cases/{case.id}#heading-intake")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Komplett" in page and "Inte komplett" not in page
    intake = participant_for_case(case.id).registration("intake")
    assert (intake.work, intake.occupation) == ("uppgift_saknas", "arbetssokande_i_atgard")
    assert intake.support_codes == ["annan_offentlig", "forsorjningsstod"]
    log = _log(case.person_id)
    assert ("sus_participant", "read", "allowed") in log  # the form, and again after the refusal
    assert ("sus_participant", "update", "allowed") in log


def test_others_who_see_the_case_read_the_intake_and_cannot_change_it(client):
    referrer = make_user("referrer")
    case = make_case(referrer=referrer)
    client.login(referrer.email, PASSWORD)
    page = client.get(f"/cases/{case.id}/intake")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Vid inskrivningen" in html and 'name="work"' not in html
    assert "Visa inskrivningen (SUS)" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert client.post_form(f"/cases/{case.id}/intake", COMPLETE).status_code == 403
    assert participant_for_case(case.id).registration("intake").work is None

    stranger = FormClient(client.application.test_client())
    stranger.login(make_user("coordinator").email, PASSWORD)
    assert stranger.get(f"/cases/{case.id}/intake").status_code == 404
    assert stranger.post_form(f"/cases/{case.id}/intake", COMPLETE).status_code == 404
    assert ("case", "read", "refused") in _log(case.person_id)


def test_a_team_lead_completes_the_intake(client):
    case = make_case()
    client.login(make_user("team_lead").email, PASSWORD)
    assert client.post_form(f"/cases/{case.id}/intake", COMPLETE).status_code == 302
    assert participant_for_case(case.id).registration("intake").work == "uppgift_saknas"


def test_the_api_reads_and_completes_the_intake(api):
    case = make_case()
    headers = token_headers(_coordinator(case))
    url = f"/api/v1/cases/{case.id}/intake"
    body = api.get(url, headers=headers).get_json()
    assert body["case_id"] == case.id and body["complete"] is False
    assert body["missing"] == ["work"]
    assert (body["gender"], body["referring_agency"], body["support"]) == (
        "kvinna",
        "kommun",
        ["forsorjningsstod"],
    )

    bad = api.put(url, json={"work": "heltid", "support": [], "occupation": None}, headers=headers)
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    assert set(bad.get_json()["errors"]) == {
        "work",
        "occupation",
        "education",
        "time_on_support",
        "support",
    }
    unknown = api.put(url, json={**COMPLETE, "shoe_size": 42}, headers=headers)
    assert unknown.status_code == 422 and "shoe_size" in unknown.get_json()["errors"]

    done = api.put(url, json=COMPLETE, headers=headers)
    assert done.status_code == 200
    assert done.get_json()["complete"] is True and done.get_json()["missing"] == []
    assert api.get(url, headers=headers).get_json()["work"] == "uppgift_saknas"
    log = _log(case.person_id)
    assert ("sus_participant", "read", "allowed") in log
    assert ("sus_participant", "update", "allowed") in log


def test_the_api_applies_the_case_permissions(api):
    referrer = make_user("referrer")
    case = make_case(referrer=referrer)
    url = f"/api/v1/cases/{case.id}/intake"
    as_referrer = token_headers(referrer)
    assert api.get(url, headers=as_referrer).status_code == 200
    assert api.put(url, json=COMPLETE, headers=as_referrer).status_code == 403
    stranger = token_headers(make_user("coordinator"))
    assert api.get(url, headers=stranger).status_code == 404
    assert api.put(url, json=COMPLETE, headers=stranger).status_code == 404
    assert api.get(url).status_code == 401


def test_a_waiting_case_has_no_intake_yet(api):
    programme = make_programme(capacity=1)
    admit_case(programme=programme)
    waiting = admit_case(programme=programme)
    headers = token_headers(make_user("team_lead"))
    url = f"/api/v1/cases/{waiting.id}/intake"
    missing = api.get(url, headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    refused = api.put(url, json=COMPLETE, headers=headers)
    assert refused.status_code == 409 and "inte inskriven" in refused.get_json()["detail"]


def test_the_openapi_document_describes_the_intake(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "put"} <= set(paths["/api/v1/cases/{case_id}/intake"])
