"""The one settings object of the service.

Every value comes from the environment with a default. Keys follow the libraries'
own names where they have them (``RATELIMIT_*``), so the mapping can be handed to
``app.config`` unchanged. Tests pass overrides to ``create_app`` instead of
patching ``os.environ``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def parse_int_list(value: str | None, default: list[int]) -> list[int]:
    """Read comma-separated integers (``10,30,60``); empty means the default."""
    if value is None or value.strip() == "":
        return list(default)
    return [int(part) for part in value.split(",") if part.strip()]


def parse_str(value: str | None, default: str | None) -> str | None:
    """Read a string; empty means the default."""
    if value is None or value.strip() == "":
        return default
    return value.strip()


def parse_clock_time_or_off(value: str | None, default: str) -> str:
    """Read ``HH:MM`` (a wall-clock time) or ``off``; empty means the default."""
    text = parse_str(value, default)
    if text.lower() == "off":
        return "off"
    try:
        dt.time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a time of day (HH:MM) nor off: {text!r}") from None
    return text


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
    "VAR_DIR": (parse_str, "var"),
    "REDIS_URL": (parse_str, None),
    "QUEUE_REDIS_URL": (parse_str, None),
    "REDIS_CLUSTER": (parse_bool, False),
    # Short socket timeouts: a store outage must become a quick 503, not a hung worker.
    "REDIS_SOCKET_TIMEOUT": (parse_int, 2),
    "SECRET_KEY": (parse_str, None),
    "PORT": (parse_int, 8000),
    "WEB_CONCURRENCY": (parse_int, 2),
    "WEB_THREADS": (parse_int, 8),
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
    # Seconds between the retries of an SMS job whose send failed for a passing reason.
    "SMS_RETRY_INTERVALS": (parse_int_list, [10, 30, 60, 300, 900]),
    # A job that used up its retries is kept this long; then the sweep queues it afresh.
    "SMS_FAILURE_TTL_SECONDS": (parse_int, 900),
    # How often a worker looks for SMS events that are not queued (queue outage, lost jobs).
    "SMS_SWEEP_SECONDS": (parse_int, 30),
    # Branch-local time of the reminder on the day before the visit; "off" for none.
    "SMS_REMINDER_TIME": (parse_clock_time_or_off, "15:00"),
    # Every challenge also accepts this answer (automated tests; refused in production).
    "CAPTCHA_TEST_ANSWER": (parse_str, None),
    "CAPTCHA_TTL_SECONDS": (parse_int, 300),
    # Rate limits (README "Captcha and rate limits"); stored in the data store.
    "RATELIMIT_ENABLED": (parse_bool, True),
    "RATELIMIT_CAPTCHA": (parse_rate_limit, "20 per minute"),
    "RATELIMIT_BOOKING": (parse_rate_limit, "10 per minute"),
    "RATELIMIT_LOOKUP": (parse_rate_limit, "10 per minute"),
    "RATELIMIT_READ": (parse_rate_limit, "120 per minute"),
    "RATELIMIT_PER_PERSON": (parse_rate_limit, "5 per hour"),
    "RATELIMIT_FAILED_LOOKUP": (parse_rate_limit, "20 per hour"),
    # The check-in window around a slot (SPEC §2).
    "CHECKIN_EARLY_MINUTES": (parse_int, 60),
    "CHECKIN_GRACE_MINUTES": (parse_int, 30),
    # Personal data is purged this many days after the visit (UU PDP).
    "PERSONAL_DATA_RETENTION_DAYS": (parse_int, 90),
    # A NIK claim whose booking never appeared is taken over after this long.
    "RESERVATION_CLAIM_SECONDS": (parse_int, 30),
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
    if settings["APP_ENV"] not in {"development", "production"}:
        raise ValueError(f"APP_ENV must be development or production, not {settings['APP_ENV']!r}")
    if settings["SMS_BACKEND"] not in {"console", "file", "twilio"}:
        raise ValueError(f"SMS_BACKEND must be console, file or twilio, not {settings['SMS_BACKEND']!r}")
    if settings["SMS_BACKEND"] == "twilio":
        missing = [name for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
                   if not settings[name]]
        if missing:
            raise ValueError(f"SMS_BACKEND=twilio needs {', '.join(missing)}")
    if settings["CAPTCHA_TEST_ANSWER"] and settings["APP_ENV"] == "production":
        raise ValueError("CAPTCHA_TEST_ANSWER must not be set when APP_ENV=production: "
                         "it lets anyone pass the captcha")
    if settings["CAPTCHA_TTL_SECONDS"] < 1:
        raise ValueError("CAPTCHA_TTL_SECONDS must be at least 1")
    return settings
