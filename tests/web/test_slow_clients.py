"""Clients that trickle their requests cost the server a socket each, never a thread: the
web process reads a request whole on its event loop before a thread answers it."""

from __future__ import annotations

import json
import socket
import urllib.request

from tests.live import TRICKLED_BODY, book_live, serving, trickling
from tests.web.test_live_server import BRANCH, next_open_day

TRICKLERS = 50


def test_fifty_trickling_clients_leave_a_one_by_four_server_answering(redis_server, tmp_path):
    with serving(redis_server.url, tmp_path, WEB_CONCURRENCY="1", WEB_THREADS="4") as base:
        day, slot = next_open_day(base)
        with trickling(base, TRICKLERS, every=1.0):
            for _ in range(5):
                # gunicorn gave each trickler a thread, and these waited for one (tens of
                # seconds: the body takes minutes to come); now each is answered at once.
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                    assert response.status == 200
            status, booked = book_live(base, BRANCH, day, slot)
            assert status == 201, booked


def test_the_time_limit_is_for_the_whole_request_not_each_read(redis_server, tmp_path):
    with serving(redis_server.url, tmp_path, WEB_CLIENT_TIMEOUT_SECONDS="2") as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(
                b"POST /api/v1/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(TRICKLED_BODY)
            )
            answer = b""
            # A byte every half second: each read is quick, the whole request is not.
            for n in range(len(TRICKLED_BODY)):
                try:
                    sock.send(TRICKLED_BODY[n : n + 1])
                except OSError:
                    break
                sock.settimeout(0.5)
                try:
                    answer = sock.recv(65536)
                except TimeoutError:
                    continue
                break
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400 "), answer
        assert json.loads(body)["error"]["code"] == "bad_request"
    log = (tmp_path / "server.log").read_text()
    assert "client too slow, connection closed" in log
    assert "Budi Santoso" not in log
