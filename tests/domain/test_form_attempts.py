"""FormAttempts: one booking form, sent twice at once, books once."""

import secrets
import threading

import pytest

from queue_service.domain.bookings import FormAttempts
from queue_service.domain.errors import AlreadyBookedError
from tests.factories import booking_request


def test_a_second_submission_waits_for_the_first_and_gets_its_booking(redis, reservations, clock):
    attempts = FormAttempts(redis, wait_seconds=5)
    token = secrets.token_hex(16)
    assert attempts.start(token) is None
    seen = []
    second = threading.Thread(target=lambda: seen.append(attempts.start(token)))
    second.start()
    booking = reservations.reserve(booking_request(), clock())
    attempts.finish(token, booking)
    second.join(timeout=5)
    assert seen == [(booking.branch_id, booking.code)]


def test_an_abandoned_submission_lets_the_form_be_sent_again(redis):
    attempts = FormAttempts(redis, wait_seconds=5)
    token = secrets.token_hex(16)
    assert attempts.start(token) is None
    attempts.abandon(token)
    assert attempts.start(token) is None


def test_a_first_submission_that_never_ends_is_reported_as_in_flight(redis):
    attempts = FormAttempts(redis, wait_seconds=0.3)
    token = secrets.token_hex(16)
    attempts.start(token)
    with pytest.raises(AlreadyBookedError):
        attempts.start(token)


@pytest.mark.parametrize("token", ["", "x" * 32, "0123456789ABCDEF" * 2, None, 7])
def test_only_tokens_of_the_right_form_are_taken(token):
    assert not FormAttempts.valid(token)
