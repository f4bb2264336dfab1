"""deploy/nginx/antrian.conf with Debian's nginx in front of `queue-service serve`
(TRUSTED_PROXY_COUNT=1): what the proxy adds and what it must not take away."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from queue_service.web.server import refusal_body
from tests.live import book_live, serving, trickling
from tests.redis_server import free_port
from tests.web.test_live_server import BRANCH, next_open_day

CONF = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "antrian.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _site(app_port: int, port: int, folder: Path) -> str:
    """The shipped file with only its listen lines, upstream address and cache folder moved."""
    text = CONF.read_text()
    for shipped, here in (
        ("    listen 80;\n", f"    listen 127.0.0.1:{port};\n"),
        ("    listen [::]:80;\n", ""),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
        ("/var/cache/nginx/antrian", str(folder / "cache")),
    ):
        assert shipped in text, shipped
        text = text.replace(shipped, here)
    return text


@contextlib.contextmanager
def running_nginx(folder: Path, app_port: int):
    """Debian's nginx with the shipped site, in front of ``app_port``; yields its URL."""
    port = free_port()
    (folder / "antrian.conf").write_text(_site(app_port, port, folder))
    temp = "".join(
        f"  {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off;\nworker_processes 1;\npid {folder / 'nginx.pid'};\n"
        + f"error_log {folder / 'error.log'} info;\nevents {{ worker_connections 1024; }}\n"
        + f"http {{\n  include /etc/nginx/mime.types;\n  access_log {folder / 'access.log'};\n{temp}"
        + f"  include {folder / 'antrian.conf'};\n}}\n"
    )
    checked = subprocess.run([NGINX, "-t", "-c", str(folder / "nginx.conf")], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    nginx = subprocess.Popen([NGINX, "-c", str(folder / "nginx.conf")])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and nginx.poll() is None, (
                    folder / "error.log"
                ).read_text()
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)


@pytest.fixture(scope="module")
def proxied(redis_server, tmp_path_factory):
    """nginx in front of a live server with TRUSTED_PROXY_COUNT=1; yields its URL."""
    folder = tmp_path_factory.mktemp("nginx")
    env = {"TRUSTED_PROXY_COUNT": "1", "RATELIMIT_ENABLED": "1", "RATELIMIT_CAPTCHA": "3 per minute"}
    with (
        serving(redis_server.url, folder, **env) as app,
        running_nginx(folder, int(app.rsplit(":", 1)[1])) as base,
    ):
        yield base


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return response.status, dict(response.headers), response.read()


def test_the_shipped_file_passes_nginx_t_and_serves_the_api_gzipped_with_hsts(proxied):
    base = proxied
    status, headers, body = _get(f"{base}/api/v1/areas", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(body))["areas"]
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "nginx/" not in headers.get("Server", "")  # server_tokens off


def test_static_files_are_kept_by_the_proxy(proxied):
    base = proxied
    _status, _headers, page = _get(f"{base}/")
    stylesheet = page.decode().split('href="/static/', 1)[1].split('"', 1)[0]
    first = _get(f"{base}/static/{stylesheet}")
    again = _get(f"{base}/static/{stylesheet}")
    assert first[0] == again[0] == 200 and first[2] == again[2]
    assert again[1]["X-Cache-Status"] == "HIT"
    assert "immutable" in again[1]["Cache-Control"]


def test_fifty_trickling_clients_are_the_proxy_s_to_wait_for(proxied):
    base = proxied
    day, slot = next_open_day(base)
    with trickling(base, 50, every=5.0):
        for _ in range(20):
            assert _get(f"{base}/healthz")[0] == 200
        status, booked = book_live(base, BRANCH, day, slot)
        assert status == 201, booked


def _captcha_from(base: str, source: str, forwarded_for: str) -> int:
    """POST /api/v1/captcha through nginx from the loopback address ``source``."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10, source_address=(source, 0))
    try:
        connection.request(
            "POST",
            "/api/v1/captcha",
            b"{}",
            {"Content-Type": "application/json", "X-Forwarded-For": forwarded_for},
        )
        response = connection.getresponse()
        body = json.loads(response.read())
        if response.status == 429:
            assert body["error"]["code"] == "rate_limited" and response.getheader("Retry-After")
        return response.status
    finally:
        connection.close()


def test_rate_limits_count_the_client_nginx_saw_not_the_one_it_claims(proxied):
    # RATELIMIT_CAPTCHA is 3 a minute here. A client at 127.0.0.2 that writes a new
    # X-Forwarded-For each time is still one client; one at 127.0.0.3 is another.
    statuses = [_captcha_from(proxied, "127.0.0.2", f"198.51.100.{n}") for n in range(5)]
    assert statuses == [201, 201, 201, 429, 429]
    assert _captcha_from(proxied, "127.0.0.3", "198.51.100.1") == 201


def test_nginx_s_own_refusals_are_the_spec_s_json(proxied):
    base = proxied
    request = urllib.request.Request(
        f"{base}/api/v1/bookings", data=b"x" * 100_000, headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    with refused.value as error:
        assert error.code == 400
        assert error.headers["Content-Type"] == "application/json"
        assert error.read() == refusal_body("bad_request")


def test_a_service_that_is_down_is_a_503_in_json_with_retry_after(tmp_path):
    with running_nginx(tmp_path, free_port()) as base:  # nothing listens there
        status, headers, body = _get(f"{base}/api/v1/areas")
    assert status == 503
    assert headers["Content-Type"] == "application/json" and headers["Retry-After"] == "5"
    assert body == refusal_body("unavailable")
