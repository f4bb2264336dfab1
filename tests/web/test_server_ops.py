"""The real server (`queue-service serve`): JSON for what gunicorn refuses itself, OPTIONS,
request ids and an access log without personal data, and /metrics summed over workers."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.live import a_bookable_weekday, book_live, call, serving

NIK = "3171011201900001"


@pytest.fixture(scope="module")
def live(redis_server, tmp_path_factory):
    """One server for the module; yields ``(base URL, its log file)``."""
    folder = tmp_path_factory.mktemp("live-ops")
    # The production format: its fields are what these tests read.
    with serving(redis_server.url, folder, LOG_FORMAT="json") as base:
        yield base, folder / "server.log"


def raw_exchange(base: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as it is and read the answer until the server closes."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.lower(): value.strip() for name, _, value in (line.partition(":") for line in header_lines)
    }
    return int(status_line.split()[1]), headers, body


def assert_json_bad_request(status: int, headers: dict, body: bytes) -> None:
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert int(headers["content-length"]) == len(body)


@pytest.mark.parametrize(
    "request_bytes",
    [
        pytest.param(
            b"GET /api/v1/areas?nik=" + NIK.encode() + b"&x=" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            id="request line over 4094 bytes",
        ),
        pytest.param(
            b"GET /api/v1/areas HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n",
            id="header over 8190 bytes",
        ),
        pytest.param(
            b"GET /api/v1/areas HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"X-H%d: 1\r\n" % n for n in range(120))
            + b"\r\n",
            id="more than 100 headers",
        ),
        pytest.param(b"GARBAGE\r\n\r\n", id="no request line"),
        pytest.param(b"GET /api/v1/areas HTTP/9.9\r\nHost: x\r\n\r\n", id="unknown HTTP version"),
        pytest.param(b"GET /api/v1/areas HTTP/1.1\r\nBad Header: x\r\n\r\n", id="bad header name"),
    ],
)
def test_what_gunicorn_refuses_is_answered_in_json(live, request_bytes):
    base, log_file = live
    status, headers, body = raw_exchange(base, request_bytes)
    assert_json_bad_request(status, headers, body)
    request_id = headers["x-request-id"]
    line = wait_for_log_line(log_file, request_id, "invalid request refused")
    assert line["level"] == "warning"
    assert NIK not in log_file.read_text()


@pytest.mark.parametrize(
    "chunk",
    [
        pytest.param(b'{"name":"Budi Santoso","phone":"0812-3456-7890"}\r\n', id="no chunk size"),
        pytest.param(b"2;\x01Budi Santoso\r\n", id="bad chunk extension"),
    ],
)
def test_a_chunked_body_that_cannot_be_read_is_a_json_400_and_its_bytes_stay_out_of_the_log(live, chunk):
    base, log_file = live
    status, headers, body = raw_exchange(
        base,
        b"POST /api/v1/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
        b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunk,
    )
    assert_json_bad_request(status, headers, body)
    line = wait_for_log_line(log_file, headers["x-request-id"], "request body refused")
    assert line["level"] == "warning"
    assert "Budi Santoso" not in log_file.read_text()


def test_clients_that_stall_half_way_through_their_headers_do_not_hold_the_server(redis_server, tmp_path):
    with serving(redis_server.url, tmp_path, WEB_CLIENT_TIMEOUT_SECONDS="1", LOG_FORMAT="json") as base:
        host, port = base.removeprefix("http://").split(":")
        stalled = []
        for _ in range(24):  # more than the server's 2 x 8 threads
            sock = socket.create_connection((host, int(port)), timeout=30)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and nothing more
            stalled.append(sock)
        try:
            started = time.monotonic()
            with urllib.request.urlopen(f"{base}/healthz", timeout=15) as response:
                assert response.status == 200
            assert time.monotonic() - started < 10
            assert stalled[0].recv(1024) == b""  # closed by the server, not left hanging
        finally:
            for sock in stalled:
                sock.close()
    # Slow clients are not the server's fault: a line of information each, not an error.
    log = (tmp_path / "server.log").read_text()
    assert "client too slow, connection closed" in log
    assert '"level": "error"' not in log


def test_options_answers_json_with_the_allowed_methods(live):
    base, _ = live
    request = urllib.request.Request(f"{base}/api/v1/bookings", method="OPTIONS")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        allowed = json.loads(response.read())["allow"]
    assert "POST" in allowed and "OPTIONS" in allowed
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == set(allowed)
    assert "Access-Control-Allow-Origin" not in response.headers


def wait_for_log_line(log_file: Path, request_id: str, message: str = "request") -> dict:
    """The JSON log line of ``request_id`` with ``message``, once the server has written it."""
    deadline = time.monotonic() + 20
    while True:
        for line in log_file.read_text().splitlines():
            if request_id in line and line.startswith("{"):
                entry = json.loads(line)
                if entry.get("request_id") == request_id and entry["message"].startswith(message):
                    return entry
        assert time.monotonic() < deadline, f"no log line for {request_id}"
        time.sleep(0.05)


def test_access_log_is_json_with_the_request_id_and_no_nik(live):
    base, log_file = live
    request = urllib.request.Request(
        f"{base}/api/v1/areas?nik={NIK}&phone=%2B6281234567890", headers={"X-Request-ID": "trace-abc-123"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.headers["X-Request-ID"] == "trace-abc-123"
    entry = wait_for_log_line(log_file, "trace-abc-123")
    assert entry["path"] == "/api/v1/areas" and entry["status"] == 200
    assert entry["method"] == "GET" and entry["logger"] == "gunicorn.access"
    assert entry["query"].startswith("nik=3171********0001&phone=%2B")
    text = log_file.read_text()
    assert NIK not in text and "6281234567890" not in text


def metric(text: str, name: str) -> float:
    """The sum of every sample of ``name`` whose line starts so (labels included in name)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


def scrape(base: str) -> str:
    with urllib.request.urlopen(f"{base}/metrics", timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        return response.read().decode()


def test_metrics_count_bookings_and_refusals_across_workers(live):
    base, _ = live
    before = scrape(base)
    day = a_bookable_weekday().isoformat()
    _, availability = call(f"{base}/api/v1/branches/bekasi/availability?date={day}")
    slot = next(s["start"] for s in availability["slots"] if s["remaining"])
    for _ in range(3):  # several requests: gunicorn's two workers both record
        status, booked = book_live(base, "bekasi", day, slot)
        assert status == 201, booked
    assert call(f"{base}/api/v1/branches/nowhere")[0] == 404
    after = scrape(base)
    assert metric(after, "antrian_bookings_total") - metric(before, "antrian_bookings_total") == 3
    refused = 'antrian_refusals_total{code="not_found"}'
    assert metric(after, refused) - metric(before, refused) == 1
    booking_posts = (
        'antrian_http_request_duration_seconds_count{endpoint="api.create_booking"'
        ',method="POST",status="201"}'
    )
    assert metric(after, booking_posts) - metric(before, booking_posts) == 3
    assert 'antrian_job_queue_depth{queue="sms"}' in after
    assert "antrian_check_ins_total" in after


@pytest.mark.parametrize(
    "path, content_type, body",
    [
        pytest.param(
            b"/api/v1/bookings",
            b"application/json",
            b'{"name": "Budi Santoso", "phone": "081234567890"}',
            id="JSON",
        ),
        pytest.param(
            b"/admin/masuk",
            b"application/x-www-form-urlencoded",
            b"email=budi%40example.id&password=Budi+Santoso",
            id="form",
        ),
    ],
)
def test_a_client_that_stalls_half_way_through_its_body_gets_a_400_not_an_error(
    redis_server, tmp_path, path, content_type, body
):
    with serving(redis_server.url, tmp_path, WEB_CLIENT_TIMEOUT_SECONDS="1", LOG_FORMAT="json") as base:
        started = time.monotonic()
        status, headers, answer = raw_exchange(
            base,
            b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d"
            b"\r\n\r\n%s" % (path, content_type, len(body) + 50, body),
        )  # 50 never come
        assert status == 400, answer
        # Answered once the wait for the rest ran out: the body was read, not refused unread
        # (a form without its CSRF token is refused too, but at once).
        assert time.monotonic() - started >= 0.9
    log = (tmp_path / "server.log").read_text()
    assert '"level": "error"' not in log
    assert "Budi Santoso" not in log and "Budi+Santoso" not in log
