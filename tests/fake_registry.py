"""A local stand-in for the participant registry (SPEC §6: one JSON ``POST`` of
``{"nik", "kpj", "name"}``, answered ``200 {"valid": true|false}``), on pytest-httpserver."""

from __future__ import annotations

import threading
import time

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PATH = "/peserta/cek"
# Roomy, so an answer in time is in time on a busy machine; a slow fake sleeps well beyond it.
TIMEOUT_MS = 1000
LATE_SECONDS = 2.5


class FakeRegistry:
    """Answers ``valid`` (``answer``), or whatever ``respond`` gives; ``slow(seconds)`` makes
    it wait that long before answering.

    The server answers one request at a time: a test that made it slow waits (``settle``)
    until the late answer is out, so the next test's requests are not held behind it.
    """

    def __init__(self, server: HTTPServer):
        self.server = server
        self.valid: bool = True
        self.delay = 0.0
        self._idle = threading.Event()
        self._idle.set()
        server.expect_request(PATH, method="POST").respond_with_handler(self._answer)

    @property
    def url(self) -> str:
        return self.server.url_for(PATH)

    @property
    def asked(self) -> list[dict]:
        """The bodies of the requests received so far."""
        return [request.get_json() for request, _response in self.server.log]

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def settle(self) -> None:
        """Wait until any late answer has gone out."""
        assert self._idle.wait(5)

    def _answer(self, request: Request) -> Response:
        self._idle.clear()
        try:
            if self.delay:
                time.sleep(self.delay)
            return Response(
                f'{{"valid": {"true" if self.valid else "false"}}}', content_type="application/json"
            )
        finally:
            self._idle.set()
