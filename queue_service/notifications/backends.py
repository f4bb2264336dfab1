"""Where an SMS goes: the console (development), a JSON-lines file (tests, demos) or Twilio.

A message goes by SMS or, for a participant who chose it, by WhatsApp (Twilio's same
Messages API, ``whatsapp:+62…`` addresses, an approved template's Content SID or a plain body).

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
from requests.utils import get_environ_proxies
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
# WhatsApp's, after which the message goes by SMS once instead (delivery.Deliveries), in one
# place: 63003 the number has no WhatsApp account (or an inactive one), 63024 not a valid
# recipient (WhatsApp 1002/1026: cannot receive this message), 63016 outside the 24-hour window
# and no template (a plain body the business started), 63027 and 63028 the template refused
# (none for that language, or its variables do not match).
WHATSAPP_FALLBACK_CODES = frozenset({63003, 63016, 63024, 63027, 63028})
PERMANENT_ERROR_CODES = frozenset({21211, 21408, 21610, 21612, 21614}) | WHATSAPP_FALLBACK_CODES
WHATSAPP = "whatsapp"
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
    # "sms" or "whatsapp"; a WhatsApp message names an approved template (and the JSON of its
    # placeholders' values) or goes as ``body``.
    channel: str = "sms"
    content_sid: str | None = None
    content_variables: str | None = None
    # The messages of the booking's other events: a look-up for this one never takes them
    # (a template's text shares its values with the other events' templates).
    other_sids: frozenset[str] = frozenset()

    @property
    def whatsapp(self) -> bool:
        return self.channel == WHATSAPP


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

    @property
    def whatsapp_refused(self) -> bool:
        """WhatsApp cannot take it (no account, a template refused): SMS may."""
        return self.code in WHATSAPP_FALLBACK_CODES


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
        log.info(
            "%s to %s (%s %s):\n%s",
            "WhatsApp" if sms.whatsapp else "SMS",
            mask_phone(sms.to),
            sms.event,
            sms.code,
            sms.body,
        )
        return SentSms(sid=f"console-{sms.code}-{sms.event}", status="sent")

    def find(self, sms: OutgoingSms, since: dt.datetime) -> SentSms | None:
        return None


class FileSender:
    """Appends each message to a JSON-lines file: ``to``, ``body``, ``code``, ``event``; a
    WhatsApp message also its ``channel`` and any ``content_sid`` and ``content_variables``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def send(self, sms: OutgoingSms) -> SentSms:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"to": sms.to, "body": sms.body, "code": sms.code, "event": sms.event}
        if sms.whatsapp:
            entry["channel"] = sms.channel
            if sms.content_sid:
                entry |= {"content_sid": sms.content_sid, "content_variables": sms.content_variables}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
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
                channel = entry.get("channel", "sms")
                if (entry.get("code"), entry.get("event"), entry.get("body"), channel) == (
                    sms.code,
                    sms.event,
                    sms.body,
                    sms.channel,
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
        if self.session is not None:
            # requests reads the proxy variables (NO_PROXY matched against the host) and the
            # CA bundle's on every request, a sixth of a message's time in a busy worker. This
            # client calls one host: they are read once, here, as requests would read them.
            self.proxy = {**get_environ_proxies(self.base_url), **self.proxy}
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            self.session.verify = bundle or True
            self.session.trust_env = False

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
        whatsapp_from: the WhatsApp sender (E.164, with or without ``whatsapp:``); None: no
            WhatsApp (a message for it is refused as a set-up to fix).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_: str,
        api_base_url: str = TWILIO_API,
        timeout: float = 10,
        whatsapp_from: str | None = None,
    ):
        self.from_ = from_
        self.whatsapp_from = whatsapp_address(whatsapp_from) if whatsapp_from else None
        # An explicit environment, so that TWILIO_EDGE or TWILIO_REGION in os.environ cannot
        # move requests away from api_base_url behind our back.
        self.client = Client(
            account_sid,
            auth_token,
            account_sid=account_sid,
            http_client=ApiBaseHttpClient(api_base_url, timeout),
            environment={"TWILIO_ACCOUNT_SID": account_sid},
        )

    def _addresses(self, sms: OutgoingSms) -> tuple[str, str]:
        """``(to, from)`` of ``sms``: ``whatsapp:`` addresses for a WhatsApp message."""
        if not sms.whatsapp:
            return sms.to, self.from_
        if self.whatsapp_from is None:
            raise SmsRejectedError("a WhatsApp message, and TWILIO_WHATSAPP_FROM is not set")
        return whatsapp_address(sms.to), self.whatsapp_from

    def send(self, sms: OutgoingSms) -> SentSms:
        to, from_ = self._addresses(sms)
        # A template replaces the body (Twilio: ContentSid supersedes Body).
        content = (
            {"content_sid": sms.content_sid, "content_variables": sms.content_variables or values.unset}
            if sms.content_sid
            else {"body": sms.body}
        )
        try:
            message = self.client.messages.create(
                to=to,
                from_=from_,
                status_callback=sms.status_callback or values.unset,
                **content,
            )
        except (TwilioException, requests.RequestException) as exc:
            raise classify(exc) from None
        return SentSms(sid=message.sid, status=message.status or "queued")

    def find(self, sms: OutgoingSms, since: dt.datetime) -> SentSms | None:
        # Not filtered by Twilio's DateSent: a message still queued at Twilio has none yet,
        # and is exactly the one a retry must not send again. The newest messages to the
        # number come first; their creation time is checked here.
        to, from_ = self._addresses(sms)
        try:
            messages = self.client.messages.list(to=to, from_=from_, limit=_FIND_LIMIT)
        except (TwilioException, requests.RequestException) as exc:
            error = classify(exc)
            # A failed look-up leaves the outcome as unknown as it was.
            raise SmsUncertainError(str(error)) from None
        earliest = since - _FIND_SLACK
        for message in messages:
            created = message.date_created
            if (
                _same_text(message.body or "", sms)
                and (created is None or created >= earliest)
                and message.sid not in sms.other_sids
            ):
                return SentSms(sid=message.sid, status=message.status or "queued")
        return None


def _same_text(sent: str, sms: OutgoingSms) -> bool:
    """Whether a message's text at Twilio is ``sms``'s: its body, or for a template the text
    Twilio made of it, which holds every value of its placeholders (the booking code among
    them, so no other event's message matches)."""
    if not sms.content_sid:
        return sent == sms.body
    filled = json.loads(sms.content_variables or "{}").values()
    return all(value in sent for value in filled)


def whatsapp_address(number: str) -> str:
    """``whatsapp:+62…`` for a number in E.164 (with or without the prefix already)."""
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


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
            settings.get("TWILIO_WHATSAPP_FROM"),
        )
    raise ValueError(f"unknown SMS_BACKEND {backend!r}")
