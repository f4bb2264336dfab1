"""Reading the audit log in batches: the newest first, filters across batches, no entry twice
or lost at a batch's edge, and never the whole stream in one command."""

from __future__ import annotations

import datetime as dt

from queue_service.domain import audit
from queue_service.domain.audit import Actor
from queue_service.store import keys

START = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def _fill(redis, count: int) -> list[str]:
    ids = []
    for n in range(count):
        actor = Actor("siti" if n % 3 == 0 else "budi", "branch_admin", "10.0.0.1")
        ids.append(
            audit.record(
                redis,
                keys.NATIONAL_AUDIT,
                actor,
                "settings",
                f"t{n}",
                n,
                n + 1,
                START + dt.timedelta(seconds=n),
            )
        )
    return ids


def test_every_entry_comes_back_once_newest_first_across_batches(redis):
    ids = _fill(redis, audit.READ_BATCH * 2 + 7)
    entries = audit.read(redis, limit=10_000)
    assert [e.id for e in entries] == ids[::-1]


def test_a_filter_finds_its_entries_in_every_batch_up_to_the_limit(redis):
    _fill(redis, audit.READ_BATCH * 3)
    siti = audit.read(redis, actor="siti", limit=10_000)
    assert [e.target for e in siti] == [f"t{n}" for n in reversed(range(audit.READ_BATCH * 3)) if n % 3 == 0]
    assert [e.target for e in audit.read(redis, actor="siti", limit=5)] == [e.target for e in siti[:5]]


def test_the_stream_is_read_a_batch_per_command(redis):
    _fill(redis, audit.READ_BATCH * 3)
    redis.config_resetstat()
    assert audit.read(redis, actor="nobody", limit=10) == []
    # Three full batches, then an empty one says the stream is done.
    assert redis.info("commandstats")["cmdstat_xrevrange"]["calls"] == 4
