"""The audit log: every change and every sign-in, with who, when, from where, what, before
and after.

A branch's entries live in a stream under the branch's tag, written by the same Lua step
as the change itself (``audited_set.lua``), so no change is ever without its entry and an
entry is never of a change that did not happen. Entries that concern no one branch
(national closures, accounts, sign-ins) go to the national stream. No account deletes an
entry: the streams are append-only, and only ``trim`` drops what is older than the retention
(``AUDIT_RETENTION_DAYS``), by the entries' ids (the time Redis appended them).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from redis import Redis

from queue_service.domain import catalog
from queue_service.domain.spreadsheet import csv_text
from queue_service.store import keys


@dataclass(frozen=True)
class Actor:
    """Who makes a change, and from where (a client address, or ``cli``)."""

    username: str
    role: str
    address: str


@dataclass(frozen=True)
class AuditEntry:
    id: str
    at: str
    actor: str
    role: str
    address: str
    action: str
    target: str
    before: str
    after: str

    @property
    def when(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.at)

    def changes(self) -> list[tuple[str, str, str]]:
        """What changed, field by field: ``(field, before, after)`` as JSON texts; an entry
        whose values are not both objects is one row with an empty field name."""
        before, after = json.loads(self.before or "null"), json.loads(self.after or "null")
        if not (isinstance(before, dict) and isinstance(after, dict)):
            return [("", self.before, self.after)]
        return [
            (name, json.dumps(before.get(name)), json.dumps(after.get(name)))
            for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)
        ]


# Entries read per round trip: a stream of 100,000 entries read whole (XREVRANGE without
# COUNT) held Redis for 0.2 s; a batch this size takes well under a millisecond.
READ_BATCH = 200
# Entries one page may look through for its filters before it stops and hands back a cursor:
# a page never holds Redis for more than this many entries' worth, however rare the match.
PAGE_SCAN = 5_000

FIELDS = ("id", "at", "actor", "role", "address", "action", "target", "before", "after")


def fields_of(
    actor: Actor, action: str, target: str, before: object, after: object, now: dt.datetime
) -> list[str]:
    """An entry as the flat field/value list a script appends (``before``/``after`` as JSON)."""
    entry = {
        "at": now.isoformat(timespec="seconds"),
        "actor": actor.username,
        "role": actor.role,
        "address": actor.address,
        "action": action,
        "target": target,
        "before": json.dumps(before, sort_keys=True),
        "after": json.dumps(after, sort_keys=True),
    }
    return [part for pair in entry.items() for part in pair]


def record(
    redis: Redis,
    stream: str,
    actor: Actor,
    action: str,
    target: str,
    before: object,
    after: object,
    now: dt.datetime,
) -> str:
    """Append an entry that no script wrote with its change (sign-ins, national changes)."""
    values = fields_of(actor, action, target, before, after, now)
    return redis.xadd(stream, dict(zip(values[::2], values[1::2], strict=True)))


@dataclass(frozen=True)
class Page:
    """A page of entries, newest first; ``older`` is the cursor for the next (older) page
    (pass it as ``before``), None when the stream has nothing older."""

    entries: list[AuditEntry]
    older: str | None


def read(
    redis: Redis,
    branch_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 500,
    before: str | None = None,
) -> list[AuditEntry]:
    """Entries, newest first, of a branch (or the national ones when ``branch_id`` is None),
    filtered by actor, action and time, older than the entry id ``before`` when given."""
    return _scan(redis, branch_id, actor, action, since, until, limit, before, None).entries


def page(
    redis: Redis,
    branch_id: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> Page:
    """A page of ``read``'s entries older than ``before`` (an entry id; None: the newest),
    looking through at most ``PAGE_SCAN`` entries, and the cursor of the next page."""
    return _scan(redis, branch_id, actor, action, None, None, limit, before, PAGE_SCAN)


def _scan(
    redis: Redis,
    branch_id: str | None,
    actor: str | None,
    action: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int,
    before: str | None,
    budget: int | None,
) -> Page:
    stream = keys.branch_audit(branch_id) if branch_id else keys.NATIONAL_AUDIT
    high = f"{int(until.timestamp() * 1000)}" if until else "+"
    if before is not None:
        high = f"({before}"  # exclusive: the page starts below the cursor
    low = f"{int(since.timestamp() * 1000)}" if since else "-"
    found: list[AuditEntry] = []
    scanned = 0
    while True:
        batch = redis.xrevrange(stream, max=high, min=low, count=READ_BATCH)
        for n, (entry_id, values) in enumerate(batch):
            entry = AuditEntry(id=entry_id, **{name: values.get(name, "") for name in FIELDS[1:]})
            if (actor is None or entry.actor == actor) and (action is None or entry.action == action):
                found.append(entry)
                if len(found) >= limit:
                    more = n + 1 < len(batch) or len(batch) == READ_BATCH
                    return Page(found, entry_id if more else None)
        scanned += len(batch)
        if len(batch) < READ_BATCH:
            return Page(found, None)
        high = f"({batch[-1][0]}"  # exclusive: the next batch starts below the last entry read
        if budget is not None and scanned >= budget:
            return Page(found, batch[-1][0])


def trim(redis: Redis, now: dt.datetime, retention_days: int) -> int:
    """Drop the entries older than ``retention_days`` before ``now`` from the national stream
    and every branch's (retired ones too). Safe to run any number of times.

    Args:
        redis: the data store.
        now: the current time (timezone-aware).
        retention_days: how long an entry is kept (``AUDIT_RETENTION_DAYS``).

    Returns:
        How many entries were dropped.
    """
    oldest_kept = int((now - dt.timedelta(days=retention_days)).timestamp() * 1000)
    streams = [keys.NATIONAL_AUDIT] + [
        keys.branch_audit(branch.id) for branch in catalog.list_branches(redis)
    ]
    pipe = redis.pipeline(transaction=False)
    for stream in streams:
        pipe.xtrim(stream, minid=str(oldest_kept), approximate=False)
    return sum(pipe.execute())


def to_csv(entries: list[AuditEntry]) -> str:
    """The entries as CSV, one row each, with a header."""
    return csv_text(FIELDS, ([getattr(entry, name) for name in FIELDS] for entry in entries))
