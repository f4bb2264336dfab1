"""Log lines of every process (web, worker, command line), personal data masked.

Two formats, chosen by ``LOG_FORMAT``: ``json`` (one JSON object a line, for production,
where a collector parses the fields) and ``text`` (one human line: time, level, logger,
message, then the extra fields as ``key=value``, for a developer's terminal). Both run every
message, extra field and traceback through ``mask_personal_data``: anything that looks like
a NIK, KPJ or phone number (ten or more digits, with or without ``+``, in one run or in
groups as people type them) is masked whoever wrote it, so a library that quotes a request
or an address cannot leak one (UU PDP).

This module sits below ``web`` and ``workers``, which both use it; what only a web request
knows (its id) is added by a context provider the web layer registers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from queue_service.domain.privacy import mask_nik, mask_phone

# NIK (16), KPJ (11), phone numbers (10-15, with or without +, or %2B in a URL): ten or more
# digits standing alone, in one run or in groups as people type them: "0812-3456-7890",
# "0812 - 3456 7890", "(021) 1234-5678", "+62 812 3456 7890", and the same in a URL (a space
# as + or %20, a bracket as %28/%29). A number starts after anything but a letter, a digit or
# a time's colon (also right after a URL's %XX); groups are joined only after a first group
# of three digits or a +, so lists of small numbers stay whole. "_" and "/" join groups as
# "-" does ("3171_0112_0190_0001", "3171/0112/0190/0001"); a dot joins only a group of four
# digits or more ("3171.0112.0190.0001"), so that addresses (groups of at most three),
# versions and decimals stay whole. Dates are matched first, as a whole, and left alone.
_SPACE = r"[ \t\xa0]"
_SEPARATOR = (
    rf"(?:{_SPACE}{{0,2}}[-_/]{_SPACE}{{0,2}}|{_SPACE}{{1,2}}|\){_SPACE}?|\+|%20|%2[DdFf]|%5[Ff]"
    r"|\.(?=\d{4})|%29(?:\+|%20)?)"
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

# Functions that return fields of the moment a line is written (the web request's id);
# registered by the layer that knows them, so this module imports nothing above it.
_context_providers: list[Callable[[], Mapping[str, Any]]] = []


def add_context_provider(provider: Callable[[], Mapping[str, Any]]) -> None:
    """Add ``provider``'s fields to every line from now on (once, however often it is added)."""
    if provider not in _context_providers:
        _context_providers.append(provider)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    """The line's fields after the message: the context's, then the record's extras, masked.

    A request id is masked too: the caller may choose it (``X-Request-ID``), and a NIK put
    there would otherwise be written whole; the service's own ids (hex) are never masked,
    and a masked one stays the same on every line of its request, so lines are still found
    by it.
    """
    fields: dict[str, Any] = {}
    for provider in _context_providers:
        fields.update(provider())
    for name, value in vars(record).items():
        if name not in _STANDARD and not name.startswith("_"):
            fields[name] = value
    return {
        name: mask_personal_data(value) if isinstance(value, str) else value for name, value in fields.items()
    }


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": mask_personal_data(record.getMessage()),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = mask_personal_data(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A log record as one line a person reads:
    ``2026-12-07 18:00:01.234 WARNING workers.worker: message key=value``.

    Local time, as the developer's clock shows it. A line break inside a message or a field
    is written as ``\\n``, so that every line is one record (a traceback follows its line).
    """

    def format(self, record: logging.LogRecord) -> str:
        when = dt.datetime.fromtimestamp(record.created).isoformat(sep=" ", timespec="milliseconds")
        message = _one_line(mask_personal_data(record.getMessage()))
        line = f"{when} {record.levelname:<7} {record.name}: {message}"
        extras = " ".join(f"{name}={_one_line(str(value))}" for name, value in _fields(record).items())
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{mask_personal_data(self.formatException(record.exc_info))}"
        return line


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


FORMATS = ("json", "text")


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of ``LOG_FORMAT`` (``json`` or ``text``)."""
    if log_format == "json":
        return JsonFormatter()
    if log_format == "text":
        return TextFormatter()
    raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")


def configure(log_format: str) -> None:
    """Lines in ``log_format`` on standard error for the process's root logger, unless it
    has handlers already (a test runner's, or a host application's)."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
