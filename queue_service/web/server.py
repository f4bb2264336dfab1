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

import datetime as dt
import json
import ssl
import uuid
from collections.abc import Callable, Mapping
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

from queue_service.web import messages
from queue_service.web.logging import gunicorn_logger

_REASONS = {400: "Bad Request", 500: "Internal Server Error"}


def refusal_body(code: str) -> bytes:
    """The SPEC's error body for ``code``, in the default language (no request to ask)."""
    body = {"error": {"code": code, "message": messages.error_message(code)}}
    return (json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _is_client_error(exc: BaseException) -> bool:
    # A response header the app wrote, or gunicorn's own configuration, is the server's
    # fault; every other parse error is the client's.
    if isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName, ConfigurationProblem)):
        return False
    return isinstance(exc, (ParseException, ssl.SSLError))


class JsonErrorWorker(ThreadWorker):
    """gunicorn's threaded worker, answering what it refuses itself in JSON, and waiting for a
    client's next bytes only ``WEB_CLIENT_TIMEOUT_SECONDS``."""

    def handle(self, conn):
        # gunicorn waits a few seconds for a new connection's first bytes, but once they
        # came it reads the rest with no limit: as many clients as threads that stop half-way
        # through their headers would hold the whole server. Each read (and write) of the
        # request's socket now has a time limit; gunicorn closes a connection that runs out.
        if not getattr(conn, "reads_timed", False):
            conn.reads_timed = True
            init, timeout = conn.init, self.app.settings["WEB_CLIENT_TIMEOUT_SECONDS"]

            def init_with_a_time_limit():
                init()  # after gunicorn made the socket blocking, without a limit
                conn.sock.settimeout(timeout)

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
        body = refusal_body("bad_request" if status == 400 else "internal_error")
        head = (
            f"HTTP/1.1 {status} {_REASONS[status]}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"X-Request-ID: {request_id}\r\n\r\n"
        ).encode("latin-1")
        if req is not None:
            environ = default_environ(req, client, self.cfg)
            addr = addr or ("", -1)  # a Unix socket
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            resp = Response(req, client, self.cfg)
            resp.status = f"{status} {_REASONS[status]}"
            resp.headers = [("X-Request-ID", request_id)]
            resp.response_length = resp.sent = len(body)
            self.log.access(resp, req, environ, dt.datetime.now() - started)
        try:
            util.write_nonblock(client, head + body)
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
        self.cfg.set("bind", f"{host}:{port}")
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
            lambda _server: print(
                f"Antrian is serving at http://{'localhost' if host == '0.0.0.0' else host}:{port}/",
                flush=True,
            ),
        )

    def load(self):
        return self.load_app()
