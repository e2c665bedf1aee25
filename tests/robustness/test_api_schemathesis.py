"""The API against its own OpenAPI document, by schemathesis, in the suite on PostgreSQL.

Every operation of /api/v1/openapi.json, with generated requests (valid and invalid), is sent
in-process to the WSGI app as every role (a bearer token each) and without a token, once with the
generated ids and once with ids of objects that exist. Each answer must not be a server error and
must conform to the document: status code, content type, headers and body schema.

Bounded: a few examples per operation and no example slower than the deadline, so the whole run
takes a couple of minutes on two cores.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

import notifications.views  # noqa: F401  # the inbox endpoints: registered on import
from coordination.api.registry import OPERATIONS as REGISTERED
from tests.robustness.world import build_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 4


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


OPERATIONS = sorted({(op.method.upper(), _path(op.path)) for op in REGISTERED})


@pytest.fixture(scope="module")
def document(app):
    """The API's own document, read from the running app (once: it does not change)."""
    with app.app_context():
        return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def test_the_document_lists_every_registered_operation(document):
    registered = {(op.method.upper(), _path(op.path)) for op in REGISTERED}
    paths = document.raw_schema["paths"]
    listed = {(method.upper(), path) for path, item in paths.items() for method in item}
    assert listed == registered


@pytest.mark.parametrize("mode", list(GenerationMode))
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_as_every_role(app, document, method, path, mode):
    """No server error, and the answer is what the document says, whoever asks."""
    world = build_world(app, browser=False, api=True)
    operation = document[path][method.lower()]
    callers = [{}] + [actor.headers for actor in world.actors]

    @given(operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=timedelta(seconds=10),
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        generated = dict(case.path_parameters or {})
        existing = {name: world.ids.get(name, world.ids["id"]) for name in generated}
        for path_parameters in (generated, existing):
            case.path_parameters = path_parameters
            for headers in callers:
                case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:
        # Nothing invalid to send: no parameter and no body (a plain GET of a list).
        assert (
            mode is GenerationMode.NEGATIVE
            and not operation.path_parameters
            and not (operation.body)
        )
