"""What the Lua scripts answer, read into named results, in one place.

A script can only answer flat lists of strings: a verdict first (``ok``, ``repeat``, a
refusal's name, …), then the values that verdict carries, by position. Each class here
knows one family of scripts' verdicts and names their values, so callers read
``outcome.queue_number``, never ``outcome[1]``; the script's verdict is read, not worked
out again. The layouts follow each script's ``Returns`` comment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self


@dataclass(frozen=True)
class ScriptOutcome:
    """A script's verdict and, by name, the values it carries."""

    verdict: str
    # verdict -> the names of the values that follow it, in order.
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    @classmethod
    def read(cls, reply: Sequence) -> Self:
        """The outcome ``reply`` (the script's list) says."""
        verdict, *values = reply
        names = cls.LAYOUTS.get(verdict, ())
        return cls(verdict, **dict(zip(names, values, strict=False)))

    @property
    def ok(self) -> bool:
        return self.verdict == "ok"

    @property
    def done(self) -> bool:
        """Done now, or by the same request before (a re-sent call answers as the first)."""
        return self.verdict in ("ok", "repeat")


@dataclass(frozen=True)
class ClaimOutcome(ScriptOutcome):
    """``claim_nik.lua``: ``claimed`` (``at_ms``), ``busy`` (another attempt is in
    flight) or ``held`` by a booking (``holder_code``, ``holder_branch``, ``held_at``)."""

    at_ms: str = ""
    holder_code: str = ""
    holder_branch: str = ""
    held_at: str = ""
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "claimed": ("at_ms",),
        "held": ("holder_code", "holder_branch", "held_at"),
    }


@dataclass(frozen=True)
class PhoneHolder:
    """One booking counted against a phone's cap: its ``code``, ``branch`` and when it was
    counted (``at_ms``, Redis's clock)."""

    code: str
    branch: str
    at_ms: int


@dataclass(frozen=True)
class PhoneOutcome(ScriptOutcome):
    """``count_phone.lua``: ``counted``, or ``too_many`` at Redis's ``now_ms`` with the
    ``holders`` still counted."""

    now_ms: int = 0
    holders: tuple[PhoneHolder, ...] = ()

    @classmethod
    def read(cls, reply: Sequence) -> Self:
        verdict, *values = reply
        if verdict != "too_many":
            return cls(verdict)
        now_ms, *flat = values
        holders = tuple(
            PhoneHolder(flat[i], flat[i + 1], int(flat[i + 2])) for i in range(0, len(flat) - 2, 3)
        )
        return cls(verdict, now_ms=int(now_ms), holders=holders)


@dataclass(frozen=True)
class BookingOutcome(ScriptOutcome):
    """``reserve.lua``, ``book.lua``, ``reschedule.lua`` and ``cancel.lua``: ``ok`` (with the
    ``queue_number``, ``created_ms``, ``status`` and, for a hold, ``verify_by_ms`` of a new
    place), ``status`` (the booking is
    ``current_status`` now), ``missing``, ``moved`` (not where the caller read it), a
    refusal (``slot_full``, ``day_full``, ``not_bookable``), one of the reasons to start
    over (``code_taken``, ``claim_expired``, ``settings_changed``), or, from ``book.lua``,
    ``claim``: the NIK's claim was refused (``claim``, as ``claim_nik.lua`` said it), or
    ``phone``: the phone's count was (``phone``, as ``count_phone.lua`` said it); from
    ``reserve.lua`` and ``book.lua``, ``idempotent``: the request's ``Idempotency-Key``
    booked already (the ``digest`` of that request and its booking's ``code``)."""

    queue_number: str = ""
    created_ms: str = ""
    status: str = ""
    verify_by_ms: str = ""
    current_status: str = ""
    digest: str = ""
    code: str = ""
    claim: ClaimOutcome | None = None
    phone: PhoneOutcome | None = None
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "ok": ("queue_number", "created_ms", "status", "verify_by_ms"),
        "status": ("current_status",),
        "idempotent": ("digest", "code"),
    }

    @classmethod
    def read(cls, reply: Sequence) -> Self:
        if reply[0] == "claim":
            return cls("claim", claim=ClaimOutcome.read(reply[1:]))
        if reply[0] == "phone":
            return cls("phone", phone=PhoneOutcome.read(reply[1:]))
        return super().read(reply)


@dataclass(frozen=True)
class HoldOutcome(ScriptOutcome):
    """``verify_hold.lua`` and ``resend_otp.lua``: ``ok`` (confirmed; or a new code on its
    way, the hold's ``sends`` so far), ``missing``, ``status`` (neither held nor confirmed:
    ``current_status``), ``wrong`` (``left``: wrong codes still allowed), ``released`` (the
    hold was let go, ``reason`` ``deadline`` or ``wrong``: its last wrong code), ``expired``
    (past its deadline), ``too_many`` (no more sends; ``wait_ms`` until the deadline) or
    ``too_soon`` (``wait_ms`` until the next send)."""

    sends: str = ""
    current_status: str = ""
    left: str = ""
    reason: str = ""
    wait_ms: str = ""
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "ok": ("sends",),
        "status": ("current_status",),
        "wrong": ("left",),
        "released": ("reason",),
        "too_many": ("wait_ms",),
        "too_soon": ("wait_ms",),
    }


@dataclass(frozen=True)
class RoomOutcome(ScriptOutcome):
    """``room_join.lua``: ``joined`` or ``again`` (the ``ticket``), ``too_many`` or
    ``undrawn``; ``room_status.lua``: ``waiting`` or ``admitted`` (its line ``index``, ''
    before the lottery; how many are ``admitted_through`` by now; the ``rate`` per minute),
    ``missing`` or ``lost``; ``room_draw.lua``: ``drawn`` (``count``, ``seed``), ``early`` or
    ``missing``."""

    ticket: str = ""
    index: str = ""
    admitted_through: str = ""
    rate: str = ""
    count: str = ""
    seed: str = ""
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "joined": ("ticket",),
        "again": ("ticket",),
        "waiting": ("index", "admitted_through", "rate"),
        "admitted": ("index", "admitted_through", "rate"),
        "drawn": ("count", "seed"),
    }


@dataclass(frozen=True)
class CheckInOutcome(ScriptOutcome):
    """``check_in.lua``: ``ok`` or ``repeat`` (checked in before) with the ``queue_number``;
    ``missing``, ``moved`` or ``status`` (changed meanwhile: read it again)."""

    queue_number: str = ""
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {"ok": ("queue_number",), "repeat": ("queue_number",)}


@dataclass(frozen=True)
class QueueStepOutcome(ScriptOutcome):
    """``queue_call.lua``, ``queue_finish.lua``, ``queue_move.lua`` and ``walk_in.lua``:
    ``ok`` or ``repeat`` with the step's ``answer``; ``empty`` (nobody waits), ``changed``
    (another counter took the head: the ``candidate`` now at the head and its booking's
    ``code``), ``missing``, ``waiting`` (not called yet), ``over`` (the participant is
    ``current_status`` already), ``moved`` (transferred meanwhile), ``full`` (no walk-in
    place left)."""

    answer_json: str = ""
    candidate: str = ""
    code: str = ""
    current_status: str = ""
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "ok": ("answer_json",),
        "repeat": ("answer_json",),
        "changed": ("candidate", "code"),
        "over": ("current_status",),
    }

    @property
    def answer(self) -> dict[str, Any]:
        """The step's answer (``ok`` or ``repeat``), as the script wrote it."""
        return json.loads(self.answer_json)


@dataclass(frozen=True)
class NoShowsOutcome(ScriptOutcome):
    """``mark_no_shows.lua``: ``ok`` or ``changed`` (the day's index changed meanwhile: read
    it again), each with how many bookings this batch ``marked``."""

    marked: int = 0
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {"ok": ("marked",), "changed": ("marked",)}

    def __post_init__(self):
        object.__setattr__(self, "marked", int(self.marked))


@dataclass(frozen=True)
class SmsAttemptOutcome(ScriptOutcome):
    """``sms_begin.lua``: ``send`` (nothing can have gone out yet) or ``check`` (an earlier
    attempt may have: ask the provider first), each with the ``body`` to send, when the
    event's ``first_attempt_ms`` began and its ``channel``; ``settled`` (in ``state``),
    ``busy`` (another attempt is in flight) or ``moot`` (nothing left to say: settle it as
    skipped)."""

    body: str = ""
    first_attempt_ms: int = 0
    state: str = ""
    # "whatsapp" (the participant's choice), "sms" (an SMS from the start, or WhatsApp refused
    # it: sms_fall_back.lua) or "" (a record of before the channel was kept on every one).
    channel: str = ""
    # Why a message meant for WhatsApp goes by SMS: WhatsApp's error code, or
    # ``channel_unavailable`` (a worker without WhatsApp); "" for none.
    fallback: str = ""
    LAYOUTS: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "send": ("body", "first_attempt_ms", "channel", "fallback"),
        "check": ("body", "first_attempt_ms", "channel", "fallback"),
        "settled": ("state",),
    }

    def __post_init__(self):
        object.__setattr__(self, "first_attempt_ms", int(self.first_attempt_ms))
