"""The inbox says who an item is about where the reader may see the person (issue 20): the
name, or a protected person's code; never in the email of the same message. Bulk "done" and
"read" change only one's own items. The names cost the same statements for three times the items,
and each name shown is a logged read."""

from __future__ import annotations

from sqlalchemy import func, select

from coordination.audit.models import AccessLogEntry
from coordination.extensions import db
from notifications.models import Notification
from notifications.rendering import render
from tests.factories import PASSWORD, make_case, make_inbox_item, make_user
from tests.querycount import counted_queries


def _about_case(user, case, **fields):
    return make_inbox_item(
        user,
        kind="coordinator_assigned",
        template="coordinator_assigned",
        params={"case_id": case.id},
        link=f"/cases/{case.id}",
        subject_type="case",
        subject_id=case.id,
        **fields,
    )


def test_the_inbox_shows_the_participants_name_and_logs_the_read(client):
    coordinator = make_user("coordinator")
    case = make_case(coordinator=coordinator, first_name="Mira", last_name="Lindqvist")
    _about_case(coordinator, case)
    client.login(coordinator.email, PASSWORD)

    page = client.get("/inbox").get_data(as_text=True)
    assert f"Mira Lindqvist</span>: Du är koordinator för deltagande {case.id}" in page
    logged = db.session.scalar(
        select(func.count())
        .select_from(AccessLogEntry)
        .where(
            AccessLogEntry.user_id == coordinator.id,
            AccessLogEntry.object_type == "case",
            AccessLogEntry.object_id == str(case.id),
            AccessLogEntry.action == "list",
            AccessLogEntry.person_id == case.person_id,
        )
    )
    assert logged == 1


def test_a_protected_person_is_shown_by_code_to_a_reader_who_may_not_see_the_name(client):
    lead = make_user("team_lead")
    case = make_case(first_name="Hemlig", last_name="Person", protected_identity=True)
    _about_case(lead, case)
    client.login(lead.email, PASSWORD)

    page = client.get("/inbox").get_data(as_text=True)
    assert "Hemlig" not in page and "Person</span>" not in page
    assert f"P-{case.person_id:06d}</span>: Du är koordinator" in page
    assert "Skyddad identitet" in page


def test_the_email_of_the_same_message_carries_no_name(app):
    coordinator = make_user("coordinator")
    case = make_case(coordinator=coordinator, first_name="Mira", last_name="Lindqvist")
    inbox = _about_case(coordinator, case)
    email = Notification(
        recipient_id=coordinator.id,
        kind=inbox.kind,
        channel="email",
        template=inbox.template,
        params=dict(inbox.params),
        link=inbox.link,
        subject_type="case",
        subject_id=case.id,
        idempotency_key=f"{inbox.idempotency_key}:email",
    )
    db.session.add(email)
    db.session.commit()
    with app.test_request_context():
        rendered = render(email)
    assert f"deltagande {case.id}" in rendered.title
    for text in (rendered.title, rendered.text, rendered.html):
        assert "Mira" not in text and "Lindqvist" not in text


def test_bulk_done_marks_only_ones_own_items(client):
    user = make_user("team_lead")
    other = make_user("team_lead")
    mine = [make_inbox_item(user) for _ in range(3)]
    theirs = make_inbox_item(other)
    client.login(user.email, PASSWORD)

    page = client.get("/inbox").get_data(as_text=True)
    assert page.count('type="checkbox" form="inbox-bulk" name="ids"') == 3
    response = client.post_form(
        "/inbox/mark",
        {"action": "done", "visa": "att-gora", "ids": [mine[0].id, mine[1].id, theirs.id]},
    )
    assert response.status_code == 302
    for item in [*mine, theirs]:
        db.session.refresh(item)
    assert mine[0].done_at is not None and mine[1].done_at is not None
    assert mine[2].done_at is None
    assert theirs.done_at is None and theirs.read_at is None
    todo = client.get("/inbox").get_data(as_text=True)
    assert todo.count('name="ids"') == 1


def test_bulk_read_marks_read_without_done_and_nothing_chosen_is_an_error(client):
    user = make_user("team_lead")
    item = make_inbox_item(user)
    client.login(user.email, PASSWORD)

    client.post_form("/inbox/mark", {"action": "read", "ids": [item.id]})
    db.session.refresh(item)
    assert item.read_at is not None and item.done_at is None
    response = client.post_form("/inbox/mark", {"action": "done"}, follow_redirects=True)
    assert "Välj minst ett meddelande." in response.get_data(as_text=True)
    response = client.post_form("/inbox/mark", {"action": "done", "ids": ["x", "9" * 40]})
    assert response.status_code == 302


def test_bulk_marking_needs_the_csrf_token(client):
    user = make_user("team_lead")
    item = make_inbox_item(user)
    client.login(user.email, PASSWORD)
    response = client.client.post("/inbox/mark", data={"action": "done", "ids": [item.id]})
    assert response.status_code == 400
    db.session.refresh(item)
    assert item.done_at is None


def test_the_names_cost_the_same_statements_for_three_times_the_items(client):
    coordinator = make_user("coordinator")
    client.login(coordinator.email, PASSWORD)

    def items(n: int) -> None:
        for _ in range(n):
            _about_case(coordinator, make_case(coordinator=coordinator))

    def statements() -> int:
        client.get("/inbox")
        with counted_queries() as sent:
            page = client.get("/inbox").get_data(as_text=True)
        return len(sent), page

    items(1)
    few, _ = statements()
    items(2)
    many, page = statements()
    assert many == few
    about_cases = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient_id == coordinator.id,
            Notification.channel == "inbox",
            Notification.subject_type == "case",
        )
    )
    assert about_cases >= 3
    assert page.count("Testa Testsson</span>") == about_cases


def test_items_about_a_referral_or_a_packet_name_the_person(client):
    from tests.factories import make_agency_user, make_referral, make_return_referral

    referrer = make_agency_user("af")
    referral = make_referral("submitted", referrer=referrer, first_name="Olle", last_name="Berg")
    make_inbox_item(
        referrer,
        kind="completion_requested",
        template="completion_requested",
        params={"referral_id": referral.id, "due_on": "2026-03-16"},
        link=f"/referrals/{referral.id}",
        subject_type="referral",
        subject_id=referral.id,
    )
    returned = make_return_referral(
        "delivered", case=make_case(referrer=referrer, first_name="Siv", last_name="Ek")
    )
    client.login(referrer.email, PASSWORD)

    page = client.get("/inbox?visa=alla").get_data(as_text=True)
    assert "Olle Berg</span>: Komplettera en remiss" in page
    packet_rows = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.recipient_id == referrer.id,
            Notification.channel == "inbox",
            Notification.subject_type == "packet",
            Notification.subject_id == returned.packet.id,
        )
    )
    assert packet_rows >= 1  # the delivery's own inbox item
    assert "Siv Ek</span>:" in page
