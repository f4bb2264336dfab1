"""Redis Sentinel: the data store and the job queue are the master a set of sentinels names,
and every process follows it when the sentinels fail over to a replica.

Real processes: a primary, two replicas and three sentinels (``redis-server --sentinel``,
quorum 2, a primary taken as down after 1 s) on loopback, as on three boxes; the app, or
``queue-service serve`` and ``queue-service worker``, told only where the sentinels are.
Two replicas, not one: with ``REDIS_WAIT_REPLICAS=1`` the promoted replica needs a replica
of its own to confirm a booking, and the second one is that, at once, where a single
replica would leave every booking 503 until the killed primary came back (and the sentinels
take about 10 s to turn a returning primary into a replica). It is what three boxes give:
each runs a Redis and a sentinel.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis as redis_lib
from redis.sentinel import SentinelManagedSSLConnection

from config import load_settings
from queue_service import create_app
from queue_service.domain import demo, schedules
from queue_service.domain.reservations.records import personal_fields
from queue_service.store import connect as store
from queue_service.store import keys
from queue_service.web.errors import STATUS_OF_CODE
from queue_service.web.limits import sentinel_storage_uri
from tests.factories import UNREACHED_LIMITS, make_nik
from tests.live import a_bookable_weekday, live_booking, serving
from tests.redis_server import RedisServer, SentinelServer

BRANCH = "jakarta-salemba"
MASTER = "antrian"


def wait_until(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if condition():
                return
        except (redis_lib.ConnectionError, redis_lib.ResponseError):
            pass  # a server starting or reconfigured: ask again
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


@dataclass
class Deployment:
    primary: RedisServer
    replicas: list[RedisServer]
    sentinels: list[SentinelServer]

    @property
    def servers(self) -> list[RedisServer]:
        return [self.primary, *self.replicas]

    @property
    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", sentinel.port) for sentinel in self.sentinels]

    @property
    def sentinels_variable(self) -> str:
        return ",".join(f"{host}:{port}" for host, port in self.sentinel_addresses)

    def master_port(self) -> int:
        """The master's port, once every sentinel names the same (the last to learn of a
        failover hears of it from the others within a few seconds)."""
        ports: set[int] = set()

        def agreed() -> bool:
            ports.clear()
            ports.update(int(sentinel.watched()["port"]) for sentinel in self.sentinels)
            return len(ports) == 1

        wait_until(agreed, "the sentinels agree on the master")
        return ports.pop()

    def server_on(self, port: int) -> RedisServer:
        return next(server for server in self.servers if server.port == port)


def replication(server: RedisServer) -> dict:
    with redis_lib.Redis.from_url(server.url, decode_responses=True) as client:
        return client.info("replication")


@pytest.fixture
def deployment():
    """A primary, two replicas and three sentinels that know each other and them."""
    # No 5 s wait for more replicas before a full sync (Redis's default), on whichever
    # server ends up the primary.
    quick_sync = ("--repl-diskless-sync-delay", "0")
    started: list = []
    try:
        primary = RedisServer(quick_sync)
        started.append(primary)
        replicas = []
        for _ in range(2):
            replicas.append(RedisServer(("--replicaof", "127.0.0.1", str(primary.port), *quick_sync)))
            started.append(replicas[-1])
        for replica in replicas:
            wait_until(
                lambda r=replica: replication(r)["master_link_status"] == "up", "a replica's link is up"
            )
        sentinels = []
        for _ in range(3):
            sentinels.append(SentinelServer(primary.port, MASTER))
            started.append(sentinels[-1])
        # They find each other through the primary's hello channel (every 2 s), and its
        # replicas in its INFO.
        for sentinel in sentinels:
            wait_until(
                lambda s=sentinel: (
                    int(s.watched()["num-other-sentinels"]) == 2 and int(s.watched()["num-slaves"]) == 2
                ),
                "every sentinel knows the other two and both replicas",
            )
        yield Deployment(primary, replicas, sentinels)
    finally:
        for process in reversed(started):
            process.stop()


def test_sentinel_settings_build_clients_of_the_named_masters(tmp_path):
    settings = load_settings(
        {
            "VAR_DIR": str(tmp_path / "var"),  # the development keyring is written there
            "REDIS_SENTINELS": "10.0.0.1:26379, [fd00::2]:26380",
            "REDIS_URL": "rediss://:secret@/3",
            "REDIS_SENTINEL_PASSWORD": "sentinel-secret",
            "QUEUE_REDIS_SENTINEL_MASTER": "antrian-queue",
        }
    )
    assert settings["REDIS_SENTINELS"] == [("10.0.0.1", 26379), ("fd00::2", 26380)]
    assert store.uses_embedded(settings) is False
    data, queue = store.data_store(settings), store.queue_store(settings)
    try:
        assert (data.connection_pool.service_name, queue.connection_pool.service_name) == (
            "antrian",
            "antrian-queue",
        )
        # The master: REDIS_URL's password, database and TLS; the sentinels: their own password.
        master = data.connection_pool.connection_kwargs
        assert (master["password"], master["db"]) == ("secret", 3)
        assert issubclass(data.connection_pool.connection_class, SentinelManagedSSLConnection)
        assert master["decode_responses"] is True
        assert queue.connection_pool.connection_kwargs["decode_responses"] is False
        sentinel = data.connection_pool.sentinel_manager.sentinels[0].connection_pool.connection_kwargs
        assert sentinel["password"] == "sentinel-secret"
        assert sentinel["retry"].get_retries() == 0  # a dead sentinel: the next one, at once
    finally:
        store.close(data)
        store.close(queue)
    # Unset, the job queue is the data store's master.
    same = load_settings({"REDIS_SENTINELS": "10.0.0.1:26379"})
    queue = store.queue_store(same)
    assert queue.connection_pool.service_name == "antrian"
    store.close(queue)
    assert (
        sentinel_storage_uri(settings["REDIS_SENTINELS"], "antrian")
        == "redis+sentinel://10.0.0.1:26379,[fd00::2]:26380/antrian"
    )


def book(app, booking_body) -> tuple[int, dict]:
    body = booking_body()
    body["captcha_id"] = app.extensions["antrian"].captcha.create().id
    response = app.test_client().post("/api/v1/bookings", json=body)
    return response.status_code, response.get_json()


def test_the_app_follows_a_master_that_was_demoted_under_its_connections(
    deployment, settings, clock, booking_body
):
    """A connection still open to a master that became a replica meets READONLY: redis-py
    closes it and the command's retry opens one to the master the sentinels name now, so
    the booking goes through, no 503. (In a failover the sentinels also drop the old
    master's clients when they reconfigure it; this is the case where they could not.)"""
    primary, replica, other = deployment.servers
    with redis_lib.Redis.from_url(primary.url, decode_responses=True) as on_primary:
        demo.seed(on_primary)
    app = create_app(
        {
            **settings,
            "REDIS_URL": None,
            "REDIS_SENTINELS": deployment.sentinel_addresses,
            "REDIS_WAIT_REPLICAS": 1,
            "REDIS_WAIT_TIMEOUT_MS": 1900,
        },
        clock=clock,
    )
    try:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        status, first = book(app, booking_body)
        assert status == 201, first
        # The replica becomes the master, the primary its replica, by hand, and the
        # sentinels are told: the app's open connections are still the old primary's.
        with (
            redis_lib.Redis.from_url(replica.url) as on_replica,
            redis_lib.Redis.from_url(primary.url) as old,
            redis_lib.Redis.from_url(other.url) as on_other,
        ):
            on_replica.replicaof("NO", "ONE")
            old.replicaof("127.0.0.1", replica.port)
            on_other.replicaof("127.0.0.1", replica.port)
        for sentinel in deployment.sentinels:
            sentinel.client.sentinel_remove(MASTER)
            sentinel.client.sentinel_monitor(MASTER, "127.0.0.1", replica.port, 2)
        wait_until(lambda: replication(primary)["master_link_status"] == "up", "the old primary follows")
        with redis_lib.Redis.from_url(primary.url, decode_responses=True) as old:
            with pytest.raises(redis_lib.ReadOnlyError):
                old.set("antrian:probe", "1")

        status, second = book(app, booking_body)
        assert status == 201, second
        with redis_lib.Redis.from_url(replica.url, decode_responses=True) as on_new:
            for booking in (first, second):
                assert on_new.hget(keys.booking(BRANCH, booking["code"]), "status") == "booked"
        assert client.get("/readyz").status_code == 200
    finally:
        app.extensions["antrian"].close()


# --- The failover: the primary killed during a burst of bookings over HTTP ---

THREADS = 12
KILL_AFTER = 60  # attempts answered before the primary is killed
AFTER_FAILOVER = 40  # bookings made after the kill that end the burst
CAPACITY = 20  # per slot: the burst fills slot after slot, across the failover
REQUEST_TIMEOUT = 10.0

# No proxy from the environment between us and the loopback server.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Reply:
    status: int | None  # None: no HTTP answer at all (timeout, reset)
    body: dict | None  # None: not JSON
    retry_after: str | None
    error: str | None = None


def call(url: str, body: dict | None = None) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with _opener.open(req, timeout=REQUEST_TIMEOUT) as response:
            status, raw, headers = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        with error:
            status, raw, headers = error.code, error.read(), error.headers
    except (OSError, http.client.HTTPException) as error:  # URLError, timeouts, resets
        return Reply(None, None, None, f"{type(error).__name__}: {error}")
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    return Reply(status, parsed, headers.get("Retry-After"))


@dataclass
class Attempt:
    nik: str
    slot: str
    started: float
    ended: float = 0.0
    captcha: Reply | None = None
    booking: Reply | None = None  # None when the captcha step already failed

    @property
    def final(self) -> Reply:
        return self.booking if self.booking is not None else self.captcha

    @property
    def created(self) -> bool:
        return self.booking is not None and self.booking.status == 201

    @property
    def code(self) -> str | None:
        body = self.final.body or {}
        return "created" if self.created else body.get("error", {}).get("code")


def worker_environment(deployment: Deployment, folder: Path) -> dict[str, str]:
    """``queue-service worker`` beside ``serving(...)``: the same sentinels, secret and outbox."""
    env = {
        **os.environ,
        "REDIS_SENTINELS": deployment.sentinels_variable,
        "SECRET_KEY": "live-test",
        "VAR_DIR": str(folder / "var"),
        "SMS_BACKEND": "file",
        "SMS_OUTBOX": str(folder / "outbox.jsonl"),
        "WORKER_RESTART_MAX_SECONDS": "2",
    }
    for name in ("REDIS_URL", "QUEUE_REDIS_URL"):
        env.pop(name, None)
    return env


@pytest.fixture
def start_worker(deployment, tmp_path):
    """``start_worker()``: ``queue-service worker`` in its own process group (its scheduler
    with it), once the catalog is there (it reads the branches at start)."""
    started = []

    def start() -> subprocess.Popen:
        with (tmp_path / "worker.log").open("wb") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "queue_service.cli", "worker"],
                    env=worker_environment(deployment, tmp_path),
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                )
            )
        return started[-1]

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        print(f"--- worker log\n{(tmp_path / 'worker.log').read_text(errors='replace')}")


def sms_codes(outbox: Path) -> Counter:
    """How many 'booked' SMS each booking code was sent."""
    if not outbox.exists():
        return Counter()
    return Counter(
        line["code"]
        for line in map(json.loads, outbox.read_text().splitlines())
        if line.get("event") == "booked"
    )


def test_the_primary_killed_mid_burst_fails_over_and_loses_no_confirmed_booking(
    deployment, start_worker, tmp_path
):
    day = a_bookable_weekday().isoformat()
    primary_url = deployment.primary.url
    with serving(
        None,
        tmp_path,
        REDIS_SENTINELS=deployment.sentinels_variable,
        REDIS_WAIT_REPLICAS="1",
        WEB_THREADS="8",
        RATELIMIT_ENABLED="1",
        **UNREACHED_LIMITS,
    ) as base:
        with redis_lib.Redis.from_url(primary_url, decode_responses=True) as on_primary:
            branch = schedules.load_settings(on_primary, BRANCH)
            branch.slot_capacity, branch.daily_quota = CAPACITY, 100 * CAPACITY
            schedules.store_settings(on_primary, BRANCH, branch)
        worker = start_worker()
        availability = call(f"{base}/api/v1/branches/{BRANCH}/availability?date={day}&service=jht")
        assert availability.status == 200 and availability.body["open"], availability
        slots = [slot["start"] for slot in availability.body["slots"]]
        assert len(slots) * CAPACITY > 2 * (KILL_AFTER + AFTER_FAILOVER)

        attempts: list[Attempt] = []
        lock = threading.Lock()
        filling = 0  # the index in ``slots`` the burst is filling
        kill_now, killed, enough, stop = (threading.Event() for _ in range(4))
        killing = float("inf")

        def one_attempt() -> Attempt:
            nonlocal filling
            with lock:
                slot = slots[min(filling, len(slots) - 1)]
            item = Attempt(make_nik(), slot, time.monotonic())
            item.captcha = call(f"{base}/api/v1/captcha", {})
            if item.captcha.status == 201:
                item.booking = call(
                    f"{base}/api/v1/bookings",
                    live_booking(BRANCH, day, slot, item.nik, item.captcha.body["captcha_id"]),
                )
            item.ended = time.monotonic()
            with lock:
                attempts.append(item)
                if item.code == "slot_full" and slots[min(filling, len(slots) - 1)] == slot:
                    filling += 1
                if len(attempts) == KILL_AFTER:
                    kill_now.set()
                after = sum(1 for a in attempts if a.created and a.started > killing)
                if after >= AFTER_FAILOVER:
                    enough.set()
            return item

        def keep_booking() -> None:
            while not stop.is_set():
                item = one_attempt()
                if killed.is_set() and not item.created:
                    time.sleep(0.05)  # keep asking through the failover, not all at one instant

        # The worker is up and polling before the burst: a first booking's SMS goes out.
        first = one_attempt()
        assert first.created, first.final
        outbox = tmp_path / "outbox.jsonl"
        wait_until(lambda: first.booking.body["code"] in sms_codes(outbox), "the worker's first SMS")

        threads = [threading.Thread(target=keep_booking) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        try:
            assert kill_now.wait(timeout=60), "the burst did not get going"
            killing = time.monotonic()
            deployment.primary.kill()
            killed.set()
            assert enough.wait(timeout=90), "bookings did not resume after the failover"
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert all(not thread.is_alive() for thread in threads)

        master_port = deployment.master_port()
        assert master_port in {replica.port for replica in deployment.replicas}, "no replica promoted"
        new_master = deployment.server_on(master_port)
        on_master = redis_lib.Redis.from_url(new_master.url, decode_responses=True)
        try:
            stored = {}
            for key in on_master.scan_iter(match=keys.booking(BRANCH, "*"), count=1000):
                record, code = on_master.hgetall(key), key.rsplit(":", 1)[1]
                if record.get("status") == "booked" and record.get("date") == day:
                    # Its person sealed at rest: opened as the service opens it.
                    stored[code] = {**record, **personal_fields(BRANCH, code, record)}
            slot_counts = on_master.hgetall(keys.slot_counts(BRANCH, day))
            day_counts = on_master.hgetall(keys.day_counts(BRANCH, day))

            created = [a for a in attempts if a.created]
            after_kill = sorted((a for a in created if a.started > killing), key=lambda a: a.ended)
            failover_seconds = after_kill[0].ended - killing
            during = [a for a in attempts if a.started > killing and a.ended < after_kill[0].ended]
            print(
                "sentinel failover burst:",
                json.dumps(
                    {
                        "answers": Counter(a.code for a in attempts),
                        "created_before_kill": sum(1 for a in created if a.ended < killing),
                        "created_after_kill": len(after_kill),
                        "made_during_failover": len(during),
                        "failover_seconds": round(failover_seconds, 2),
                        "stored": len(stored),
                        "slots_filled": sum(1 for n in slot_counts.values() if int(n) == CAPACITY),
                    }
                ),
            )

            # Every request answered, in the SPEC's JSON: never a 500, a non-JSON page or a hang.
            for item in attempts:
                for reply in (item.captcha, item.booking):
                    if reply is None or reply.status == 201:
                        continue
                    assert reply.status is not None and reply.body is not None, reply
                    code = reply.body["error"]["code"]
                    assert STATUS_OF_CODE.get(code) == reply.status, reply
                    # A captcha made on the old primary and lost with it may be refused.
                    assert code in {"unavailable", "captcha_failed", "slot_full"}, reply
                    if code == "unavailable":
                        assert reply.retry_after == "5", reply
            # Made after the kill and answered before the new master took a booking: 503 with
            # Retry-After (or, once the new master answers, its slot_full).
            assert during, "no attempt fell inside the failover"
            for item in during:
                assert item.code in {"unavailable", "slot_full"}, item.final

            # None lost: every 201 is on the new master, as it was answered.
            for item in created:
                code = item.booking.body["code"]
                assert code in stored, f"booking {code} answered 201, missing after the failover"
                record = stored[code]
                assert (record["nik"], record["slot"]) == (item.nik, item.slot)
                assert record["queue_number"] == item.booking.body["queue_number"]
            # No slot above its capacity, and the counters agree with the bookings.
            per_slot = Counter(record["slot"] for record in stored.values())
            assert max(per_slot.values()) <= CAPACITY
            assert {slot: int(count) for slot, count in slot_counts.items() if int(count)} == dict(per_slot)
            assert int(day_counts.get("total", 0)) == len(stored)
            niks = [record["nik"] for record in stored.values()]
            assert len(set(niks)) == len(niks), "a NIK holds two bookings"

            # The web processes and the worker followed without a restart: the worker sends
            # every confirmed booking's SMS, those made on the new master too.
            assert call(f"{base}/readyz").status == 200
            confirmed = {item.booking.body["code"] for item in created}
            wait_until(lambda: confirmed <= set(sms_codes(outbox)), "every confirmed booking's SMS")
            twice = sorted(code for code, count in sms_codes(outbox).items() if count > 1)
            print(f"SMS sent twice (a 'sent' mark lost with the old primary): {twice}")
            assert worker.poll() is None, "the worker must still run: nobody restarted it"

            # The killed primary, started again, is made a replica of the new master by the
            # sentinels and copies every booking: the three boxes are whole again.
            deployment.primary.start()
            restarted = time.monotonic()
            try:
                # The master the sentinels name now: under load they may fail over a second time
                # (the new master slow to answer within down-after-milliseconds), to the other
                # replica, after the test read which one took over; their logs showed it once.
                wait_until(
                    lambda: (
                        replication(deployment.primary)["role"] == "slave"
                        and int(replication(deployment.primary)["master_port"]) == deployment.master_port()
                        and replication(deployment.primary)["master_link_status"] == "up"
                    ),
                    "the old primary follows the new master",
                    seconds=60,
                )
            except AssertionError as never:
                said = "\n".join(sentinel.log()[-3000:] for sentinel in deployment.sentinels)
                raise AssertionError(f"{never}; the sentinels said:\n{said}") from None
            print(
                f"the old primary followed the new one {time.monotonic() - restarted:.1f} s after its start"
            )
            with redis_lib.Redis.from_url(primary_url, decode_responses=True) as old:
                wait_until(
                    lambda: all(old.exists(keys.booking(BRANCH, code)) for code in confirmed),
                    "the old primary holds every booking",
                )
        finally:
            on_master.close()
