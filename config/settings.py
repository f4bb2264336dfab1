"""The one settings object of the service.

Every value comes from the environment with a default. Keys follow the libraries'
own names where they have them (``RATELIMIT_*``), so the mapping can be handed to
``app.config`` unchanged. Tests pass overrides to ``create_app`` instead of
patching ``os.environ``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many


def parse_bool(value: str | None, default: bool) -> bool:
    """Read ``1/0``, ``true/false``, ``yes/no``, ``on/off``; empty means the default."""
    if value is None or value.strip() == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def parse_int(value: str | None, default: int) -> int:
    """Read an integer; empty means the default."""
    if value is None or value.strip() == "":
        return default
    return int(value)


def parse_float(value: str | None, default: float) -> float:
    """Read a finite decimal number (``10``, ``0.5``); empty means the default."""
    if value is None or value.strip() == "":
        return default
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number


def parse_int_list(value: str | None, default: list[int]) -> list[int]:
    """Read comma-separated integers (``10,30,60``); empty means the default."""
    if value is None or value.strip() == "":
        return list(default)
    return [int(part) for part in value.split(",") if part.strip()]


def parse_host_ports(value: str | None, default: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Read ``host:port,host:port`` (an IPv6 address in brackets: ``[::1]:26379``); empty
    means the default."""
    if value is None or value.strip() == "":
        return list(default)
    found = []
    for part in (part.strip() for part in value.split(",")):
        if not part:
            continue
        host, _, port = part.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        elif ":" in host:
            host = ""  # an IPv6 address without its brackets: which colon ends it?
        if not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise ValueError(f"not host:port: {part!r}")
        found.append((host, int(port)))
    return found


def parse_str(value: str | None, default: str | None) -> str | None:
    """Read a string; empty means the default."""
    if value is None or value.strip() == "":
        return default
    return value.strip()


def parse_pairs(value: str | None, default: dict[str, str] | None) -> dict[str, str] | None:
    """Read ``name:value,name:value`` (``booked:HX…,otp:HX…``) or a JSON object of strings;
    empty means the default."""
    if value is None or value.strip() == "":
        return default
    if value.strip().startswith("{"):
        try:
            found = json.loads(value)
        except ValueError:
            raise ValueError(f"not a JSON object: {value!r}") from None
        if not isinstance(found, dict) or not all(isinstance(item, str) for item in found.values()):
            raise ValueError(f"not a JSON object of strings: {value!r}")
        return found
    found = {}
    for part in (part.strip() for part in value.split(",")):
        if not part:
            continue
        name, colon, item = (piece.strip() for piece in part.partition(":"))
        if not colon or not name or not item or name in found:
            raise ValueError(f"not name:value (each name once): {part!r}")
        found[name] = item
    return found


def parse_clock_time_or_off(value: str | None, default: str) -> dt.time | None:
    """Read ``HH:MM`` (a wall-clock time), or ``off`` for None; empty means the default."""
    text = parse_str(value, default)
    if text.lower() == "off":
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time of day (HH:MM) nor off: {text!r}") from None


def parse_rate_limit(value: str | None, default: str) -> str:
    """Read a rate limit in the ``limits`` notation (``"10 per minute"``, ``"5/hour;50/day"``).

    Checked here because flask-limiter skips (with a log line) a limit it cannot parse,
    which would silently turn that limit off.
    """
    text = parse_str(value, default)
    try:
        parse_many(text)
    except ValueError:
        raise ValueError(f"not a rate limit: {text!r} (expected e.g. '10 per minute')") from None
    return text


# name -> (parser, default). The defaults are the documented ones (README, SPEC §4).
_SPEC: dict[str, tuple[Any, Any]] = {
    "APP_ENV": (parse_str, "development"),
    # Log lines as JSON (for a collector) or as one human line (for a terminal); unset: text
    # in development, json in production.
    "LOG_FORMAT": (parse_str, None),
    "VAR_DIR": (parse_str, "var"),
    "REDIS_URL": (parse_str, None),
    "QUEUE_REDIS_URL": (parse_str, None),
    "REDIS_CLUSTER": (parse_bool, False),
    # Redis Sentinel: the sentinels that name the master (host:port,...), the master's name
    # for the data store and for the job queue (unset: the same master), and the sentinels'
    # own password (their requirepass; unset: none). REDIS_URL then gives only the master's
    # password, database and TLS (rediss://:secret@/0).
    "REDIS_SENTINELS": (parse_host_ports, []),
    "REDIS_SENTINEL_MASTER": (parse_str, "antrian"),
    "QUEUE_REDIS_SENTINEL_MASTER": (parse_str, None),
    "REDIS_SENTINEL_PASSWORD": (parse_str, None),
    # Short socket timeouts: a store outage must become a quick 503, not a hung worker.
    "REDIS_SOCKET_TIMEOUT": (parse_int, 2),
    # A booking is confirmed only once this many replicas hold it (Redis WAIT); 0: at once.
    "REDIS_WAIT_REPLICAS": (parse_int, 0),
    # How long a booking waits for those replicas before it answers 503.
    "REDIS_WAIT_TIMEOUT_MS": (parse_int, 500),
    "SECRET_KEY": (parse_str, None),
    # Keys the hash that stands for a NIK (and a phone number) in key names, so SECRET_KEY
    # can change alone; unset: SECRET_KEY, as before. To replace it on a running deployment,
    # set the old value as NIK_HASH_KEY_PREVIOUS until the last date booked under it is over
    # (README, "Replacing NIK_HASH_KEY").
    "NIK_HASH_KEY": (parse_str, None),
    "NIK_HASH_KEY_PREVIOUS": (parse_str, None),
    # The keys that seal personal data at rest (AES-GCM): "id:base64key,..." (16, 24 or 32
    # bytes each), the first seals, every one opens. Unset: a key generated under VAR_DIR
    # (development only; refused in production).
    "DATA_KEYS": (parse_str, None),
    # /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; unset, it is open in
    # development and off (404) in production, as it names branches and their traffic.
    "METRICS_TOKEN": (parse_str, None),
    # A port of its own for /metrics (``serve`` listens on it too, beside PORT), for a scrape
    # the firewall lets in where the public cannot come: /metrics answers there without
    # METRICS_TOKEN (with it, if that is set too) and nowhere else; every other path there is
    # a 404. Unset: /metrics is on the public port, as METRICS_TOKEN says.
    "METRICS_PORT": (parse_int, None),
    "PORT": (parse_int, 8000),
    "WEB_CONCURRENCY": (parse_int, 2),
    "WEB_THREADS": (parse_int, 8),
    # The longest a web process waits for a client's next bytes, or for it to take a whole
    # answer (a captcha clip is 75 KB), before it closes the connection.
    "WEB_CLIENT_TIMEOUT_SECONDS": (parse_int, 30),
    # Where gunicorn's processes keep their metrics (prometheus_client's own variable);
    # unset: a temporary folder per `serve`.
    "PROMETHEUS_MULTIPROC_DIR": (parse_str, None),
    "PUBLIC_BASE_URL": (parse_str, None),
    # Proxies in front of the app whose X-Forwarded-For we trust (0: none).
    "TRUSTED_PROXY_COUNT": (parse_int, 0),
    "SMS_BACKEND": (parse_str, "console"),
    "SMS_OUTBOX": (parse_str, None),
    "TWILIO_ACCOUNT_SID": (parse_str, None),
    "TWILIO_AUTH_TOKEN": (parse_str, None),
    "TWILIO_FROM": (parse_str, None),
    "TWILIO_API_BASE_URL": (parse_str, "https://api.twilio.com"),
    "TWILIO_TIMEOUT_SECONDS": (parse_int, 10),
    # WhatsApp through the same Twilio account: the sender (E.164, the "whatsapp:" prefix is
    # added; unset: WhatsApp is not offered), and the approved templates (Content SIDs) of the
    # messages the service starts, "kind:HX…,kind:HX…" with the kinds otp, booked, reminder,
    # call_ahead, cancelled and closed (README "WhatsApp"); a kind without one goes as a plain
    # body, as Twilio's sandbox takes it.
    "TWILIO_WHATSAPP_FROM": (parse_str, None),
    "TWILIO_WHATSAPP_TEMPLATES": (parse_pairs, None),
    # Seconds between the retries of an SMS job whose send failed for a passing reason.
    "SMS_RETRY_INTERVALS": (parse_int_list, [10, 30, 60, 300, 900]),
    # A job that used up its retries is kept this long; then the sweep queues it afresh.
    "SMS_FAILURE_TTL_SECONDS": (parse_int, 900),
    # How often a worker reads the branches' SMS outboxes and queues the new events' jobs.
    "SMS_POLL_SECONDS": (parse_int, 1),
    # How often a worker queues every SMS event still pending whether it queued it before or
    # not (queue outage, lost jobs), and the reminders that are due.
    "SMS_SWEEP_SECONDS": (parse_int, 30),
    # How often a worker closes the branches' past days (bookings still booked: no-show).
    "END_OF_DAY_SWEEP_SECONDS": (parse_int, 300),
    # How often a worker releases the places held for a one-time code whose time ran out
    # (a booking at the branch releases them too).
    "HOLD_SWEEP_SECONDS": (parse_int, 15),
    # Branch-local time of the reminder on the day before the visit; "off" for none.
    "SMS_REMINDER_TIME": (parse_clock_time_or_off, "15:00"),
    # The worker beats this often while it runs a job; a job whose worker missed two beats
    # (killed, or cut off from Redis) is taken as abandoned and run again.
    "WORKER_HEARTBEAT_SECONDS": (parse_int, 10),
    # How often a worker looks for abandoned jobs and restarts its scheduler if it died.
    "WORKER_MAINTENANCE_SECONDS": (parse_int, 15),
    # A worker that lost Redis starts again after 1, 2, 4 ... seconds, at most this many.
    "WORKER_RESTART_MAX_SECONDS": (parse_int, 30),
    # Every challenge also accepts this answer (automated tests; refused in production).
    "CAPTCHA_TEST_ANSWER": (parse_str, None),
    "CAPTCHA_TTL_SECONDS": (parse_int, 300),
    # An availability answer is given again for this long without reading the store (a
    # rush asks for the same few days many times a second); 0 reads it every time.
    "AVAILABILITY_FRESH_MS": (parse_int, 1000),
    # Rate limits (README "Captcha and rate limits"); stored in the data store.
    "RATELIMIT_ENABLED": (parse_bool, True),
    "RATELIMIT_CAPTCHA": (parse_rate_limit, "20 per minute"),
    "RATELIMIT_BOOKING": (parse_rate_limit, "10 per minute"),
    "RATELIMIT_LOOKUP": (parse_rate_limit, "10 per minute"),
    "RATELIMIT_READ": (parse_rate_limit, "120 per minute"),
    "RATELIMIT_PER_PERSON": (parse_rate_limit, "5 per hour"),
    "RATELIMIT_FAILED_LOOKUP": (parse_rate_limit, "20 per hour"),
    # Console sign-in: failures that lock an account name (or an address) out, and for how long.
    "ADMIN_SIGN_IN_FAILURES": (parse_int, 5),
    "ADMIN_SIGN_IN_ADDRESS_FAILURES": (parse_int, 20),
    "ADMIN_LOCKOUT_SECONDS": (parse_int, 900),
    # An admin's reset gives a temporary password, to be changed at the first sign-in; it
    # signs in no more after this many hours (one that leaked by chat or paper stays useless).
    "TEMPORARY_PASSWORD_HOURS": (parse_int, 72),
    # A console session ends after this long without a request.
    "ADMIN_SESSION_IDLE_MINUTES": (parse_int, 30),
    # The government's collective leave (cuti bersama) closes every branch, as holidays do.
    "COLLECTIVE_LEAVE_CLOSED": (parse_bool, True),
    # Personal data is purged this many days after the visit (UU PDP).
    "PERSONAL_DATA_RETENTION_DAYS": (parse_int, 90),
    # Audit entries older than this are dropped by the worker's end-of-day sweep.
    "AUDIT_RETENTION_DAYS": (parse_int, 365),
    # Whom participants ask about their personal data (the privacy notice at /privasi): the
    # agency's data protection officer, e.g. "Pejabat PDP, pdp@example.go.id, 021-000".
    # Unset: the notice says no contact has been set.
    "PRIVACY_CONTACT": (parse_str, None),
    # A NIK claim whose booking never appeared is taken over after this long.
    "RESERVATION_CLAIM_SECONDS": (parse_int, 30),
    # Active bookings (booked or checked in, visit day not over) one phone number may hold
    # across all branches and dates; beyond it 409 too_many_bookings. At least 1: there is no
    # "no cap" value (a deployment that wants none sets a number no person reaches).
    "BOOKINGS_PER_PHONE": (parse_int, 3),
    # A new booking is held until the phone that will receive it types back the six-digit code
    # sent to it, for this many minutes (decimals allowed); PHONE_VERIFICATION=0 books at once,
    # for deployments that verify phones otherwise.
    "PHONE_VERIFICATION": (parse_bool, True),
    "PHONE_VERIFICATION_MINUTES": (parse_float, 10.0),
    # A place freed on a day with a waitlist is offered to the next on it and held for them this
    # many minutes (decimals allowed; shortened to what is left before the slot's booking
    # cutoff), then offered to the one after.
    "WAITLIST_OFFER_MINUTES": (parse_float, 30.0),
    # The participant registry that checks NIK, KPJ and name before a place is held (one JSON
    # POST); unset: no check. How long it may take, and what a booking does when it cannot
    # answer: "open" books and flags the booking, "closed" refuses with 503.
    "PARTICIPANT_REGISTRY_URL": (parse_str, None),
    "PARTICIPANT_REGISTRY_TIMEOUT_MS": (parse_int, 800),
    "PARTICIPANT_REGISTRY_FAILURE": (parse_str, "open"),
}


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Build the settings mapping from ``environ`` (default ``os.environ``) and ``overrides``.

    Args:
        environ: where to read variables from.
        overrides: values that win over the environment (tests, CLI flags).

    Returns:
        A dict ready for ``app.config.update``.

    Raises:
        ValueError: a variable does not parse, naming it, or the settings contradict each
            other (``CAPTCHA_TEST_ANSWER`` in production).
    """
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    for name, (parser, default) in _SPEC.items():
        try:
            settings[name] = parser(environ.get(name), default)
        except ValueError as exc:
            raise ValueError(f"environment variable {name}: {exc}") from None
    settings.update(overrides or {})
    var_dir = Path(settings["VAR_DIR"]).resolve()
    settings["VAR_DIR"] = str(var_dir)
    if not settings["SMS_OUTBOX"]:
        settings["SMS_OUTBOX"] = str(var_dir / "sms-outbox.jsonl")
    if not settings["LOG_FORMAT"]:
        settings["LOG_FORMAT"] = "json" if settings["APP_ENV"] == "production" else "text"
    problems = _contradictions(settings)
    if problems:
        raise ValueError("; ".join(problems))
    return settings


# The smallest value of each number that keeps its rule working: a negative retention
# would purge a booking as it is written, a zero timeout would wait for ever, a claim
# window under a second would let two attempts hold one NIK's date.
_AT_LEAST = {
    "REDIS_SOCKET_TIMEOUT": 1,
    "REDIS_WAIT_REPLICAS": 0,
    # WAIT with a timeout of 0 blocks for ever.
    "REDIS_WAIT_TIMEOUT_MS": 1,
    "PORT": 1,
    "WEB_CONCURRENCY": 1,
    "WEB_THREADS": 1,
    "WEB_CLIENT_TIMEOUT_SECONDS": 1,
    "TRUSTED_PROXY_COUNT": 0,
    "TWILIO_TIMEOUT_SECONDS": 1,
    "SMS_FAILURE_TTL_SECONDS": 1,
    "SMS_POLL_SECONDS": 1,
    "SMS_SWEEP_SECONDS": 1,
    "END_OF_DAY_SWEEP_SECONDS": 1,
    "HOLD_SWEEP_SECONDS": 1,
    "WORKER_HEARTBEAT_SECONDS": 1,
    "ADMIN_SIGN_IN_FAILURES": 1,
    "ADMIN_SIGN_IN_ADDRESS_FAILURES": 1,
    "ADMIN_LOCKOUT_SECONDS": 1,
    "TEMPORARY_PASSWORD_HOURS": 1,
    "ADMIN_SESSION_IDLE_MINUTES": 1,
    "WORKER_MAINTENANCE_SECONDS": 1,
    "WORKER_RESTART_MAX_SECONDS": 1,
    "CAPTCHA_TTL_SECONDS": 1,
    "AVAILABILITY_FRESH_MS": 0,
    "PERSONAL_DATA_RETENTION_DAYS": 0,
    "AUDIT_RETENTION_DAYS": 1,
    "RESERVATION_CLAIM_SECONDS": 1,
    # 0 would refuse every booking; it does not mean "no cap".
    "BOOKINGS_PER_PHONE": 1,
    # 0 would wait for ever (requests' None), a negative one is refused by requests per call.
    "PARTICIPANT_REGISTRY_TIMEOUT_MS": 1,
}
_AT_MOST = {"PORT": 65535}
# A day: a hold longer than that is a booking nobody confirmed.
_MAX_HOLD_MINUTES = 1440
_URL_SCHEMES = {
    "REDIS_URL": ("redis://", "rediss://", "unix://"),
    "QUEUE_REDIS_URL": ("redis://", "rediss://", "unix://"),
    "PUBLIC_BASE_URL": ("http://", "https://"),
    "TWILIO_API_BASE_URL": ("http://", "https://"),
    "PARTICIPANT_REGISTRY_URL": ("http://", "https://"),
}
# Long enough that it cannot be guessed: it keys the NIK hashes in every key name.
_MIN_PRODUCTION_SECRET = 16


def _contradictions(settings: dict[str, Any]) -> list[str]:
    """Every value, or pair of values, that would start a service that silently breaks a rule."""
    problems = []
    for name, floor in _AT_LEAST.items():
        if settings[name] < floor:
            problems.append(f"{name} must be at least {floor}, not {settings[name]}")
    for name, ceiling in _AT_MOST.items():
        if settings[name] > ceiling:
            problems.append(f"{name} must be at most {ceiling}, not {settings[name]}")
    if any(interval < 0 for interval in settings["SMS_RETRY_INTERVALS"]):
        problems.append("SMS_RETRY_INTERVALS must not hold a negative number of seconds")
    for name, schemes in _URL_SCHEMES.items():
        if settings[name] and not settings[name].startswith(schemes):
            problems.append(f"{name} must start with {' or '.join(schemes)}: {settings[name]!r}")
    if settings["METRICS_PORT"] is not None and not 1 <= settings["METRICS_PORT"] <= 65535:
        problems.append(f"METRICS_PORT must be a port from 1 to 65535, not {settings['METRICS_PORT']}")
    if settings["METRICS_PORT"] == settings["PORT"]:
        problems.append(f"METRICS_PORT must not be PORT ({settings['PORT']}): /metrics would be public")
    if settings["APP_ENV"] not in {"development", "production"}:
        problems.append(f"APP_ENV must be development or production, not {settings['APP_ENV']!r}")
    if settings["LOG_FORMAT"] not in {"json", "text"}:
        problems.append(f"LOG_FORMAT must be json or text, not {settings['LOG_FORMAT']!r}")
    minutes = settings["PHONE_VERIFICATION_MINUTES"]
    if settings["PHONE_VERIFICATION"] and not 0 < minutes <= _MAX_HOLD_MINUTES:
        problems.append(
            f"PHONE_VERIFICATION_MINUTES must be above 0 and at most {_MAX_HOLD_MINUTES}, not {minutes}: "
            "a hold keeps a place from everyone else while its code is awaited"
        )
    if not 0 < settings["WAITLIST_OFFER_MINUTES"] <= 24 * 60:
        problems.append(
            f"WAITLIST_OFFER_MINUTES must be above 0 and at most {24 * 60}, not "
            f"{settings['WAITLIST_OFFER_MINUTES']}: an offer keeps a place from everyone else"
        )
    if settings["PARTICIPANT_REGISTRY_FAILURE"] not in {"open", "closed"}:
        problems.append(
            "PARTICIPANT_REGISTRY_FAILURE must be open or closed, "
            f"not {settings['PARTICIPANT_REGISTRY_FAILURE']!r}"
        )
    if settings["SMS_BACKEND"] not in {"console", "file", "twilio"}:
        problems.append(f"SMS_BACKEND must be console, file or twilio, not {settings['SMS_BACKEND']!r}")
    if settings["SMS_BACKEND"] == "twilio":
        missing = [
            name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM") if not settings[name]
        ]
        if missing:
            problems.append(f"SMS_BACKEND=twilio needs {', '.join(missing)}")
    problems.extend(_whatsapp_contradictions(settings))
    if settings["REDIS_CLUSTER"]:
        if not settings["REDIS_URL"]:
            problems.append(
                "REDIS_CLUSTER=1 needs REDIS_URL (a node of the cluster): "
                "the embedded Redis is a single server"
            )
        if not settings["QUEUE_REDIS_URL"]:
            problems.append(
                "REDIS_CLUSTER=1 needs QUEUE_REDIS_URL: the job queue cannot run on a Redis Cluster"
            )
    problems.extend(_sentinel_contradictions(settings))
    if settings["REDIS_WAIT_TIMEOUT_MS"] >= settings["REDIS_SOCKET_TIMEOUT"] * 1000:
        problems.append(
            f"REDIS_WAIT_TIMEOUT_MS ({settings['REDIS_WAIT_TIMEOUT_MS']}) must be below "
            f"REDIS_SOCKET_TIMEOUT ({settings['REDIS_SOCKET_TIMEOUT']} s): the connection would "
            "give up before WAIT answers"
        )
    if settings["APP_ENV"] == "production":
        secret = settings["SECRET_KEY"] or ""
        if len(secret) < _MIN_PRODUCTION_SECRET:
            problems.append(
                f"SECRET_KEY must be set (at least {_MIN_PRODUCTION_SECRET} characters) when "
                "APP_ENV=production: every web host and worker must share it, as it signs "
                "sessions (and keys the NIK hashes in the data store unless NIK_HASH_KEY is set)"
            )
        for name in ("NIK_HASH_KEY", "NIK_HASH_KEY_PREVIOUS"):
            if settings[name] is not None and len(settings[name]) < _MIN_PRODUCTION_SECRET:
                problems.append(
                    f"{name} must be at least {_MIN_PRODUCTION_SECRET} characters when "
                    "APP_ENV=production (or unset: SECRET_KEY keys the NIK hashes then)"
                )
        if settings["CAPTCHA_TEST_ANSWER"]:
            problems.append(
                "CAPTCHA_TEST_ANSWER must not be set when APP_ENV=production: it lets anyone pass the captcha"
            )
        if not settings["DATA_KEYS"]:
            problems.append(
                "DATA_KEYS must be set when APP_ENV=production (id:base64key,...): every web host "
                "and worker must share the keys that seal personal data at rest"
            )
    if settings["DATA_KEYS"]:
        from queue_service.store.sealing import DataKeysError, Keyring  # noqa: PLC0415

        try:
            Keyring.parse(settings["DATA_KEYS"])
        except DataKeysError as error:
            problems.append(str(error))
    return problems


_WHATSAPP_NUMBER = re.compile(r"(whatsapp:)?\+[1-9][0-9]{6,14}")
_CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")


def _whatsapp_contradictions(settings: dict[str, Any]) -> list[str]:
    """A WhatsApp sender that is no number, or templates of unknown kinds or malformed SIDs."""
    problems = []
    sender = settings["TWILIO_WHATSAPP_FROM"]
    if sender and not _WHATSAPP_NUMBER.fullmatch(sender):
        problems.append(f"TWILIO_WHATSAPP_FROM must be a number in E.164 (+62…), not {sender!r}")
    templates = settings["TWILIO_WHATSAPP_TEMPLATES"] or {}
    if templates:
        from queue_service.notifications.texts import TEMPLATE_KINDS  # noqa: PLC0415
    for kind, sid in templates.items():
        if kind not in TEMPLATE_KINDS:
            problems.append(
                f"TWILIO_WHATSAPP_TEMPLATES: unknown kind {kind!r} (kinds: {', '.join(TEMPLATE_KINDS)})"
            )
        elif not _CONTENT_SID.fullmatch(sid):
            problems.append(f"TWILIO_WHATSAPP_TEMPLATES: {kind}'s Content SID must be HX and 32 hex digits")
    if templates and not sender:
        problems.append("TWILIO_WHATSAPP_TEMPLATES needs TWILIO_WHATSAPP_FROM (the WhatsApp sender)")
    return problems


def _sentinel_contradictions(settings: dict[str, Any]) -> list[str]:
    """Sentinel settings that name no store, or two."""
    if not settings["REDIS_SENTINELS"]:
        return [
            f"{name} needs REDIS_SENTINELS (host:port,...)"
            for name in ("QUEUE_REDIS_SENTINEL_MASTER", "REDIS_SENTINEL_PASSWORD")
            if settings[name]
        ]
    problems = []
    if settings["REDIS_CLUSTER"]:
        problems.append(
            "REDIS_SENTINELS and REDIS_CLUSTER=1 cannot be used together: a Redis Cluster fails "
            "over by itself, Sentinel watches one primary and its replicas"
        )
    url = settings["REDIS_URL"]
    if url and (url.startswith("unix://") or _names_a_server(url)):
        problems.append(
            "REDIS_URL with REDIS_SENTINELS gives only the master's password, database and TLS "
            "(e.g. rediss://:secret@/0): the sentinels name the master, so leave its host out"
        )
    if settings["QUEUE_REDIS_SENTINEL_MASTER"] and settings["QUEUE_REDIS_URL"]:
        problems.append(
            "QUEUE_REDIS_URL and QUEUE_REDIS_SENTINEL_MASTER both name the job queue's store: set one"
        )
    return problems


def _names_a_server(url: str) -> bool:
    try:
        parts = urlsplit(url)
        return bool(parts.hostname or parts.port)
    except ValueError:  # a port that is no number: it names something all the same
        return True
