"""Fixtures of the worker tests that run real ``queue-service worker`` processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker_process(tmp_path):
    """``worker_process(env)`` runs ``queue-service worker`` (not burst) with ``env`` added to
    the environment, in its own process group, its log in ``worker.log``; every one left
    running is killed, with its scheduler, at teardown."""
    started = []
    log = open(tmp_path / "worker.log", "ab")  # noqa: SIM115 - closed at teardown

    def start(env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-m", "queue_service.cli", "worker"],
            cwd=ROOT,
            env={**os.environ, **env},
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
