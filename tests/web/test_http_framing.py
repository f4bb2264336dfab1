"""When a request's bytes are whole enough to hand to a thread (``web/http_framing.py``)."""

from __future__ import annotations

import pytest

from queue_service.web.http_framing import MAX_HEAD_BYTES, Progress, progress

LIMIT = 16 * 1024
POST = b"POST /api/v1/bookings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    "received, expected",
    [
        (b"", Progress.HEAD),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n", Progress.HEAD),
        (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", Progress.READY),
        (POST + b"Content-Length: 10\r\n\r\n", Progress.BODY),
        (POST + b"Content-Length: 10\r\n\r\n12345", Progress.BODY),
        (POST + b"content-length:10\r\n\r\n1234567890", Progress.READY),
        (POST + b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n", Progress.BODY_AFTER_CONTINUE),
        (POST + b"Content-Length: 0\r\n\r\n", Progress.READY),
        # For the parser and the app to refuse at once, not after the client's time ran out:
        (POST + b"Content-Length: %d\r\n\r\n" % (LIMIT + 1), Progress.READY),
        (POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", Progress.READY),
        (b"GET / HTTP/1.1\r\nX: " + b"a" * MAX_HEAD_BYTES, Progress.READY),
    ],
)
def test_a_request_with_a_length(received, expected):
    assert progress(received, LIMIT) is expected


CHUNKED = POST + b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize(
    "body, expected",
    [
        (b"", Progress.BODY),
        (b"5\r\nhel", Progress.BODY),
        (b"5\r\nhello\r\n", Progress.BODY),
        (b"5\r\nhello\r\n0\r\n", Progress.BODY),
        (b"5\r\nhello\r\n0\r\n\r\n", Progress.READY),
        (b"5;name=value\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", Progress.READY),
        (b"5\r\nhello\r\n0\r\nX-Trailer: 1\r\n", Progress.BODY),
        # Framing that goes wrong is handed on for the parser to refuse:
        (b'{"name":"Budi"}\r\n', Progress.READY),
        (b"2;\x01Budi\r\n", Progress.READY),
        (b"5\r\nhello!!\r\n", Progress.READY),
        (b"5" * 2000, Progress.READY),
    ],
)
def test_a_chunked_request(body, expected):
    assert progress(CHUNKED + body, LIMIT) is expected
