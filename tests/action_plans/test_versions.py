"""Versions and sign-off: a change after sign-off makes a new version; all versions are kept."""

from datetime import timedelta

from sqlalchemy import select

from coordination.action_plans import operations as ops
from coordination.action_plans.models import PlanVersion
from coordination.cases.models import Case
from coordination.core.i18n import local_today
from coordination.extensions import db
from tests.factories import (
    PASSWORD,
    admit_case,
    make_agency_user,
    make_plan,
    make_user,
    plan_input,
    token_headers,
)


def _setup():
    coordinator = make_user("coordinator")
    contact = make_agency_user("af")
    case = admit_case(coordinator=coordinator)
    return case, coordinator, contact


def _kept_in_force(case):
    """The plan in force as the case keeps it for the caseload's warnings (read in SQL)."""
    return tuple(
        db.session.execute(
            select(Case.plan_in_force, Case.plan_review_on).where(Case.id == case.id)
        ).one()
    )


def _states(case):
    versions = db.session.scalars(
        select(PlanVersion).where(PlanVersion.case_id == case.id).order_by(PlanVersion.number)
    )
    return [(v.number, v.state) for v in versions]


def test_a_draft_is_edited_in_place_until_someone_signs(api):
    case, coordinator, contact = _setup()
    headers = token_headers(coordinator)
    body = _json(plan_input(contact=contact))
    created = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers)
    assert created.status_code == 200
    assert (created.get_json()["outcome"], created.get_json()["number"]) == ("created", 1)
    assert created.get_json()["missing_parties"] == ["participant", "af"]
    body["own_goal"] = "Jag vill börja studera på komvux."
    body["actions"][0]["ref"] = created.get_json()["actions"][0]["ref"]
    edited = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers)
    assert (edited.get_json()["outcome"], edited.get_json()["number"]) == ("updated", 1)
    assert _states(case) == [(1, "draft")]


def test_a_change_after_a_partial_sign_off_makes_a_new_version_and_the_sign_off_must_be_redone(
    api,
):
    case, coordinator, contact = _setup()
    version = make_plan(case, contact=contact)
    ops.sign_off(case, party="participant", method="in_person", by=coordinator)
    db.session.commit()
    assert _states(case) == [(1, "signing")]
    headers = token_headers(coordinator)
    body = _json(plan_input(contact=contact, exit_steps="Studier i stället för praktik."))
    body["actions"][0]["ref"] = version.actions[0].ref
    refused = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers)
    assert refused.status_code == 422
    assert "change_note" in refused.get_json()["errors"]
    body["change_note"] = "Deltagaren vill hellre studera."
    changed = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers)
    assert changed.status_code == 200
    assert (changed.get_json()["outcome"], changed.get_json()["number"]) == ("new_version", 2)
    assert changed.get_json()["missing_parties"] == ["participant", "af"]  # signed again
    assert changed.get_json()["sign_offs"] == []
    assert _states(case) == [(1, "superseded"), (2, "draft")]
    first = api.get(f"/api/v1/cases/{case.id}/plan/versions/1", headers=headers).get_json()
    assert [s["party"] for s in first["sign_offs"]] == ["participant"]  # kept as it was
    assert first["exit_steps"] == "Praktik, sedan anställning med stöd."


def test_the_signed_version_stays_in_force_until_the_new_one_is_signed(api):
    case, coordinator, contact = _setup()
    assert _kept_in_force(case) == (False, None)
    first = make_plan(case, contact=contact, signed=True)
    assert case.state == "active"
    assert _states(case) == [(1, "signed")]
    assert _kept_in_force(case) == (True, first.review_on)
    later_review = first.review_on + timedelta(days=30)
    body = _json(
        plan_input(
            contact=contact,
            planned_exit_on=local_today() + timedelta(days=200),
            review_on=later_review,
            change_note="Tidigare avslut.",
        )
    )
    body["actions"][0]["ref"] = first.actions[0].ref
    headers = token_headers(coordinator)
    changed = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers).get_json()
    assert (changed["number"], changed["state"], changed["in_force_version"]) == (2, "draft", 1)
    assert _states(case) == [(1, "signed"), (2, "draft")]
    assert _kept_in_force(case) == (True, first.review_on)  # the draft is not in force
    signed = api.post(
        f"/api/v1/cases/{case.id}/plan/sign-off",
        json={"party": "participant", "method": "digital"},
        headers=headers,
    )
    assert signed.status_code == 201
    agency = api.post(
        f"/api/v1/cases/{case.id}/plan/sign-off",
        json={"party": "af"},
        headers=token_headers(contact),
    )
    assert agency.status_code == 201
    assert _states(case) == [(1, "superseded"), (2, "signed")]
    assert _kept_in_force(case) == (True, later_review)
    plan = api.get(f"/api/v1/cases/{case.id}/plan", headers=headers).get_json()
    assert (plan["in_force_version"], plan["versions"]) == (2, [1, 2])


def test_action_progress_is_not_a_new_version(api):
    case, coordinator, contact = _setup()
    version = make_plan(case, contact=contact, signed=True)
    action = version.actions[0]
    response = api.post(
        f"/api/v1/cases/{case.id}/plan/actions/{action.id}/status",
        json={"status": "done"},
        headers=token_headers(contact),
    )
    assert response.status_code == 200
    assert response.get_json()["actions"][0]["status"] == "done"
    assert _states(case) == [(1, "signed")]
    outsider = make_agency_user("af")
    refused = api.post(
        f"/api/v1/cases/{case.id}/plan/actions/{action.id}/status",
        json={"status": "ongoing"},
        headers=token_headers(outsider),
    )
    assert refused.status_code == 404  # not related to the case at all


def test_when_every_required_party_has_signed_the_case_becomes_active():
    case, coordinator, contact = _setup()
    version = make_plan(case, contact=contact, overall_agency="kommun")
    assert ops.missing_of(version) == ["participant", "af", "kommun"]
    ops.sign_off(case, party="participant", method="phone", by=coordinator)
    ops.sign_off(case, party="af", by=contact)
    db.session.commit()
    assert case.state == "enrolled"
    ops.sign_off(case, party="kommun", by=make_agency_user("kommun"))
    db.session.commit()
    assert case.state == "active"
    assert case.history[-1].action == "activate"
    assert "version 1" in case.history[-1].reason


def test_who_may_sign_for_whom(api):
    case, coordinator, contact = _setup()
    make_plan(case, contact=contact)
    lead = make_user("team_lead")
    url = f"/api/v1/cases/{case.id}/plan/sign-off"
    # Only the coordinator records the participant's sign-off, and says how.
    lead_tries = api.post(
        url, json={"party": "participant", "method": "phone"}, headers=token_headers(lead)
    )
    assert lead_tries.status_code == 403
    no_method = api.post(url, json={"party": "participant"}, headers=token_headers(coordinator))
    assert no_method.status_code == 422 and "method" in no_method.get_json()["errors"]
    # An agency signs through its own staff.
    assert (
        api.post(url, json={"party": "af"}, headers=token_headers(coordinator)).status_code == 403
    )
    not_required = api.post(url, json={"party": "region"}, headers=token_headers(contact))
    assert not_required.status_code == 422
    assert api.post(url, json={"party": "af"}, headers=token_headers(contact)).status_code == 201
    again = api.post(url, json={"party": "af"}, headers=token_headers(contact))
    assert again.status_code == 409


def test_an_incomplete_plan_cannot_be_signed(api):
    case, coordinator, contact = _setup()
    ops.save_plan(case, {"own_goal": "Ett eget mål.", "goals": [], "actions": []}, by=coordinator)
    db.session.commit()
    response = api.post(
        f"/api/v1/cases/{case.id}/plan/sign-off",
        json={"party": "participant", "method": "in_person"},
        headers=token_headers(coordinator),
    )
    assert response.status_code == 422
    assert {"long_term_goal", "overall_agency", "planned_exit_on", "goals", "actions"} <= set(
        response.get_json()["errors"]
    )


def test_the_plan_rules_are_reported_all_at_once(api):
    case, coordinator, contact = _setup()
    wrong_agency = make_agency_user("region")
    body = _json(plan_input(contact=wrong_agency))
    body["actions"].append({"what": "", "agency": None, "contact_id": None})
    body["goals"][0]["target_on"] = None
    body["review_on"] = (case.enrolled_on - timedelta(days=1)).isoformat()
    response = api.put(
        f"/api/v1/cases/{case.id}/plan", json=body, headers=token_headers(coordinator)
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {
        "review_on",
        "goals.0.target_on",
        "actions.0.contact_id",
        "actions.1.what",
        "actions.1.agency",
        "actions.1.contact_id",
        "actions.1.start_on",
        "actions.1.due_on",
    }


def test_an_unreadable_date_does_not_hide_the_other_errors_of_the_plan(api, client):
    case, coordinator, contact = _setup()
    body = _json(plan_input(contact=contact))
    body["review_on"] = "2099-02-30"
    body["actions"][0]["what"] = ""
    body["actions"][0]["due_on"] = "snart"
    response = api.put(
        f"/api/v1/cases/{case.id}/plan", json=body, headers=token_headers(coordinator)
    )
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {
        "review_on",
        "actions.0.what",
        "actions.0.due_on",
    }
    client.login(coordinator.email, PASSWORD)
    form = {
        "own_goal": "Mitt mål",
        "review_on": "i vår",
        "actions.0.what": "",
        "actions.0.agency": "af",
        "actions.0.contact_id": str(contact.id),
        "actions.0.start_on": local_today().isoformat(),
        "actions.0.due_on": (local_today() + timedelta(days=30)).isoformat(),
        "actions.0.status": "planned",
    }
    page = client.post_form(f"/cases/{case.id}/plan/edit", form)
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "Insats 1: Skriv vad insatsen är." in text and 'value="i vår"' in text


def test_every_agency_of_the_plan_must_be_covered_by_consent_and_reachable(api):
    """Actions only for agencies the consent covers; the agency in charge can open and sign."""
    coordinator = make_user("coordinator")
    case = admit_case(coordinator=coordinator, consent_agencies=["kommun", "af"])
    body = _json(plan_input(contact=make_agency_user("fk"), agency="fk"))
    body["overall_agency"] = "region"
    response = api.put(
        f"/api/v1/cases/{case.id}/plan", json=body, headers=token_headers(coordinator)
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) == {"actions.0.agency", "overall_agency"}
    assert errors["actions.0.agency"] == [
        "Inget giltigt samtycke omfattar Försäkringskassan. "
        "Registrera först ett samtycke som gör det."
    ]
    assert errors["overall_agency"] == [
        "Region (hälso- och sjukvård) behöver minst en insats med kontaktperson i planen "
        "för att kunna godkänna den."
    ]
    # The referring agency (kommun) may have the overall responsibility without an action.
    body = _json(plan_input(contact=make_agency_user("af")))
    body["overall_agency"] = "kommun"
    saved = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=token_headers(coordinator))
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["missing_parties"] == ["participant", "af", "kommun"]


def test_plan_pages_edit_sign_and_compare_side_by_side(client):
    case, coordinator, contact = _setup()
    client.login(coordinator.email, PASSWORD)
    assert "Påbörja handlingsplanen" in client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    start = local_today()
    form = {
        "own_goal": "Jag vill laga mat på en restaurang.",
        "long_term_goal": "Arbete inom restaurang.",
        "overall_agency": "af",
        "review_on": (start + timedelta(days=90)).isoformat(),
        "planned_exit_on": (start + timedelta(days=300)).isoformat(),
        "exit_steps": "Praktik och sedan lönebidrag.",
        "goals.0.text": "Gå en hygienkurs.",
        "goals.0.target_on": (start + timedelta(days=30)).isoformat(),
        "goals.1.text": "",
        "goals.1.target_on": "",
        "actions.0.what": "Praktik i köket.",
        "actions.0.agency": "af",
        "actions.0.contact_id": str(contact.id),
        "actions.0.start_on": (start + timedelta(days=7)).isoformat(),
        "actions.0.due_on": (start + timedelta(days=70)).isoformat(),
        "actions.0.status": "planned",
        "actions.1.what": "",
        "actions.1.status": "planned",
    }
    assert client.post_form(f"/cases/{case.id}/plan/edit", form).status_code == 302
    page = client.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Jag vill laga mat på en restaurang." in page
    assert "Väntar på godkännande från: Deltagaren, Arbetsförmedlingen." in page
    # The declaration comes after the plan it approves.
    assert page.index("Praktik i köket.") < page.index("Registrera godkännandet")
    assert "Jag har läst planen ovan och godkänner den." in page
    signed = client.post_form(
        f"/cases/{case.id}/plan/sign-off", {"party": "participant", "method": "in_person"}
    )
    assert signed.status_code == 302
    edit_page = client.get(f"/cases/{case.id}/plan/edit").get_data(as_text=True)
    assert "Ändrar du det ni kommit överens om blir det en ny version" in edit_page
    ref = (
        db.session.scalar(select(PlanVersion).where(PlanVersion.case_id == case.id)).actions[0].ref
    )
    form.update(
        {
            "actions.0.ref": ref,
            "actions.0.what": "Praktik i köket, tre dagar i veckan.",
            "change_note": "Fler praktikdagar.",
        }
    )
    missing_note = client.post_form(f"/cases/{case.id}/plan/edit", {**form, "change_note": ""})
    assert missing_note.status_code == 422
    assert client.post_form(f"/cases/{case.id}/plan/edit", form).status_code == 302
    compare = client.get(f"/cases/{case.id}/plan/compare").get_data(as_text=True)
    assert "Jämför version 1 och 2" in compare
    assert "Praktik i köket." in compare and "Praktik i köket, tre dagar i veckan." in compare
    assert "Ändrad" in compare
    old = client.get(f"/cases/{case.id}/plan/versions/1").get_data(as_text=True)
    assert "Ersatt" in old and "Praktik i köket." in old


def _json(data: dict) -> dict:
    """Return a plan input with ISO dates, as an API client sends it."""

    def plain(value):
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(data)


def test_nothing_is_signed_or_changed_once_the_case_has_ended(api):
    from coordination.exits import operations as exit_ops
    from tests.factories import exit_data

    case, coordinator, contact = _setup()
    version = make_plan(case, contact=contact)
    exit_ops.register_exit(case, data=exit_data(), by=coordinator)
    db.session.commit()
    assert case.state == "exiting"
    signed = api.post(
        f"/api/v1/cases/{case.id}/plan/sign-off",
        json={"party": "participant", "method": "in_person"},
        headers=token_headers(coordinator),
    )
    assert signed.status_code == 409
    action = version.actions[0]
    moved = api.post(
        f"/api/v1/cases/{case.id}/plan/actions/{action.id}/status",
        json={"status": "done"},
        headers=token_headers(contact),
    )
    assert moved.status_code == 409
    db.session.expire_all()
    assert version.signed_parties == set() and action.status == "planned"


def test_a_refused_action_status_is_shown_at_the_actions_row(client):
    case, coordinator, contact = _setup()
    version = make_plan(case, contact=contact, signed=True)
    action = version.actions[0]
    client.login(contact.email, PASSWORD)
    response = client.post_form(
        f"/cases/{case.id}/plan/actions/{action.id}/status", {"status": "flying"}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert f'<a href="#field-status-{action.id}">' in text
    assert f'id="error-status-{action.id}"' in text
    assert f'id="field-status-{action.id}" name="status" aria-invalid="true"' in text


def test_progress_saved_in_a_new_draft_reaches_the_plan_in_force(api):
    case, coordinator, contact = _setup()
    first = make_plan(case, contact=contact, signed=True)
    body = _json(
        plan_input(
            contact=contact,
            planned_exit_on=local_today() + timedelta(days=200),
            change_note="Tidigare avslut.",
        )
    )
    body["actions"][0]["ref"] = first.actions[0].ref
    headers = token_headers(coordinator)
    api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers)
    body["actions"][0]["status"] = "done"  # the draft (version 2) edited in place
    edited = api.put(f"/api/v1/cases/{case.id}/plan", json=body, headers=headers).get_json()
    assert (edited["outcome"], edited["number"]) == ("updated", 2)
    in_force = api.get(f"/api/v1/cases/{case.id}/plan/versions/1", headers=headers).get_json()
    assert in_force["actions"][0]["status"] == "done"  # its reminders stop too
