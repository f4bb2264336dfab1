"""Structured logs: one JSON object a line, with the request id, personal data masked.

Every log line of the service (the app's, gunicorn's, the access log) goes through
``JsonFormatter``. It masks anything that looks like a NIK, KPJ or phone number (ten or
more digits, with or without ``+``, in one run or in groups as people type them) whatever
wrote it, so a library that quotes a request or an address cannot leak one (UU PDP). The
access log records the path and the query string masked the same way, and never the
``Referer`` (another page's query).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

from flask import g, has_request_context
from gunicorn.glogging import Logger as GunicornLogger

from queue_service.domain.privacy import mask_nik, mask_phone

# NIK (16), KPJ (11), phone numbers (10-15, with or without +, or %2B in a URL): ten or more
# digits standing alone, in one run or in groups as people type them: "0812-3456-7890",
# "0812 - 3456 7890", "(021) 1234-5678", "+62 812 3456 7890", and the same in a URL (a space
# as + or %20, a bracket as %28/%29). A number starts after anything but a letter, a digit or
# a time's colon (also right after a URL's %XX); groups are joined only after a first group
# of three digits or a +, so lists of small numbers stay whole. Dates are matched first, as
# a whole, and left alone; dots join nothing (addresses, versions, decimals stay whole).
_SPACE = r"[ \t\xa0]"
_SEPARATOR = (
    rf"(?:{_SPACE}{{0,2}}-{_SPACE}{{0,2}}|{_SPACE}{{1,2}}|\){_SPACE}?|\+|%20|%2[Dd]"
    r"|%29(?:\+|%20)?)"
)
_PERSONAL_NUMBER = re.compile(
    r"(?:(?<![0-9A-Za-z%])|(?<=%[0-9A-Fa-f]{2}))(?<!\d:)"
    r"(?:(?P<date>(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))(?![-/]\d)"
    rf"|(?P<plus>\+|%2[Bb])?(?P<number>(?(plus)\d{{2,}}|\d{{3,}})(?:{_SEPARATOR}\d{{2,}})*))"
    r"(?![0-9A-Za-z])"
)
# Ten digits with at most a separator between each (no letter but a URL's %XX): a quick scan
# that nearly every line (paths, user agents, messages) fails, so the full match runs rarely.
_TEN_DIGITS = re.compile(r"\d(?:[^0-9A-Za-z]{0,6}\d|%[0-9A-Fa-f]{2}\d){9}")


def mask_personal_data(text: str) -> str:
    """``text`` with every long number masked (``3174********0001``, ``+62812****5678``)."""
    return _PERSONAL_NUMBER.sub(_masked, text) if _TEN_DIGITS.search(text) else text


def _masked(match: re.Match) -> str:
    number, plus = match["number"], match["plus"] or ""
    digits = re.sub(_SEPARATOR, "", number or "")
    if len(digits) < 10:  # a date, or too short to name anyone
        return match[0]
    return mask_phone(plus + digits) if plus else mask_nik(digits)


# Attributes every LogRecord has; anything else was passed with ``extra=`` and is logged.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_personal_data(record.getMessage()),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = (
                    mask_personal_data(value) if isinstance(value, str) and name != "request_id" else value
                )
        if record.exc_info:
            entry["exception"] = mask_personal_data(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure() -> None:
    """JSON lines on standard error for the process's root logger, unless it has handlers
    already (a test runner's, or a host application's)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)


class JsonGunicornLogger(GunicornLogger):
    """gunicorn's logger with JSON lines, and an access log that carries no personal data."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

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
