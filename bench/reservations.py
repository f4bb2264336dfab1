"""Reservation throughput: a burst of concurrent booking attempts against one branch.

Starts its own redis-server (as the tests do), seeds the demo catalog, then fires
attempts from many threads straight at the reservation operation (no HTTP) and
prints attempts/second and the outcome counts.

    python bench/reservations.py [--attempts 20000] [--threads 32]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queue_service import demo, schedules, store  # noqa: E402
from queue_service.errors import DomainError  # noqa: E402
from queue_service.reservations import BookingRequest, Reservations  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attempts", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=32)
    args = parser.parse_args()

    server = RedisServer()
    try:
        redis = store.connect(server.url)
        demo.seed(redis)
        branch = "jakarta-salemba"
        settings = schedules.load_settings(redis, branch)
        settings.daily_quota, settings.slot_capacity = 5000, 1000
        schedules.store_settings(redis, branch, settings)
        reservations = Reservations(redis, nik_secret=b"bench")
        now = dt.datetime(2026, 11, 23, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
        slots = [s.start for s in schedules.slots_of_day(settings, dt.date(2026, 11, 24))]

        def attempt(i: int) -> str:
            request = BookingRequest(
                branch_id=branch, service_id="jht", date=dt.date(2026, 11, 24),
                slot=slots[i % len(slots)], name="Bench Peserta",
                nik=f"317101120190{i % 10000:04d}"[:12] + f"{i % 9999 + 1:04d}",
                kpj="12345678901", phone="+6281234567890")
            try:
                reservations.reserve(request, now)
                return "booked"
            except DomainError as refusal:
                return refusal.code

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            outcomes = Counter(pool.map(attempt, range(args.attempts)))
        elapsed = time.perf_counter() - started
        print(f"{args.attempts} attempts in {elapsed:.2f} s with {args.threads} threads: "
              f"{args.attempts / elapsed:.0f} attempts/s")
        print("outcomes:", dict(outcomes))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
