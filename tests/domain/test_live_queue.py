"""The live queue against a real Redis: order by slot then arrival, concurrent calls,
re-sent steps, recall/served/no-show, transfer, the priority share, pause, the display's view."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from queue_service.domain import audit
from queue_service.domain.audit import Actor
from queue_service.domain.checkins import CheckIns
from queue_service.domain.errors import NotFoundError, TooLateError, ValidationFailedError
from queue_service.domain.live_queue import LiveQueue, Place
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request

TUESDAY = dt.date(2026, 11, 24)
BRANCH = "jakarta-salemba"
ADMIN = Actor("admin-salemba", "branch_admin", "cli")


def tuesday(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(TUESDAY, dt.time(hour, minute), tzinfo=JAKARTA)


@pytest.fixture
def live(app, redis):
    return LiveQueue(redis)


@pytest.fixture
def arrive(app, redis, reservations, clock, tune_branch):
    """``arrive("09:00", (8, 10), service="jkk")``: book that slot (on Monday), check in on
    Tuesday at that time; returns the queue number."""
    tune_branch(BRANCH, slot_capacity=100)
    kiosk, _token = app.extensions["antrian"].kiosks.create(BRANCH, "Pintu", clock())
    checkins = CheckIns(redis)

    def make(slot: str, at: tuple[int, int], service: str = "jht") -> str:
        booking = reservations.reserve(
            booking_request(slot=dt.time.fromisoformat(slot), service_id=service), clock()
        )
        return checkins.check_in(kiosk, booking.code, tuesday(*at)).queue_number

    return make


def booking_of(redis, number: str) -> dict:
    code = redis.hget(keys.queue_numbers(BRANCH, TUESDAY.isoformat()), number)
    return redis.hgetall(keys.booking(BRANCH, code))


def call_all(live, counter="Loket 1", now=None, **kwargs) -> list[str]:
    called = []
    while True:
        try:
            called.append(live.call_next(BRANCH, counter, now or tuesday(9, 40), **kwargs).queue_number)
        except NotFoundError:
            return called


def test_the_line_is_by_slot_then_arrival(live, arrive):
    late_slot_early = arrive("09:00", (8, 5))
    late_slot_later = arrive("09:00", (8, 10))
    early_slot_last = arrive("08:30", (8, 20))

    assert call_all(live) == [early_slot_last, late_slot_early, late_slot_later]
    with pytest.raises(NotFoundError):
        live.call_next(BRANCH, "Loket 1", tuesday(9, 40))


def test_a_call_answers_with_the_service_counter_and_priority(live, arrive, redis):
    number = arrive("09:00", (8, 5), service="jkk")
    call = live.call_next(BRANCH, "Loket 2", tuesday(9, 0))
    assert (call.queue_number, call.service_id, call.counter, call.priority) == (
        number,
        "jkk",
        "Loket 2",
        False,
    )
    booking = booking_of(redis, number)
    assert booking["status"] == "called" and booking["counter"] == "Loket 2"
    assert booking["called_at"] == tuesday(9, 0).isoformat()


def test_a_call_takes_only_the_services_asked_for(live, arrive):
    jht = arrive("09:00", (8, 5))
    jkk = arrive("09:00", (8, 10), service="jkk")
    assert live.call_next(BRANCH, "Loket 1", tuesday(9, 0), services=["jkk"]).queue_number == jkk
    with pytest.raises(NotFoundError):
        live.call_next(BRANCH, "Loket 1", tuesday(9, 0), services=["jkk"])
    with pytest.raises(ValidationFailedError):
        live.call_next(BRANCH, "Loket 1", tuesday(9, 0), services=["nope"])
    # A configured counter calls its own services by default.
    live.set_counter(BRANCH, "Loket JHT", ["jht"], ADMIN, tuesday(7))
    assert live.call_next(BRANCH, "Loket JHT", tuesday(9, 0)).queue_number == jht


def test_two_counters_calling_at_once_never_share_a_participant(live, arrive, redis):
    numbers = {arrive("09:00", (8, minute)) for minute in range(0, 40, 2)}
    results: dict[str, list[str]] = {"Loket 1": [], "Loket 2": []}
    # Both counters call in the same instant, round after round (a barrier per round, so a
    # busy machine cannot let one counter empty the line alone).
    rounds = threading.Barrier(2, timeout=30)

    def counter(name: str) -> None:
        own = LiveQueue(redis)
        for _round in range(len(numbers) // 2):
            rounds.wait()
            results[name].append(own.call_next(BRANCH, name, tuesday(9, 40)).queue_number)

    threads = [threading.Thread(target=counter, args=(f"Loket {i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = results["Loket 1"] + results["Loket 2"]
    assert sorted(together) == sorted(numbers)  # each exactly once
    assert len(results["Loket 1"]) == len(results["Loket 2"]) == len(numbers) // 2
    with pytest.raises(NotFoundError):
        live.call_next(BRANCH, "Loket 1", tuesday(9, 40))


def test_a_resent_call_answers_the_same_participant(live, arrive):
    first, second = arrive("09:00", (8, 5)), arrive("09:00", (8, 6))
    once = live.call_next(BRANCH, "Loket 1", tuesday(9, 0), token="req-1")
    again = live.call_next(BRANCH, "Loket 1", tuesday(9, 0), token="req-1")
    assert once == again and once.queue_number == first
    assert live.call_next(BRANCH, "Loket 1", tuesday(9, 0), token="req-2").queue_number == second


def test_served_no_show_and_recall(live, arrive, redis):
    served, absent = arrive("09:00", (8, 5)), arrive("09:00", (8, 6))
    waiting = arrive("09:00", (8, 7))
    with pytest.raises(NotFoundError):  # not called yet
        live.mark_served(BRANCH, served, tuesday(9, 0))
    with pytest.raises(NotFoundError):
        live.recall(BRANCH, "Z-999", tuesday(9, 0))

    live.call_next(BRANCH, "Loket 1", tuesday(9, 0))
    assert live.recall(BRANCH, served, tuesday(9, 1)).status == "called"
    assert live.mark_served(BRANCH, served, tuesday(9, 6)).status == "served"
    assert live.mark_served(BRANCH, served, tuesday(9, 7)).status == "served"  # repeat
    with pytest.raises(TooLateError):
        live.mark_no_show(BRANCH, served, tuesday(9, 7))
    with pytest.raises(TooLateError):
        live.recall(BRANCH, served, tuesday(9, 7))
    booking = booking_of(redis, served)
    assert booking["status"] == "served" and booking["served_at"] == tuesday(9, 6).isoformat()

    live.call_next(BRANCH, "Loket 1", tuesday(9, 8))
    assert live.mark_no_show(BRANCH, absent, tuesday(9, 12)).status == "no_show"
    with pytest.raises(TooLateError):
        live.mark_served(BRANCH, absent, tuesday(9, 13))
    assert booking_of(redis, absent)["status"] == "no_show"
    with pytest.raises(NotFoundError):
        live.mark_no_show(BRANCH, waiting, tuesday(9, 13))


def test_a_resent_recall_counts_once(live, arrive, redis):
    number = arrive("09:00", (8, 5))
    live.call_next(BRANCH, "Loket 1", tuesday(9, 0))
    live.recall(BRANCH, number, tuesday(9, 1), token="r-1")
    live.recall(BRANCH, number, tuesday(9, 1), token="r-1")
    assert booking_of(redis, number)["calls"] == "2"  # the call and one recall


def test_a_recall_past_the_branch_limit_marks_a_no_show(live, arrive, redis, tune_branch):
    tune_branch(BRANCH, recalls_before_no_show=2)
    number = arrive("09:00", (8, 5))
    live.call_next(BRANCH, "Loket 1", tuesday(9, 0))
    assert live.recall(BRANCH, number, tuesday(9, 1)).status == "called"
    assert live.recall(BRANCH, number, tuesday(9, 2)).status == "called"
    assert live.recall(BRANCH, number, tuesday(9, 3), token="r3").status == "no_show"
    assert live.recall(BRANCH, number, tuesday(9, 3), token="r3").status == "no_show"  # re-sent
    booking = booking_of(redis, number)
    assert (booking["status"], booking["recalls"]) == ("no_show", "2")
    assert live.view(BRANCH, tuesday(9, 3)).now_serving == []
    said = [a.recall for a in live.view(BRANCH, tuesday(9, 3)).announcements]
    assert said == [False, True, True]  # the call and two recalls: the no-show is not said

    # Transferred and called again: the recalls count anew.
    again = arrive("09:00", (8, 6))
    live.call_next(BRANCH, "Loket 1", tuesday(9, 4))
    live.recall(BRANCH, again, tuesday(9, 5))
    live.transfer(BRANCH, again, "jkk", tuesday(9, 6))
    live.call_next(BRANCH, "Loket 2", tuesday(9, 7), services=["jkk"])
    assert live.recall(BRANCH, again, tuesday(9, 8)).status == "called"
    assert live.recall(BRANCH, again, tuesday(9, 9)).status == "called"


def test_transfer_keeps_the_place_by_arrival(live, arrive, redis):
    moved = arrive("09:00", (8, 10))
    before = arrive("09:00", (8, 5), service="jkk")
    after = arrive("09:00", (8, 20), service="jkk")
    assert live.transfer(BRANCH, moved, "jkk", tuesday(8, 30)).status == "checked_in"
    assert call_all(live, services=["jht"]) == []
    assert call_all(live, services=["jkk"]) == [before, moved, after]
    assert booking_of(redis, moved)["queue_service"] == "jkk"


def test_a_called_participant_transferred_waits_again_at_their_place(live, arrive):
    first, second = arrive("09:00", (8, 5)), arrive("09:00", (8, 10), service="jkk")
    assert live.call_next(BRANCH, "Loket 1", tuesday(9, 0)).queue_number == first
    assert live.transfer(BRANCH, first, "jkk", tuesday(9, 2)).status == "checked_in"
    view = live.view(BRANCH, tuesday(9, 2))
    assert view.now_serving == []
    assert [w.queue_number for w in view.waiting] == [first, second]
    call = live.call_next(BRANCH, "Loket 2", tuesday(9, 3), services=["jkk"])
    assert (call.queue_number, call.service_id) == (first, "jkk")


def _priority_calls(live, arrive, tune_branch, share: int) -> list[bool]:
    tune_branch(BRANCH, priority_share=share)
    for minute in range(6):
        arrive("09:00", (8, minute))
    for minute in range(6):
        live.mark_priority(BRANCH, arrive("09:00", (8, 30 + minute)), tuesday(8, 40))
    calls = []
    while True:
        try:
            calls.append(live.call_next(BRANCH, "Loket 1", tuesday(9, 0)).priority)
        except NotFoundError:
            return calls


def test_priority_goes_first_within_its_share(live, arrive, tune_branch):
    calls = _priority_calls(live, arrive, tune_branch, 50)
    assert len(calls) == 12
    # Priority first, though they came later, but never more than half of any ten calls
    # while others wait: the rest are not starved.
    assert calls == [True] * 5 + [False] * 5 + [True, False]
    assert all(sum(calls[start : start + 10]) <= 5 for start in range(len(calls) - 9))


def test_no_priority_share_means_arrival_order(live, arrive, tune_branch):
    assert _priority_calls(live, arrive, tune_branch, 0) == [False] * 6 + [True] * 6


def test_a_full_priority_share_calls_every_priority_first(live, arrive, tune_branch):
    assert _priority_calls(live, arrive, tune_branch, 100) == [True] * 6 + [False] * 6


def test_pause_and_resume(live):
    live.set_counter(BRANCH, "Loket 1", ["jht", "jkk"], ADMIN, tuesday(7))
    live.pause(BRANCH, "Loket 1")
    assert live.counters(BRANCH)[0].paused
    live.resume(BRANCH, "Loket 1")
    assert not live.counters(BRANCH)[0].paused
    live.pause(BRANCH, "Loket 1")
    with pytest.raises(NotFoundError):  # nobody waits; the call resumes the counter all the same
        live.call_next(BRANCH, "Loket 1", tuesday(9, 0))
    with pytest.raises(ValidationFailedError):
        live.pause(BRANCH, "")


def test_the_view_and_the_estimated_wait(live, arrive):
    first, second, third = (arrive("09:00", (8, m)) for m in (1, 2, 3))
    assert live.view(BRANCH, tuesday(8, 30)).average_service_seconds is None
    live.call_next(BRANCH, "Loket 1", tuesday(9, 0))
    live.mark_served(BRANCH, first, tuesday(9, 4))  # four minutes
    live.call_next(BRANCH, "Loket 1", tuesday(9, 5))
    view = live.view(BRANCH, tuesday(9, 5))
    assert view.now_serving == [("Loket 1", second)]
    assert [(w.queue_number, w.estimated_wait_seconds) for w in view.waiting] == [(third, 240)]
    assert view.average_service_seconds == 240


def test_the_wait_counts_the_people_of_the_same_service_over_its_own_counters(live, arrive):
    live.set_counter(BRANCH, "Loket JHT", ["jht"], ADMIN, tuesday(7))
    live.set_counter(BRANCH, "Loket JKK", ["jkk"], ADMIN, tuesday(7))
    first = arrive("09:00", (8, 0))
    jht = [arrive("09:00", (8, minute)) for minute in (1, 2, 3, 4, 5)]
    jkk = arrive("09:00", (8, 6), service="jkk")
    live.call_next(BRANCH, "Loket JHT", tuesday(9, 0))
    live.mark_served(BRANCH, first, tuesday(9, 4))  # four minutes: the average

    # Five wait for JHT, but none of them is ahead of the JKK participant at Loket JKK.
    assert live.place_of(BRANCH, jkk, tuesday(9, 5)) == Place(0, 240)
    assert live.place_of(BRANCH, jht[2], tuesday(9, 5)) == Place(2, 720)


def test_a_transfer_keeps_a_priority_marked_while_it_was_on_its_way(live, arrive, redis, monkeypatch):
    number = arrive("09:00", (8, 1))
    move = live.scripts.queue_move
    raced = []

    def transfer_after_a_priority_mark(**kwargs):
        if kwargs["args"][2] == "transfer" and not raced:
            raced.append(True)  # the transfer read the participant as regular, then this:
            live.mark_priority(BRANCH, number, tuesday(8, 2))
        return move(**kwargs)

    monkeypatch.setattr(live.scripts, "queue_move", transfer_after_a_priority_mark)
    moved = live.transfer(BRANCH, number, "jkk", tuesday(8, 2))

    assert raced and moved.queue_number == number
    assert booking_of(redis, number)["priority"] == "1"
    assert [(w.queue_number, w.service_id, w.priority) for w in live.view(BRANCH, tuesday(8, 3)).waiting] == [
        (number, "jkk", True)
    ]


def test_counters_are_set_and_removed_with_an_audit_entry(live, redis):
    live.set_counter(BRANCH, "Loket 10", None, ADMIN, tuesday(7))
    live.set_counter(BRANCH, "Loket 2", ["jkk"], ADMIN, tuesday(7))
    assert [(c.name, c.services) for c in live.counters(BRANCH)] == [("Loket 2", ("jkk",)), ("Loket 10", ())]
    assert live.remove_counter(BRANCH, "Loket 2", ADMIN, tuesday(8))
    assert not live.remove_counter(BRANCH, "Loket 2", ADMIN, tuesday(8))
    entries = audit.read(redis, BRANCH)
    assert [(e.action, e.target) for e in entries] == [
        ("counter_removed", f"{BRANCH}/Loket 2"),
        ("counter", f"{BRANCH}/Loket 2"),
        ("counter", f"{BRANCH}/Loket 10"),
    ]
    with pytest.raises(ValidationFailedError):
        live.set_counter(BRANCH, "Loket 3", ["nope"], ADMIN, tuesday(7))


def test_calls_and_recalls_are_announced_in_order_once_each(live, arrive):
    first, second = arrive("09:00", (8, 1)), arrive("09:00", (8, 2), service="jkk")
    assert live.view(BRANCH, tuesday(8, 30)).announcements == []
    live.call_next(BRANCH, "Loket 1", tuesday(9, 0), token="t1")
    live.call_next(BRANCH, "Loket 1", tuesday(9, 0), token="t1")  # re-sent: not said again
    live.call_next(BRANCH, "Loket 2", tuesday(9, 1))
    live.recall(BRANCH, first, tuesday(9, 2), token="r1")
    live.recall(BRANCH, first, tuesday(9, 2), token="r1")
    live.mark_served(BRANCH, second, tuesday(9, 3))  # nothing to say
    said = live.view(BRANCH, tuesday(9, 3)).announcements
    assert [(a.queue_number, a.counter, a.service_id, a.recall) for a in said] == [
        (first, "Loket 1", "jht", False),
        (second, "Loket 2", "jkk", False),
        (first, "Loket 1", "jht", True),
    ]
    assert [a.id for a in said] == sorted({a.id for a in said})
    assert [a.queue_number for a in live.view(BRANCH, tuesday(9, 3), announcements=1).announcements] == [
        first
    ]
