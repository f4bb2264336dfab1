"""Reservation throughput: a burst of concurrent booking attempts against one branch.

Starts its own redis-server (as the tests do), seeds the demo catalog, then fires
attempts from several processes of many threads each straight at the reservation
operation (no HTTP) and
prints attempts/second and the outcome counts (the booked count must equal the quota).

    python bench/reservations.py [--attempts 20000] [--processes 2] [--threads 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_service.domain import demo, schedules  # noqa: E402
from queue_service.domain.errors import DomainError  # noqa: E402
from queue_service.domain.reservations import BookingRequest, Reservations  # noqa: E402
from queue_service.store import connect as store  # noqa: E402
from queue_service.store import keys, sealing  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

BRANCH = "jakarta-salemba"
DAY = dt.date(2026, 11, 24)
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
# The personal fields are sealed as the service seals them (a fixed key: a benchmark's data).
BENCH_DATA_KEYS = "bench:YmVuY2gtZGF0YS1rZXktbm90LWZvci1wcm9kdWN0aW8="


def run_share(url: str, first: int, count: int, threads: int) -> Counter:
    """One process's share of the attempts, from ``threads`` threads."""
    redis = store.connect(url)
    sealing.install(sealing.Keyring.parse(BENCH_DATA_KEYS))  # as store.data_store does
    reservations = Reservations(redis, nik_secret=b"bench")
    slots = [s.start for s in schedules.slots_of_day(schedules.load_settings(redis, BRANCH), DAY)]

    def attempt(i: int) -> str:
        request = BookingRequest(
            branch_id=BRANCH,
            service_id="jht",
            date=DAY,
            slot=slots[i % len(slots)],
            name="Bench Peserta",
            nik=f"31{(i // 9999) % 10000:04d}120190{i % 9999 + 1:04d}",
            kpj="12345678901",
            phone="+6281234567890",
        )
        try:
            reservations.reserve(request, NOW)
            return "booked"
        except DomainError as refusal:
            return refusal.code

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return Counter(pool.map(attempt, range(first, first + count)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=16, help="per process")
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()

    server = RedisServer()
    try:
        redis = store.connect(server.url)
        demo.seed(redis)
        settings = schedules.load_settings(redis, BRANCH)
        settings.daily_quota, settings.slot_capacity = 5000, 1000
        schedules.store_settings(redis, BRANCH, settings)
        share = args.attempts // args.processes
        started = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.processes) as pool:
            shares = [
                pool.submit(run_share, server.url, n * share, share, args.threads)
                for n in range(args.processes)
            ]
            outcomes = sum((future.result() for future in shares), Counter())
        elapsed = time.perf_counter() - started
        total = share * args.processes
        print(
            f"{total} attempts in {elapsed:.2f} s from {args.processes} processes x "
            f"{args.threads} threads: {total / elapsed:.0f} attempts/s"
        )
        print("outcomes:", dict(outcomes))
        sizes = [
            redis.memory_usage(keys.booking(BRANCH, code), samples=0)
            for code in redis.lrange(keys.day_bookings(BRANCH, DAY.isoformat()), 0, 99)
        ]
        print(
            f"a booking as booked: {sum(sizes) / len(sizes):.0f} bytes (MEMORY USAGE, mean of {len(sizes)})"
        )
        assert outcomes["booked"] == settings.daily_quota, "the quota must be filled exactly"
    finally:
        server.stop()


if __name__ == "__main__":
    main()
