"""A NIK's owner gets their dates back from whoever booked them with it: at a branch, after seeing
the owner's KTP, staff release the NIK. Every active booking of that NIK (booked, its slot not
yet started), at any branch, on any date from today through the longest booking window there
can be, made with another phone than the one the owner gives, is cancelled with the staff's
reason, one audit entry each (in the booking's branch), and its cancellation SMS goes to the
phone that booked it, as any cancellation's does. Bookings made with the owner's own phone are
kept, and listed.

The NIK's bookings are found through its date claims (``NikClaims``: one key a date, all in
the NIK's own cluster slot), read for every date of the window in one pipeline.

Who may is ``authz``'s ``Action.CANCEL_BOOKING`` on the releasing branch, the one where the
owner stands: counter staff and branch admins of it, national admins anywhere. An account of
exactly one branch releases there; any other names the branch.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass

from queue_service.domain import audit, catalog, identity, schedules, staff_cancellation
from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, require
from queue_service.domain.errors import (
    CancelledError,
    NotFoundError,
    TooLateError,
    ValidationFailedError,
)
from queue_service.domain.privacy import mask_nik
from queue_service.domain.reservations import Booking, Reservations
from queue_service.domain.tuning import BOUNDS

ACTION = "nik_released"
# Every date a booking can stand on: a window is at most this long, and a booking made before
# an admin shortened it stays where it was.
WINDOW_DAYS = BOUNDS["booking_window_days"].ceiling


@dataclass(frozen=True)
class NikRelease:
    """What a release did: the bookings cancelled, and the owner's own, kept (both by date)."""

    branch_id: str
    nik: str
    released: list[Booking]
    kept: list[Booking]

    @property
    def masked_nik(self) -> str:
        return mask_nik(self.nik)


def releasing_branch(reservations: Reservations, account: Account, branch_id: str | None) -> str:
    """The branch the release is made at, if ``account`` may release there: the one named, or
    the account's only branch.

    Raises:
        ValidationFailedError: ``branch_id``: none named by an account of no or several
            branches (``required``), or a branch that does not exist (``unknown_branch``).
        ForbiddenError: not a branch where the account may cancel bookings.
    """
    if not branch_id:
        if len(account.branches) != 1:
            raise ValidationFailedError({"branch_id": ["required"]})
        branch_id = account.branches[0]
    require(account, Action.CANCEL_BOOKING, branch_id)
    try:
        catalog.get_branch(reservations.redis, branch_id)
    except NotFoundError:
        raise ValidationFailedError({"branch_id": ["unknown_branch"]}) from None
    return branch_id


def checked_request(nik: str | None, owner_phone: str | None, reason: str | None) -> tuple[str, str, str]:
    """The NIK, the owner's phone (E.164) and the reason, checked as a booking checks them and
    as a staff cancellation checks its reason.

    Raises:
        ValidationFailedError: every field at fault (``nik``, ``phone``, ``reason``) at once.
    """
    problems: dict[str, list[str]] = {}
    checked = {}
    for field, value, check in (
        ("nik", nik, identity.check_nik),
        ("phone", owner_phone, identity.check_phone),
        ("reason", reason, staff_cancellation.checked_reason),
    ):
        if field != "reason" and not (value or "").strip():
            problems[field] = ["required"]
            continue
        try:
            checked[field] = check(value or "")
        except ValueError as refused:
            problems[field] = [str(refused)]
        except ValidationFailedError as refused:
            problems.update(refused.fields)
    if problems:
        raise ValidationFailedError(problems)
    return checked["nik"], checked["phone"], checked["reason"]


def release_nik(
    reservations: Reservations,
    account: Account,
    branch_id: str | None,
    nik: str | None,
    owner_phone: str | None,
    reason: str | None,
    actor: Actor,
    now: dt.datetime,
) -> NikRelease:
    """Release ``nik``'s bookings made with another phone than ``owner_phone``, for ``reason``,
    as ``account`` standing at ``branch_id`` (see ``releasing_branch``).

    Each released booking is cancelled as a participant's cancel does (its place, the day's
    quota and the NIK's date freed, its SMS on the outbox) with an audit entry ``nik_released``
    in its branch: who, when, the booking before (queue number, date, slot, service, its
    branch, the NIK masked; never the phone) and after (with the reason and the releasing
    branch). A booking that starts, is checked in or is cancelled meanwhile is left as it is.

    Raises:
        ValidationFailedError: the fields (``checked_request``), judged first; then the branch.
        ForbiddenError: as ``releasing_branch``.
    """
    nik, owner_phone, text = checked_request(nik, owner_phone, reason)
    branch_id = releasing_branch(reservations, account, branch_id)
    released, kept = [], []
    for booking in active_bookings(reservations, nik, now):
        if hmac.compare_digest(booking.phone.encode(), owner_phone.encode()):
            kept.append(booking)
            continue
        before = {
            **staff_cancellation.audited(booking),
            "branch_id": booking.branch_id,
            "nik": mask_nik(booking.nik),
        }
        after = {**before, "status": "cancelled", "reason": text, "released_at": branch_id}
        entry = audit.fields_of(actor, ACTION, f"{booking.branch_id}/{booking.code}", before, after, now)
        try:
            released.append(
                reservations.cancel_booking(
                    booking, now, staff_cancellation.cancelled_by(account), audit_entry=entry
                )
            )
        except (CancelledError, TooLateError, NotFoundError):
            continue  # changed since it was read: not this release's to undo
    return NikRelease(branch_id, nik, released, kept)


def window(reservations: Reservations, now: dt.datetime) -> list[dt.date]:
    """Every date a booking made at ``now`` may still be active on: from the earliest local
    today of any branch through the latest, plus the longest window there can be."""
    todays = {schedules.local_now(now, b.timezone).date() for b in catalog.list_branches(reservations.redis)}
    first, last = min(todays, default=now.date()), max(todays, default=now.date())
    return [first + dt.timedelta(days=n) for n in range((last - first).days + WINDOW_DAYS + 1)]


def active_bookings(reservations: Reservations, nik: str, now: dt.datetime) -> list[Booking]:
    """``nik``'s bookings still to come (booked, the slot not started), by date: the booking
    each of its date claims names, where that booking stands on that date with that NIK (a
    claim may outlive a booking moved or cancelled)."""
    days = window(reservations, now)
    claims = reservations.claims
    pipe = reservations.redis.pipeline(transaction=False)
    # While NIK_HASH_KEY is being replaced, a date's claim may also be under the old digest
    # (another slot: read in its own commands, which a cluster pipeline sends to its node).
    looked_up = [(day, key) for day in days for key in claims.keys_read(nik, day.isoformat())]
    for _day, key in looked_up:
        pipe.hmget(key, "code", "branch")
    found = []
    for (day, _key), (code, branch_id) in zip(looked_up, pipe.execute(), strict=True):
        if not code or not branch_id or any(b.code == code for b in found):
            continue
        try:
            booking = reservations.get(branch_id, code)
        except NotFoundError:
            continue
        if (
            booking.date == day
            and booking.status == "booked"
            and hmac.compare_digest(booking.nik.encode(), nik.encode())
            and not _started(reservations, booking, now)
        ):
            found.append(booking)
    return found


def _started(reservations: Reservations, booking: Booking, now: dt.datetime) -> bool:
    branch = catalog.get_branch(reservations.redis, booking.branch_id)
    return now >= booking.starts_at(branch.timezone)
