"""`queue-service serve` on a Unix socket (a proxy on the same host), and GUNICORN_CMD_ARGS
honoured over the service's own settings, as gunicorn's own command honours it."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

from tests.live import with_the_real_clock


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str):
        super().__init__("localhost", timeout=10)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(10)
        self.sock.connect(self.path)


def test_serve_listens_on_a_unix_socket_with_the_operator_s_gunicorn_args(redis_server, tmp_path):
    path = tmp_path / "web.sock"
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "unix-socket-test",
        "VAR_DIR": str(tmp_path / "var"),
        "WEB_CONCURRENCY": "3",
        "GUNICORN_CMD_ARGS": "--workers 1 --backlog 64",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "queue_service.cli", "serve", "--host", f"unix:{path}"],
        env=with_the_real_clock(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not path.exists():
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "server.log"
            ).read_text()
            time.sleep(0.1)
        connection = UnixConnection(str(path))
        connection.request("GET", "/healthz")
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (200, b'{"status":"ok"}\n')
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert f"Antrian is serving at unix:{path}" in text
    assert text.count("Booting worker") == 1, text  # GUNICORN_CMD_ARGS's --workers 1 over WEB_CONCURRENCY=3
