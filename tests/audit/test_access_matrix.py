"""Deny by default, walked: every route × every role answers as its rule says, never with a 500."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordination.core.permissions import rule_for
from tests.factories import (
    PASSWORD,
    make_programme,
    make_referral,
    make_user,
    token_headers,
)
from workflows.organisation import Role

ROLES = [r.value for r in Role]


def _get_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        yield rule


def _url(rule) -> str:
    return re.sub(
        r"<(?:int:)?(\w+)>",
        lambda m: "999999" if "int" in m.group(0) or m.group(1).endswith("id") else "pdf",
        rule.rule,
    )


@pytest.mark.parametrize("role", ROLES)
def test_every_get_route_for_every_role(app, client, api, role):
    user = make_user(role)
    client.login(user.email, PASSWORD)
    headers = token_headers(user)
    failures = []
    for rule in _get_routes(app):
        declared = rule_for(app, rule.endpoint)
        url = _url(rule)
        if url.startswith("/api/"):
            response = api.get(url, headers=headers)
        else:
            response = client.get(url)
        status = response.status_code
        if status >= 500:
            failures.append((url, status))
        elif declared.roles and role not in declared.roles and not declared.public:
            if status != 403:
                failures.append((url, status, "expected 403 for a role the rule excludes"))
        elif "999999" in url and status not in (404, 302):
            failures.append((url, status, "an object that does not exist must answer 404"))
    assert failures == []


RELATIONS = [
    # (who, expected status on the referral page and the API)
    ("own referrer", 200),
    ("another referrer", 404),
    ("team lead", 200),
    ("conference member, not on agenda", 404),
    ("coordinator", 404),
    ("admin", 403),
    ("analyst", 403),
]


@pytest.mark.parametrize(("who", "expected"), RELATIONS)
def test_referral_access_by_relation(client, api, who, expected):
    referral = make_referral("submitted")
    user = {
        "own referrer": lambda: referral.referrer,
        "another referrer": lambda: make_user("referrer"),
        "team lead": lambda: make_user("team_lead"),
        "conference member, not on agenda": lambda: make_user("conference_member"),
        "coordinator": lambda: make_user("coordinator"),
        "admin": lambda: make_user("admin"),
        "analyst": lambda: make_user("analyst"),
    }[who]()
    client.login(user.email, PASSWORD)
    assert client.get(f"/referrals/{referral.id}").status_code == expected
    api_status = api.get(
        f"/api/v1/referrals/{referral.id}", headers=token_headers(user)
    ).status_code
    assert api_status == expected


# A prefix no page text has: a hit can only be the name itself ("Kvinn" is in "Kvinna").
NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyzåäöé", min_size=4, max_size=10).map(
    lambda s: "Xq" + s
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=NAMES, last=NAMES)
def test_a_protected_name_never_reaches_a_non_coordinator(client, api, first, last):
    programme = make_programme()
    referral = make_referral(
        "submitted", programme=programme, first_name=first, last_name=last, protected_identity=True
    )
    lead = make_user("team_lead")
    client.login(lead.email, PASSWORD)
    headers = token_headers(lead)
    bodies = [
        client.get("/referrals/").get_data(as_text=True),
        client.get(f"/referrals/{referral.id}").get_data(as_text=True),
        client.get("/").get_data(as_text=True),
        api.get("/api/v1/referrals", headers=headers).get_data(as_text=True),
        api.get(f"/api/v1/referrals/{referral.id}", headers=headers).get_data(as_text=True),
    ]
    client.post_form("/logout")
    for body in bodies:
        assert first not in body and last not in body
        assert referral.identity_number not in body
