"""Fixtures of the worker tests that run real ``queue-service worker`` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import with_the_real_clock
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_process(tmp_path):
    """``worker_process(env)`` runs ``queue-service worker`` (not burst) with ``env`` added to
    the environment, in its own process group, its log in ``worker.log``; every one left
    running is killed, with its scheduler, at teardown. ``real_clock=True``: without
    libfaketime (``with_the_real_clock``); the test then names no time of its own to it."""
    started = []
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - closed at teardown

    def start(env: dict[str, str], real_clock: bool = False) -> subprocess.Popen:
        environ = with_the_real_clock(dict(os.environ)) if real_clock else os.environ
        process = subprocess.Popen(
            [sys.executable, "-m", "queue_service.cli", "worker"],
            cwd=ROOT,
            env={**environ, **env},
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    log.close()


@pytest.fixture
def own_redis():
    """A redis-server of the test's own, which it can kill and start again on its port; the
    clients a test appends to its ``clients`` are closed at teardown."""
    server = RedisServer()
    server.clients = []
    yield server
    for client in server.clients:
        client.close()
    server.stop()


@pytest.fixture
def start_worker(own_redis, tmp_path, worker_process):
    """``start_worker(real_clock=False, **env)`` runs ``queue-service worker`` against the
    test's own Redis, with beats, maintenance and sweeps every second and restarts 2 s apart
    at most (``env`` overrides)."""

    def start(real_clock: bool = False, **env_overrides) -> subprocess.Popen:
        return worker_process(
            {
                "REDIS_URL": own_redis.url,
                "SECRET_KEY": "test-secret-of-the-suite",
                "VAR_DIR": str(tmp_path / "var"),
                "SMS_BACKEND": "file",
                "SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
                "SMS_SWEEP_SECONDS": "1",
                "WORKER_HEARTBEAT_SECONDS": "1",
                "WORKER_MAINTENANCE_SECONDS": "1",
                "WORKER_RESTART_MAX_SECONDS": "2",
                **env_overrides,
            },
            real_clock=real_clock,
        )

    return start
