"""The participant registry's verdicts (domain/participant_registry.py), against a local fake
registry (pytest-httpserver): what each answer means, and what a booking does with it."""

from __future__ import annotations

import logging
import socket
import time

import pytest
from werkzeug import Response

from queue_service.domain.errors import ValidationFailedError
from queue_service.domain.participant_registry import (
    HttpParticipantRegistry,
    NoRegistry,
    RegistryCheck,
    RegistryUnavailableError,
    RegistryVerdict,
    from_settings,
)
from tests.factories import make_nik
from tests.fake_registry import FakeRegistry

NIK, KPJ, NAME = make_nik(), "12345678901", "Budi Santoso"
TIMEOUT_SECONDS = 0.5


@pytest.fixture
def registry(httpserver):
    return HttpParticipantRegistry(httpserver.url_for("/check"), TIMEOUT_SECONDS)


@pytest.mark.parametrize(
    ("valid", "verdict"), [(True, RegistryVerdict.VALID), (False, RegistryVerdict.INVALID)]
)
def test_the_registry_is_asked_once_with_a_json_post_of_nik_kpj_and_name(
    httpserver, registry, valid, verdict
):
    httpserver.expect_request(
        "/check", method="POST", json={"nik": NIK, "kpj": KPJ, "name": NAME}
    ).respond_with_json({"valid": valid})

    assert registry.check(NIK, KPJ, NAME) is verdict

    [(request, _response)] = httpserver.log
    assert request.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "answer",
    [
        Response('{"valid": true}', status=500, content_type="application/json"),
        Response('{"valid": true}', status=201, content_type="application/json"),
        Response("", status=302, headers={"Location": "http://elsewhere.invalid/"}),
        Response("<html>maintenance</html>", content_type="text/html"),
        Response('{"ok": true}', content_type="application/json"),
        Response('{"valid": "true"}', content_type="application/json"),
        Response('{"valid": null}', content_type="application/json"),
        Response('{"valid": 1}', content_type="application/json"),
        Response("[true]", content_type="application/json"),
    ],
    ids=["500", "201", "redirect", "not-json", "no-valid", "string", "null", "number", "list"],
)
def test_any_answer_but_200_with_a_boolean_valid_is_no_verdict(httpserver, registry, answer):
    httpserver.expect_request("/check", method="POST").respond_with_response(answer)

    assert registry.check(NIK, KPJ, NAME) is RegistryVerdict.UNAVAILABLE


def test_a_registry_slower_than_the_timeout_is_no_verdict_and_is_not_waited_for(httpserver):
    fake = FakeRegistry(httpserver)
    registry = HttpParticipantRegistry(fake.url, TIMEOUT_SECONDS)
    assert registry.check(NIK, KPJ, NAME) is RegistryVerdict.VALID  # the same registry, in time
    fake.slow(TIMEOUT_SECONDS * 4)

    started = time.monotonic()
    verdict = registry.check(NIK, KPJ, NAME)
    waited = time.monotonic() - started
    fake.settle()

    assert verdict is RegistryVerdict.UNAVAILABLE
    assert waited < TIMEOUT_SECONDS * 3


def test_a_registry_that_cannot_be_reached_is_no_verdict():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    registry = HttpParticipantRegistry(f"http://127.0.0.1:{port}/check", TIMEOUT_SECONDS)

    assert registry.check(NIK, KPJ, NAME) is RegistryVerdict.UNAVAILABLE


def test_no_verdict_is_logged_without_the_personal_data(httpserver, registry, caplog):
    httpserver.expect_request("/check", method="POST").respond_with_data("down", status=503)

    with caplog.at_level(logging.WARNING, logger="queue_service.domain.participant_registry"):
        registry.check(NIK, KPJ, NAME)

    assert "participant registry gave no verdict: status 503" in caplog.text
    assert NIK not in caplog.text and KPJ not in caplog.text and NAME not in caplog.text


class Fixed:
    """A registry that always gives ``verdict``, counting the questions."""

    def __init__(self, verdict: RegistryVerdict):
        self.verdict = verdict
        self.asked = 0

    def check(self, nik, kpj, name):
        self.asked += 1
        return self.verdict


@pytest.mark.parametrize("failure", ["open", "closed"])
def test_an_accepted_participant_books_unflagged(failure):
    assert RegistryCheck(Fixed(RegistryVerdict.VALID), failure).screen(NIK, KPJ, NAME) == {}


@pytest.mark.parametrize("failure", ["open", "closed"])
def test_a_rejected_pair_is_a_field_error_naming_kpj(failure):
    with pytest.raises(ValidationFailedError) as refused:
        RegistryCheck(Fixed(RegistryVerdict.INVALID), failure).screen(NIK, KPJ, NAME)

    assert refused.value.fields == {"kpj": ["kpj_not_registered"]}


def test_no_verdict_failing_open_books_flagged_unchecked():
    assert RegistryCheck(Fixed(RegistryVerdict.UNAVAILABLE), "open").screen(NIK, KPJ, NAME) == {
        "registry": "unchecked"
    }


def test_no_verdict_failing_closed_refuses_as_unavailable_with_a_retry_after():
    with pytest.raises(RegistryUnavailableError) as refused:
        RegistryCheck(Fixed(RegistryVerdict.UNAVAILABLE), "closed").screen(NIK, KPJ, NAME)

    assert refused.value.code == "unavailable" and refused.value.retry_after > 0


def test_a_failure_mode_other_than_open_or_closed_is_refused():
    with pytest.raises(ValueError, match="open or closed"):
        RegistryCheck(NoRegistry(), "ajar")


def test_without_a_url_there_is_no_registry_to_ask():
    check = from_settings(
        {
            "PARTICIPANT_REGISTRY_URL": None,
            "PARTICIPANT_REGISTRY_TIMEOUT_MS": 800,
            "PARTICIPANT_REGISTRY_FAILURE": "closed",
        }
    )
    assert isinstance(check.registry, NoRegistry) and not check.asks
    assert check.screen(NIK, KPJ, NAME) == {}


def test_the_settings_name_the_registry_and_its_timeout_in_seconds(httpserver):
    check = from_settings(
        {
            "PARTICIPANT_REGISTRY_URL": httpserver.url_for("/check"),
            "PARTICIPANT_REGISTRY_TIMEOUT_MS": 250,
            "PARTICIPANT_REGISTRY_FAILURE": "closed",
        }
    )
    assert check.asks and check.failure == "closed"
    assert check.registry.url == httpserver.url_for("/check") and check.registry.timeout_seconds == 0.25
