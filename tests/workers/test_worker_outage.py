"""The worker rides out a Redis outage and picks up what a killed worker abandoned, so no
job is lost to a restart. Real ``queue-service worker`` processes against a redis-server of
the test's own."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
from pathlib import Path

import redis as redis_lib
from rq import Queue, Retry

from queue_service.domain import demo
from queue_service.domain.reservations import BookingRequest, Reservations
from queue_service.notifications import queues
from tests.factories import make_nik
from tests.live import a_bookable_weekday
from tests.redis_server import RedisServer
from workers.worker import SmsWorker


def queue_redis(server: RedisServer, **options) -> redis_lib.Redis:
    """A client of ``server``; the ``own_redis`` fixture closes them all."""
    client = redis_lib.Redis.from_url(server.url, socket_connect_timeout=1, **options)
    server.clients.append(client)
    return client


def wait_for(condition, what: str, seconds: float = 20) -> float:
    """Poll ``condition`` until true; returns when (``time.monotonic()``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return time.monotonic()
        except (redis_lib.ConnectionError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_worker_rides_out_a_redis_outage_and_sends_afterwards(own_redis, start_worker, tmp_path):
    worker = start_worker()
    wait_for(lambda: queue_redis(own_redis).scard("rq:workers") > 0, "the worker to register")
    own_redis.kill()
    time.sleep(3)  # Redis is away; the worker's loops meet refused connections
    own_redis.start()

    # Redis is back (empty: it kept nothing): a booking is made, its SMS must go out (the
    # worker's poll finds it on the outbox; it reloads the branches, gone with Redis, at its
    # next sweep).
    store = queue_redis(own_redis, decode_responses=True)
    demo.seed(store)
    now = dt.datetime.now(dt.UTC)
    day = a_bookable_weekday()
    reservations = Reservations(store, nik_secret=b"test-secret-of-the-suite")
    booking = reservations.reserve(
        BookingRequest(
            branch_id="jakarta-salemba",
            service_id="jht",
            date=day,
            slot=dt.time(9, 0),
            name="Budi Santoso",
            nik=make_nik(),
            kpj="12345678901",
            phone="+6281234567890",
        ),
        now,
    )

    outbox = tmp_path / "outbox.jsonl"
    wait_for(lambda: outbox.exists() and booking.code in outbox.read_text(), "the SMS", 30)
    assert worker.poll() is None, "the worker process must still run: nobody restarted it"
    assert [json.loads(line)["event"] for line in outbox.read_text().splitlines()] == ["booked"]
    # Its scheduler died with the connection; it must be back for retries and reminders.
    later = Queue(queues.SMS, connection=queue_redis(own_redis))
    later.enqueue_in(dt.timedelta(seconds=1), "tests.workers.slow_jobs.touch", str(tmp_path / "sched"))
    wait_for(lambda: (tmp_path / "sched").exists(), "a scheduled job after the outage", 20)


def test_a_worker_that_lost_redis_mid_job_works_again(own_redis, start_worker, tmp_path):
    worker = start_worker()
    mark = str(tmp_path / "slow")
    Queue(queues.SMS, connection=queue_redis(own_redis)).enqueue(
        "tests.workers.slow_jobs.pause_then_touch", mark, 3
    )
    wait_for(lambda: Path(mark + ".began").exists(), "the job to begin")
    own_redis.kill()  # while the job runs: its bookkeeping afterwards meets no Redis
    wait_for(lambda: Path(mark).exists(), "the job's own work to end")
    time.sleep(2)
    own_redis.start()

    Queue(queues.SMS, connection=queue_redis(own_redis)).enqueue(
        "tests.workers.slow_jobs.touch", str(tmp_path / "after")
    )
    wait_for(lambda: (tmp_path / "after").exists(), "a job after the outage", 30)
    assert worker.poll() is None, "the worker process must still run: nobody restarted it"


def test_a_job_of_a_killed_worker_is_run_again_promptly(own_redis, start_worker, tmp_path):
    folder = tmp_path / "job"
    folder.mkdir()
    first = start_worker()
    queue = Queue(queues.SMS, connection=queue_redis(own_redis))
    queue.enqueue(
        "tests.workers.slow_jobs.hang_once_then_finish", str(folder), retry=Retry(max=2), job_timeout=300
    )
    wait_for(lambda: (folder / "began").exists(), "the job to begin")

    os.killpg(first.pid, signal.SIGKILL)  # the worker and its work horse, mid-job
    first.wait(timeout=10)
    killed_at = time.monotonic()
    start_worker()

    wait_for(lambda: (folder / "done").exists(), "the abandoned job to run again", 20)
    # Three heartbeats and a maintenance interval of a second each, plus start-up.
    assert time.monotonic() - killed_at < 15


def test_a_job_longer_than_three_heartbeats_is_not_taken_for_abandoned(own_redis, start_worker, tmp_path):
    # The worker runs the job itself (no work horse); a thread of its own beats meanwhile.
    start_worker()
    start_worker()  # whose maintenance would run an abandoned job again
    runs = tmp_path / "runs"
    Queue(queues.SMS, connection=queue_redis(own_redis)).enqueue(
        "tests.workers.slow_jobs.note_then_pause", str(runs), 6, retry=Retry(max=2), job_timeout=60
    )
    wait_for(lambda: Path(str(runs) + ".done").exists(), "the job to end", 30)
    time.sleep(2)
    assert runs.read_text() == "run\n"


def test_an_idle_workers_state_waits_for_redis_instead_of_quitting(own_redis):
    # After its wait for a job the idle worker first says so (its state); an outage that
    # began just then met RQ's own call there, and the worker quit instead of waiting.

    connection = queue_redis(own_redis)
    worker = SmsWorker([queues.SMS], connection=connection)
    own_redis.kill()
    told = threading.Thread(target=worker.set_state, args=("idle",), daemon=True)
    told.start()
    time.sleep(1.5)
    assert told.is_alive(), "the worker must wait for Redis, not give up"
    own_redis.start()
    told.join(timeout=10)
    assert not told.is_alive()
    assert connection.hget(worker.key, "state") == b"idle"
