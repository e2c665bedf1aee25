"""Break-glass: a team lead opens what they may not see, with a reason, flagged in the log."""

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from tests.factories import PASSWORD, make_referral, make_user


def test_break_glass_opens_one_object_with_a_reason_and_is_flagged(client):
    draft = make_referral("draft")
    other = make_referral("draft")
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    assert client.get(f"/referrals/{draft.id}").status_code == 404
    refused = client.post_form(
        "/audit/break-glass", {"object_type": "referral", "object_id": draft.id, "reason": "kort"}
    )
    assert refused.status_code == 422
    assert "minst 10 tecken" in refused.get_data(as_text=True)
    reason = "Deltagaren har hört av sig akut och remittenten nås inte."
    granted = client.post_form(
        "/audit/break-glass", {"object_type": "referral", "object_id": draft.id, "reason": reason}
    )
    assert granted.status_code == 302
    assert client.get(f"/referrals/{draft.id}").status_code == 200
    assert client.get(f"/referrals/{other.id}").status_code == 404  # only that one object
    flagged = db.session.scalars(
        select(AccessLogEntry).where(AccessLogEntry.break_glass.is_(True))
    ).all()
    assert {e.action for e in flagged} >= {"break_glass", "read"}
    assert all(e.reason == reason and e.user_id == lead.id for e in flagged)


def test_only_team_leads_may_break_glass(client):
    user = make_user("coordinator")
    client.login(user.email, PASSWORD)
    assert client.get("/audit/break-glass").status_code == 403
