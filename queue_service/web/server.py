"""How ``queue-service serve`` runs gunicorn: its settings, and a worker whose own refusals
are JSON.

gunicorn answers some requests before the app sees them (a request line over 4094 bytes,
too many or too large headers, a request line that does not parse) with an HTML page of
its own. SPEC §3 promises JSON for every response, so the worker here answers those in the
SPEC's error format instead: 400 ``bad_request`` (the SPEC has no 414 or 431, and the app
answers werkzeug's 413/414/431 as 400 too), or 500 ``internal_error`` for what is the
server's fault. The body names nothing of the request, as the app's refusals do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import selectors
import ssl
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import (
    ConfigurationProblem,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    ParseException,
)
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.gthread import ThreadWorker

from queue_service import MAX_BODY_BYTES
from queue_service.web import http_framing, messages
from queue_service.web.logging import gunicorn_logger

_REASONS = {400: "Bad Request", 500: "Internal Server Error"}


def refusal_body(code: str) -> bytes:
    """The SPEC's error body for ``code``, in the default language (no request to ask)."""
    body = {"error": {"code": code, "message": messages.error_message(code)}}
    return (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


_CODES = {400: "bad_request", 500: "internal_error"}


def _refusal_bytes(status: int, request_id: str) -> bytes:
    """A whole HTTP answer refusing the request in the SPEC's format, closing the connection."""
    body = refusal_body(_CODES[status])
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n\r\n"
    ).encode("latin-1")
    return head + body


def _is_client_error(exc: BaseException) -> bool:
    # A response header the app wrote, or gunicorn's own configuration, is the server's
    # fault; every other parse error is the client's.
    if isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName, ConfigurationProblem)):
        return False
    return isinstance(exc, (ParseException, ssl.SSLError))


class JsonErrorWorker(ThreadWorker):
    """gunicorn's threaded worker, reading each request whole before it takes a thread, and
    answering what it refuses itself in JSON.

    gunicorn gives a connection a thread as soon as it has bytes, and the thread then reads
    the rest of the request at the client's pace: 4 clients sending a booking's headers and
    then a byte of body every 10 s held all 4 threads of a 1 x 4 server, and ``/healthz``
    timed out. Here a request's bytes are read on the worker's event loop (non-blocking,
    alongside the kept-alive connections gunicorn already watches there) until its head and
    body are all in; only then does a thread parse and answer it, from memory. A client
    has ``WEB_CLIENT_TIMEOUT_SECONDS`` for the whole request from its first byte (or from
    its connection): one that stalls in its head is disconnected, one that stalls in its
    body gets the SPEC's 400. Slow clients cost a socket and a buffer each (at most
    ``worker_connections`` of them), never a thread.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reading: deque = deque()  # connections whose request is still coming, by deadline

    def enqueue_req(self, conn):
        if self.cfg.is_ssl or conn.is_http2:
            super().enqueue_req(conn)  # TLS and HTTP/2 are the proxy's
            return
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        conn.request_bytes = bytearray(held)
        conn.continue_sent = False
        conn.deadline = time.monotonic() + self.app.settings["WEB_CLIENT_TIMEOUT_SECONDS"]
        conn.sock.setblocking(False)
        if held and self._read_enough(conn):
            self._hand_on(conn)
            return
        self.reading.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_request_bytes, conn))

    def _on_request_bytes(self, conn, _sock):
        try:
            chunk = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client went away
            self._stop_reading(conn)
            self._drop(conn)
            return
        conn.request_bytes += chunk
        if self._read_enough(conn):
            self._stop_reading(conn)
            self._hand_on(conn)

    def _read_enough(self, conn) -> bool:
        state = http_framing.progress(conn.request_bytes, MAX_BODY_BYTES)
        if state is http_framing.Progress.BODY_AFTER_CONTINUE and not conn.continue_sent:
            # The client sends its body only once told to go on (curl does so for bodies over
            # 1 KiB); gunicorn says it again later, which HTTP allows.
            conn.continue_sent = True
            with contextlib.suppress(OSError):
                conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        return state is http_framing.Progress.READY

    def _hand_on(self, conn):
        """Give the whole request to a thread: its parser reads it from memory."""
        received, conn.request_bytes = bytes(conn.request_bytes), None
        conn.sock.setblocking(True)
        conn.data_ready = True
        conn.pending_bytes = received
        super().enqueue_req(conn)

    def _stop_reading(self, conn):
        with contextlib.suppress(OSError, KeyError, ValueError):
            self.poller.unregister(conn.sock)
        with contextlib.suppress(ValueError):
            self.reading.remove(conn)

    def _drop(self, conn):
        self.nr_conns -= 1
        conn.close()

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        while self.reading and self.reading[0].deadline <= now:
            conn = self.reading.popleft()
            with contextlib.suppress(OSError, KeyError, ValueError):
                self.poller.unregister(conn.sock)
            # A slow phone or a stalling attacker, not a fault of ours: information only.
            self.log.info("client too slow, connection closed")
            if http_framing.progress(conn.request_bytes, MAX_BODY_BYTES) in (
                http_framing.Progress.BODY,
                http_framing.Progress.BODY_AFTER_CONTINUE,
            ):
                # It said what it asks for, and stopped in its body: it is told so.
                with contextlib.suppress(OSError):
                    conn.sock.send(_refusal_bytes(400, uuid.uuid4().hex))
            self._drop(conn)

    def handle(self, conn):
        # Each read and write on a request's socket in a thread has a time limit too: the
        # answer is written at the client's pace, and a request handed on before it was
        # whole (too large, or framed oddly) is read by gunicorn's parser.
        if not getattr(conn, "reads_timed", False):
            conn.reads_timed = True
            init, timeout = conn.init, self.app.settings["WEB_CLIENT_TIMEOUT_SECONDS"]

            def init_with_a_time_limit():
                init()  # after gunicorn made the socket blocking, without a limit
                conn.sock.settimeout(timeout)
                if getattr(conn, "pending_bytes", b""):
                    conn.parser.unreader.unread(conn.pending_bytes)
                    conn.pending_bytes = b""

            conn.init = init_with_a_time_limit
        return super().handle(conn)

    def handle_error(self, req, client, addr, exc):
        started = dt.datetime.now()
        status = 400 if _is_client_error(exc) else 500
        request_id = uuid.uuid4().hex
        if status == 400:
            # The class only: str(exc) quotes the raw request line, query string and all,
            # and a NIK must never reach a log.
            self.log.warning(
                "invalid request refused: %s", type(exc).__name__, extra={"request_id": request_id}
            )
        else:
            self.log.exception("error handling request", extra={"request_id": request_id})
        refusal = _refusal_bytes(status, request_id)
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            addr = addr or ("", -1)  # a Unix socket
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            resp = Response(req, client, self.cfg)
            resp.status = f"{status} {_REASONS[status]}"
            resp.headers = [("X-Request-ID", request_id)]
            resp.response_length = resp.sent = len(refusal_body(_CODES[status]))
            self.log.access(resp, req, environ, dt.datetime.now() - started)
        try:
            util.write_nonblock(client, refusal)
        except Exception:  # the client is gone: nothing to tell it
            self.log.debug("could not send the refusal")


class Server(BaseApplication):
    """gunicorn serving ``load_app()`` with the service's settings."""

    def __init__(
        self,
        settings: Mapping[str, Any],
        host: str,
        port: int,
        load_app: Callable[[], Any],
        on_worker_exit: Callable[[int], None],
    ):
        self.settings, self.host, self.port = settings, host, port
        self.load_app, self.on_worker_exit = load_app, on_worker_exit
        super().__init__()

    def load_config(self):
        settings, host, port = self.settings, self.host, self.port
        # ``--host unix:/run/antrian/web.sock`` listens on a Unix socket (a proxy on the host).
        binds = [host if host.startswith("unix:") else f"{host}:{port}"]
        if settings["METRICS_PORT"] is not None:
            # Beside a Unix socket (a proxy on the host) on every interface: a scraper elsewhere
            # reaches it where the firewall lets it, and it answers nothing but /metrics.
            metrics_host = "0.0.0.0" if host.startswith("unix:") else host
            binds.append(f"{metrics_host}:{settings['METRICS_PORT']}")
        self.cfg.set("bind", binds)
        self.cfg.set("workers", settings["WEB_CONCURRENCY"])
        self.cfg.set("worker_class", f"{__name__}.JsonErrorWorker")
        self.cfg.set("threads", settings["WEB_THREADS"])
        self.cfg.set("accesslog", "-")
        self.cfg.set("logger_class", gunicorn_logger(settings["LOG_FORMAT"]))
        # One control socket per user would clash between several servers on one host.
        self.cfg.set("control_socket_disable", True)
        self.cfg.set("forwarded_allow_ips", "*" if settings["TRUSTED_PROXY_COUNT"] else "")
        self.cfg.set("child_exit", lambda _server, worker: self.on_worker_exit(worker.pid))
        self.cfg.set(
            "when_ready",
            lambda _server: print(f"Antrian is serving at {self._address()}", flush=True),
        )

        self._apply_operator_args()

    def _address(self) -> str:
        if self.host.startswith("unix:"):
            return self.host
        return f"http://{'localhost' if self.host == '0.0.0.0' else self.host}:{self.port}/"

    def _apply_operator_args(self):
        """``GUNICORN_CMD_ARGS`` (gunicorn's own variable, e.g. ``--timeout 60 --backlog
        4096``) last, as gunicorn's own command does: the operator's word wins over the
        settings above."""
        operator = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
        for name, value in vars(operator).items():
            if value is not None and name != "args":
                self.cfg.set(name.lower(), value)

    def load(self):
        return self.load_app()
