"""N+1 guard: the referral list, its API and the referral page send as many statements for many
rows as for few (issue 17); and the list is a page at a time, with its place in the whole."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from coordination.audit.models import AccessLogEntry
from coordination.conferences import agenda as agenda_ops
from coordination.core import paging
from coordination.extensions import db
from coordination.referrals.models import ReferralHistory
from tests.factories import (
    PASSWORD,
    make_conference,
    make_programme,
    make_referral,
    make_user,
    token_headers,
)
from tests.querycount import query_count

FEW, MANY = 3, 9  # MANY stays within one page (50), so every row is on the page counted


def _statements(client, url: str, **kwargs) -> tuple[int, str]:
    """Return the statements one GET sends and the page; the GET must succeed.

    A first GET warms up: the tests share one session with the requests, so rows the test wrote
    since (and the signed-in user they expired) would be counted otherwise.
    """
    client.get(url, **kwargs)
    responses = []
    count = query_count(lambda: responses.append(client.get(url, **kwargs)))
    assert responses[0].status_code == 200, responses[0].status_code
    return count, responses[0].get_data(as_text=True)


def _referrals(count: int, **fields) -> list:
    """Referrals each in a programme of its own, so a lazy load per row would show."""
    return [make_referral("submitted", programme=make_programme(), **fields) for _ in range(count)]


def _listed(page: str, referrals) -> bool:
    return all(f"Remiss {r.id}<" in page for r in referrals)


def test_the_referrers_list_sends_the_same_statements_for_many_referrals(client):
    referrer = make_user("referrer")
    few = _referrals(FEW, referrer=referrer)
    client.login(referrer.email, PASSWORD)
    at_few, page = _statements(client, "/referrals/")
    assert _listed(page, few)
    more = _referrals(MANY - FEW, referrer=referrer)
    at_many, page = _statements(client, "/referrals/")
    assert _listed(page, few + more)
    assert at_many == at_few


def test_the_team_leads_list_sends_the_same_statements_for_many_referrals(client):
    lead = make_user("team_lead")
    few = _referrals(FEW)
    client.login(lead.email, PASSWORD)
    at_few, page = _statements(client, "/referrals/")
    assert _listed(page, few)
    more = _referrals(MANY - FEW)
    at_many, page = _statements(client, "/referrals/")
    assert _listed(page, few + more)
    assert at_many == at_few


def _member_with_agenda(size: int):
    """A conference member and a published agenda of `size` referrals their consent covers."""
    conference = make_conference()
    referrals = [make_referral("on_agenda", conference=conference) for _ in range(size)]
    agenda_ops.publish(conference, by=conference.chair.user)
    db.session.commit()
    member = next(m.user for m in conference.agency_members if m.agency == "af")
    return member, referrals


def test_a_conference_members_list_sends_the_same_statements_for_a_longer_agenda(client):
    counts = []
    for size in (FEW, MANY):
        member, referrals = _member_with_agenda(size)
        client.login(member.email, PASSWORD)
        count, page = _statements(client, "/referrals/")
        assert _listed(page, referrals)
        counts.append(count)
        client.post_form("/logout")
    assert counts[0] == counts[1]


def test_the_api_list_sends_the_same_statements_for_many_referrals(api):
    referrer = make_user("referrer")
    headers = token_headers(referrer)
    _referrals(FEW, referrer=referrer)
    at_few, _body = _statements(api, "/api/v1/referrals?per_page=100", headers=headers)
    _referrals(MANY - FEW, referrer=referrer)
    at_many, text = _statements(api, "/api/v1/referrals?per_page=100", headers=headers)
    body = json.loads(text)
    assert body["total"] == MANY and len(body["items"]) == MANY
    assert all(len(item["history"]) == 2 for item in body["items"])  # draft, submitted
    assert at_many == at_few


def _add_history(referral, count: int) -> None:
    """Transitions by `count` different people, so loading who did each one per row would show."""
    for _ in range(count):
        db.session.add(
            ReferralHistory(
                referral_id=referral.id,
                from_state="submitted",
                to_state="submitted",
                action="note",
                by_id=make_user("team_lead").id,
                note="Anteckning.",
            )
        )
    db.session.commit()


def test_the_referral_page_sends_the_same_statements_for_a_longer_history(client):
    referrer = make_user("referrer")
    referral = make_referral("submitted", referrer=referrer)
    _add_history(referral, FEW)
    client.login(referrer.email, PASSWORD)
    at_few, page = _statements(client, f"/referrals/{referral.id}")
    assert page.count("Anteckning.") == FEW
    _add_history(referral, MANY - FEW)
    at_many, page = _statements(client, f"/referrals/{referral.id}")
    assert page.count("Anteckning.") == MANY
    assert at_many == at_few


def test_the_api_reads_one_referral_in_the_same_statements_for_a_longer_history(api):
    referrer = make_user("referrer")
    referral = make_referral("submitted", referrer=referrer)
    headers = token_headers(referrer)
    url = f"/api/v1/referrals/{referral.id}"
    _add_history(referral, FEW)
    at_few, _body = _statements(api, url, headers=headers)
    _add_history(referral, MANY - FEW)
    at_many, body = _statements(api, url, headers=headers)
    assert [h["action"] for h in json.loads(body)["history"]].count("note") == MANY
    assert at_many == at_few


def _logged_list_reads(user) -> set[int]:
    rows = db.session.scalars(
        select(AccessLogEntry.object_id).where(
            AccessLogEntry.user_id == user.id,
            AccessLogEntry.object_type == "referral",
            AccessLogEntry.action == "list",
        )
    )
    return {int(object_id) for object_id in rows}


def test_the_list_shows_fifty_at_a_time_and_logs_only_those_shown(client):
    lead = make_user("team_lead")
    referrer = make_user("referrer")
    programme = make_programme()
    referrals = [
        make_referral("submitted", programme=programme, referrer=referrer) for _ in range(53)
    ]
    newest_first = referrals[::-1]  # each one written after the one before
    client.login(lead.email, PASSWORD)

    first = client.get("/referrals/").get_data(as_text=True)
    assert "Visar 1–50 av 53" in first
    assert _listed(first, newest_first[:50]) and f"Remiss {newest_first[50].id}<" not in first
    assert "Föregående sida" not in first
    assert _logged_list_reads(lead) == {r.id for r in newest_first[:50]}

    second = client.get(_link(first, "Nästa sida")).get_data(as_text=True)
    assert "Visar 51–53 av 53" in second
    assert _listed(second, newest_first[50:]) and f"Remiss {newest_first[49].id}<" not in second
    assert "Nästa sida" not in second

    back = client.get(_link(second, "Föregående sida")).get_data(as_text=True)
    assert "Visar 1–50 av 53" in back and _listed(back, newest_first[:50])


def test_a_long_list_is_counted_only_so_far_and_exactly_near_its_end(client, monkeypatch):
    """Beyond the cap (1,000; 100 here) the page says "fler än" instead of counting every row;
    the pages still follow each other without loss, and the last ones give the exact number."""
    monkeypatch.setattr(paging, "COUNT_CAP", 100)
    lead = make_user("team_lead")
    programme = make_programme()
    newest_first = [make_referral("submitted", programme=programme) for _ in range(160)][::-1]
    client.login(lead.email, PASSWORD)

    statuses, pages = [], []
    html = client.get("/referrals/").get_data(as_text=True)
    while True:
        statuses += re.findall(r"Visar (\d+–\d+ av (?:fler än )?\d+)", html)
        pages.append(html)
        if "Nästa sida" not in html:
            break
        html = client.get(_link(html, "Nästa sida")).get_data(as_text=True)
    assert statuses == [
        "1–50 av fler än 100",
        "51–100 av fler än 150",
        "101–150 av 160",
        "151–160 av 160",
    ]
    assert _listed(pages[1], newest_first[50:100]) and _listed(pages[3], newest_first[150:])
    back = client.get(_link(pages[3], "Föregående sida")).get_data(as_text=True)
    assert "Visar 101–150 av 160" in back and _listed(back, newest_first[100:150])


def test_the_pages_keep_the_state_filter(client):
    lead = make_user("team_lead")
    programme = make_programme()
    submitted = [make_referral("submitted", programme=programme) for _ in range(51)]
    withdrawn = make_referral("withdrawn", programme=programme)
    client.login(lead.email, PASSWORD)
    first = client.get("/referrals/?state=submitted").get_data(as_text=True)
    assert "Visar 1–50 av 51" in first and f"Remiss {withdrawn.id}<" not in first
    second = client.get(_link(first, "Nästa sida")).get_data(as_text=True)
    assert "Visar 51–51 av 51" in second and _listed(second, submitted[:1])


def test_a_hand_edited_page_key_shows_the_first_page(client):
    referrer = make_user("referrer")
    referral = make_referral("submitted", referrer=referrer)
    client.login(referrer.email, PASSWORD)
    for key in ("x", "-1", "9" * 5000, "9" * 18, "99999999999", "١٢", "0"):
        response = client.get(f"/referrals/?after={key}&before={key}")
        assert response.status_code == 200
        assert "Visar 1–1 av 1" in response.get_data(as_text=True)
        assert _listed(response.get_data(as_text=True), [referral])


def _link(page: str, text: str) -> str:
    """Return the href of the link with this text (entities unescaped)."""
    end = page.index(f">{text}</a>")
    start = page.rindex('href="', 0, end) + len('href="')
    return page[start : page.index('"', start)].replace("&amp;", "&")
