"""Ctrl+C (SIGINT) or SIGTERM ends a real ``queue-service worker`` without a traceback
wherever it is, also while Redis is away and it waits to try again: exit code 0, as when it
is stopped while it waits for jobs (the stop was asked for; nothing is left half done)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
import redis as redis_lib
from rq import Queue

from queue_service.notifications import queues
from tests.redis_server import RedisServer, free_port


def wait_for_line(log: Path, text: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker never said {text!r}:\n{log.read_text()}")
        time.sleep(0.1)


def worker_env(url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "REDIS_URL": url,
        "SECRET_KEY": "test-secret-of-the-suite",
        "VAR_DIR": str(tmp_path / "var"),
        "SMS_BACKEND": "file",
        "SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
        # A back-off long enough that the signal lands in its wait.
        "WORKER_RESTART_MAX_SECONDS": "30",
        "WORKER_HEARTBEAT_SECONDS": "1",
        "WORKER_MAINTENANCE_SECONDS": "1",
    }


def stop(worker: subprocess.Popen, log: Path, signum: int) -> str:
    """Send ``signum``; the worker must end with 0. Returns what it wrote from then on."""
    said_before = len(log.read_text())
    worker.send_signal(signum)
    assert worker.wait(timeout=20) == 0
    said = log.read_text()[said_before:]
    # (RQ's scheduler process may print a traceback of its own when Redis goes away, before.)
    assert "Traceback" not in said, said
    return said


@pytest.fixture
def own_redis():
    server = RedisServer()
    yield server
    server.stop()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_while_it_waits_for_a_redis_that_never_answered(worker_process, tmp_path, signum):
    log = tmp_path / "worker.log"
    worker = worker_process(worker_env(f"redis://127.0.0.1:{free_port()}/0", tmp_path))
    wait_for_line(log, "starting again in")

    said = stop(worker, log, signum)

    assert f"worker stopped by {signal.Signals(signum).name}" in said


def test_a_stop_while_rq_waits_for_its_redis_to_come_back(worker_process, own_redis, tmp_path):
    log = tmp_path / "worker.log"
    worker = worker_process(worker_env(own_redis.url, tmp_path))
    wait_for_line(log, "Listening on sms")
    own_redis.kill()  # while idle: the wait for a job rides it out, asking Redis every second
    wait_for_line(log, "worker lost Redis (")

    stop(worker, log, signal.SIGINT)


def test_a_stop_in_the_back_off_after_rq_quit_for_want_of_redis(worker_process, own_redis, tmp_path):
    # A job's bookkeeping that meets no Redis makes RQ's worker quit, its signal handlers
    # left behind; the supervisor waits to start it again.
    log = tmp_path / "worker.log"
    worker = worker_process(worker_env(own_redis.url, tmp_path))
    mark = tmp_path / "slow"
    with redis_lib.Redis.from_url(own_redis.url) as connection:
        Queue(queues.SMS, connection=connection).enqueue(
            "tests.workers.slow_jobs.pause_then_touch", str(mark), 2
        )
    wait_for_line(log, "sms: tests.workers.slow_jobs.pause_then_touch")
    # In the job, not before: an outage met by the worker's own steps is waited out.
    deadline = time.monotonic() + 30
    while not Path(f"{mark}.began").exists():
        assert time.monotonic() < deadline, "the job never began"
        time.sleep(0.05)
    own_redis.kill()
    wait_for_line(log, "starting again in")

    said = stop(worker, log, signal.SIGINT)

    assert "worker stopped by SIGINT" in said
