"""Whether a day and slot of a branch take bookings: what decides it, read in one round trip,
and the checks that reserving and rescheduling both make."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import TYPE_CHECKING, NamedTuple

from redis import Redis

from queue_service.domain import calendar, catalog, schedules
from queue_service.domain.errors import (
    CaptchaFailedError,
    DayFullError,
    NotBookableError,
    SlotFullError,
    ValidationFailedError,
)
from queue_service.domain.person_allowance import PendingCount
from queue_service.domain.reservations.records import BookingRequest
from queue_service.store import keys

if TYPE_CHECKING:
    from queue_service.domain.captcha.gate import PendingVerdict

# The scripts' refusals, which they answer by name, and the errors that say them.
REFUSALS = {"slot_full": SlotFullError, "day_full": DayFullError, "not_bookable": NotBookableError}


class BookingContext(NamedTuple):
    """What decides whether a request can be booked, as read together."""

    branch: catalog.Branch
    service: catalog.Service
    settings: schedules.BranchSettings
    override: schedules.DateOverride | None
    closure: str | None  # the date's national closure, if any
    settings_sha1: str  # of the settings' stored form: the scripts refuse if it changed


def load_context(
    redis: Redis,
    request: BookingRequest,
    person_count: PendingCount | None = None,
    captcha: PendingVerdict | None = None,
) -> BookingContext:
    """Branch, service, settings, the date's override and national closure, and the SHA-1
    of the settings' stored form, read in one round trip; ``person_count``, the attempt's
    count against the person's allowance, rides on it and is judged first; ``captcha``, the
    consumption of the request's challenge, rides on it too and is judged before anything
    (beside a count, a wrong answer takes the count back: it spends nobody's allowance).

    Raises:
        CaptchaFailedError: ``captcha``'s challenge is unknown, used, expired or not solved.
        AttemptsUsedUpError: the person's allowance is spent.
        NotBookableError: the branch is retired, or no longer offers the service: it takes
            no new bookings there, nor moves any (``detail`` says which).
        ValidationFailedError: unknown branch, or a service the branch never offered.
    """
    pipe = redis.pipeline(transaction=False)
    if captcha is not None:
        captcha.queue(pipe)
    # The branch's copy of its catalog entries: everything here is under the branch's tag.
    pipe.hmget(keys.branch_catalog(request.branch_id), "branch", f"service:{request.service_id}")
    pipe.get(keys.branch_settings(request.branch_id))
    pipe.hget(keys.branch_dates(request.branch_id), request.date.isoformat())
    pipe.hget(keys.branch_national_closures(request.branch_id), request.date.isoformat())
    if person_count is not None:
        person_count.queue(pipe)
    replies = pipe.execute(raise_on_error=person_count is None and captcha is None)
    if captcha is not None:
        try:
            captcha.settle(replies)
        except CaptchaFailedError:
            if person_count is not None:
                person_count.take_back(replies[-1:])  # queued last
            raise
        replies = replies[1:]
    if person_count is not None:
        person_count.settle(replies[4:])
    for reply in replies[:4]:  # the store's errors, once what rode along was judged
        if isinstance(reply, Exception):
            raise reply
    (branch_raw, service_raw), settings_raw, override_raw, closure_raw = replies[:4]
    if branch_raw is None and settings_raw is not None:  # no copy yet: the master lists
        branch_raw, service_raw = _from_master_lists(redis, request)
    if branch_raw is None or settings_raw is None:
        raise ValidationFailedError({"branch_id": ["unknown_branch"]})
    branch = catalog.Branch.from_json(branch_raw)
    refusal = branch.refusal(request.service_id)
    if refusal in (catalog.BRANCH_RETIRED, catalog.SERVICE_WITHDRAWN):
        raise NotBookableError(refusal)
    if refusal is not None or service_raw is None:
        raise ValidationFailedError({"service_id": ["service_not_offered"]})
    override = schedules.DateOverride(**json.loads(override_raw)) if override_raw else None
    return BookingContext(
        branch,
        catalog.Service.from_json(service_raw),
        schedules.BranchSettings(**json.loads(settings_raw)),
        override,
        calendar.closure_note(closure_raw),
        hashlib.sha1(settings_raw.encode()).hexdigest(),
    )


def _from_master_lists(redis: Redis, request: BookingRequest) -> tuple[str | None, str | None]:
    pipe = redis.pipeline(transaction=False)
    pipe.hget(keys.BRANCHES, request.branch_id)
    pipe.hget(keys.SERVICES, request.service_id)
    branch_raw, service_raw = pipe.execute()
    return branch_raw, service_raw


def bookable_slot(
    context: BookingContext,
    day: dt.date,
    slot_start: dt.time,
    now_local: dt.datetime,
    collective_leave_closed: bool,
) -> schedules.Slot:
    """The slot of ``day`` that starts at ``slot_start``, if the day and the slot take
    bookings at ``now_local`` (the branch's local time).

    Raises:
        NotBookableError: they do not; its ``detail`` says why (the day's reason, such as
            ``not_yet_open`` before the newest day's release, ``no_such_slot`` or
            ``slot_closed``).
    """
    status = schedules.day_status(
        context.settings,
        context.override,
        day,
        now_local,  # the moment, not only the day: the window's newest day opens at its release
        national_closure=context.closure,
        collective_leave_closed=collective_leave_closed,
    )
    if not status.open:
        raise NotBookableError(status.reason)
    slot = schedules.find_slot(context.settings, day, slot_start)
    if slot is None:
        raise NotBookableError("no_such_slot")
    if not schedules.slot_open(context.settings, day, slot, now_local):
        raise NotBookableError("slot_closed")
    return slot
