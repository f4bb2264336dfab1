"""What the web adds to the service's log lines (``queue_service.logging_setup``): the
request id on every line written during a request, and gunicorn's own logs (its error log
and an access log that carries no personal data) in the configured ``LOG_FORMAT``.

The access log records the path and the query string masked as every line is, and never
the ``Referer`` (another page's query).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from flask import g, has_request_context
from gunicorn.glogging import Logger as GunicornLogger

from queue_service import logging_setup


def request_fields() -> Mapping[str, Any]:
    """The current request's id, inside a request that has one."""
    if has_request_context() and "request_id" in g:
        return {"request_id": g.request_id}
    return {}


def configure(log_format: str) -> None:
    """The process's log lines in ``log_format``, each with its request's id."""
    logging_setup.add_context_provider(request_fields)
    logging_setup.configure(log_format)


class MaskedGunicornLogger(GunicornLogger):
    """gunicorn's logger in ``log_format``, with an access log that carries no personal data."""

    log_format = "json"

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(logging_setup.formatter(self.log_format))

    def exception(self, msg, *args, **kwargs):
        # A client that let WEB_CLIENT_TIMEOUT_SECONDS pass mid-request is a slow phone or a
        # stalling attacker, not a fault of ours: a line of information, not an error.
        if isinstance(sys.exc_info()[1], TimeoutError):
            self.info("client too slow, connection closed")
            return
        super().exception(msg, *args, **kwargs)

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((name.lower(), value) for name, value in resp.headers)
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO", ""),
                "query": environ.get("QUERY_STRING", ""),
                "status": int(status),
                "bytes": getattr(resp, "sent", None),
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "remote_addr": environ.get("REMOTE_ADDR"),
                "user_agent": environ.get("HTTP_USER_AGENT", ""),
                "request_id": headers.get("x-request-id"),
            },
        )


def gunicorn_logger(log_format: str) -> type[MaskedGunicornLogger]:
    """gunicorn's ``logger_class`` for ``log_format`` (gunicorn takes a class, not an instance)."""
    logging_setup.formatter(log_format)  # refuses an unknown format now, not in every worker
    return type("MaskedGunicornLogger", (MaskedGunicornLogger,), {"log_format": log_format})
