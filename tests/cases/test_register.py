"""Cases and plans in the register extract, and in retention (gallring)."""

from datetime import timedelta

from sqlalchemy import select, update

from coordination.action_plans.models import PlanVersion
from coordination.audit.extract import build_extract
from coordination.cases.models import Case, CaseHistory, CoordinatorAssignment
from coordination.core.db import utcnow
from coordination.extensions import db
from coordination.people.models import Person
from coordination.people.retention import due_for_erasure, erase_expired
from coordination.referrals.models import ReferralHistory
from tests.factories import admit_case, make_plan


def test_the_register_extract_has_the_cases_and_every_plan_version():
    case = admit_case()
    make_plan(case, signed=True)
    sections = {s["title"]: s["records"] for s in build_extract(case.person_id)["sections"]}
    (record,) = sections["Ärenden"]
    assert (record["id"], record["state"]) == (case.id, "active")
    assert [h["action"] for h in record["history"]] == ["admit", "activate"]
    (plan,) = sections["Handlingsplaner"]
    assert plan["own_goal"] == "Jag vill jobba i en butik och känna mig trygg på vägen dit."
    assert {s["party"] for s in plan["sign_offs"]} == {"participant", "af"}


def _age(case, years: float) -> None:
    then = utcnow() - timedelta(days=365.25 * years)
    for model, column, key in (
        (ReferralHistory, ReferralHistory.at, ReferralHistory.referral_id == case.referral_id),
        (CaseHistory, CaseHistory.at, CaseHistory.case_id == case.id),
        (PlanVersion, PlanVersion.updated_at, PlanVersion.case_id == case.id),
    ):
        db.session.execute(update(model).where(key).values({column.key: then}))
    db.session.execute(
        update(CoordinatorAssignment)
        .where(CoordinatorAssignment.case_id == case.id)
        .values(assigned_at=then)
    )
    db.session.commit()


def test_an_open_case_keeps_the_person_and_a_long_closed_one_is_erased():
    case = admit_case()
    make_plan(case, signed=True)
    _age(case, 6)
    person_id = case.person_id
    assert person_id not in due_for_erasure(utcnow(), 5)  # the case is still open
    # Closing is the exit issue's; here the case is closed directly to show the erasure.
    db.session.execute(update(Case).where(Case.id == case.id).values(state="closed"))
    db.session.commit()
    assert person_id in due_for_erasure(utcnow(), 5)
    erase_expired(utcnow(), 5)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Person, person_id) is None
    assert db.session.get(Case, case.id) is None
    assert not db.session.scalars(select(PlanVersion).where(PlanVersion.case_id == case.id)).all()
