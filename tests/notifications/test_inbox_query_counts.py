"""N+1 guard: the inbox page and API, and the unread count in every page's header, send as many
statements for many inbox items as for few (issue 17)."""

from __future__ import annotations

import json

from coordination.extensions import db
from tests.factories import PASSWORD, make_inbox_item, make_user, token_headers
from tests.querycount import counted_queries

FEW, MANY = 3, 9  # MANY stays within one page of the inbox (50)


def _statements(client, url: str, **kwargs) -> tuple[list[str], str]:
    """Return the statements one GET sends and the page; the GET must succeed.

    A first GET warms up: the tests share one session with the requests, so rows the test wrote
    since (and the signed-in user they expired) would be counted otherwise.
    """
    client.get(url, **kwargs)
    responses = []
    with counted_queries() as statements:
        responses.append(client.get(url, **kwargs))
    assert responses[0].status_code == 200, responses[0].status_code
    return statements, responses[0].get_data(as_text=True)


def _items(user, count: int) -> None:
    for number in range(count):
        make_inbox_item(user, link=f"/referrals/{number + 1}")


def test_the_inbox_page_sends_the_same_statements_for_many_items(client):
    user = make_user("coordinator")
    _items(user, FEW)
    client.login(user.email, PASSWORD)
    at_few, page = _statements(client, "/inbox")
    assert page.count("Markera som klar<span") == FEW
    _items(user, MANY - FEW)
    at_many, page = _statements(client, "/inbox")
    assert page.count("Markera som klar<span") == MANY
    assert len(at_many) == len(at_few)


def test_the_inbox_api_sends_the_same_statements_for_many_items(api):
    user = make_user("coordinator")
    headers = token_headers(user)
    _items(user, FEW)
    at_few, body = _statements(api, "/api/v1/inbox?per_page=100", headers=headers)
    assert json.loads(body)["total"] == FEW
    _items(user, MANY - FEW)
    at_many, body = _statements(api, "/api/v1/inbox?per_page=100", headers=headers)
    assert json.loads(body)["total"] == MANY and len(json.loads(body)["items"]) == MANY
    assert len(at_many) == len(at_few)


def _counts_of_unread(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM notification" in s and "count(" in s]


def test_the_unread_count_on_an_ordinary_page_is_one_statement_however_many_items(client):
    user = make_user("coordinator")
    _items(user, FEW)
    client.login(user.email, PASSWORD)
    at_few, page = _statements(client, "/inbox/preferences")
    assert f'<span class="tag">{FEW}<span class="visually-hidden"> olästa' in page
    _items(user, MANY - FEW)
    read = make_inbox_item(user)
    read.read_at = read.created_at
    db.session.commit()
    at_many, page = _statements(client, "/inbox/preferences")
    assert f'<span class="tag">{MANY}<span class="visually-hidden"> olästa' in page
    assert len(at_many) == len(at_few)
    assert len(_counts_of_unread(at_many)) == 1
