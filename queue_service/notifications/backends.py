"""Where an SMS goes: the console (development), a JSON-lines file (tests, demos) or Twilio.

Every backend can ``send`` a message and ``find`` one it may have sent before, which is
how a retry whose earlier attempt ended without an answer avoids sending twice.
Errors carry status and error codes only: Twilio's messages quote the phone number.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import requests
from twilio.base import values
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from queue_service.domain.privacy import mask_phone

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
# Twilio errors that concern the recipient: trying again cannot help.
# 21211 invalid 'To', 21408 region not enabled, 21610 unsubscribed (STOP),
# 21612 unreachable by this sender, 21614 not a mobile number.
PERMANENT_ERROR_CODES = frozenset({21211, 21408, 21610, 21612, 21614})
# How far back a retry looks for a message an earlier attempt may have sent.
_FIND_SLACK = dt.timedelta(minutes=5)
_FIND_LIMIT = 50


@dataclass(frozen=True)
class OutgoingSms:
    """One message to send, with the booking event it belongs to."""

    to: str
    body: str
    code: str
    event: str
    status_callback: str | None = None


@dataclass(frozen=True)
class SentSms:
    """What the backend answered: its message id and status."""

    sid: str
    status: str


class SmsError(Exception):
    """Base of the backends' failures."""


class SmsPermanentError(SmsError):
    """The message can never be sent (invalid or unsubscribed number): do not retry."""

    def __init__(self, code: int | None, status: int | None = None):
        super().__init__(f"refused for good: HTTP {status}, Twilio error {code}")
        self.code = code


class SmsTransientError(SmsError):
    """Not sent this time; a retry may succeed."""


class SmsRejectedError(SmsTransientError):
    """Refused before anything was sent (429, or a refusal that a fix of the set-up can cure)."""


class SmsUncertainError(SmsTransientError):
    """No usable answer (5xx, network): the message may or may not exist at the provider."""


class SmsSender(Protocol):
    def send(self, sms: OutgoingSms) -> SentSms:
        """Send ``sms``. Raises an ``SmsError`` when it was not (or may not have been) sent."""

    def find(self, sms: OutgoingSms, since: dt.datetime) -> SentSms | None:
        """A message with the same recipient and body sent since ``since``, if the backend knows."""


class ConsoleSender:
    """Logs each message: the default of ``make run``. Remembers nothing."""

    def send(self, sms: OutgoingSms) -> SentSms:
        log.info("SMS to %s (%s %s):\n%s", mask_phone(sms.to), sms.event, sms.code, sms.body)
        return SentSms(sid=f"console-{sms.code}-{sms.event}", status="sent")

    def find(self, sms: OutgoingSms, since: dt.datetime) -> SentSms | None:
        return None


class FileSender:
    """Appends each message to a JSON-lines file: ``to``, ``body``, ``code``, ``event``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def send(self, sms: OutgoingSms) -> SentSms:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (
            json.dumps(
                {"to": sms.to, "body": sms.body, "code": sms.code, "event": sms.event}, ensure_ascii=False
            )
            + "\n"
        )
        # One write() on an O_APPEND descriptor: lines of concurrent workers never interleave.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return SentSms(sid=self._sid(sms), status="sent")

    def find(self, sms: OutgoingSms, since: dt.datetime) -> SentSms | None:
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as lines:
            for line in lines:
                entry = json.loads(line)
                if (entry.get("code"), entry.get("event"), entry.get("body")) == (
                    sms.code,
                    sms.event,
                    sms.body,
                ):
                    return SentSms(sid=self._sid(sms), status="sent")
        return None

    @staticmethod
    def _sid(sms: OutgoingSms) -> str:
        return f"file-{sms.code}-{sms.event}"


class ApiBaseHttpClient(TwilioHttpClient):
    """Twilio's HTTP client with a request timeout and another API base URL.

    Every request for ``https://api.twilio.com/...`` goes to ``base_url`` instead (a
    regional edge, or a local server in tests), including the next-page links of lists.
    It logs method and path only: the library's own log lines hold the query string,
    and with it the recipient's phone number.
    """

    def __init__(self, base_url: str = TWILIO_API, timeout: float | None = None):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any):
        if url.startswith(TWILIO_API + "/"):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        self.logger.debug("Twilio request: %s %s", kwargs["method"], kwargs["url"].split("?")[0])

    def log_response(self, status_code: int, response: Any) -> None:
        self.logger.debug("Twilio response: %s", status_code)


class TwilioSender:
    """Sends through Twilio's Messages API with the real ``twilio`` library.

    Args:
        account_sid, auth_token: the account's credentials.
        from_: the sender (a number in E.164, or an alphanumeric sender id).
        api_base_url: replaces ``https://api.twilio.com``.
        timeout: seconds each HTTP request may take (the library has no default).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str,
        api_base_url: str = TWILIO_API,
        timeout: float = 10,
    ):
        self.from_ = from_
        # An explicit environment, so that TWILIO_EDGE or TWILIO_REGION in os.environ cannot
        # move requests away from api_base_url behind our back.
        self.client = Client(
            account_sid,
            auth_token,
            account_sid=account_sid,
            http_client=ApiBaseHttpClient(api_base_url, timeout),
            environment={"TWILIO_ACCOUNT_SID": account_sid},
        )

    def send(self, sms: OutgoingSms) -> SentSms:
        try:
            message = self.client.messages.create(
                to=sms.to,
                from_=self.from_,
                body=sms.body,
                status_callback=sms.status_callback or values.unset,
            )
        except (TwilioException, requests.RequestException) as exc:
            raise classify(exc) from None
        return SentSms(sid=message.sid, status=message.status or "queued")

    def find(self, sms: OutgoingSms, since: dt.datetime) -> SentSms | None:
        # Not filtered by Twilio's DateSent: a message still queued at Twilio has none yet,
        # and is exactly the one a retry must not send again. The newest messages to the
        # number come first; their creation time is checked here.
        try:
            messages = self.client.messages.list(to=sms.to, from_=self.from_, limit=_FIND_LIMIT)
        except (TwilioException, requests.RequestException) as exc:
            error = classify(exc)
            # A failed look-up leaves the outcome as unknown as it was.
            raise SmsUncertainError(str(error)) from None
        earliest = since - _FIND_SLACK
        for message in messages:
            created = message.date_created
            if message.body == sms.body and (created is None or created >= earliest):
                return SentSms(sid=message.sid, status=message.status or "queued")
        return None


def classify(exc: Exception) -> SmsError:
    """The ``SmsError`` for an exception of the twilio library or of ``requests``."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", None)
    if isinstance(status, int):
        if code in PERMANENT_ERROR_CODES:
            return SmsPermanentError(code, status)
        if status == 429:
            return SmsRejectedError(f"rate limited: HTTP 429, Twilio error {code}")
        if status >= 500:
            return SmsUncertainError(f"Twilio failed: HTTP {status}, Twilio error {code}")
        return SmsRejectedError(f"refused: HTTP {status}, Twilio error {code}")
    # Network errors and unparsable answers: the request may have reached Twilio.
    return SmsUncertainError(f"no answer from Twilio: {type(exc).__name__}")


def make_sender(settings: Mapping[str, Any]) -> SmsSender:
    """The backend ``SMS_BACKEND`` names, configured from ``settings``.

    The settings were checked when loaded (``config.load_settings`` refuses the
    ``twilio`` backend without its credentials).
    """
    backend = settings["SMS_BACKEND"]
    if backend == "console":
        return ConsoleSender()
    if backend == "file":
        return FileSender(settings["SMS_OUTBOX"])
    if backend == "twilio":
        return TwilioSender(
            settings["TWILIO_ACCOUNT_SID"],
            settings["TWILIO_AUTH_TOKEN"],
            settings["TWILIO_FROM"],
            settings["TWILIO_API_BASE_URL"],
            settings["TWILIO_TIMEOUT_SECONDS"],
        )
    raise ValueError(f"unknown SMS_BACKEND {backend!r}")
