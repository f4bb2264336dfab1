"""Days every branch is closed: national public holidays, the government's collective leave
(*cuti bersama*) and the national closures a national admin sets.

Holidays come from the ``holidays`` package, which knows the Islamic dates as estimated
each year. A national closure (an emergency, or an Islamic date that was announced
differently) is kept in one master list and copied under each branch's hash tag, because
the reserve script of a branch can only read keys of the branch's own cluster slot: a
closure is acknowledged only once every branch's copy holds it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

import holidays
from redis import Redis

from queue_service.domain import audit, catalog
from queue_service.domain.audit import Actor
from queue_service.store import keys


@functools.lru_cache(maxsize=32)
def _holidays_of(year: int, categories: tuple[str, ...]) -> holidays.HolidayBase:
    return holidays.country_holidays("ID", years=year, categories=categories, language="id")


def warm_up(today: dt.date) -> None:
    """Load the holidays of ``today``'s year and the next. The first load imports the
    ``holidays`` package's registry, over a second of CPU, which would otherwise fall on the
    first participant each web process serves."""
    for year in (today.year, today.year + 1):
        public_holiday(dt.date(year, 1, 1))
        collective_leave(dt.date(year, 1, 1))


def years_without_data(first_day: dt.date, last_day: dt.date) -> list[int]:
    """The years from ``first_day``'s to ``last_day``'s for which the installed ``holidays``
    package has no data: it lists no collective leave (*cuti bersama*) for them.

    Collective leave is the marker because it is the one list decreed each year and added by
    a later release of the package; public holidays come out for any year (fixed dates and
    estimated lunar ones), so they cannot tell a year the package knows from one it guesses.
    """
    return [
        year for year in range(first_day.year, last_day.year + 1) if not _holidays_of(year, ("government",))
    ]


def public_holiday(day: dt.date) -> str | None:
    """The name of the Indonesian public holiday on ``day``, if any."""
    return _holidays_of(day.year, ("public",)).get(day)


def collective_leave(day: dt.date) -> str | None:
    """The name of the government's collective leave (*cuti bersama*) on ``day``, if any."""
    return _holidays_of(day.year, ("government",)).get(day)


def national_closure(redis: Redis, branch_id: str, day: dt.date) -> str | None:
    """The note of the national closure on ``day`` as the branch sees it ('' if it has none)."""
    return closure_note(redis.hget(keys.branch_national_closures(branch_id), day.isoformat()))


def closure_note(raw: str | None) -> str | None:
    """The note of a stored national closure; None where there is none."""
    return json.loads(raw)["note"] if raw else None


def list_national_closures(redis: Redis) -> dict[dt.date, str]:
    """Every national closure: date -> note."""
    return {
        dt.date.fromisoformat(day): json.loads(raw)["note"]
        for day, raw in sorted(redis.hgetall(keys.NATIONAL_CLOSURES).items())
    }


def close_nationally(
    redis: Redis, day: dt.date, note: str, actor: Actor | None = None, now: dt.datetime | None = None
) -> None:
    """Close every branch on ``day``: the master list, then each branch's copy; audited when
    an ``actor`` makes the change."""
    raw = json.dumps({"note": note})
    before = closure_note(redis.hget(keys.NATIONAL_CLOSURES, day.isoformat()))
    redis.hset(keys.NATIONAL_CLOSURES, day.isoformat(), raw)
    _for_each_branch(
        redis,
        lambda pipe, branch_id: pipe.hset(keys.branch_national_closures(branch_id), day.isoformat(), raw),
    )
    if actor is not None:
        audit.record(
            redis, keys.NATIONAL_AUDIT, actor, "national_closure", day.isoformat(), before, note, now
        )


def reopen_nationally(
    redis: Redis, day: dt.date, actor: Actor | None = None, now: dt.datetime | None = None
) -> bool:
    """Lift the national closure of ``day``. Returns whether there was one."""
    before = closure_note(redis.hget(keys.NATIONAL_CLOSURES, day.isoformat()))
    _for_each_branch(
        redis, lambda pipe, branch_id: pipe.hdel(keys.branch_national_closures(branch_id), day.isoformat())
    )
    existed = bool(redis.hdel(keys.NATIONAL_CLOSURES, day.isoformat()))
    if existed and actor is not None:
        audit.record(
            redis, keys.NATIONAL_AUDIT, actor, "national_reopening", day.isoformat(), before, None, now
        )
    return existed


def close_days_nationally(
    redis: Redis, days: list[dt.date], note: str, closure_id: str
) -> dict[str, tuple[str | None, str]]:
    """Close every branch on each of ``days`` for the closure of days ``closure_id``: the master
    list, then every branch's copy, each in one pipelined round trip. Days already closed with
    this note are left alone. The caller audits the closure as a whole.

    Returns:
        For each day this closed (ISO date): the stored closure it replaced (None: none) and the
        one it wrote, for ``restore_days_nationally``.
    """
    labels = [day.isoformat() for day in days]
    raw = json.dumps({"note": note, "closure": closure_id})
    written = {
        label: (before, raw)
        for label, before in zip(labels, redis.hmget(keys.NATIONAL_CLOSURES, labels), strict=True)
        if closure_note(before) != note
    }
    if written:
        _write_national(redis, {label: after for label, (_before, after) in written.items()})
    return written


def restore_days_nationally(redis: Redis, written: dict[str, tuple[str | None, str]]) -> list[str]:
    """Put back what ``close_days_nationally`` replaced (its answer), master list and copies;
    a day whose closure was changed since is left as it is now.

    Returns:
        The days restored (ISO dates).
    """
    labels = list(written)
    current = dict(zip(labels, redis.hmget(keys.NATIONAL_CLOSURES, labels), strict=True)) if labels else {}
    restored = {label: before for label, (before, after) in written.items() if current[label] == after}
    if restored:
        _write_national(redis, restored)
    return list(restored)


def _write_national(redis: Redis, values: dict[str, str | None]) -> None:
    """Set (or, for None, delete) these dates' national closures: master list and every copy."""
    kept = {label: raw for label, raw in values.items() if raw is not None}
    dropped = [label for label, raw in values.items() if raw is None]

    def write(pipe, key: str) -> None:
        if kept:
            pipe.hset(key, mapping=kept)
        if dropped:
            pipe.hdel(key, *dropped)

    pipe = redis.pipeline(transaction=False)
    write(pipe, keys.NATIONAL_CLOSURES)
    pipe.execute()
    _for_each_branch(redis, lambda pipe, branch_id: write(pipe, keys.branch_national_closures(branch_id)))


def copy_national_closures(redis: Redis, branch_id: str) -> None:
    """Give a (new) branch its copy of the master list."""
    closures = redis.hgetall(keys.NATIONAL_CLOSURES)
    if closures:
        redis.hset(keys.branch_national_closures(branch_id), mapping=closures)


def _for_each_branch(redis: Redis, command) -> None:
    pipe = redis.pipeline(transaction=False)
    for branch in catalog.list_branches(redis):
        command(pipe, branch.id)
    pipe.execute()
