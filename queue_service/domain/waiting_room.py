"""A waiting room for a branch's release: a rush let in by lottery, not by reflexes.

When a branch releases a new day (its ``release_time``) and has its room enabled, booking at
that branch needs an admission pass from ``opens_minutes_before`` the release until
``lasts_minutes`` after it. Whoever joins before the release waits unplaced; at the release
everyone who came before it is put in an order drawn from a random seed (``room_draw.lua``:
sorted by SHA-1 of the seed and the ticket, the seed kept in the audit log, so the order can
be checked afterwards and not foreseen before), and later arrivals join the end. Admission
follows the line at ``admit_per_minute``: a count that grows with time from the release
(``room_status.lua``), so nothing has to run at each admission and a web process that dies
loses nobody's place. An admitted ticket's pass is signed, names its branch, room and
ticket, lasts ``PASS_SECONDS``, and serves one person: the first NIK that books with it.

All of one room's state is under its branch's hash tag; every step is one script.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from zoneinfo import ZoneInfo

from itsdangerous import BadSignature, URLSafeTimedSerializer
from redis import Redis

from queue_service.domain import audit, catalog, schedules
from queue_service.domain.errors import NotAdmittedError, NotFoundError, RoomFullError
from queue_service.domain.privacy import keyed_digest
from queue_service.store import keys
from queue_service.store.outcomes import RoomOutcome
from queue_service.store.scripts import Scripts

# A pass is good for this long after it is handed out: time for a captcha and a one-time code.
PASS_SECONDS = 600
# An admitted ticket not asked about for this long loses its place (a phone put away).
ADMITTED_GRACE_MS = 120_000
# A room's keys outlive its end by this much, for the console and the audit's sake.
_KEEP_AFTER = dt.timedelta(hours=6)
_TICKET = re.compile(r"^([a-z0-9-]{1,64})\.([0-9]{8})\.([0-9a-f]{32})$")

WAITING, ADMITTED, NOT_NEEDED = "waiting", "admitted", "not_needed"


@dataclass(frozen=True)
class RoomSettings:
    """A branch's waiting room, as its admins set it (SPEC §6 ``waiting_room``)."""

    enabled: bool = False
    opens_minutes_before: int = 15
    admit_per_minute: int = 300
    lasts_minutes: int = 60
    tickets_per_address: int = 20

    @classmethod
    def from_stored(cls, stored: Mapping | None) -> RoomSettings:
        """The settings as stored with the branch's (missing fields at their defaults)."""
        return cls(**{**asdict(cls()), **(stored or {})})


@dataclass(frozen=True)
class Room:
    """One release's room at one branch."""

    branch_id: str
    id: str  # the release's branch-local date, YYYYMMDD
    release_at: dt.datetime
    opens_at: dt.datetime
    closes_at: dt.datetime
    settings: RoomSettings

    def creation_args(self) -> list:
        """room_create.lua's ARGV: what the room's hash is written with when first touched."""
        return [
            _ms(self.closes_at + _KEEP_AFTER),
            _ms(self.release_at),
            _ms(self.opens_at),
            _ms(self.closes_at),
            self.settings.admit_per_minute,
            self.id,
        ]

    def keys(self) -> dict[str, str]:
        return room_keys(self.branch_id, self.id)


def room_keys(branch_id: str, room_id: str) -> dict[str, str]:
    """The keys of one room, by name."""
    return {
        "room": keys.room(branch_id, room_id),
        "arrivals": keys.room_arrivals(branch_id, room_id),
        "line": keys.room_line(branch_id, room_id),
        "tickets": keys.room_tickets(branch_id, room_id),
        "addresses": keys.room_addresses(branch_id, room_id),
        "polls": keys.room_polls(branch_id, room_id),
        "passes": keys.room_passes(branch_id, room_id),
    }


def active_room(
    branch_id: str, room: RoomSettings, release_time: str, timezone: str, now: dt.datetime
) -> Room | None:
    """The branch's room that is open at ``now``, if its room is enabled and a release is
    near (``release_time``, ``HH:MM`` branch-local: the release of each day)."""
    if not room.enabled:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    release = schedules.release_clock(release_time)
    # A release at 00:05 opens its room the evening before; one at 23:50 stays open after
    # midnight: look at the releases around today.
    for offset in (-1, 0, 1):
        day = local.date() + dt.timedelta(days=offset)
        release_at = dt.datetime.combine(day, release, tzinfo=zone)
        opens_at = release_at - dt.timedelta(minutes=room.opens_minutes_before)
        closes_at = release_at + dt.timedelta(minutes=room.lasts_minutes)
        if opens_at <= local < closes_at:
            return Room(branch_id, f"{day:%Y%m%d}", release_at, opens_at, closes_at, room)
    return None


def next_room(
    branch_id: str, room: RoomSettings, release_time: str, timezone: str, now: dt.datetime
) -> Room | None:
    """The branch's next room to open after ``now`` (None if its room is not enabled)."""
    if not room.enabled:
        return None
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    release = schedules.release_clock(release_time)
    for offset in (0, 1, 2):
        day = local.date() + dt.timedelta(days=offset)
        release_at = dt.datetime.combine(day, release, tzinfo=zone)
        opens_at = release_at - dt.timedelta(minutes=room.opens_minutes_before)
        if opens_at > local:
            closes_at = release_at + dt.timedelta(minutes=room.lasts_minutes)
            return Room(branch_id, f"{day:%Y%m%d}", release_at, opens_at, closes_at, room)
    return None


@dataclass(frozen=True)
class RoomView:
    """A branch's room as the console shows it, at a moment.

    ``room`` is the room open now (None: none is), ``next`` the next one to open; the figures
    are the open room's: ``unplaced`` arrivals waiting for the lottery, ``waiting`` placed in
    the line and not yet let in, ``admitted`` let in so far (admission is a count: it may run
    ahead of the line, places nobody has taken yet, which are not counted here), its
    ``admit_per_minute`` (the room's own once it has begun: a change in the console is the
    room's, the settings are the next rooms'), ``paused``, and the lottery's ``seed`` once
    drawn with how many it ``drawn`` (placed)."""

    settings: RoomSettings
    room: Room | None
    next: Room | None
    unplaced: int = 0
    waiting: int = 0
    admitted: int = 0
    admit_per_minute: int = 0
    paused: bool = False
    seed: str | None = None
    drawn: int | None = None


@dataclass(frozen=True)
class RateChange:
    """What a change of a room's rate or pause did (``changed`` False: it was so already)."""

    changed: bool
    admit_per_minute: int
    paused: bool
    admitted: int


def open_room(
    branch_id: str, settings: schedules.BranchSettings, timezone: str, now: dt.datetime
) -> Room | None:
    """The branch's room open at ``now`` by its settings (``waiting_room``, ``release_time``)."""
    room = RoomSettings.from_stored(settings.waiting_room)
    return active_room(branch_id, room, settings.release_time, timezone, now)


@dataclass(frozen=True)
class Standing:
    """Where a ticket stands (the API's answer): ``position`` is the places up to and
    including its own still to be admitted (None before the lottery, 0 once admitted)."""

    ticket: str | None
    state: str
    position: int | None = None
    estimated_wait_seconds: int | None = None
    admission_pass: str | None = None


class WaitingRooms:
    """The branches' waiting rooms over the data store (``decode_responses=True``).

    Args:
        redis: the data store.
        secret: signs the passes, and keys the NIK a pass is bound to.
    """

    def __init__(self, redis: Redis, secret: bytes):
        self.redis = redis
        self.scripts = Scripts(redis)
        self._secret = secret
        self._passes = URLSafeTimedSerializer(secret, salt="antrian-admission-pass")

    def room_of(self, branch_id: str, now: dt.datetime) -> Room | None:
        """The branch's room open at ``now``, if any (none for an unknown branch)."""
        try:
            settings = schedules.load_settings(self.redis, branch_id)
            branch = catalog.get_branch(self.redis, branch_id)
        except NotFoundError:
            return None
        return open_room(branch_id, settings, branch.timezone, now)

    def let_in(
        self,
        branch_id: str,
        settings: schedules.BranchSettings,
        timezone: str,
        admission_pass: str | None,
        nik: str,
        now: dt.datetime,
    ) -> None:
        """Let a booking (or a move) at the branch go ahead: nothing is asked without an open
        room; with one, its pass must be valid for it and not another person's (``admit``).
        Judged from settings the caller has read (a booking's first read), at no round trip
        unless a room is open.

        Raises:
            NotAdmittedError: as ``admit``.
        """
        room = open_room(branch_id, settings, timezone, now)
        if room is not None:
            self.admit(room, admission_pass, nik)

    def view(self, branch_id: str, now: dt.datetime) -> RoomView:
        """The branch's room as the console shows it at ``now``.

        Raises:
            NotFoundError: no such branch.
        """
        settings = schedules.load_settings(self.redis, branch_id)
        branch = catalog.get_branch(self.redis, branch_id)
        room_settings = RoomSettings.from_stored(settings.waiting_room)
        args = (branch_id, room_settings, settings.release_time, branch.timezone, now)
        room = active_room(*args)
        upcoming = next_room(*args)
        if room is None:
            return RoomView(room_settings, None, upcoming, admit_per_minute=room_settings.admit_per_minute)
        names = room.keys()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(names["room"], "base_ms", "rate", "paused", "seed", "drawn_count")
            pipe.zcard(names["arrivals"])
            fields, unplaced = pipe.execute()
        base_ms, rate, paused, seed, drawn = fields
        if base_ms is None:  # nobody has joined yet
            return RoomView(
                room_settings,
                room,
                upcoming,
                unplaced=unplaced,
                admit_per_minute=room_settings.admit_per_minute,
            )
        # How far admission has got is the script's count, read, not worked out again here.
        through = int(self.scripts.room_admitted(keys=[names["room"]], args=[_ms(now)]))
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zcount(names["line"], "-inf", f"({through}")
            pipe.zcount(names["line"], through, "+inf")
            admitted, waiting = pipe.execute()
        return RoomView(
            room_settings,
            room,
            upcoming,
            unplaced=unplaced,
            waiting=waiting,
            admitted=admitted,
            admit_per_minute=int(rate),
            paused=paused == "1",
            seed=seed,
            drawn=int(drawn) if drawn is not None else None,
        )

    def change_rate(
        self,
        room: Room | None,
        admit_per_minute: int | None,
        paused: bool | None,
        actor: audit.Actor,
        now: dt.datetime,
    ) -> RateChange:
        """Change the open ``room``'s rate, or pause (``paused``) or resume its admission, with
        its audit entry (``waiting_room_rate``, before and after), in one step
        (``room_rate.lua``): whoever was let in stays in, admission goes on from where it had
        got at the new rate, and a resume does not catch up the paused time. ``None`` keeps
        what is. The room's own rate: the settings' ``admit_per_minute`` is the next rooms'.

        Raises:
            NotFoundError: no room is open.
        """
        if room is None:
            raise NotFoundError("waiting_room")
        names = room.keys()
        entry = audit.fields_of(actor, "waiting_room_rate", f"{room.branch_id}/{room.id}", None, None, now)
        reply = self.scripts.room_rate(
            keys=[names["room"], keys.branch_audit(room.branch_id)],
            args=[
                "" if admit_per_minute is None else admit_per_minute,
                "" if paused is None else "1" if paused else "0",
                _ms(now),
                *room.creation_args(),
                *entry,
            ],
        )
        if reply[0] == "same":
            return RateChange(False, int(reply[1]), reply[2] == "1", int(reply[3]))
        return RateChange(True, int(reply[3]), reply[4] == "1", int(reply[5]))

    def join(self, room: Room | None, address: str, own_ticket: str | None, now: dt.datetime) -> Standing:
        """A ticket in ``room`` for a client at ``address`` (its own, ``own_ticket``, if it
        holds one there already), and where it stands; ``not_needed`` without a room.

        Raises:
            RoomFullError: ``address`` holds the room's ``tickets_per_address`` already.
        """
        if room is None:
            return Standing(None, NOT_NEEDED)
        names = room.keys()
        now_ms = _ms(now)
        known = own_ticket if own_ticket and self._parse(own_ticket) == (room.branch_id, room.id) else ""
        for _attempt in range(2):
            outcome = RoomOutcome.read(
                self.scripts.room_join(
                    keys=[
                        names["room"],
                        names["arrivals"],
                        names["line"],
                        names["addresses"],
                        names["tickets"],
                    ],
                    args=[
                        f"{room.branch_id}.{room.id}.{secrets.token_hex(16)}",
                        known,
                        address,
                        room.settings.tickets_per_address,
                        now_ms,
                        *room.creation_args(),
                    ],
                )
            )
            if outcome.verdict == "undrawn":
                self._draw(room.branch_id, room.id, now)
                continue
            if outcome.verdict == "too_many":
                raise RoomFullError(max(1, math.ceil((room.closes_at - now).total_seconds())))
            return self._standing(room.branch_id, room.id, outcome.ticket, now)
        raise NotFoundError("waiting_room")  # drawn twice and still undrawn: cannot happen

    def status(self, ticket: str, now: dt.datetime) -> Standing:
        """Where ``ticket`` stands now: one step in the usual case (a rush's most frequent
        request), read from its room's own record; ``not_needed`` once the room is over.

        Raises:
            NotFoundError: no such ticket (or it lost its place).
        """
        parsed = self._parse(ticket)
        if parsed is None:
            raise NotFoundError("ticket")
        return self._standing(*parsed, ticket, now)

    def admit(self, room: Room | None, admission_pass: str | None, nik: str) -> None:
        """Let a booking at ``room``'s branch go ahead: its pass is valid for that room and
        not used by another person. Without an active room, nothing is asked.

        Raises:
            NotAdmittedError: no pass, a forged or expired one, one of another branch or
                room, or one another NIK has booked with.
        """
        if room is None:
            return
        ticket = self.check_pass(room, admission_pass)
        digest = keyed_digest(self._secret, "room-nik", nik)
        names = room.keys()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(names["passes"], ticket, digest)
            pipe.hget(names["passes"], ticket)
            pipe.pexpire(names["passes"], _KEEP_AFTER + (room.closes_at - room.opens_at))
            _set, holder, _expiry = pipe.execute()
        if holder != digest:
            raise NotAdmittedError("pass_used")

    def check_pass(self, room: Room, admission_pass: str | None) -> str:
        """The ticket a valid pass for ``room`` names.

        Raises:
            NotAdmittedError: no pass, or not a valid one for this room now.
        """
        if not admission_pass:
            raise NotAdmittedError("no_pass")
        try:
            claims = self._passes.loads(admission_pass, max_age=PASS_SECONDS)
        except BadSignature:  # forged, altered or expired (SignatureExpired is one)
            raise NotAdmittedError("bad_pass") from None
        if not isinstance(claims, dict) or (claims.get("b"), claims.get("r")) != (room.branch_id, room.id):
            raise NotAdmittedError("other_room")
        return str(claims.get("t"))

    def _standing(self, branch_id: str, room_id: str, ticket: str, now: dt.datetime) -> Standing:
        names = room_keys(branch_id, room_id)
        for _attempt in range(2):
            outcome = RoomOutcome.read(
                self.scripts.room_status(
                    keys=[names["room"], names["line"], names["tickets"], names["polls"]],
                    args=[ticket, _ms(now), ADMITTED_GRACE_MS],
                )
            )
            if outcome.verdict != "undrawn":
                break
            self._draw(branch_id, room_id, now)
        if outcome.verdict in ("missing", "lost", "undrawn"):
            raise NotFoundError("ticket")
        if outcome.verdict == "closed":
            return Standing(ticket, NOT_NEEDED)
        if outcome.verdict == ADMITTED:
            admission_pass = self._passes.dumps({"b": branch_id, "r": room_id, "t": ticket})
            return Standing(ticket, ADMITTED, 0, 0, admission_pass)
        if outcome.index == "":
            return Standing(ticket, WAITING)
        position = int(outcome.index) - int(outcome.admitted_through) + 1
        rate = int(outcome.rate)
        wait = math.ceil(position * 60 / rate) if rate > 0 else None
        return Standing(ticket, WAITING, position, wait)

    def _draw(self, branch_id: str, room_id: str, now: dt.datetime) -> None:
        """The room's lottery (``room_draw.lua``, once), its seed drawn here and audited."""
        names = room_keys(branch_id, room_id)
        release_ms = self.redis.hget(names["room"], "release_ms")
        if release_ms is None:
            return  # no such room (expired): nothing to draw
        seed = secrets.token_hex(32)
        release_at = dt.datetime.fromtimestamp(int(release_ms) / 1000, dt.UTC)
        entry = audit.fields_of(
            audit.Actor("system", "", "lottery"),
            "waiting_room_drawn",
            f"{branch_id}/{room_id}",
            None,
            {"seed": seed, "release_at": release_at.isoformat()},
            now,
        )
        self.scripts.room_draw(
            keys=[names["room"], names["arrivals"], names["line"], keys.branch_audit(branch_id)],
            args=[seed, _ms(now), *entry],
        )

    @staticmethod
    def _parse(ticket: str) -> tuple[str, str] | None:
        found = _TICKET.match(ticket or "")
        return (found.group(1), found.group(2)) if found else None


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)
