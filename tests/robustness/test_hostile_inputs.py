"""Hostile inputs over every page, filter and form: a clear 4xx or a normal page, never a 500.

The table is the app's url_map (every HTML route, as a person its access rule allows) times the
inputs below. A GET route gets the input in every filter its page offers (and the usual ones); a
POST route gets it in every field of the forms that post to it. Ids in the URL get the id-like
inputs. A form that is shown again keeps what was typed (the safe part of it).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from coordination.core.permissions import rule_for
from tests.robustness.world import build_world, form_body, page_forms

INPUTS = {
    "id_2^31": "2147483648",
    "id_2^63": "9223372036854775808",
    "id_negative": "-1",
    "nul": "Zq7nul\x00byte",
    "lone_surrogate": "Zq7sur\ud800rogate",
    "rtl_zero_width": "Zq7rtl\u202egnp.exe\u200b\u2066",
    "deep_json": "[" * 1200 + "]" * 1200,
    "year_0001": "0001-01-01",
    "year_9999": "9999-12-31",
    "long_text": "Zq7long" + "xå" * 5_000,
    "nan": "NaN",
}
ID_INPUTS = {"id_2^31", "id_2^63", "id_negative"}
# What must still be on a form shown again: the part of the input a page can show.
KEPT = {
    "nul": "Zq7nul",
    "lone_surrogate": "Zq7sur",
    "rtl_zero_width": "Zq7rtl",
    "long_text": "Zq7long",
}
FILTERS = (
    "q",
    "state",
    "page",
    "sort",
    "dir",
    "programme_id",
    "from",
    "to",
    "date_from",
    "date_to",
    "day",
    "coordinator",
    "user_id",
    "municipality",
    "next",
    "warnings",
    "todo_page",
    # The anchors of the paged lists (core.paging, the caseload's sort key and id).
    "after",
    "before",
    "after_id",
    "before_id",
    *(
        f"{name}_{direction}"
        for name in (
            "addable",
            "cases",
            "earlier",
            "escalations",
            "follow_ups",
            "meetings",
            "packets",
            "referrer_escalations",
            "tasks",
            "upcoming",
        )
        for direction in ("after", "before")
    ),
)
STRING_ARGS = {"list_name": "reason", "name": "participants", "fmt": "pdf", "filename": "app.css"}
NOT_PAGES = (".pdf", ".svg", ".ics", ".<fmt>", "/metrics", "/healthz", "/livez")
SKIP_POST = {"auth.logout"}  # signing out would end the walk, not test an input


def html_rules(app):
    return sorted(
        (r for r in app.url_map.iter_rules() if not r.rule.startswith(("/api/", "/static"))),
        key=lambda r: r.rule,
    )


def table_size(app) -> int:
    return len(html_rules(app)) * len(INPUTS)


def _path(rule, world, value: str | None) -> str:
    """The rule's URL with the world's ids, or with `value` in every argument."""
    args = {}
    for name, converter in rule._converters.items():
        if value is not None:
            args[name] = value
        elif isinstance(converter, IntegerConverter):
            args[name] = str(world.ids.get(name, 1))
        else:
            args[name] = STRING_ARGS.get(name, "x")
    parts = []
    for is_dynamic, data in rule._trace:
        parts.append(quote(args[data], safe="") if is_dynamic else data)
    return "".join(parts).split("|", 1)[-1]


def _discover(app, world):
    """GET every page as someone allowed: which filters it offers, which forms post where."""
    adapter = app.url_map.bind("localhost")
    filters, forms, readers = {}, {}, {}
    for rule in html_rules(app):
        if "GET" not in rule.methods or rule.rule.endswith(NOT_PAGES):
            continue
        access = rule_for(app, rule.endpoint)
        for actor in world.for_roles(access.roles if access else frozenset()):
            url = _path(rule, world, None)
            response = actor.client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            readers[rule.endpoint] = actor
            for form in page_forms(response.get_data(as_text=True)):
                action = urlsplit(form["action"] or url).path
                try:
                    endpoint, _args = adapter.match(action, method=form["method"].upper())
                except HTTPException:
                    continue
                names = [n for n, kind in form["controls"] if n != "csrf_token"]
                if form["method"] == "get":
                    filters.setdefault(endpoint, set()).update(names)
                else:
                    forms.setdefault(endpoint, []).append((actor, action, form["controls"]))
            break
    return filters, forms, readers


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_no_server_error_from_hostile_input(app, name):
    """Every route × this input: a 4xx or a normal page, never a 5xx; drafts keep the text."""
    value = INPUTS[name]
    world = build_world(app)
    filters, forms, readers = _discover(app, world)
    failures = []
    walked = 0
    for rule in html_rules(app):
        walked += 1
        access = rule_for(app, rule.endpoint)
        actor = (
            readers.get(rule.endpoint)
            or world.for_roles(access.roles if access else frozenset())[0]
        )
        has_ids = any(isinstance(c, IntegerConverter) for c in rule._converters.values())
        path = _path(rule, world, value if name in ID_INPUTS and has_ids else None)
        documents = rule.rule.endswith(NOT_PAGES)  # they read no filter: only ids are hostile
        if "GET" in rule.methods and (name in ID_INPUTS or not documents):
            names = sorted(filters.get(rule.endpoint, set()) | set(FILTERS))
            query = form_body([(n, value) for n in names]).decode()
            response = actor.client.get(path, query_string=query)
            if response.status_code >= 500:
                failures.append(f"GET {rule.rule} ?…={name}: {response.status_code}")
        if "POST" not in rule.methods or rule.endpoint in SKIP_POST:
            continue
        posted = forms.get(rule.endpoint) or [(actor, path, [("note", "textarea")])]
        for poster, action, controls in posted:
            target = path if name in ID_INPUTS and has_ids else action
            pairs = [("csrf_token", poster.csrf)] + [
                (n, value) for n, kind in controls if n != "csrf_token"
            ]
            response = poster.client.post(
                target, data=form_body(pairs), content_type="application/x-www-form-urlencoded"
            )
            if response.status_code >= 500:
                failures.append(f"POST {rule.rule} fields={name}: {response.status_code}")
                continue
            page = response.get_data(as_text=True)
            typed = [n for n, kind in controls if kind in ("text", "textarea", "search")]
            shown_again = response.status_code == 422 and any(f'name="{n}"' in page for n in typed)
            if name in KEPT and shown_again and KEPT[name] not in page:
                failures.append(f"POST {rule.rule} fields={name}: the typed text is lost")
    assert walked == len(html_rules(app))
    assert not failures, "\n".join(failures)
