"""A rush through the waiting room (issue 21, SPEC §6 "Fair opening"), measured over HTTP.

Thousands of clients (10,000 by default) join a branch's waiting room over 60 s before its
release, poll their tickets, and book once admitted, against a day with a quota of 300:
booked must equal the quota, no slot go above its capacity, every poll be answered (p99 <
100 ms); and Redis memory per waiting ticket is read from ``INFO memory`` before and after
the joins, before the lottery. ``make bench`` runs it after its table (``bench/service_http.py``
calls ``measure``; ``--no-room`` skips it); alone:

    .venv/bin/python bench/waiting_room_rush.py [--clients N] [--poll-seconds S] [--keep]

Its own redis-server (AOF everysec) and ``queue-service serve`` (gunicorn, the service's
defaults), as ``service_http.py`` starts them, with:

- the room's branch releasing its newest day at the next whole minute after the join phase
  (``release_time`` is ``HH:MM``), ``opens_minutes_before`` covering the joins, and
  ``admit_per_minute`` = clients / ``--admit-minutes`` (3), so everybody is admitted, and
  refused once the day is full, within a few minutes of the release;
- ``tickets_per_address`` = the client count: on loopback every client has one address;
- rate limits off, ``CAPTCHA_TEST_ANSWER`` (each admitted client still POSTs a captcha of its
  own), ``PHONE_VERIFICATION=0``: a 201 is a booking, with no code to confirm.

The clients are coroutines of one asyncio loop speaking HTTP/1.1 over a pool of keep-alive
connections (as a proxy in front of the service would hold them; one a client would be
10,000 sockets that gunicorn closes after 2 idle seconds). A poll's latency is measured from
the client's wish to poll to the last byte of the answer, waiting for a pooled connection
included; the section also gives the server's own figure (its access log's ``duration_ms``)
and how late the client's loop woke, to tell a slow service from a starved load generator.
A client polls every ``--poll-seconds`` (10, ±25%), sooner when its estimated wait is
shorter (``--cadence page``: as the waiting page refreshes itself, 15 s, 5 s near the turn,
and all within a few seconds after the release), and books at once when admitted: ``POST
/api/v1/captcha``, then ``POST /api/v1/bookings`` with its pass in ``X-Admission-Pass``.

Admission order is the line the lottery drew (read from Redis right after the draw:
admission follows it by construction); the Spearman correlation with the order in which the
joins were answered should be near 0. Admissions per minute are as the clients saw them (at
their first poll that answered ``admitted``), by minute from the release.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import math
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from queue_service.domain import calendar, catalog, demo, schedules  # noqa: E402
from queue_service.domain.clock import utc_now  # noqa: E402
from queue_service.store import keys  # noqa: E402

ROOM_BRANCH = "jakarta-cilandak"
QUOTA = 300
CAPTCHA_ANSWER = "424242"
POOL = 64  # keep-alive connections the clients share
IDLE_SECONDS = 1.0  # a pooled connection idle longer is replaced (gunicorn's keep-alive: 2 s)
REQUESTS_PER_CONNECTION = 500  # then a new one, so gunicorn's processes share the load
LEAD_SECONDS = 5  # between the last join and the release
# The waiting page's own refreshes (queue_service/web/pages/waiting_room.py), for --cadence page.
PAGE_REFRESH, PAGE_NEAR_REFRESH, PAGE_NEAR = 15, 5, 30


# --- HTTP/1.1 over asyncio streams -------------------------------------------------------


class StaleConnection(Exception):
    """A pooled connection closed before any byte of the answer came."""


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.used = 0
        self.last_used = time.monotonic()

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        self.writer.write(request)
        await self.writer.drain()
        line = await self.reader.readline()
        if not line:
            raise StaleConnection
        status = int(line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while size := int((await self.reader.readline()).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            await self.reader.readline()
            body = b"".join(parts)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        return status, headers, body


class Client:
    """HTTP/1.1 requests over at most ``size`` pooled keep-alive connections."""

    def __init__(self, host: str, port: int, size: int):
        self.host, self.port = host, port
        self.slots = asyncio.Semaphore(size)
        self.idle: list[Connection] = []
        self.connections_opened = 0

    async def _connection(self) -> tuple[Connection, bool]:
        while self.idle:
            connection = self.idle.pop()
            if time.monotonic() - connection.last_used < IDLE_SECONDS:
                return connection, True
            connection.close()
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.connections_opened += 1
        return Connection(reader, writer), False

    async def request(
        self, method: str, path: str, body: dict | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict]:
        payload = json.dumps(body).encode() if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        elif method != "GET":
            head += "Content-Length: 0\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        request = (head + "\r\n").encode() + payload
        async with self.slots:
            for _attempt in range(2):
                connection, reused = await self._connection()
                try:
                    status, answer_headers, answer = await connection.exchange(request)
                except StaleConnection:
                    connection.close()
                    if reused:  # closed by the server as it went idle: nothing was done
                        continue
                    raise
                except BaseException:
                    connection.close()
                    raise
                connection.used += 1
                connection.last_used = time.monotonic()
                if (
                    answer_headers.get("connection", "").lower() == "close"
                    or connection.used >= REQUESTS_PER_CONNECTION
                ):
                    connection.close()
                else:
                    self.idle.append(connection)
                return status, json.loads(answer) if answer else {}
            raise StaleConnection

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


# --- the rush --------------------------------------------------------------------------


@dataclass
class Plan:
    clients: int
    join_seconds: float
    poll_seconds: float
    cadence: str
    admit_per_minute: int
    opens_minutes_before: int
    lasts_minutes: int
    release_at: dt.datetime  # aware, the branch's zone
    day: dt.date
    slots: list[str]
    slot_capacity: int
    window_days: int


@dataclass
class Tally:
    joined: dict[int, tuple[float, str]] = field(default_factory=dict)  # n -> (answered at, ticket)
    join_ms: list[float] = field(default_factory=list)
    join_refusals: Counter = field(default_factory=Counter)
    poll_ms: list[float] = field(default_factory=list)
    poll_at: list[float] = field(default_factory=list)  # seconds after the release each was sent
    loop_lag_ms: list[float] = field(default_factory=list)  # the client's own event loop, late by
    poll_refusals: Counter = field(default_factory=Counter)  # anything but 200, or no answer
    admitted_at: list[float] = field(default_factory=list)  # seconds after the release
    captcha_refusals: Counter = field(default_factory=Counter)
    bookings: Counter = field(default_factory=Counter)  # "201 booked", "409 day_full", ...
    line: dict[str, int] = field(default_factory=dict)  # ticket -> place, as drawn
    drawn_after: float | None = None  # seconds after the release the line was read
    memory_before: int = 0
    memory_after_joins: int = 0
    tickets_at_memory: int = 0


def _code(status: int, answer: dict) -> str:
    return f"{status} {answer.get('error', {}).get('code', 'ok') if isinstance(answer, dict) else '?'}"


def plan_rush(
    bench, clients: int, join_seconds: float, poll_seconds: float, cadence: str, admit_minutes: float
) -> Plan:
    """The room's branch set for a release at the next whole minute after the join phase
    (starting now), its newest day open with a quota of QUOTA."""
    redis = bench.redis
    zone = catalog.get_branch(redis, ROOM_BRANCH).timezone
    now = utc_now()
    earliest = now + dt.timedelta(seconds=join_seconds + LEAD_SECONDS + 5)
    release = (earliest + dt.timedelta(seconds=59)).replace(second=0, microsecond=0)
    release_local = schedules.local_now(release, zone)
    settings = schedules.load_settings(redis, ROOM_BRANCH)
    settings.online_booking = True
    settings.service_quotas = {}
    settings.daily_quota = QUOTA
    settings.release_time = f"{release_local:%H:%M}"
    for window in range(7, 61):  # a window whose newest day at the release is open
        day = release_local.date() + dt.timedelta(days=window)
        settings.booking_window_days = window
        closure = calendar.closure_note(
            redis.hget(keys.branch_national_closures(ROOM_BRANCH), day.isoformat())
        )
        slots = schedules.slots_of_day(settings, day)
        if slots and schedules.day_status(settings, None, day, release_local, national_closure=closure).open:
            break
    else:
        raise RuntimeError("no open day for the room's release")
    labels = [slot.label for slot in slots]
    # Slots that together hold more than the quota, so both refusals happen (as in the rush).
    settings.slot_capacity = QUOTA // len(labels) + 5
    admit_per_minute = max(60, math.ceil(clients / admit_minutes))
    opens = math.ceil((release - now).total_seconds() / 60) + 1
    lasts = math.ceil(clients / admit_per_minute) + 10
    settings.waiting_room = {
        "enabled": True,
        "opens_minutes_before": opens,
        "admit_per_minute": admit_per_minute,
        "lasts_minutes": lasts,
        "tickets_per_address": clients,  # loopback: every client has one address
    }
    schedules.store_settings(redis, ROOM_BRANCH, settings)
    return Plan(
        clients=clients,
        join_seconds=join_seconds,
        poll_seconds=poll_seconds,
        cadence=cadence,
        admit_per_minute=admit_per_minute,
        opens_minutes_before=opens,
        lasts_minutes=lasts,
        release_at=release_local,
        day=day,
        slots=labels,
        slot_capacity=settings.slot_capacity,
        window_days=window,
    )


async def _rush(bench, plan: Plan, base_url: str, seed: int) -> tuple[Tally, Client]:
    tally = Tally()
    rng = random.Random(seed)
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    client = Client(host, int(port), POOL)
    loop = asyncio.get_running_loop()
    # The loop's clock at the release (the wall clock's release, seen from now).
    release = loop.time() + (plan.release_at - utc_now()).total_seconds()
    join_start = release - LEAD_SECONDS - plan.join_seconds
    join_times = sorted(join_start + rng.uniform(0, plan.join_seconds) for _ in range(plan.clients))
    room_id = f"{plan.release_at:%Y%m%d}"
    joins_left = plan.clients
    joins_done = asyncio.Event()

    def next_poll(standing: dict) -> float:
        """Seconds to the next poll: ``steady``, every poll_seconds ±25% and just after the
        turn when the estimate is shorter; ``page``, as the waiting page refreshes itself
        (pages/waiting_room.py: 15 s, 5 s within 30 s of the turn, and a few seconds after the
        release before it)."""
        estimate = standing.get("estimated_wait_seconds")
        if plan.cadence == "page":
            until = release - loop.time()
            if until > 0:
                return max(2, min(PAGE_REFRESH, until + 1 + rng.randrange(4)))
            return PAGE_NEAR_REFRESH if estimate is not None and estimate <= PAGE_NEAR else PAGE_REFRESH
        wait = plan.poll_seconds * rng.uniform(0.75, 1.25)
        if estimate is not None and estimate < wait:
            wait = max(0.5, estimate + rng.uniform(0, 1))
        return wait

    async def participant(n: int, join_at: float) -> None:
        nonlocal joins_left
        await asyncio.sleep(max(0.0, join_at - loop.time()))
        started = time.perf_counter()
        try:
            status, standing = await client.request("POST", f"/api/v1/branches/{ROOM_BRANCH}/waiting-room")
        except Exception as error:  # noqa: BLE001 - counted as unanswered
            status, standing = 0, {"error": {"code": type(error).__name__}}
        finally:
            joins_left -= 1
            if joins_left == 0:
                joins_done.set()
        tally.join_ms.append(1000 * (time.perf_counter() - started))
        if status != 201 or standing.get("state") not in ("waiting", "admitted"):
            tally.join_refusals[_code(status, standing) + f" {standing.get('state', '')}".rstrip()] += 1
            return
        ticket = standing["ticket"]
        tally.joined[n] = (loop.time(), ticket)
        wait = rng.uniform(0, plan.poll_seconds) if plan.cadence == "steady" else next_poll(standing)
        while standing.get("state") != "admitted":
            await asyncio.sleep(wait)
            started = time.perf_counter()
            tally.poll_at.append(loop.time() - release)
            try:
                status, standing = await client.request("GET", f"/api/v1/waiting-room/{ticket}")
            except Exception as error:  # noqa: BLE001 - counted as unanswered
                status, standing = 0, {"error": {"code": type(error).__name__}}
            if status != 200:
                tally.poll_refusals[_code(status, standing)] += 1
                return
            tally.poll_ms.append(1000 * (time.perf_counter() - started))
            wait = next_poll(standing)
        tally.admitted_at.append(loop.time() - release)
        status, challenge = await client.request("POST", "/api/v1/captcha", {})
        if status != 201:
            tally.captcha_refusals[_code(status, challenge)] += 1
            return
        body = {
            "branch_id": ROOM_BRANCH,
            "service_id": "jht",
            "date": plan.day.isoformat(),
            # Half of them want the first slot, so it fills up before the day does.
            "slot": plan.slots[0 if n % 2 else n // 2 % len(plan.slots)],
            "name": "Peserta Antre",
            "nik": f"3171011201{90 + n // 9999:02d}{n % 9999 + 1:04d}",
            "kpj": "12345678901",
            "phone": f"+6281399{n:06d}",
            "captcha_id": challenge["captcha_id"],
            "captcha_answer": CAPTCHA_ANSWER,
        }
        status, answer = await client.request(
            "POST", "/api/v1/bookings", body, {"X-Admission-Pass": standing["pass"]}
        )
        tally.bookings["201 booked" if status == 201 else _code(status, answer)] += 1

    async def memory_after_joins() -> None:
        await joins_done.wait()
        tally.memory_after_joins = await asyncio.to_thread(bench._used_memory)
        tally.tickets_at_memory = len(tally.joined)
        if loop.time() >= release:
            print("  warning: the joins ended after the release; memory includes the line", file=sys.stderr)

    async def read_line() -> None:
        """The line as the lottery drew it, read once it is drawn (before anyone can lose a place)."""
        await asyncio.sleep(max(0.0, release - loop.time()))
        room = keys.room(ROOM_BRANCH, room_id)
        while (await asyncio.to_thread(bench.redis.hget, room, "drawn")) != "1":
            await asyncio.sleep(0.2)
        line = await asyncio.to_thread(
            bench.redis.zrange, keys.room_line(ROOM_BRANCH, room_id), 0, -1, withscores=True
        )
        tally.drawn_after = loop.time() - release
        tally.line = {ticket: int(place) for ticket, place in line}

    async def loop_lag() -> None:
        """How late the client's own loop wakes up: its share of a poll's latency."""
        while True:
            planned = loop.time() + 0.05
            await asyncio.sleep(0.05)
            tally.loop_lag_ms.append(1000 * (loop.time() - planned))

    tally.memory_before = await asyncio.to_thread(bench._used_memory)
    watchers = [asyncio.create_task(memory_after_joins()), asyncio.create_task(read_line())]
    lag = asyncio.create_task(loop_lag())
    await asyncio.gather(*(participant(n, at) for n, at in enumerate(join_times)))
    await asyncio.gather(*watchers)
    lag.cancel()
    client.close()
    return tally, client


def _served_polls(log: Path) -> list[float]:
    """The polls' durations as the server logged them (gunicorn's access log, ``duration_ms``):
    from the request read to the answer written, the wait for a thread left out."""
    durations = []
    with contextlib.suppress(OSError), log.open(errors="replace") as lines:
        for line in lines:
            if "GET path=/api/v1/waiting-room/" in line and "duration_ms=" in line:
                with contextlib.suppress(ValueError):
                    durations.append(float(line.split("duration_ms=", 1)[1].split()[0]))
    return durations


def _spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's rank correlation (no ties: both are orders)."""

    def ranks(values: list[float]) -> list[int]:
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0] * len(values)
        for rank, index in enumerate(order):
            result[index] = rank
        return result

    rx, ry = ranks(xs), ranks(ys)
    if len(rx) < 2:
        return float("nan")
    return statistics.correlation(rx, ry)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def measure(
    bench,
    clients: int = 10_000,
    join_seconds: float = 60,
    poll_seconds: float = 10,
    cadence: str = "steady",
    admit_minutes: float = 3,
    seed: int | None = None,
    say=lambda text: print(text, file=sys.stderr, flush=True),
) -> dict:
    """The rush against its own redis-server and server, started with ``bench`` (a fresh
    ``service_http.Bench``, whose processes are stopped by its owner); returns the figures."""
    started = time.monotonic()
    bench.start_redis()
    demo.seed(bench.redis)
    env = {
        **bench.service_env(rate_limits=False),
        "CAPTCHA_TEST_ANSWER": CAPTCHA_ANSWER,
        "PHONE_VERIFICATION": "0",
    }
    base_url = bench.serve("room", env)
    plan = plan_rush(bench, clients, join_seconds, poll_seconds, cadence, admit_minutes)
    say(
        f"  waiting room: {clients} clients join over {join_seconds:g} s, release at "
        f"{plan.release_at:%H:%M} ({(plan.release_at - utc_now()).total_seconds():.0f} s from now), "
        f"admit_per_minute {plan.admit_per_minute} ..."
    )
    cpu = time.process_time()
    tally, client = asyncio.run(
        _rush(bench, plan, base_url, seed if seed is not None else random.randrange(2**32))
    )
    client_cpu = time.process_time() - cpu
    wall = time.monotonic() - started
    served = _served_polls(bench.workdir / "room.log")
    seconds = Counter(int(at // 1) for at in tally.poll_at)
    timed = list(zip(tally.poll_ms, tally.poll_at, strict=True))

    day = plan.day.isoformat()
    slot_counts = {s: int(n) for s, n in bench.redis.hgetall(keys.slot_counts(ROOM_BRANCH, day)).items()}
    stored_total = int(bench.redis.hget(keys.day_counts(ROOM_BRANCH, day), "total") or 0)
    before_release = [n for n, (_at, ticket) in tally.joined.items() if ticket in tally.line]
    before_release.sort(key=lambda n: tally.joined[n][0])  # the order the joins were answered
    spearman = _spearman(
        list(range(len(before_release))), [tally.line[tally.joined[n][1]] for n in before_release]
    )
    minutes = Counter(int(at // 60) for at in tally.admitted_at if at >= 0)
    per_minute = [minutes[m] for m in range(max(minutes) + 1)] if minutes else []
    joined = len(tally.joined)
    booked = tally.bookings["201 booked"]
    polls_unanswered = sum(tally.poll_refusals.values())
    result = {
        "plan": plan,
        "clients": clients,
        "joined": joined,
        "join_refusals": tally.join_refusals,
        "join_p50_ms": _percentile(tally.join_ms, 0.5),
        "join_p99_ms": _percentile(tally.join_ms, 0.99),
        "polls": len(tally.poll_ms),
        "poll_refusals": tally.poll_refusals,
        "poll_p50_ms": _percentile(tally.poll_ms, 0.5),
        "poll_p99_ms": _percentile(tally.poll_ms, 0.99),
        "poll_max_ms": max(tally.poll_ms, default=float("nan")),
        "poll_p99_before_ms": _percentile([ms for ms, at in timed if at < 0], 0.99),
        "poll_p99_after_ms": _percentile([ms for ms, at in timed if at >= 0], 0.99),
        "polls_peak_per_s": max(seconds.values(), default=0),
        "served_p50_ms": _percentile(served, 0.5),
        "served_p99_ms": _percentile(served, 0.99),
        "client_cpu_s": client_cpu,
        "loop_lag_p99_ms": _percentile(tally.loop_lag_ms, 0.99),
        "loop_lag_max_ms": max(tally.loop_lag_ms, default=float("nan")),
        "admitted": len(tally.admitted_at),
        "admitted_per_minute": per_minute,
        "captcha_refusals": tally.captcha_refusals,
        "bookings": tally.bookings,
        "booked": booked,
        "stored_total": stored_total,
        "fullest_slot": max(slot_counts.values(), default=0),
        "spearman": spearman,
        "spearman_n": len(before_release),
        "drawn_after_s": tally.drawn_after,
        "bytes_per_ticket": (
            (tally.memory_after_joins - tally.memory_before) / tally.tickets_at_memory
            if tally.tickets_at_memory
            else float("nan")
        ),
        "connections": client.connections_opened,
        "wall_s": wall,
    }
    result["ok"] = (
        booked == QUOTA == stored_total
        and result["fullest_slot"] <= plan.slot_capacity
        and not polls_unanswered
        and not tally.join_refusals
        and result["poll_p99_ms"] < 100
    )
    return result


def report(result: dict) -> list[str]:
    """The rush's section, markdown."""
    plan: Plan = result["plan"]
    refusals = Counter({k: v for k, v in result["bookings"].items() if k != "201 booked"})
    per_minute = ", ".join(f"{n:,}" for n in result["admitted_per_minute"])

    def counts(counter: Counter) -> str:
        return ", ".join(f"{n:,} x {kind}" for kind, n in counter.most_common()) or "none"

    return [
        f"waiting-room rush: {result['clients']:,} clients join {ROOM_BRANCH}'s room over "
        f"{plan.join_seconds:g} s, the last {LEAD_SECONDS} s before its release at "
        f"{plan.release_at:%H:%M %Z} (release_time); the window's newest day {plan.day} "
        f"(booking_window_days {plan.window_days}), quota {QUOTA}, {len(plan.slots)} slots of "
        f"{plan.slot_capacity}; waiting_room: opens_minutes_before {plan.opens_minutes_before}, "
        f"admit_per_minute {plan.admit_per_minute:,} (every client admitted within "
        f"{math.ceil(result['clients'] / plan.admit_per_minute)} min), lasts_minutes "
        f"{plan.lasts_minutes}, tickets_per_address {result['clients']:,} (loopback: one address "
        f"for all); rate limits off, PHONE_VERIFICATION=0 (a 201 is booked), CAPTCHA_TEST_ANSWER; "
        + (
            f"polls every {plan.poll_seconds:g} s ±25%, sooner when the estimate is"
            if plan.cadence == "steady"
            else f"polls as the waiting page refreshes: {PAGE_REFRESH} s, {PAGE_NEAR_REFRESH} s within "
            f"{PAGE_NEAR} s of the turn, 1-4 s after the release"
        )
        + f"; one asyncio client ({result['client_cpu_s']:.0f} s of CPU; its loop late by p99 "
        f"{result['loop_lag_p99_ms']:.0f} ms, max {result['loop_lag_max_ms']:.0f} ms), {POOL} pooled "
        f"keep-alive connections ({result['connections']:,} opened); {os.cpu_count()} cores, shared",
        "",
        "| waiting-room rush | measured |",
        "| --- | --- |",
        f"| joins | {result['joined']:,} answered 201 (p50 {result['join_p50_ms']:.0f} ms, p99 "
        f"{result['join_p99_ms']:.0f} ms); refused or unanswered: {counts(result['join_refusals'])} |",
        f"| polls | {result['polls']:,} answered 200; p50 {result['poll_p50_ms']:.0f} ms, p99 "
        f"{result['poll_p99_ms']:.0f} ms, max {result['poll_max_ms']:.0f} ms; not answered 200: "
        f"{counts(result['poll_refusals'])} |",
        f"| polls: where the time went | p99 {result['poll_p99_before_ms']:.0f} ms before the release, "
        f"{result['poll_p99_after_ms']:.0f} ms after; at most {result['polls_peak_per_s']:,} sent in one "
        f"second; as the server logged them (request read to answer written) p50 "
        f"{result['served_p50_ms']:.1f} ms, p99 {result['served_p99_ms']:.1f} ms |",
        f"| bookings | {result['booked']:,} answered 201 ({result['stored_total']} stored for the day; "
        f"quota {QUOTA}); refusals: {counts(refusals)}; captcha refusals: "
        f"{counts(result['captcha_refusals'])} |",
        f"| fullest slot | {result['fullest_slot']} of a capacity of {plan.slot_capacity} |",
        f"| admitted per minute from the release, as the clients saw it | {per_minute} "
        f"({result['admitted']:,} in all; admit_per_minute {plan.admit_per_minute:,}) |",
        f"| Spearman, join order vs admission order (the drawn line) | {result['spearman']:+.3f} "
        f"over the {result['spearman_n']:,} that joined before the release (line read "
        f"{result['drawn_after_s'] or 0:.1f} s after it) |",
        f"| Redis memory per waiting ticket | {result['bytes_per_ticket']:,.0f} B (INFO memory "
        f"before and after the joins, before the lottery) |",
        f"| wall time | {result['wall_s']:.0f} s (redis and server start, wait for the join phase, "
        f"joins, admission) |",
        f"| booked = quota, no slot over, every join and poll answered, poll p99 < 100 ms | "
        f"{'yes' if result['ok'] else 'NO'} |",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10_000, help="clients (default 10000)")
    parser.add_argument("--join-seconds", type=float, default=60, help="the join phase (default 60)")
    parser.add_argument("--poll-seconds", type=float, default=10, help="between polls, ±25%% (default 10)")
    parser.add_argument(
        "--cadence",
        choices=("steady", "page"),
        default="steady",
        help="steady: every --poll-seconds; page: as the waiting page refreshes (default steady)",
    )
    parser.add_argument(
        "--admit-minutes",
        type=float,
        default=3,
        help="admit_per_minute = clients / this (default 3)",
    )
    parser.add_argument("--seed", type=int, help="the clients' random seed (join times, jitter)")
    parser.add_argument("--keep", action="store_true", help="keep the logs' folder")
    args = parser.parse_args()

    from service_http import Bench, Processes, _raise_interrupt

    signal.signal(signal.SIGTERM, _raise_interrupt)
    processes = Processes()
    workdir = Path(tempfile.mkdtemp(prefix="antrian-room-"))
    try:
        result = measure(
            Bench(args, processes, workdir),
            clients=args.clients,
            join_seconds=args.join_seconds,
            poll_seconds=args.poll_seconds,
            cadence=args.cadence,
            admit_minutes=args.admit_minutes,
            seed=args.seed,
        )
        print()
        print("\n".join(report(result)))
        return 0 if result["ok"] else 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping what the bench started", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
        if args.keep:
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
