"""``METRICS_PORT``: ``queue-service serve`` listens on it beside the public port, answers
``/metrics`` there (in production too, without a token) and nothing else, and no more
``/metrics`` on the public port. A real server, on the real clock."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

from tests.live import with_the_real_clock
from tests.redis_server import free_port


def get(port: int, path: str, method: str = "GET", headers: dict | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=b"{}" if method == "POST" else None, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


@pytest.fixture
def served(redis_server, tmp_path):
    """A production server on a free port, its metrics on another: ``(port, metrics_port)``."""
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "metrics-port-test-secret-key-0123456789",
        "DATA_KEYS": "test:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        "VAR_DIR": str(tmp_path / "var"),
        "SMS_BACKEND": "console",
        "WEB_CONCURRENCY": "1",
        "METRICS_PORT": str(metrics_port),
    }
    env.pop("METRICS_TOKEN", None)
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "queue_service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=with_the_real_clock(env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None and time.monotonic() < deadline, (
                tmp_path / "server.log"
            ).read_text()
            try:
                if get(port, "/healthz")[0] == 200 and get(metrics_port, "/metrics")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield port, metrics_port
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_metrics_answer_on_their_own_port_and_nowhere_else(served):
    port, metrics_port = served
    status, body = get(metrics_port, "/metrics")
    assert status == 200
    assert b"antrian_build_info" in body  # the service's own metrics, in production, no token
    status, body = get(port, "/metrics")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    # A forged Host header names the metrics port; the socket it came on does not.
    assert get(port, "/metrics", headers={"Host": f"127.0.0.1:{metrics_port}"})[0] == 404


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/healthz"), ("GET", "/api/v1/areas"), ("GET", "/"), ("POST", "/api/v1/bookings")],
)
def test_nothing_but_metrics_answers_on_the_metrics_port(served, method, path):
    port, metrics_port = served
    status, body = get(metrics_port, path, method, {"Content-Type": "application/json"})
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert (
        get(port, path, method, {"Content-Type": "application/json"})[0] != 404
    )  # the public port serves it


def test_serve_refuses_a_metrics_port_that_is_the_port_it_serves(redis_server, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "metrics-port-test",
        "VAR_DIR": str(tmp_path / "var"),
        "METRICS_PORT": str(port),
    }
    refused = subprocess.run(
        [sys.executable, "-m", "queue_service.cli", "serve", "--port", str(port)],
        env=with_the_real_clock(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert f"METRICS_PORT must not be the port served ({port})" in refused.stderr
