"""Slow clients against the service (issue 24): ``/healthz`` latency and a booking, with and
without 50 clients trickling a booking's body one byte every 5 s, straight to ``queue-service
serve`` (its defaults: 2 processes x 8 threads) and through ``deploy/nginx/antrian.conf``.

    .venv/bin/python bench/slow_clients.py [--tricklers 50] [--requests 200]

Its own redis-server and ``serve`` (``tests/live.py``), and Debian's nginx as the deploy test
runs it. Prints one line per case: /healthz p50, p99 and max over ``--requests`` sequential
requests, and how long a booking (captcha, then POST) took. The targets: p99 < 100 ms behind
nginx, and everything within 1 s straight to ``serve``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.deploy.test_nginx import running_nginx  # noqa: E402
from tests.live import book_live, serving, trickling  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.web.test_live_server import BRANCH, next_open_day  # noqa: E402


def healthz_ms(base: str, requests: int) -> list[float]:
    host, port = base.removeprefix("http://").split(":")
    taken = []
    for _ in range(requests):
        started = time.perf_counter()
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        connection.close()
        taken.append((time.perf_counter() - started) * 1000)
    return taken


def booking_ms(base: str, day: str, slot: str) -> float:
    started = time.perf_counter()
    status, answer = book_live(base, BRANCH, day, slot)
    assert status == 201, answer
    return (time.perf_counter() - started) * 1000


def row(label: str, taken: list[float], booking: float) -> str:
    p99 = statistics.quantiles(taken, n=100, method="inclusive")[98]
    return (
        f"{label:<34} /healthz p50 {statistics.median(taken):6.1f} ms  p99 {p99:6.1f} ms  "
        f"max {max(taken):7.1f} ms   booking {booking:6.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tricklers", type=int, default=50)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    redis_server = RedisServer()
    redis_server.start()
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as cleanup:
        cleanup.callback(redis_server.stop)
        folder = Path(folder)
        with serving(redis_server.url, folder, TRUSTED_PROXY_COUNT="1") as app:
            with running_nginx(folder, int(app.rsplit(":", 1)[1])) as proxy:
                day, slot = next_open_day(app)
                for label, base in (("serve (2 x 8)", app), ("nginx -> serve", proxy)):
                    print(
                        row(f"{label}, alone", healthz_ms(base, args.requests), booking_ms(base, day, slot))
                    )
                    with trickling(base, args.tricklers, every=5.0):
                        print(
                            row(
                                f"{label}, {args.tricklers} trickling",
                                healthz_ms(base, args.requests),
                                booking_ms(base, day, slot),
                            ),
                            flush=True,
                        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
