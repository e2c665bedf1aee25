"""A small world for the robustness checks: one object of each kind, a signed-in client per role.

Shared by the hostile-input table (HTML pages and forms) and the schemathesis run (the API).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask

from coordination.consent.operations import record_consent
from coordination.core.i18n import local_today
from coordination.extensions import db
from coordination.organisations.models import MemberOrganisation
from coordination.programmes.models import Programme
from tests.factories import (
    PASSWORD,
    make_case,
    make_conference,
    make_inbox_item,
    make_meeting,
    make_plan,
    make_referral,
    make_return_referral,
    make_sus_participant,
    make_user,
    token_headers,
)
from tests.socioeconomics.worked import make_price_list, saved_calculation

ROLES = (
    "coordinator",
    "team_lead",
    "referrer",
    "conference_member",
    "admin",
    "analyst",
    "auditor",
)


@dataclass
class Actor:
    """A signed-in person: roles, browser client, bearer headers."""

    roles: frozenset[str]
    user: object
    client: object = None
    csrf: str = ""
    headers: dict = field(default_factory=dict)


@dataclass
class World:
    """The objects every id in a URL can point at, and the people who may see them."""

    ids: dict[str, int]
    actors: list[Actor]

    def for_roles(self, roles: frozenset[str]) -> list[Actor]:
        """The actors allowed by an access rule (any signed-in person for an empty one)."""
        return [a for a in self.actors if not roles or a.roles & roles] or self.actors[:1]


def build_world(app: Flask, *, browser: bool = True, api: bool = False) -> World:
    """Create the objects and people; sign each in with a browser client and/or a token."""
    from tests.conftest import FormClient

    case = make_case()
    coordinator = case.active_assignment.coordinator
    referrer = case.referral.referrer
    version = make_plan(case)
    meeting = make_meeting(case)
    packet_doc = make_return_referral("delivered")
    conference = make_conference(state="published")
    draft = make_referral("submitted", referrer=referrer)
    participant = make_sus_participant()
    people = [
        coordinator,
        referrer,
        make_user("team_lead"),
        conference.agency_members[0].user,
        make_user("admin"),
        make_user("analyst"),
        make_user("auditor"),
    ]
    item = make_inbox_item(coordinator)
    # A second consent of the case's person, for the withdrawal confirmation pages (withdrawing
    # it leaves the person's first consent, so the other pages stay readable).
    consent = record_consent(
        person_id=case.person_id,
        referral_id=case.referral_id,
        data={
            "agencies": ["kommun"],
            "info_kinds": ["employment"],
            "given_on": local_today(),
            "form": "written",
        },
        by=referrer,
        today=local_today(),
    )
    member = MemberOrganisation(code="vaxjo_kommun", name="Växjö kommun", kind="kommun")
    db.session.add(member)
    db.session.flush()
    programme = db.session.get(Programme, case.programme_id)
    calculation = saved_calculation(programme, make_price_list(name="Använd"))
    price_list = make_price_list(name="Redigerbar")  # unused: its page offers the edit form
    ids = {
        "case_id": case.id,
        "referral_id": draft.id,
        "conference_id": conference.id,
        "meeting_id": meeting.id,
        "return_referral_id": packet_doc.id,
        "packet_id": packet_doc.packet.id if packet_doc.packet else packet_doc.id,
        "participant_id": participant.id,
        "programme_id": case.programme_id,
        "person_id": case.person_id,
        "user_id": coordinator.id,
        "unit_id": coordinator.memberships[0].unit_id,
        "notification_id": item.id,
        "number": version.number,
        "action_id": version.actions[0].id if version.actions else 1,
        "id": case.id,
        "report": 0,
        "member_organisation_id": member.id,
        "consent_id": consent.id,
        "price_list_id": price_list.id,
        "calculation_id": calculation.id,
    }
    db.session.commit()
    actors = []
    for person in people:
        roles = frozenset(m.role for m in person.memberships)
        actor = Actor(roles=roles, user=person)
        if browser:
            actor.client = FormClient(app.test_client())
            actor.client.login(person.email, PASSWORD)
            actor.csrf = actor.client.csrf()
        if api:
            actor.headers = token_headers(person)
        actors.append(actor)
    return World(ids=ids, actors=actors)


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    """URL-encode a form as a browser would, lone surrogates passed through as their bytes."""
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass").encode("ascii")


FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR = re.compile(r'([\w-]+)\s*=\s*"([^"]*)"')
CONTROL = re.compile(r"<(input|textarea|select)\b([^>]*)>", re.I)


def page_forms(html: str) -> list[dict]:
    """The forms of a page: action, method and the controls' names and kinds."""
    forms = []
    for attrs, body in FORM.findall(html):
        a = dict(ATTR.findall(attrs))
        controls = []
        for tag, control_attrs in CONTROL.findall(body):
            c = dict(ATTR.findall(control_attrs))
            if "name" in c:
                kind = c.get("type", "text") if tag.lower() == "input" else tag.lower()
                controls.append((c["name"], kind))
        forms.append(
            {
                "action": a.get("action", ""),
                "method": a.get("method", "get").lower(),
                "controls": controls,
            }
        )
    return forms
