"""Closing a branch, or every branch, for a range of days with a note (issue 22).

The days are closed first, so that no new booking or move slips in: a branch's through its
per-date overrides (``tuning.close_days``), every branch's through the national closures
(``calendar.close_days_nationally``), which the reserve script reads in the same step as it
books. Then every booking of those days still booked or held, whose participant has not
checked in and may still come (its slot plus the check-in grace not over), is cancelled, one
step per branch and batch (``close_bookings.lua``, in the branch's own cluster slot), each with
the closure's SMS event ``closed``: the note, and a link to book another day. The closure is
recorded (who, when, the range, the note, the codes it cancelled at each branch) so that its
progress can be read while the worker sends.

Closing a range again cancels nothing new and texts nobody twice: what was cancelled is no
longer booked, and each booking's event is sent at most once. A closure cut short (the store
lost mid-way) is finished by closing the same range again. Reopening lifts the days this
closure closed (a day changed since is left as it is now); the bookings it cancelled stay
cancelled: their participants were told to book another day, and their places may be taken.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import secrets

from redis import Redis
from redis.cluster import RedisCluster

from queue_service.domain import audit, calendar, catalog, schedules
from queue_service.domain.accounts import Account
from queue_service.domain.audit import Actor
from queue_service.domain.authz import Action, require
from queue_service.domain.errors import NotFoundError, ValidationFailedError
from queue_service.domain.reservations import Booking, Reservations
from queue_service.domain.reservations.records import MIN_KEEP_MS, expire_at_ms
from queue_service.domain.tuning import BranchTuning
from queue_service.store import keys

# A year at most, as the booking window: every day is read and written one by one.
MAX_DAYS = 366
# The note goes into every SMS (a segment is 160 characters): short enough to leave room for
# the booking's own line and the link.
NOTE_MAX_LENGTH = 120
# A closure's id as the API's paths spell it.
ID = re.compile(r"cl-[0-9a-f]{16}")
# Codes cancelled in one step: one script holds the branch's slot only so long.
_BATCH = 500
# What a closure cancels: places not yet taken up (a checked-in participant is being served).
_CANCELLED_STATUSES = frozenset({"booked", "pending"})
# A waitlist entry not yet accepted (domain.waitlist) is closed whatever its slot: held for its
# phone's code, in line, or holding an offer.
_CLOSED_ENTRY_STATUSES = frozenset({"pending", "waiting", "offered"})


@dataclasses.dataclass(frozen=True)
class Closure:
    """A closure of days: its branches (every branch's at the time, for ``all_branches``), its
    range, note, who made it and when, and whether it was reopened."""

    id: str
    branch_ids: tuple[str, ...]
    all_branches: bool
    first: dt.date
    last: dt.date
    note: str
    actor: str
    created_at: dt.datetime
    reopened_at: dt.datetime | None = None
    reopened_by: str | None = None

    @property
    def days(self) -> list[dt.date]:
        """Every day of the range, in order."""
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @property
    def reopened(self) -> bool:
        return self.reopened_at is not None

    def stored(self) -> dict[str, str]:
        """The record's hash fields."""
        fields = {
            "id": self.id,
            "branch_ids": json.dumps(list(self.branch_ids)),
            "all_branches": "1" if self.all_branches else "",
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "note": self.note,
            "actor": self.actor,
            "created_at": self.created_at.isoformat(),
        }
        if self.reopened_at is not None:
            fields.update(reopened_at=self.reopened_at.isoformat(), reopened_by=self.reopened_by or "")
        return fields

    @classmethod
    def from_stored(cls, data: dict[str, str]) -> Closure:
        reopened = data.get("reopened_at")
        return cls(
            id=data["id"],
            branch_ids=tuple(json.loads(data["branch_ids"])),
            all_branches=bool(data["all_branches"]),
            first=dt.date.fromisoformat(data["first"]),
            last=dt.date.fromisoformat(data["last"]),
            note=data["note"],
            actor=data["actor"],
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            reopened_at=dt.datetime.fromisoformat(reopened) if reopened else None,
            reopened_by=data.get("reopened_by") or None,
        )


def checked_note(note: str | None) -> str:
    """The note as the SMS says it: its runs of spaces and line breaks made one space.

    Raises:
        ValidationFailedError: ``note``: missing or blank (``required``), or longer than
            ``NOTE_MAX_LENGTH`` characters (``too_long``).
    """
    text = " ".join((note or "").split())
    if not text:
        raise ValidationFailedError({"note": ["required"]})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationFailedError({"note": ["too_long"]})
    return text


def range_problems(first: dt.date, last: dt.date, today: dt.date) -> dict[str, list[str]]:
    """What is wrong with closing ``first`` to ``last`` on ``today`` (the latest local date
    of the branches concerned), by field (``from``, ``to``)."""
    problems: dict[str, list[str]] = {}
    if first < today:
        problems["from"] = ["date_in_past"]
    if last < first:
        problems["to"] = ["range_order"]
    elif (last - first).days + 1 > MAX_DAYS:
        problems["to"] = ["range_too_long"]
    return problems


class Closures:
    """Closures of days over the data store.

    Args:
        redis: the data store (``decode_responses=True``).
        reservations: the bookings (their NIK dates and phone counts freed as a cancellation
            frees them).
        tuning: a branch's per-date overrides.
        retention_days: days after the last day that a closure's records are kept (the
            bookings' own retention).
    """

    def __init__(
        self, redis: Redis, reservations: Reservations, tuning: BranchTuning, retention_days: int = 90
    ):
        self.redis = redis
        self.reservations = reservations
        self.tuning = tuning
        self.retention = dt.timedelta(days=retention_days)

    def close_range(
        self,
        account: Account,
        branch_id: str | None,
        first: dt.date,
        last: dt.date,
        note: str | None,
        actor: Actor,
        now: dt.datetime,
    ) -> Closure:
        """Close ``branch_id`` (None: every branch) from ``first`` to ``last``, cancelling its
        bookings there with the closure's SMS to each (see the module's docstring).

        Returns:
            The closure as recorded.

        Raises:
            ForbiddenError: every branch, unless a national admin; a branch the account may not
                tune.
            ValidationFailedError: ``branch_id`` unknown (``unknown_branch``), the note (see
                ``checked_note``), or the range (see ``range_problems``; a day is past when it is
                past at any of the branches concerned), every field at fault named.
        """
        if branch_id is None:
            require(account, Action.CLOSE_NATIONALLY)
            branches = catalog.list_branches(self.redis)
        else:
            require(account, Action.TUNE_BRANCH, branch_id)
            try:
                branches = [catalog.get_branch(self.redis, branch_id)]
            except NotFoundError:
                raise ValidationFailedError({"branch_id": ["unknown_branch"]}) from None
        problems = {}
        try:
            note = checked_note(note)
        except ValidationFailedError as refused:
            problems.update(refused.fields)
        today = max((schedules.local_now(now, b.timezone).date() for b in branches), default=now.date())
        problems.update(range_problems(first, last, today))
        if problems:
            raise ValidationFailedError(problems)
        closure = Closure(
            id=f"cl-{secrets.token_hex(8)}",
            branch_ids=tuple(b.id for b in branches),
            all_branches=branch_id is None,
            first=first,
            last=last,
            note=note,
            actor=actor.username,
            created_at=now,
        )
        expires = self._expiry_ms(closure)
        self._record(closure, expires)
        # The days first: from here on no booking or move lands in them.
        if closure.all_branches:
            written = calendar.close_days_nationally(self.redis, closure.days, note, closure.id)
            self._keep_written(keys.national_closure_days(closure.id), written, expires)
        else:
            written = self.tuning.close_days(branch_id, closure.days, note, actor, now)
            self._keep_written(keys.closure_days(branch_id, closure.id), written, expires)
        cancelled = {b.id: self._cancel_at(b, closure, actor, now, expires) for b in branches}
        summary = self._summary(closure)
        for closed_id, count in cancelled.items():
            # Every branch's log tells of a closure of every branch where it cancelled bookings.
            if count or not closure.all_branches:
                audit.record(
                    self.redis,
                    keys.branch_audit(closed_id),
                    actor,
                    "days_closed",
                    f"{closed_id}/{closure.id}",
                    None,
                    {**summary, "cancelled": count},
                    now,
                )
        if closure.all_branches:
            audit.record(
                self.redis,
                keys.NATIONAL_AUDIT,
                actor,
                "national_days_closed",
                closure.id,
                None,
                {**summary, "cancelled": sum(cancelled.values())},
                now,
            )
        return closure

    def get(self, account: Account, closure_id: str) -> Closure:
        """The closure ``closure_id``, if ``account`` may read it: a national admin any, a
        branch admin one of their branch.

        Raises:
            NotFoundError: no such closure (or no longer kept).
            ForbiddenError: a closure of every branch, or of a branch the account may not read.
        """
        closure = self._load(closure_id)
        self._require(account, closure, Action.READ_BRANCH)
        return closure

    def cancelled(self, closure: Closure) -> dict[str, list[str]]:
        """The codes the closure cancelled, by branch (one pipelined round trip)."""
        pipe = self.redis.pipeline(transaction=False)
        for branch_id in closure.branch_ids:
            pipe.smembers(keys.closure_codes(branch_id, closure.id))
        found = zip(closure.branch_ids, pipe.execute(), strict=True)
        return {branch_id: sorted(codes) for branch_id, codes in found if codes}

    def reopen(self, account: Account, closure_id: str, actor: Actor, now: dt.datetime) -> Closure:
        """Lift the days the closure closed from today on (a day changed since is left as it
        is now); the bookings it cancelled stay cancelled. Reopening again changes nothing.

        Returns:
            The closure as it now stands.

        Raises:
            NotFoundError, ForbiddenError: as ``get`` (tuning the branch, or closing
                nationally, being what it takes).
        """
        closure = self._load(closure_id)
        self._require(account, closure, Action.TUNE_BRANCH)
        if closure.reopened:
            return closure
        if closure.all_branches:
            zones = {b.timezone for b in catalog.list_branches(self.redis)}
            # A day still under way at some branch is reopened: bookings may take its later slots.
            today = min((schedules.local_now(now, zone).date() for zone in zones), default=now.date())
            written = self._written(keys.national_closure_days(closure.id), today)
            restored = len(calendar.restore_days_nationally(self.redis, written))
            audit.record(
                self.redis,
                keys.NATIONAL_AUDIT,
                actor,
                "national_days_reopened",
                closure.id,
                None,
                {**self._summary(closure), "reopened_days": restored},
                now,
            )
        else:
            for branch_id in closure.branch_ids:
                today = schedules.local_now(now, catalog.get_branch(self.redis, branch_id).timezone).date()
                written = self._written(keys.closure_days(branch_id, closure.id), today)
                restored = len(self.tuning.restore_days(branch_id, written, actor, now))
                audit.record(
                    self.redis,
                    keys.branch_audit(branch_id),
                    actor,
                    "days_reopened",
                    f"{branch_id}/{closure.id}",
                    None,
                    {**self._summary(closure), "reopened_days": restored},
                    now,
                )
        reopened = dataclasses.replace(closure, reopened_at=now, reopened_by=actor.username)
        self.redis.hset(keys.closure(closure.id), mapping=reopened.stored())
        return reopened

    def of_branch(self, branch_id: str, limit: int = 20) -> list[Closure]:
        """The branch's own closures of days, newest first."""
        return self._listed(keys.branch_range_closures(branch_id), limit)

    def of_every_branch(self, limit: int = 20) -> list[Closure]:
        """The closures of every branch, newest first."""
        return self._listed(keys.NATIONAL_RANGE_CLOSURES, limit)

    def _cancel_at(
        self, branch: catalog.Branch, closure: Closure, actor: Actor, now: dt.datetime, expires: int
    ) -> int:
        """Cancel the branch's bookings in the closure's range that a participant may still
        come to, and its waitlist entries of those days (waiting, held for a phone's code, or
        holding an offer: the holds, which the script keeps to the range); returns how many
        this call cancelled."""
        labels = [day.isoformat() for day in closure.days]
        pipe = self.redis.pipeline(transaction=False)
        for label in labels:
            pipe.lrange(keys.day_bookings(branch.id, label), 0, -1)
            pipe.zrange(keys.waitlist(branch.id, label), 0, -1)
        pipe.zrange(keys.branch_holds(branch.id), 0, -1)
        codes = list(dict.fromkeys(code for found in pipe.execute() for code in found))
        grace = dt.timedelta(minutes=schedules.load_settings(self.redis, branch.id).checkin_grace_minutes)
        scripts = self.reservations.scripts
        cancelled = 0
        for start in range(0, len(codes), _BATCH):
            batch = codes[start : start + _BATCH]
            pipe = self.redis.pipeline(transaction=False)
            for code in batch:
                pipe.hgetall(keys.booking(branch.id, code))
            found = dict(zip(batch, pipe.execute(), strict=True))
            # An entry not accepted (a booking once it is) is closed by statuses of its own.
            entries = {
                code for code, data in found.items() if data.get("waitlist") and not data.get("accepted_ms")
            }
            bookings = {
                code: Booking.from_hash(branch.id, code, data)
                for code, data in found.items()
                if data.get("status") in (_CLOSED_ENTRY_STATUSES if code in entries else _CANCELLED_STATUSES)
            }
            # A participant whose slot and grace are over will not come: the end of the day
            # settles theirs (no-show), as it does on any day.
            due = [
                code
                for code, b in bookings.items()
                if code in entries or now < b.starts_at(branch.timezone) + grace
            ]
            if not due:
                continue
            done = scripts.close_bookings(
                keys=[
                    keys.sms_outbox(branch.id),
                    keys.closure_codes(branch.id, closure.id),
                    keys.branch_holds(branch.id),
                ],
                args=[
                    *keys.hold_release_prefixes(branch.id),
                    now.isoformat(),
                    f"admin:{actor.username}",
                    closure.id,
                    closure.note,
                    closure.first.isoformat(),
                    closure.last.isoformat(),
                    expires,
                    keys.waitlist(branch.id, ""),
                    keys.waiters(branch.id, ""),
                    *due,
                ],
            )
            self._free([bookings[code] for code in done])
            cancelled += len(done)
        return cancelled

    def _free(self, bookings: list[Booking]) -> None:
        """Free each cancelled booking's NIK date and its place under its phone's cap, as a
        cancellation does: pipelined on one Redis; on a cluster call by call, each in the
        NIK's or the phone's own slot. One left behind is found stale when the NIK books again
        or the phone's cap next refuses (``nik_claims``, ``phone_caps``)."""
        if not bookings:
            return
        reservations = self.reservations
        pipe = None if isinstance(self.redis, RedisCluster) else self.redis.pipeline(transaction=False)
        for booking in bookings:
            claim = reservations.claims.key(booking.nik, booking.date.isoformat())
            reservations.scripts.release_nik(keys=[claim], args=[booking.code], client=pipe)
            if reservations.phones.cap is not None:
                phone = reservations.phones.key(booking.phone)
                reservations.scripts.release_phone(keys=[phone], args=[booking.code], client=pipe)
        if pipe is not None:
            pipe.execute()

    def _record(self, closure: Closure, expires: int) -> None:
        record = keys.closure(closure.id)
        listed = keys.NATIONAL_RANGE_CLOSURES if closure.all_branches else None
        at = int(closure.created_at.timestamp() * 1000)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(record, mapping=closure.stored())
        for key in [listed] if listed else [keys.branch_range_closures(b) for b in closure.branch_ids]:
            pipe.zadd(key, {closure.id: at})
        pipe.execute()
        self._keep_until(record, expires)

    def _keep_written(self, key: str, written: dict[str, tuple[str | None, str]], expires: int) -> None:
        """Keep what closing the days wrote and replaced, for reopening."""
        if not written:
            return
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(
            key,
            mapping={
                label: json.dumps({"before": before, "after": after})
                for label, (before, after) in written.items()
            },
        )
        pipe.execute()
        self._keep_until(key, expires)

    def _keep_until(self, key: str, expires: int) -> None:
        """Expire ``key`` at ``expires``, floored on Redis's clock as a booking's keys are
        (``keep_until.lua``): this process's clock may stand on another day than Redis's."""
        self.reservations.scripts.keep_until(keys=[key], args=[expires, MIN_KEEP_MS])

    def _written(self, key: str, today: dt.date) -> dict[str, tuple[str | None, str]]:
        """What closing the days wrote and replaced, from ``today`` on."""
        kept = {label: json.loads(raw) for label, raw in self.redis.hgetall(key).items()}
        return {
            label: (value["before"], value["after"])
            for label, value in sorted(kept.items())
            if dt.date.fromisoformat(label) >= today
        }

    def _load(self, closure_id: str) -> Closure:
        data = self.redis.hgetall(keys.closure(closure_id)) if ID.fullmatch(closure_id) else {}
        if not data:
            raise NotFoundError("closure")
        return Closure.from_stored(data)

    def _listed(self, key: str, limit: int) -> list[Closure]:
        ids = self.redis.zrevrange(key, 0, limit - 1)
        pipe = self.redis.pipeline(transaction=False)
        for closure_id in ids:
            pipe.hgetall(keys.closure(closure_id))
        found = [Closure.from_stored(data) for data in pipe.execute() if data]
        gone = set(ids) - {closure.id for closure in found}
        if gone:  # expired with their days' retention
            self.redis.zrem(key, *gone)
        return found

    @staticmethod
    def _require(account: Account, closure: Closure, action: Action) -> None:
        if closure.all_branches:
            require(account, Action.CLOSE_NATIONALLY)
        for branch_id in closure.branch_ids if not closure.all_branches else ():
            require(account, action, branch_id)

    @staticmethod
    def _summary(closure: Closure) -> dict[str, str]:
        return {
            "closure_id": closure.id,
            "from": closure.first.isoformat(),
            "to": closure.last.isoformat(),
            "note": closure.note,
        }

    def _expiry_ms(self, closure: Closure) -> int:
        """When the closure's records expire: its bookings' retention after its last day (that
        day ending in the last time zone to end it, UTC-12, so never before its bookings)."""
        return expire_at_ms(closure.last, "Etc/GMT+12", self.retention)
