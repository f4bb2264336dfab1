"""Domain errors. Each carries the SPEC §3 error code; ``api.errors`` maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain can give."""

    code = "bad_request"

    def __init__(self, detail: str | None = None):
        super().__init__(detail or self.code)
        self.detail = detail


class BadRequestError(DomainError):
    """Not JSON, or fields of the wrong type (``fields`` names them where it can)."""

    code = "bad_request"

    def __init__(self, fields: dict[str, list[str]] | None = None):
        super().__init__(", ".join(sorted(fields or {})) or None)
        self.fields = fields


class NotFoundError(DomainError):
    code = "not_found"


class ValidationFailedError(DomainError):
    """Fields at fault, each with a list of messages naming what is wrong."""

    code = "validation_failed"

    def __init__(self, fields: dict[str, list[str]]):
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


class SlotFullError(DomainError):
    code = "slot_full"


class DayFullError(DomainError):
    code = "day_full"


class AlreadyBookedError(DomainError):
    code = "already_booked"


class TooManyBookingsError(DomainError):
    """The phone already holds ``BOOKINGS_PER_PHONE`` active bookings (all branches and dates)."""

    code = "too_many_bookings"


class VerificationFailedError(DomainError):
    """A wrong one-time code for a held place (``left``: wrong codes still allowed; 0 when
    this one released the hold)."""

    code = "verification_failed"

    def __init__(self, left: int):
        super().__init__(f"left={left}")
        self.left = left


class HoldExpiredError(DomainError):
    """The held place is gone: its time ran out, or too many wrong codes released it."""

    code = "hold_expired"


class OfferExpiredError(DomainError):
    """A waitlist offer ran out (or was released) before it was accepted."""

    code = "offer_expired"


class NotFullError(DomainError):
    """A waitlist was asked to be joined while a place it waits for is free: book it instead."""

    code = "not_full"


class NotOfferedError(DomainError):
    """A waitlist entry was accepted before any place was offered to it."""

    code = "not_offered"


class AlreadyAcceptedError(DomainError):
    """A waitlist entry was asked to leave after its offer was accepted: it is a booking now,
    which is cancelled as one."""

    code = "already_accepted"


class NotAdmittedError(DomainError):
    """The branch's waiting room is active and the booking carries no valid admission pass
    (none, forged, expired, of another branch or room, or used by another person)."""

    code = "not_admitted"


class RoomFullError(DomainError):
    """One address holds the most tickets a waiting room allows it (a rule of the room)."""

    code = "rate_limited"

    def __init__(self, retry_after: int):
        super().__init__("tickets_per_address")
        self.retry_after = retry_after


class ResendLimitError(DomainError):
    """No new one-time code now: one a minute, a few a hold (``retry_after`` seconds, or
    None when the hold may have no more)."""

    code = "rate_limited"

    def __init__(self, retry_after: int | None):
        super().__init__("otp_resend")
        self.retry_after = retry_after


class NotBookableError(DomainError):
    """The day is closed, outside the window or the hours, or the slot has closed."""

    code = "not_bookable"


class WalkInsFullError(DomainError):
    """The day's walk-in places are all taken."""

    code = "walk_ins_full"


class ClosedNowError(DomainError):
    """The branch does not serve now (closed today, or outside its hours)."""

    code = "closed_now"


class CancelledError(DomainError):
    code = "cancelled"


class TooLateError(DomainError):
    code = "too_late"


class TooEarlyError(DomainError):
    """Before the check-in window; ``opens_at`` says when it opens, branch-local (``08:00 WIB``)."""

    code = "too_early"

    def __init__(self, opens_at: str):
        super().__init__(opens_at)
        self.opens_at = opens_at
        self.message_args = {"opens_at": opens_at}


class StillActiveError(DomainError):
    """Erasing the personal data of a booking that still stands (held, booked, checked in or
    served on a day not yet over): it must be cancelled first, or its day must pass. SPEC §3
    has no code of its own for it: ``too_early`` says it (erasure comes after the booking),
    and the message names why."""

    code = "too_early"

    def __init__(self, status: str):
        super().__init__(status)
        self.status = status
        self.message_args = {"detail": "still_active"}


class WrongBranchError(DomainError):
    code = "wrong_branch"


class WrongDateError(DomainError):
    code = "wrong_date"


class CaptchaFailedError(DomainError):
    code = "captcha_failed"


class StoreUnavailableError(DomainError):
    code = "unavailable"


class NotReplicatedError(StoreUnavailableError):
    """A booking was committed but fewer replicas than required confirmed it in time."""

    retry_after = 5


class UnauthorizedError(DomainError):
    """No credentials, or credentials that name nobody (a wrong, revoked or unknown token)."""

    code = "unauthorized"


class ForbiddenError(DomainError):
    """Known credentials, but their role or branches do not cover this."""

    code = "forbidden"
