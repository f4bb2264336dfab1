"""The real server (`queue-service serve`, gunicorn) under concurrent load, over real HTTP."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from queue_service.domain import schedules
from queue_service.domain.reservations import Booking
from queue_service.store import keys
from tests.factories import make_nik
from tests.live import book_live, call, serving

BRANCH = "jakarta-salemba"


@pytest.fixture
def live_server(redis, redis_server, tmp_path):
    """`queue-service seed-demo`, then `queue-service serve` on a free port."""
    with serving(redis_server.url, tmp_path) as base:
        yield base


def next_open_day(base: str) -> tuple[str, str]:
    """A date and slot that the real clock lets us book at the branch."""
    today = dt.date.today()
    for offset in range(2, 15):
        day = (today + dt.timedelta(days=offset)).isoformat()
        status, body = call(f"{base}/api/v1/branches/{BRANCH}/availability?date={day}")
        if status == 200 and body["open"]:
            return day, body["slots"][-1]["start"]
    pytest.fail("no open day in the booking window")


def test_hundreds_of_concurrent_bookings_over_http_fill_one_slot_exactly(live_server, redis):
    capacity = 9
    settings = schedules.load_settings(redis, BRANCH)
    settings.slot_capacity = capacity
    schedules.store_settings(redis, BRANCH, settings)
    day, slot = next_open_day(live_server)
    niks = [make_nik() for _ in range(280)]
    niks += niks[:20]  # some people press the button twice

    def attempt(nik):
        return book_live(live_server, BRANCH, day, slot, nik)

    with ThreadPoolExecutor(max_workers=48) as pool:
        results = list(pool.map(attempt, niks))

    created = [body for status, body in results if status == 201]
    refusals = {body["error"]["code"] for status, body in results if status != 201}
    assert len(created) == capacity
    assert len({b["queue_number"] for b in created}) == capacity
    assert len({b["code"] for b in created}) == capacity
    assert refusals <= {"slot_full", "already_booked"}
    _, availability = call(f"{live_server}/api/v1/branches/{BRANCH}/availability?date={day}&service=jht")
    assert next(s for s in availability["slots"] if s["start"] == slot)["remaining"] == 0
    codes = redis.lrange(keys.day_bookings(BRANCH, day), 0, -1)
    assert sorted(codes) == sorted(b["code"] for b in created)
    # Sealed at rest: read as the service reads them, with the suite's DATA_KEYS.
    booked_niks = [
        Booking.from_hash(BRANCH, code, redis.hgetall(keys.booking(BRANCH, code))).nik for code in codes
    ]
    assert len(set(booked_niks)) == capacity
