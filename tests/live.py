"""The real server (`queue-service seed-demo`, then `queue-service serve`) as a subprocess."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from queue_service.domain import calendar
from tests.factories import DATA_KEYS, make_nik
from tests.redis_server import free_port


def call(url: str, body: dict | None = None) -> tuple[int, dict]:
    """GET (or POST ``body`` as JSON) and return the status and the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:  # it holds the connection until closed (or collected, with a warning)
            return error.code, json.loads(error.read())


@contextlib.contextmanager
def serving(redis_url: str | None, folder: Path, **env: str):
    """Seed the demo catalog and serve on a free port; yields the base URL. ``redis_url``
    None: no ``REDIS_URL`` (the store is named in ``env``, e.g. ``REDIS_SENTINELS``)."""
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "live-test",
        "DATA_KEYS": DATA_KEYS,
        "VAR_DIR": str(folder / "var"),
        "SMS_BACKEND": "file",
        "SMS_OUTBOX": str(folder / "outbox.jsonl"),
        "WEB_CONCURRENCY": "2",
        "CAPTCHA_TEST_ANSWER": "12345",
        "RATELIMIT_ENABLED": "0",
        "AVAILABILITY_FRESH_MS": "0",
        # Load tests book hundreds of places with one phone (the cap is tested on its own).
        "BOOKINGS_PER_PHONE": "10000",
        # Booked at once (the holds are tested on their own, and by the browser test).
        "PHONE_VERIFICATION": "0",
        **env,
    }
    if redis_url is None:
        del env["REDIS_URL"]
    cli = [sys.executable, "-m", "queue_service.cli"]
    seeded = subprocess.run([*cli, "seed-demo"], env=env, capture_output=True, text=True, check=True)
    assert "branches" in seeded.stdout
    port = free_port()
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if call(f"{base}/readyz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            pytest.fail(f"server did not start: {Path(log.name).read_text()}")
        time.sleep(0.1)
    try:
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
        # Shown by pytest with a failing test's output: a 500's traceback is only here.
        print(f"--- server log ({log.name})\n{Path(log.name).read_text()}")
    assert "Antrian is serving at" in Path(log.name).read_text()


def live_booking(branch_id: str, day: str, slot: str, nik: str, captcha_id: str) -> dict:
    """A booking's JSON body for ``serving(...)``: service ``jht``, the captcha answered with
    its ``CAPTCHA_TEST_ANSWER``."""
    return {
        "branch_id": branch_id,
        "service_id": "jht",
        "date": day,
        "slot": slot,
        "name": "Sri Wahyuni",
        "nik": nik,
        "kpj": "12345678901",
        "phone": "081234567890",
        "captcha_id": captcha_id,
        "captcha_answer": "12345",
    }


def book_live(base: str, branch_id: str, day: str, slot: str, nik: str | None = None) -> tuple[int, dict]:
    """A captcha, then a booking with it, through ``serving(...)``: the status and the answer."""
    status, challenge = call(f"{base}/api/v1/captcha", {})
    assert status == 201, challenge
    return call(
        f"{base}/api/v1/bookings",
        live_booking(branch_id, day, slot, nik or make_nik(), challenge["captcha_id"]),
    )


# A booking's body as a slow client sends it: never whole before the test is over.
TRICKLED_BODY = json.dumps(
    {"branch_id": "jakarta-salemba", "name": "Budi Santoso", "nik": "3171011201900001"}
).encode()


@contextlib.contextmanager
def trickling(base: str, count: int, every: float):
    """``count`` connections to ``base`` that send a booking's head, then one byte of its body
    every ``every`` seconds, until the block ends (or the server closes them); the block
    starts once every head and a first byte of every body are in."""
    host, port = base.removeprefix("http://").split(":")
    socks = [socket.create_connection((host, int(port)), timeout=30) for _ in range(count)]
    for sock in socks:
        sock.sendall(
            b"POST /api/v1/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(TRICKLED_BODY)
        )
    stop = threading.Event()

    def trickle():
        for n in range(len(TRICKLED_BODY)):
            for sock in socks:
                with contextlib.suppress(OSError):  # closed by the server: its time ran out
                    sock.send(TRICKLED_BODY[n : n + 1])
            if stop.wait(every):
                return

    threading.Thread(target=trickle, daemon=True).start()
    time.sleep(1)
    try:
        yield
    finally:
        stop.set()
        for sock in socks:
            sock.close()


def a_bookable_weekday() -> dt.date:
    """A Monday-Thursday two to ten days ahead of the real today in Jakarta, neither a public
    holiday nor collective leave: a day every demo branch takes bookings on, for the tests
    whose server or worker keeps the real clock."""
    today = dt.datetime.now(ZoneInfo("Asia/Jakarta")).date()
    for ahead in range(2, 11):
        day = today + dt.timedelta(days=ahead)
        if day.weekday() < 4 and not calendar.public_holiday(day) and not calendar.collective_leave(day):
            return day
    raise AssertionError("no bookable weekday in the next ten days")


# What `make test`'s second pass sets to move every process's clock (libfaketime).
FAKETIME_VARIABLES = ("LD_PRELOAD", "FAKETIME", "FAKETIME_NO_CACHE", "DONT_FAKE_MONOTONIC")


def with_the_real_clock(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without libfaketime, for a process whose clock the test does not need moved:
    under libfaketime a timed wait on a condition can hang (redis-py's pub/sub thread, joined
    when a burst worker ends, never woke in about one run in six), and Chromium's sandboxed
    processes do not take it reliably."""
    return {name: value for name, value in environ.items() if name not in FAKETIME_VARIABLES}
