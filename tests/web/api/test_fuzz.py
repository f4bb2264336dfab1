"""A bounded schemathesis run against the OpenAPI document of a live server, with the token of
each role and none, and every check schemathesis has: no 5xx, no status, header or body the
document does not list, nothing the document calls valid refused, nothing it calls invalid
accepted."""

from __future__ import annotations

import datetime as dt

import hypothesis
import pytest
import redis as redis_lib
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from queue_service.domain.accounts import BRANCH_ADMIN, COUNTER_STAFF, NATIONAL_ADMIN, Accounts
from queue_service.domain.kiosks import Kiosks
from queue_service.domain.schedules import WEEKDAYS
from queue_service.web.messages import FIELDS
from queue_service.web.schemas.base import PathSchema
from tests.live import serving

BRANCH = "jakarta-salemba"
STAFF = "fuzz-staff"
# Ids that name something, put in place of a drawn one in half the cases: a drawn id is almost
# never a branch or an account, and only a found one gets past the 404 to the body the document
# describes. Writes too: what they leave is what the document calls valid, so every later
# example still meets a branch the rules allow.
REAL = {"branch_id": BRANCH, "username": STAFF}
_PATH = PathSchema(partial=True)
# Examples per operation and mode, for a role the operation is meant for (its security scheme,
# or a public operation), and for one it is not (refused before anything is read, so one
# example says all there is to say).
EXAMPLES = 4
EXAMPLES_REFUSED = 1
# Which security schemes each role's token answers to.
SCHEMES = {
    "national_admin": {"adminToken", "staffToken"},
    "branch_admin": {"adminToken", "staffToken"},
    "counter_staff": {"staffToken"},
    "kiosk": {"kioskToken"},
    "none": set(),
}
# Refusals (422) of a request the document calls valid that no JSON Schema can foretell, so
# the document names them in words (its 422 descriptions): whether a branch, service or
# username exists is data, a role's branches and a weekday's hours are rules between values,
# and whether a date is past depends on the clock. Tolerated only when every field at fault is
# one of these, with this very refusal.
BETWEEN_HOURS = ("interval_order", "interval_overlap", "slot_not_dividing")
PAST = "date_in_past"
# A closure of days: its last day against its first.
BETWEEN_DAYS = ("range_order", "range_too_long")
# A NIK's and a phone's rules beyond the pattern (a province code, a birth date, the numbering
# plan), as a booking checks them: a NIK release names them in words.
IDENTITY = {
    "nik": ("nik_province", "nik_birth_date", "nik_sequence"),
    "phone": ("phone_format", "phone_not_indonesian", "phone_not_mobile"),
}
# The catalog's (SPEC §6): an id taken or not the path's, an area that does not exist, a prefix
# another service has, a time zone or prefix under bookings, two reasons of a service with one id.
CATALOG_REFUSALS = {
    ("id", "id_taken"),
    ("id", "id_mismatch"),
    ("area_id", "unknown_area"),
    ("prefix", "prefix_taken"),
    ("timezone", "has_bookings"),
    ("prefix", "has_bookings"),
    *((f"requirements.reasons.{index}.id", "duplicate_id") for index in range(1, 20)),
}
DATA_REFUSALS = {
    *((f"service_hours.{weekday}", key) for weekday in WEEKDAYS for key in BETWEEN_HOURS),
    ("date", PAST),
    ("from", PAST),
    *(("to", key) for key in BETWEEN_DAYS),
    ("branch_id", "unknown_branch"),
    ("branches", "unknown_branch"),
    ("branches", "branches_for_role"),
    ("username", "username_taken"),
    ("service_id", "unknown_service"),
    ("service_id", "service_not_offered"),
    ("services", "unknown_service"),
    ("services", "service_not_offered"),
    *((field, key) for field, keys in IDENTITY.items() for key in keys),
    *CATALOG_REFUSALS,
}
# The counter steps need `branch_id` only from an admin of several branches (the document says
# so on the field); for the national admin, its absence is that role's refusal.
SEVERAL_BRANCHES_REFUSALS = {("branch_id", "required")}


@pytest.fixture(scope="module")
def fuzzed_server(redis_server, tmp_path_factory):
    # Rate limits off (serving's default): the run would spend them and see 429s only.
    with serving(redis_server.url, tmp_path_factory.mktemp("fuzz")) as base:
        yield base


@pytest.fixture(scope="module")
def tokens(fuzzed_server, redis_server):
    """A token of each role, made in the data store the server uses (seeded by then)."""
    with redis_lib.Redis.from_url(redis_server.url, decode_responses=True) as redis:
        accounts, now = Accounts(redis), dt.datetime.now(dt.UTC)
        return {
            "national_admin": accounts.create("fuzz-national", NATIONAL_ADMIN, now=now)[1],
            "branch_admin": accounts.create("fuzz-branch", BRANCH_ADMIN, (BRANCH,), now=now)[1],
            "counter_staff": accounts.create(STAFF, COUNTER_STAFF, (BRANCH,), now=now)[1],
            "kiosk": Kiosks(redis).create(BRANCH, "Fuzz", now)[1],
            "none": None,
        }


def _refusals(response) -> set[tuple[str, str]] | None:
    """The (field, message key) pairs of a 422, or None if a message is not a field message."""
    by_text = {text: key for key, text in FIELDS.items()}
    fields = response.json()["error"].get("fields", {})
    pairs = {(field, by_text.get(text)) for field, texts in fields.items() for text in texts}
    return None if not pairs or any(key is None for _field, key in pairs) else pairs


def _accepting(tolerated: set[tuple[str, str]]):
    """``positive_data_acceptance``, except for a 422 whose every fault is in ``tolerated``."""

    def positive_data_acceptance_but_data(ctx, response, case):
        try:
            return positive_data_acceptance(ctx, response, case)
        except RejectedPositiveData:
            refusals = _refusals(response) if response.status_code == 422 else None
            if refusals is None or not refusals <= tolerated:
                raise
            return None

    return positive_data_acceptance_but_data


def _negatable(operation) -> bool:
    """Whether anything in the request can be made invalid: a body, a query, or a path or
    header parameter with a constraint (else negative generation has nothing to work on)."""
    if operation.body or operation.query:
        return True
    constraints = {"pattern", "format", "maxLength", "minLength", "enum"}
    return any(
        constraints & set(parameter.definition.get("schema", {})) for parameter in operation.iter_parameters()
    )


def _with_real_ids(case) -> None:
    """Put the ``REAL`` ids in the path and query, where the drawn value is a well-formed one
    (so a negative case stays negative in what it was drawn to break)."""
    for values in (case.path_parameters, case.query):
        for name, real in REAL.items():
            if values and isinstance(values.get(name), str) and not _PATH.validate({name: values[name]}):
                values[name] = real


def _fuzz(operation, mode, examples: int, send) -> None:
    """``examples`` cases of ``operation`` in ``mode``, each given to ``send``."""

    # Derandomised and without a database: the same examples every run, so a failure is a
    # finding, never luck.
    @hypothesis.settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    def run(case, real):
        if real:
            _with_real_ids(case)
        send(case)

    run()


def test_the_document_names_the_refusals_the_fuzz_tolerates_by_name(fuzzed_server):
    document = requests.get(f"{fuzzed_server}/api/v1/openapi.json", timeout=30).json()
    described = " ".join(
        operation["responses"]["422"]["description"]
        for path in document["paths"].values()
        for operation in path.values()
        if "422" in operation.get("responses", {})
    )
    named = (
        *BETWEEN_HOURS,
        *BETWEEN_DAYS,
        PAST,
        *(key for keys in IDENTITY.values() for key in keys),
        *(key for _field, key in CATALOG_REFUSALS),
    )
    assert [key for key in named if f"`{key}`" not in described] == []


def test_the_api_keeps_its_openapi_document_under_fuzzing(fuzzed_server, tokens):
    schema = schemathesis.openapi.from_url(f"{fuzzed_server}/api/v1/openapi.json")
    failures = []
    sent = []
    with requests.Session() as session:
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            tolerated = DATA_REFUSALS | (SEVERAL_BRANCHES_REFUSALS if role == "national_admin" else set())
            acceptance = _accepting(tolerated)

            def send(case, headers=headers, acceptance=acceptance):
                sent.append(case.operation.label)
                # Every check schemathesis has, the acceptance one knowing the data's refusals.
                case.call_and_validate(
                    base_url=fuzzed_server,
                    session=session,
                    headers=headers,
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[acceptance],
                    timeout=30,
                )

            for result in schema.get_all_operations():
                operation = result.ok()
                security = {name for need in operation.definition.raw.get("security", []) for name in need}
                if not security and token:
                    continue  # a public operation reads no token: fuzzed once, without
                meant = not security or bool(security & SCHEMES[role])
                modes = [GenerationMode.POSITIVE]
                # A token refused is refused before anything else is read.
                if meant and _negatable(operation):
                    modes.append(GenerationMode.NEGATIVE)
                for mode in modes:
                    try:
                        _fuzz(operation, mode, EXAMPLES if meant else EXAMPLES_REFUSED, send)
                    except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - every finding is reported
                        failures.append(f"{operation.label} [{role}, {mode.value}]: {error}")
    assert not failures, "\n\n".join(failures)
    # The run reached the server for every operation, and often.
    assert {result.ok().label for result in schema.get_all_operations()} <= set(sent)
    assert len(sent) > 500
