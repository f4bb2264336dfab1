"""A bounded schemathesis run against the OpenAPI document of a live server: no 5xx, no
status the document does not list, no body outside its schemas or of another type."""

from __future__ import annotations

import time

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.live import serving

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and mode: about 40 operations, each a few milliseconds here.
EXAMPLES = 4
# The whole run, server start included, must stay well under 30 s on a loaded 2-core CI.
BUDGET_SECONDS = 30


@pytest.fixture(scope="module")
def fuzzed_server(redis_server, tmp_path_factory):
    # Rate limits off (serving's default): the run would spend them and see 429s only.
    with serving(redis_server.url, tmp_path_factory.mktemp("fuzz")) as base:
        yield base


def test_the_api_keeps_its_openapi_document_under_fuzzing(fuzzed_server):
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(f"{fuzzed_server}/api/v1/openapi.json")
    failures = []
    with requests.Session() as session:
        for result in schema.get_all_operations():
            operation = result.ok()
            # Wrong data needs something with a type to get wrong: a body or a query.
            modes = [GenerationMode.POSITIVE]
            if operation.body or operation.query:
                modes.append(GenerationMode.NEGATIVE)
            for mode in modes:
                # Derandomised and without a database: the same examples every run, so a
                # failure is a finding, never luck.
                @hypothesis.settings(
                    max_examples=EXAMPLES,
                    derandomize=True,
                    database=None,
                    deadline=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case):
                    case.call_and_validate(base_url=fuzzed_server, session=session, checks=CHECKS, timeout=30)

                try:
                    run()
                except Exception as error:  # noqa: BLE001 - every finding is reported
                    failures.append(f"{operation.label} [{mode.value}]: {error}")
    assert not failures, "\n\n".join(failures)
    assert time.monotonic() - started < BUDGET_SECONDS
