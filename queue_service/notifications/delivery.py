"""Delivering SMS events: each event's message sent at most once, and its delivery record.

Each event has a delivery record of its own while attempts are under way; once settled, it is
packed into two fields of the booking. An attempt is recorded before the message is handed to
the backend, and the backend's message id after; an attempt that ended without an answer
(5xx, network, a worker that died) makes the next one ask the backend whether the message
exists before sending again. Twilio's status callbacks are recorded on the same record.

A participant who chose WhatsApp gets every message there (an approved template where one is
set for its kind, else a plain body); a WhatsApp refusal for good (``backends.
WHATSAPP_FALLBACK_CODES``) sends the same text by SMS once, in the same attempt, and the record
says so. A phone whose owner asked for no messages (``domain.opt_outs``) gets none: its events
are settled ``suppressed``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from redis import Redis

from queue_service.domain import catalog
from queue_service.domain.opt_outs import OptOuts
from queue_service.domain.reservations import Booking
from queue_service.notifications import texts
from queue_service.notifications.backends import (
    WHATSAPP,
    WHATSAPP_FALLBACK_CODES,
    OutgoingSms,
    SmsPermanentError,
    SmsRejectedError,
    SmsSender,
    SmsTransientError,
)
from queue_service.notifications.reminders import Reminders
from queue_service.store import keys
from queue_service.store.outcomes import SmsAttemptOutcome
from queue_service.store.scripts import Scripts

log = logging.getLogger(__name__)

EVENTS = texts.EVENTS
# What ``deliver`` answers for an event that is no longer pending: a job that came too late.
NOT_PENDING = "not_pending"
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
# The SMS's short link to the look-up page: ``/k/<code>`` (web.pages.manage answers it).
MANAGE_LINK_PATH = "/k/"
# A waitlist offer's message links to its page, ``/daftar-tunggu/<waitlist id>``
# (web.pages.waitlist answers it), to accept it.
OFFER_LINK_PATH = "/daftar-tunggu/"
# A closure's SMS links to the dates of the branch and service, ``/cabang/<branch>/<service>``
# (web.pages.participant answers it), to book another day.
BOOKING_LINK_PATH = "/cabang/"

# Twilio's message statuses in the order they can follow each other; a status never
# replaces one of equal or higher rank, so late or repeated callbacks change nothing.
STATUS_RANKS = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "partially_delivered": 4,
    "read": 5,
}
# A settled event's record is two fields of its booking (``sms_settle.lua``): ``sms:<event>``,
# these values joined by commas, and ``sms:<event>:sid``.
SETTLED_FIELD_PREFIX = "sms:"
_PACKED_FIELDS = ("state", "settled_ms", "attempts", "uncertain", "status", "status_rank", "error_code")
# Beside them, for a message meant for WhatsApp, ``sms:<event>:via``: ``whatsapp``, or
# ``sms,<WhatsApp's error code>`` when it went by SMS instead (``…,<SID>`` of the WhatsApp
# message when WhatsApp had taken it and reported it undelivered later).
VIA_SUFFIX = ":via"
# The fallback of a message meant for WhatsApp sent by SMS by a worker without WhatsApp (no
# ``TWILIO_WHATSAPP_FROM``), where a refusal's is WhatsApp's error code.
CHANNEL_UNAVAILABLE = "channel_unavailable"
# The state of an event not sent because its phone's owner asked for no messages.
SUPPRESSED = "suppressed"
# A reminder found this long before its due time belongs to a later day (a reschedule).
_REMINDER_EARLY = dt.timedelta(hours=1)


# Provider statuses of a message that went out: confirmed on the phone, or lost after all.
_DELIVERED = frozenset({"delivered", "read"})
_NOT_DELIVERED = frozenset({"undelivered", "failed", "canceled"})


def _whatsapp_refusal(error_code: str | int | None) -> bool:
    """Whether a status callback's error code is WhatsApp's refusal for good."""
    try:
        return int(error_code) in WHATSAPP_FALLBACK_CODES
    except (TypeError, ValueError):
        return False


def _record_of(
    record: dict[str, str], packed: str | None, sid: str | None, via: str | None = None
) -> dict[str, str]:
    """An event's delivery record: its own key's while attempts are under way (``record``),
    else the fields of the booking it was packed into once settled (empty for none); a
    message meant for WhatsApp with its ``channel`` and any ``fallback`` (WhatsApp's error)."""
    if record:
        return record
    if packed is None:
        return {}
    settled = dict(zip(_PACKED_FIELDS, packed.split(","), strict=True))
    if sid is not None:
        settled["sid"] = sid
    if via is not None:
        settled["channel"], _, rest = via.partition(",")
        settled["fallback"], _, settled["whatsapp_sid"] = rest.partition(",")
    return {name: value for name, value in settled.items() if value}


@dataclass(frozen=True)
class SmsProgress:
    """How far one event's messages to many bookings have got: ``queued`` (not settled yet:
    waiting on the outbox or being sent), ``sent`` (handed to the provider and not reported
    lost), of which ``delivered`` (the provider confirmed it reached the phone), and
    ``failed`` (refused or reported undelivered, or not sent: its day over, or no phone)."""

    queued: int
    sent: int
    delivered: int
    failed: int


class SmsBusyError(SmsTransientError):
    """Another attempt at the same event is in flight; try again after its lease."""


@dataclass(frozen=True)
class DeliveryResult:
    """How a delivery ended, and for a confirmation that went out, when the visit's reminder
    is due (if it gets one)."""

    state: str
    reminder_at: dt.datetime | None = None
    # Meant for WhatsApp, which refused it for good: it went by SMS.
    fallback: bool = False


class Deliveries:
    """The deliveries of every branch's SMS events, over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        reminders: when each visit's reminder is due.
        lease_seconds: the longest an attempt can take (the backend's timeouts);
            another attempt at the same event waits this long after it started.
        public_base_url: where Twilio reaches the status callback; None for no callback.
        whatsapp_templates: None: no WhatsApp (every message goes by SMS); else the Content
            SIDs of the approved templates by kind (``texts.TEMPLATE_KINDS``), a kind without
            one going as a plain body.
        opt_outs: the phones that asked for no messages (None: none asked).
    """

    def __init__(
        self,
        redis: Redis,
        reminders: Reminders,
        lease_seconds: float = 30,
        public_base_url: str | None = None,
        whatsapp_templates: Mapping[str, str] | None = None,
        opt_outs: OptOuts | None = None,
    ):
        self.redis = redis
        self.scripts = Scripts(redis)
        self.reminders = reminders
        self.whatsapp_templates = whatsapp_templates
        self.opt_outs = opt_outs
        self._lease_ms = int(lease_seconds * 1000)
        self._public_base_url = public_base_url.rstrip("/") if public_base_url else None

    def manage_url(self, code: str) -> str | None:
        """The short link in an SMS to the booking's look-up page, if the service is public."""
        if self._public_base_url is None:
            return None
        return f"{self._public_base_url}{MANAGE_LINK_PATH}{code}"

    def offer_url(self, code: str) -> str | None:
        """The link in a waitlist offer's message to its page, if the service is public."""
        if self._public_base_url is None:
            return None
        return f"{self._public_base_url}{OFFER_LINK_PATH}{code}"

    def book_again_url(self, branch_id: str, service_id: str) -> str | None:
        """The link in a closure's SMS to the branch's dates for the service, if the service is
        public."""
        if self._public_base_url is None:
            return None
        return f"{self._public_base_url}{BOOKING_LINK_PATH}{branch_id}/{service_id}"

    def status_callback_url(self, branch_id: str, code: str, event: str) -> str | None:
        """The URL Twilio posts this event's delivery statuses to, if the service is public."""
        if self._public_base_url is None:
            return None
        query = urlencode({"branch": branch_id, "code": code, "event": event})
        return f"{self._public_base_url}{STATUS_CALLBACK_PATH}?{query}"

    def deliver(
        self, branch_id: str, code: str, event: str, sender: SmsSender, now: dt.datetime
    ) -> DeliveryResult:
        """Send the SMS of ``event`` for booking ``code`` unless it was sent already.

        Safe to call any number of times, also concurrently: the message goes out at
        most once. A reminder is skipped once the booking is no longer ``booked``, and a
        confirmation once the booking is cancelled (its cancellation is the last word); an
        event whose moment has passed (the visit day is over; for a reminder, the day
        before it) is not sent any more.

        Returns:
            The delivery's state (``sent``, ``failed``, ``skipped``, ``expired``,
            ``suppressed`` for a phone whose owner asked for no messages,
            ``postponed`` for a reminder of a booking moved to a later day, or
            ``not_pending`` when the event is no longer on its outbox or reminders, settled
            by another job meanwhile: nothing was done) and, for a confirmation that went
            out, when the reminder is due (and ``fallback`` for a WhatsApp message that
            went by SMS instead).

        Raises:
            SmsTransientError: not sent this time (``SmsBusyError``: another attempt is in
                flight); the event stays on the outbox.
            ValueError: an unknown event.
        """
        if event not in EVENTS:
            raise ValueError(f"unknown SMS event {event!r}")
        booking_key = keys.booking(branch_id, code)
        # Jobs are deleted as they end, so a poll that read the outbox just before a job
        # settled the event may queue it again: that job finds the event gone.
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(booking_key)
            pipe.zscore(
                keys.sms_reminders(branch_id) if event == "reminder" else keys.sms_outbox(branch_id),
                f"{code}:{event}",
            )
            pipe.hget(keys.branch_catalog(branch_id), "branch")
            data, waiting_since, branch_copied = pipe.execute()
        if waiting_since is None:
            return DeliveryResult(NOT_PENDING)
        if not data or data.get("walk_in") or "erased_at" in data:
            # Purged meanwhile, a walk-in ticket, or its personal data erased (no phone to text).
            return self._settle(branch_id, code, event, "skipped", now)
        booking = Booking.from_hash(branch_id, code, data)
        branch = catalog.branch_from_copy(self.redis, branch_id, branch_copied)
        if now >= self._deadline(event, booking, branch.timezone):
            return self._settle(branch_id, code, event, "expired", now)
        due = self.reminders.due(booking, branch.timezone) if event == "reminder" else None
        if due is not None and now < due - _REMINDER_EARLY:
            # Rescheduled to a later day since it was planned: its "besok" would be wrong
            # today, so it waits for the new day's eve (the sweep queues it then).
            self.redis.zadd(
                keys.sms_reminders(branch_id), {f"{code}:reminder": int(due.timestamp() * 1000)}, xx=True
            )
            return DeliveryResult("postponed", None)

        if self.opt_outs is not None and self.opt_outs.stopped(booking.phone):
            # Its owner sent BERHENTI/STOP: not sent, and settled so no retry sends it later.
            return self._settle(branch_id, code, event, SUPPRESSED, now)

        record = keys.sms_delivery(branch_id, code, event)
        token = secrets.token_hex(8)
        wanted = WHATSAPP if booking.channel == WHATSAPP else ""
        extras = {
            # A waitlist offer links to its page to accept it; the others to the booking's.
            "manage_url": self.offer_url(code) if event == "offer" else self.manage_url(code),
            "one_time_code": data.get("otp"),
            "note": data.get("closure_note"),
            "book_again_url": self.book_again_url(branch_id, booking.service_id),
        }
        attempt = SmsAttemptOutcome.read(
            self.scripts.sms_begin(
                keys=[record, booking_key, keys.sms_delivery(branch_id, code, "booked")],
                args=[self._lease_ms, texts.compose(event, booking, branch, **extras), event, token, wanted],
            )
        )
        if attempt.verdict == "moot":
            return self._settle(branch_id, code, event, "skipped", now)
        if attempt.verdict == "busy":
            raise SmsBusyError(f"{event} {code}: another attempt is in flight")
        if attempt.verdict == "settled":
            result = self._settle(branch_id, code, event, attempt.state, now, booking, branch.timezone)
            if result.state == "sent":
                self._fall_back_if_refused_meanwhile(branch_id, code, event)
            return result
        sms = OutgoingSms(
            to=booking.phone,
            body=attempt.body,
            code=code,
            event=event,
            status_callback=self.status_callback_url(branch_id, code, event),
            other_sids=frozenset(
                value
                for field, value in data.items()
                if field.startswith(SETTLED_FIELD_PREFIX) and field.endswith(":sid")
            ),
        )
        fallback = bool(attempt.fallback)  # fallen back by an earlier attempt, or later
        if (
            attempt.channel == WHATSAPP
            and self.whatsapp_templates is None
            and self.scripts.sms_fall_back(keys=[record], args=[token, CHANNEL_UNAVAILABLE])
        ):
            # This worker sends no WhatsApp (a rolling deploy, or WhatsApp turned off since the
            # event's first attempt): it goes by SMS, as after a refusal, rather than wait for
            # a worker that may never come.
            log.info("SMS %s %s: meant for WhatsApp, which this worker does not send: by SMS", event, code)
            fallback = True
        elif attempt.channel == WHATSAPP:
            sms = self._by_whatsapp(sms, event, booking, branch, extras)
        first_attempt = dt.datetime.fromtimestamp(attempt.first_attempt_ms / 1000, dt.UTC)
        try:
            sent = self._attempt(sender, sms, record, token, attempt.verdict == "check", first_attempt)
        except SmsPermanentError as error:
            if not (
                sms.whatsapp
                and error.whatsapp_refused
                and self.scripts.sms_fall_back(keys=[record], args=[token, error.code])
            ):
                return self._settle(branch_id, code, event, "failed", now, error_code=error.code)
            # Nothing went out on WhatsApp: the same text by SMS, once (the record says so).
            log.info("SMS %s %s: WhatsApp refused it (error %s), sent by SMS", event, code, error.code)
            fallback = True
            sms = dataclasses.replace(sms, channel="sms", content_sid=None, content_variables=None)
            try:
                sent = self._attempt(sender, sms, record, token, False, first_attempt)
            except SmsPermanentError as refused:
                return self._settle(branch_id, code, event, "failed", now, error_code=refused.code)
        self._record_status(branch_id, code, event, sent.sid, sent.status)
        result = self._settle(branch_id, code, event, "sent", now, booking, branch.timezone)
        if sms.whatsapp and result.state == "sent":
            self._fall_back_if_refused_meanwhile(branch_id, code, event)
        return dataclasses.replace(result, fallback=fallback)

    def _by_whatsapp(
        self, sms: OutgoingSms, event: str, booking: Booking, branch: catalog.Branch, extras: dict
    ) -> OutgoingSms:
        """``sms`` to go by WhatsApp: with the approved template of its kind where one is set
        (its placeholders' values as JSON), else as its plain body."""
        content_sid = (self.whatsapp_templates or {}).get(texts.template_kind(event))
        if content_sid is None:
            return dataclasses.replace(sms, channel=WHATSAPP)
        variables = texts.template_variables(event, booking, branch, **extras)
        return dataclasses.replace(
            sms,
            channel=WHATSAPP,
            content_sid=content_sid,
            content_variables=json.dumps(variables, ensure_ascii=False, sort_keys=True),
        )

    def _attempt(
        self,
        sender: SmsSender,
        sms: OutgoingSms,
        record: str,
        token: str,
        check: bool,
        first_attempt: dt.datetime,
    ):
        """Send ``sms`` (after asking the backend whether an earlier attempt sent it, with
        ``check``); an attempt that ends without sending gives the event back for the next.

        Raises:
            SmsPermanentError: refused for good (the attempt is still the caller's).
            SmsTransientError: not sent this time; the event is given back.
        """
        try:
            sent = None
            if check:
                sent = sender.find(sms, since=first_attempt)
            if sent is None:
                sent = sender.send(sms)
        except SmsPermanentError:
            raise
        except SmsRejectedError:
            self.scripts.sms_release(keys=[record], args=[token, ""])  # nothing went out
            raise
        except BaseException:
            # No answer (or this process is being stopped): the message may exist.
            self.scripts.sms_release(keys=[record], args=[token, "1"])
            raise
        return sent

    def record_status(
        self,
        branch_id: str,
        code: str,
        event: str,
        sid: str,
        status: str,
        error_code: str | int | None = None,
    ) -> str:
        """Record a delivery status (Twilio's status callback) of an event's message.

        Returns:
            ``updated``, ``stale`` (an equal or later status is recorded), ``missing`` (no
            such delivery), ``other`` (not the message recorded for the event) or
            ``ignored`` (not a status we know).
        """
        if event not in EVENTS or status not in STATUS_RANKS or not sid:
            return "ignored"
        outcome = self._record_status(branch_id, code, event, sid, status, error_code)
        if status in _NOT_DELIVERED and _whatsapp_refusal(error_code):
            self._send_again_by_sms(branch_id, code, event, sid, int(error_code))
        return outcome

    def _send_again_by_sms(self, branch_id: str, code: str, event: str, sid: str, error_code: int) -> None:
        """WhatsApp took ``sid`` and reported later that it cannot deliver it: the event goes
        back on its outbox to go by SMS, once (``sms_reopen.lua``; nothing if ``sid`` is not
        the event's WhatsApp message as settled, it fell back already, or the phone reported it
        delivered or read before: a stale failure)."""
        waiting = keys.sms_reminders(branch_id) if event == "reminder" else keys.sms_outbox(branch_id)
        reopened = self.scripts.sms_reopen(
            keys=[keys.sms_delivery(branch_id, code, event), keys.booking(branch_id, code), waiting],
            args=[event, sid, error_code, f"{code}:{event}"],
        )
        if reopened:
            log.info(
                "SMS %s %s: WhatsApp could not deliver it (error %s), to go by SMS", event, code, error_code
            )

    def _fall_back_if_refused_meanwhile(self, branch_id: str, code: str, event: str) -> None:
        """A WhatsApp refusal reported while the event's attempt was under way (Twilio's
        callback can beat the send's own answer) was recorded on its record in flight, which
        ``sms_reopen.lua`` leaves alone: now that the event is settled, it goes by SMS as a
        refusal reported later does (atomic and once, whoever gets there first)."""
        record = self.record(branch_id, code, event)
        if (
            record.get("channel") == WHATSAPP
            and record.get("sid")
            and record.get("status") in _NOT_DELIVERED
            and _whatsapp_refusal(record.get("error_code"))
        ):
            self._send_again_by_sms(branch_id, code, event, record["sid"], int(record["error_code"]))

    def record(self, branch_id: str, code: str, event: str) -> dict[str, str]:
        """The delivery record of one event: ``state`` and, as far as they are known,
        ``attempts``, ``sid``, ``status``, ``status_rank``, ``error_code``, ``uncertain``;
        while attempts are under way (the record's own key) also the text and the lease.
        Empty for no such event."""
        return self.records(branch_id, [code], event)[0]

    def records(self, branch_id: str, codes: Sequence[str], event: str) -> list[dict[str, str]]:
        """The delivery records of one event of many bookings of a branch, each as ``record``
        gives it, read in one pipelined round trip."""
        field = f"{SETTLED_FIELD_PREFIX}{event}"
        pipe = self.redis.pipeline(transaction=False)
        for code in codes:
            pipe.hgetall(keys.sms_delivery(branch_id, code, event))
            pipe.hmget(keys.booking(branch_id, code), field, f"{field}:sid", f"{field}{VIA_SUFFIX}")
        replies = iter(pipe.execute())
        return [_record_of(next(replies), *next(replies)) for _code in codes]

    def progress(self, codes_by_branch: Mapping[str, Sequence[str]], event: str) -> SmsProgress:
        """How far ``event``'s messages to these bookings have got, from their delivery
        records (one pipelined round trip a branch)."""
        counts = dict.fromkeys(("queued", "sent", "delivered", "failed"), 0)
        for branch_id, codes in codes_by_branch.items():
            for record in self.records(branch_id, codes, event):
                state, status = record.get("state", ""), record.get("status", "")
                if state == "sent" and status not in _NOT_DELIVERED:
                    counts["sent"] += 1
                    counts["delivered"] += status in _DELIVERED
                elif state in ("", "attempting"):
                    counts["queued"] += 1
                else:
                    counts["failed"] += 1
        return SmsProgress(**counts)

    @staticmethod
    def _deadline(event: str, booking: Booking, timezone: str) -> dt.datetime:
        """When the event's SMS stops making sense, branch-local.

        A reminder says "besok" (tomorrow): it is due by the end of the day before the
        visit; a one-time code by its hold's deadline. The others hold until the end of the
        visit day.
        """
        zone = ZoneInfo(timezone)
        if (event in texts.ONE_TIME_CODE_EVENTS or event == "offer") and booking.verify_by is not None:
            return booking.verify_by  # a waitlist offer's too: it means nothing after it
        if event == "reminder":
            return dt.datetime.combine(booking.date, dt.time(), tzinfo=zone)
        return dt.datetime.combine(booking.date + dt.timedelta(days=1), dt.time(), tzinfo=zone)

    def _record_status(
        self,
        branch_id: str,
        code: str,
        event: str,
        sid: str,
        status: str,
        error_code: str | int | None = None,
    ) -> str:
        outcome = self.scripts.sms_status(
            keys=[keys.sms_delivery(branch_id, code, event), keys.booking(branch_id, code)],
            args=[sid, status, STATUS_RANKS.get(status, -1), "" if error_code is None else error_code, event],
        )
        if outcome == "other":
            # Two messages for one event: exactly-once failed somewhere; say so loudly.
            log.warning(
                "SMS %s %s: status %s of message %s, not the message recorded", event, code, status, sid
            )
        return outcome

    def _settle(
        self,
        branch_id: str,
        code: str,
        event: str,
        state: str,
        now: dt.datetime,
        booking: Booking | None = None,
        timezone: str | None = None,
        error_code: int | None = None,
    ) -> DeliveryResult:
        # Settled as of ``now``, the job's clock, not Redis's: the eve's planning compares it
        # with the reminder's time on the same clock the job judged by.
        reminder_at = None
        if event == "booked" and state == "sent" and booking is not None and booking.status == "booked":
            due = self.reminders.due(booking, timezone)
            # Booked after the reminder's time: the confirmation just said it all.
            reminder_at = due if due is not None and now < due else None
        final = self.scripts.sms_settle(
            keys=[
                keys.sms_delivery(branch_id, code, event),
                keys.sms_outbox(branch_id),
                keys.sms_reminders(branch_id),
                keys.booking(branch_id, code),
                keys.sms_reminders_planned(branch_id),
            ],
            args=[
                state,
                f"{code}:{event}",
                "" if error_code is None else error_code,
                event,
                int(now.timestamp() * 1000),
                f"{code}:reminder" if reminder_at else "",
                booking.date.isoformat() if booking is not None else "",
            ],
        )
        return DeliveryResult(final, reminder_at if final == "sent" else None)
