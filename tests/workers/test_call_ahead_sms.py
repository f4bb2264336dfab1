"""The call-ahead SMS end to end: a call puts the next N waiting on the outbox, once each (and
queues nothing), and a real RQ worker texts them; walk-ins (no phone) and those called meanwhile
get nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from queue_service.store import keys
from tests.factories import JAKARTA

BRANCH = "jakarta-salemba"
TUESDAY = dt.date(2026, 11, 24)


def tuesday(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(TUESDAY, dt.time(hour, minute), tzinfo=JAKARTA)


@pytest.fixture
def antrian(app):
    return app.extensions["antrian"]


@pytest.fixture
def line_up(antrian, book, clock, tune_branch):
    """Four booked participants checked in at 08:01..08:04, and a walk-in at 08:05."""
    tune_branch(BRANCH, slot_capacity=100, call_ahead_places=2)
    kiosk, _token = antrian.kiosks.create(BRANCH, "Pintu", clock())
    codes = [book(slot="08:30")["code"] for _ in range(4)]
    numbers = [
        antrian.checkins.check_in(kiosk, code, tuesday(8, 1 + n)).queue_number for n, code in enumerate(codes)
    ]
    walk_in = antrian.walk_ins.issue(kiosk, "jht", tuesday(8, 40))
    return dict(zip(numbers, codes, strict=True)), walk_in


def call_ahead_sent(sent_sms) -> list[str]:
    return [line["code"] for line in sent_sms() if line["event"] == "call_ahead"]


def test_each_participant_gets_one_call_ahead_as_the_line_moves(antrian, line_up, work, sent_sms, redis):
    people, walk_in = line_up
    first, second, third, fourth = people
    work()  # the booking confirmations
    antrian.live_queue.call_next(BRANCH, "Loket 1", tuesday(9), token="c1")
    assert sorted(redis.zrange(keys.sms_outbox(BRANCH), 0, -1)) == sorted(
        [f"{people[second]}:call_ahead", f"{people[third]}:call_ahead"]
    )
    assert list(redis.scan_iter(match="rq:job:sms_call_ahead_*")) == []  # workers poll
    antrian.live_queue.call_next(BRANCH, "Loket 1", tuesday(9), token="c1")  # re-sent
    work()
    assert sorted(call_ahead_sent(sent_sms)) == sorted([people[second], people[third]])
    [text] = [
        line["body"]
        for line in sent_sms()
        if line["event"] == "call_ahead" and line["code"] == people[second]
    ]
    assert second in text and "giliran Anda sebentar lagi" in text

    # The line moves on: the fourth now is two places away; then the walk-in, who has no phone.
    antrian.live_queue.call_next(BRANCH, "Loket 1", tuesday(9, 5))
    work()
    for _ in range(2):
        antrian.live_queue.call_next(BRANCH, "Loket 1", tuesday(9, 10))
    work()
    assert sorted(call_ahead_sent(sent_sms)) == sorted([people[second], people[third], people[fourth]])
    assert walk_in.code not in [line["code"] for line in sent_sms()]
    assert redis.zcard(keys.sms_outbox(BRANCH)) == 0


def test_no_call_ahead_once_they_were_called(antrian, line_up, work, sent_sms, delivery):
    people, _walk_in = line_up
    work()
    antrian.live_queue.call_next(BRANCH, "Loket 1", tuesday(9))  # the next two are told...
    antrian.live_queue.call_next(BRANCH, "Loket 2", tuesday(9))  # ...one is called before
    work()  # the worker runs
    second = list(people)[1]
    assert people[second] not in call_ahead_sent(sent_sms)
    assert delivery(people[second], "call_ahead", BRANCH)["state"] == "skipped"


def test_none_when_the_branch_turns_it_off(antrian, line_up, work, sent_sms, redis, tune_branch):
    tune_branch(BRANCH, call_ahead_places=0)
    antrian.live_queue.call_next(BRANCH, "Loket 1", tuesday(9))
    assert [m for m in redis.zrange(keys.sms_outbox(BRANCH), 0, -1) if "call_ahead" in m] == []
