"""The SMS worker's throughput against a local fake Twilio, this tree's code and, with
``--baseline REV``, a git revision's, alternated round by round.

Each run starts its own redis-server, seeds the demo catalog, books ``--messages`` places
across every branch (each puts a confirmation on its branch's outbox), and times
``queue-service worker --burst`` sending them to a fake Twilio in a process of its own: the
messages per second between the first one the fake received and the last (the worker's
start-up left out), and the Redis commands the worker sent per message. The fake is
``tests/fake_twilio.py``'s, as ``make bench``'s SMS row uses it; it closes each connection
after its answer, as the HTTP server it runs on does (Twilio keeps them open).

    .venv/bin/python bench/sms_worker.py [--messages 1000] [--baseline GIT-REV] [--rounds 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from service_http import _export  # noqa: E402

from queue_service.domain import catalog, demo, schedules  # noqa: E402
from queue_service.domain.errors import DomainError  # noqa: E402
from queue_service.domain.reservations import BookingRequest, Reservations  # noqa: E402
from queue_service.store import connect as store  # noqa: E402
from queue_service.store import sealing  # noqa: E402
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM  # noqa: E402
from tests.live import a_bookable_weekday  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402

SECRET_KEY = "bench-secret-key-of-the-sms-worker"
# The personal fields are sealed as the service seals them (a fixed key: a benchmark's data).
DATA_KEYS = "bench:YmVuY2gtZGF0YS1rZXktbm90LWZvci1wcm9kdWN0aW8="


def fake_twilio() -> None:
    """The fake Twilio, in this process: prints its base URL, then, once its standard input
    closes, the times (``time.monotonic()``) at which it took each message, as JSON."""
    import logging

    from pytest_httpserver import HTTPServer

    from tests.fake_twilio import FakeTwilio
    from tests.redis_server import free_port

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per message otherwise
    taken: list[float] = []
    server = HTTPServer(host="127.0.0.1", port=free_port(), threaded=True)
    server.start()
    fake = FakeTwilio(server, on_create=lambda _message: taken.append(time.monotonic())).install()
    print(fake.base_url, flush=True)
    sys.stdin.read()
    server.stop()
    print(json.dumps(taken), flush=True)


def book(redis, messages: int) -> int:
    """Book up to ``messages`` places on the next bookable weekday, branch after branch; the
    number booked."""
    reservations = Reservations(redis, nik_secret=SECRET_KEY.encode())
    day = a_bookable_weekday()
    now = dt.datetime.now(dt.UTC)
    branches = [branch.id for branch in catalog.list_branches(redis, retired=False)]
    slots = {
        branch: [slot.start for slot in schedules.slots_of_day(schedules.load_settings(redis, branch), day)]
        for branch in branches
    }
    booked = 0
    for i in range(messages * 2):
        branch = branches[i % len(branches)]
        if not slots[branch]:
            continue
        try:
            reservations.reserve(
                BookingRequest(
                    branch_id=branch,
                    service_id="jht",
                    date=day,
                    slot=slots[branch][(i // len(branches)) % len(slots[branch])],
                    name="Peserta Bench",
                    nik=f"31{(i // 9999) % 10000:04d}120190{i % 9999 + 1:04d}",
                    kpj="12345678901",
                    phone=f"+62812{i:08d}",
                ),
                now,
            )
        except DomainError:
            continue
        booked += 1
        if booked == messages:
            break
    return booked


def one_run(code: Path, messages: int, workdir: Path) -> dict:
    """The worker of ``code`` sending ``messages`` confirmations: its rate and commands."""
    server = RedisServer()
    try:
        redis = store.connect(server.url)
        sealing.install(sealing.Keyring.parse(DATA_KEYS))
        demo.seed(redis)
        booked = book(redis, messages)
        fake = subprocess.Popen(
            [sys.executable, __file__, "--fake-twilio"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        base_url = fake.stdout.readline().strip()
        env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "REDIS_URL": server.url,
            "SECRET_KEY": SECRET_KEY,
            "NIK_HASH_KEY": SECRET_KEY,
            "DATA_KEYS": DATA_KEYS,
            "VAR_DIR": str(workdir / "var"),
            "SMS_BACKEND": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM": FROM,
            "TWILIO_API_BASE_URL": base_url,
            "TWILIO_TIMEOUT_SECONDS": "5",
        }
        redis.config_resetstat()
        worker = subprocess.run(
            [sys.executable, "-m", "queue_service.cli", "worker", "--burst"],
            env=env,
            cwd=code,
            capture_output=True,
            text=True,
        )
        commands = sum(stat["calls"] for stat in redis.info("commandstats").values())
        taken, _ = fake.communicate("")
        times = json.loads(taken)
        if worker.returncode != 0 or len(times) != booked:
            raise RuntimeError(
                f"the worker of {code} sent {len(times)} of {booked} (exit {worker.returncode}):\n"
                + worker.stderr[-2000:]
            )
        return {
            "sent": len(times),
            "per_second": (len(times) - 1) / (times[-1] - times[0]),
            "commands_per_message": commands / len(times),
        }
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000, help="confirmations a run (default 1000)")
    parser.add_argument("--baseline", metavar="REV", help="also run this git revision's worker, alternated")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--fake-twilio", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_twilio:
        fake_twilio()
        return 0
    with tempfile.TemporaryDirectory(prefix="antrian-sms-bench-") as folder:
        workdir = Path(folder)
        codes = {"this tree": ROOT}
        if args.baseline:
            codes = {args.baseline: _export(args.baseline, workdir / "baseline"), **codes}
        runs: dict[str, list[dict]] = {name: [] for name in codes}
        for round_ in range(args.rounds):
            order = list(codes.items()) if round_ % 2 == 0 else list(reversed(codes.items()))
            for name, code in order:
                result = one_run(code, args.messages, workdir)
                runs[name].append(result)
                print(
                    f"  round {round_ + 1}, {name}: {result['per_second']:.0f} messages/s, "
                    f"{result['commands_per_message']:.1f} Redis commands a message",
                    flush=True,
                )
        print()
        print("| worker | messages/s, median (rounds) | Redis commands a message |")
        print("| --- | --- | --- |")
        for name, results in runs.items():
            rates = [result["per_second"] for result in results]
            print(
                f"| {name} | {statistics.median(rates):.0f} ({', '.join(f'{rate:.0f}' for rate in rates)}) "
                f"| {results[-1]['commands_per_message']:.1f} |"
            )
        if args.baseline:
            ratios = [
                after["per_second"] / before["per_second"]
                for before, after in zip(runs[args.baseline], runs["this tree"], strict=True)
            ]
            print(
                f"\nafter ÷ before, round by round: median {statistics.median(ratios):.2f} "
                f"({', '.join(f'{ratio:.2f}' for ratio in ratios)})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
