"""A phone's BERHENTI/STOP and its bookings' look-up through a replacement of NIK_HASH_KEY
(README "Replacing NIK_HASH_KEY"): nothing its owner asked for is forgotten, and STATUS still
finds the bookings made before the switch."""

from __future__ import annotations

import pytest

from config import load_settings
from queue_service.domain.inbound_replies import InboundReplies
from queue_service.domain.opt_outs import OptOuts
from queue_service.domain.reservations import Reservations
from queue_service.domain.waitlist import Waitlist
from tests.factories import booking_request

OLD = "old-nik-hash-key-0123456789"
NEW = "new-nik-hash-key-9876543210"
PHONE = "+6281234567890"


@pytest.fixture
def configured(app, redis, settings):
    """``configured(**settings)``: the settings a process started with those runs with."""

    def make(**overrides):
        return load_settings(overrides={**settings, **overrides})

    return make


def test_a_stop_under_the_previous_key_holds_through_the_switch_and_after(redis, configured):
    OptOuts.from_settings(redis, configured(NIK_HASH_KEY=OLD)).stop(PHONE)
    rotating = OptOuts.from_settings(redis, configured(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD))
    assert rotating.stopped(PHONE)
    assert not rotating.stopped("+6281298765432")
    # Moved to the new key's digest: still there once the previous key is gone.
    assert OptOuts.from_settings(redis, configured(NIK_HASH_KEY=NEW)).stopped(PHONE)
    assert not OptOuts.from_settings(redis, configured(NIK_HASH_KEY=OLD)).stopped(PHONE)


def test_mulai_during_the_switch_undoes_a_stop_under_either_key(redis, configured):
    OptOuts.from_settings(redis, configured(NIK_HASH_KEY=OLD)).stop(PHONE)
    rotating = OptOuts.from_settings(redis, configured(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD))
    rotating.resume(PHONE)
    assert not rotating.stopped(PHONE)
    assert not OptOuts.from_settings(redis, configured(NIK_HASH_KEY=NEW)).stopped(PHONE)


def test_status_finds_a_booking_made_before_the_switch(redis, configured, clock):
    made = Reservations.from_settings(redis, configured(NIK_HASH_KEY=OLD)).reserve(
        booking_request(phone=PHONE), clock()
    )
    rotating = configured(NIK_HASH_KEY=NEW, NIK_HASH_KEY_PREVIOUS=OLD)
    reservations = Reservations.from_settings(redis, rotating)
    replies = InboundReplies(
        reservations,
        OptOuts.from_settings(redis, rotating),
        lambda branch_id, number, now: None,
        Waitlist(reservations),
    )
    assert [booking.code for booking in replies.active_bookings(PHONE, clock())] == [made.code]
    assert f"kode {made.code}" in replies.answer(f"whatsapp:{PHONE}", "STATUS", clock())
