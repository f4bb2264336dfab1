"""The reminder the afternoon before the visit: planned for the whole day by a worker's sweep
once the eve has come, for each booking whose confirmation went out, and sent at once."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry

from queue_service.notifications import queues
from queue_service.notifications.outbox import Outbox
from queue_service.notifications.reminders import Reminders
from queue_service.store import keys
from tests.factories import JAKARTA, booking_request, make_nik
from workers import runtime

MONDAY_3PM = dt.datetime(2026, 11, 23, 15, 0, tzinfo=JAKARTA)


def scheduled_jobs(worker_settings) -> list[str]:
    queue = Queue(queues.SMS, connection=runtime.queue_connection(worker_settings))
    return ScheduledJobRegistry(queue=queue).get_job_ids()


def test_until_its_eve_a_booking_keeps_nothing_for_its_reminder(book, work, worker_settings, redis, clock):
    book()  # Monday 07:00 for Tuesday 09:00
    work()
    clock.set(MONDAY_3PM - dt.timedelta(seconds=1))
    work()
    # Not on the branch's reminders, and nothing waits in the job queue meanwhile.
    assert not redis.exists(keys.sms_reminders("jakarta-salemba"))
    assert not redis.exists(keys.sms_reminders_planned("jakarta-salemba"))
    assert scheduled_jobs(worker_settings) == []
    assert list(runtime.queue_connection(worker_settings).scan_iter(match="rq:job:*")) == []


def test_the_eve_plans_the_day_once(book, work, redis, clock, sent_sms):
    book()
    work()
    clock.set(MONDAY_3PM)
    work()
    planned = redis.hgetall(keys.sms_reminders_planned("jakarta-salemba"))
    assert list(planned) == ["2026-11-24"] and planned["2026-11-24"] != "0"
    # A booking that comes after the planning was told it all by its confirmation.
    book(slot="10:00")
    clock.set(MONDAY_3PM + dt.timedelta(hours=1))
    work()
    assert [line["event"] for line in sent_sms()] == ["booked", "reminder", "booked"]


def test_the_reminder_is_sent_for_a_live_booking(book, work, sent_sms, clock, redis):
    booking = book()
    work()
    clock.set(MONDAY_3PM)
    work()

    lines = sent_sms()
    assert [line["event"] for line in lines] == ["booked", "reminder"]
    assert lines[1]["body"].startswith("Pengingat BPJSTK Jakarta Salemba: besok Selasa, 24 Nov")
    assert booking["code"] in lines[1]["body"]
    assert redis.zcard(keys.sms_reminders("jakarta-salemba")) == 0


def test_the_sweep_sends_a_reminder_once_it_is_due(book, work, sent_sms, clock):
    book()
    work()
    clock.set(MONDAY_3PM - dt.timedelta(minutes=1))
    work()
    assert [line["event"] for line in sent_sms()] == ["booked"]  # not due yet
    clock.set(MONDAY_3PM)
    work()
    assert [line["event"] for line in sent_sms()] == ["booked", "reminder"]


def test_no_reminder_for_a_cancelled_booking(book, work, sent_sms, clock, client, booking_body, delivery):
    body = booking_body()
    booking = book(nik=body["nik"])
    work()
    client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})
    work()
    clock.set(MONDAY_3PM)
    work()

    assert [line["event"] for line in sent_sms()] == ["booked", "cancelled"]
    assert delivery(booking["code"], "reminder") == {}  # never planned


def test_no_reminder_for_a_booking_cancelled_after_its_planning(
    book, work, sent_sms, clock, client, booking_body, delivery, redis
):
    body = booking_body()
    booking = book(nik=body["nik"])
    work()
    assert Outbox(redis).plan_reminders(MONDAY_3PM, ["jakarta-salemba"]) == 1
    client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})
    clock.set(MONDAY_3PM)
    work()

    assert [line["event"] for line in sent_sms()] == ["booked", "cancelled"]
    assert delivery(booking["code"], "reminder")["state"] == "skipped"


@pytest.mark.parametrize("booked_at", [MONDAY_3PM, MONDAY_3PM + dt.timedelta(hours=2)])
def test_no_reminder_when_booked_after_its_time(book, work, sent_sms, clock, redis, booked_at):
    clock.set(booked_at)
    book(slot="10:00")
    work()
    assert redis.zcard(keys.sms_reminders("jakarta-salemba")) == 0
    assert [line["event"] for line in sent_sms()] == ["booked"]


def test_reminders_can_be_turned_off(book, work, redis, clock, sent_sms):
    book()
    work(SMS_REMINDER_TIME=None)
    clock.set(MONDAY_3PM + dt.timedelta(hours=1))
    work(SMS_REMINDER_TIME=None)
    assert [line["event"] for line in sent_sms()] == ["booked"]
    assert not redis.exists(keys.sms_reminders("jakarta-salemba"))


def test_a_reminder_not_sent_by_the_end_of_the_day_before_is_not_sent(
    book, work, sent_sms, clock, redis, delivery
):
    # A reminder says "besok" (tomorrow): delivered on the visit day it would be wrong.
    booking = book()  # for Tuesday 09:00
    work()
    # Planned on Monday's eve, but no worker took it (the job queue was down) ...
    assert Outbox(redis).plan_reminders(MONDAY_3PM, ["jakarta-salemba"]) == 1
    clock.set(dt.datetime(2026, 11, 24, 0, 0, tzinfo=JAKARTA))  # ... until Tuesday
    work()

    assert [line["event"] for line in sent_sms()] == ["booked"]
    assert delivery(booking["code"], "reminder")["state"] == "expired"


def test_a_reminder_late_in_the_day_before_is_still_sent(book, work, sent_sms, clock):
    book()
    work()
    clock.set(dt.datetime(2026, 11, 23, 23, 59, tzinfo=JAKARTA))
    work()

    assert [line["event"] for line in sent_sms()] == ["booked", "reminder"]


def booked_then_moved(book, work, client, booking_body, booked_for: str, moved_to: str) -> dict:
    """A booking for 09:00 of ``booked_for`` whose confirmation went out (its reminder planned
    for that day's eve), then moved to 09:00 of ``moved_to``; returns the booking."""
    body = booking_body()
    booking = book(nik=body["nik"], date=booked_for)
    work()
    moved = client.post(
        f"/api/v1/bookings/{booking['code']}/reschedule",
        json={"nik": body["nik"], "date": moved_to, "slot": "09:00"},
    )
    assert moved.status_code == 200, moved.get_json()
    return booking


def test_a_reminder_waits_for_the_eve_of_a_rescheduled_day(
    book, work, sent_sms, clock, redis, client, booking_body
):
    booked_then_moved(book, work, client, booking_body, "2026-11-24", "2026-11-26")
    clock.set(MONDAY_3PM)
    work()
    assert [line["event"] for line in sent_sms()] == ["booked"]  # not "besok" on Monday
    assert not redis.exists(keys.sms_reminders("jakarta-salemba"))
    wednesday_3pm = dt.datetime(2026, 11, 25, 15, 0, tzinfo=JAKARTA)
    clock.set(wednesday_3pm)
    work()
    lines = sent_sms()
    assert [line["event"] for line in lines] == ["booked", "reminder"]
    assert lines[1]["body"].startswith("Pengingat BPJSTK Jakarta Salemba: besok Kamis, 26 Nov")


def test_a_booking_moved_to_an_earlier_day_gets_the_reminder_of_that_day(
    book, work, sent_sms, clock, client, booking_body
):
    # Booked for Thursday (its reminder due Wednesday), then moved to Tuesday.
    booked_then_moved(book, work, client, booking_body, "2026-11-26", "2026-11-24")
    clock.set(MONDAY_3PM)
    work()

    lines = sent_sms()
    assert [line["event"] for line in lines] == ["booked", "reminder"]
    assert lines[1]["body"].startswith("Pengingat BPJSTK Jakarta Salemba: besok Selasa, 24 Nov")


def test_a_booking_moved_into_a_day_already_planned_gets_its_reminder_at_once(
    book, work, sent_sms, clock, client, booking_body
):
    body = booking_body()
    booking = book(nik=body["nik"], date="2026-11-26")  # Thursday
    work()
    clock.set(MONDAY_3PM)
    work()  # Tuesday's reminders are planned: none
    moved = client.post(
        f"/api/v1/bookings/{booking['code']}/reschedule",
        json={"nik": body["nik"], "date": "2026-11-24", "slot": "09:00"},
    )
    assert moved.status_code == 200, moved.get_json()
    clock.set(MONDAY_3PM + dt.timedelta(minutes=5))
    work()

    lines = sent_sms()
    assert [line["event"] for line in lines] == ["booked", "reminder"]
    assert lines[1]["body"].startswith("Pengingat BPJSTK Jakarta Salemba: besok Selasa, 24 Nov")


def test_a_booking_moved_out_of_a_planned_day_waits_for_its_new_eve(
    book, work, sent_sms, clock, client, booking_body, redis
):
    body = booking_body()
    booking = book(nik=body["nik"])  # Tuesday
    work()
    clock.set(MONDAY_3PM)
    redis.hset(keys.sms_reminders_planned("jakarta-salemba"), "2026-11-24", "1")  # planned...
    redis.zadd(keys.sms_reminders("jakarta-salemba"), {f"{booking['code']}:reminder": 0})
    moved = client.post(
        f"/api/v1/bookings/{booking['code']}/reschedule",
        json={  # ...unsent
            "nik": body["nik"],
            "date": "2026-11-26",
            "slot": "09:00",
        },
    )
    assert moved.status_code == 200, moved.get_json()
    work()
    assert [line["event"] for line in sent_sms()] == ["booked"]
    wednesday_3pm = dt.datetime(2026, 11, 25, 15, 0, tzinfo=JAKARTA)
    assert redis.zrange(keys.sms_reminders("jakarta-salemba"), 0, -1, withscores=True) == [
        (f"{booking['code']}:reminder", wednesday_3pm.timestamp() * 1000)
    ]  # put off
    clock.set(wednesday_3pm)
    work()
    assert [line["event"] for line in sent_sms()] == ["booked", "reminder"]


def test_a_day_is_planned_in_batches(redis, reservations, clock, monkeypatch):
    # Past one batch of bookings, every one is planned, and the day is marked once at the end.
    from queue_service.notifications import reminders

    monkeypatch.setattr(reminders, "_PLAN_BATCH", 2)
    codes = []
    for n in range(5):
        booking = reservations.reserve(
            booking_request(nik=make_nik(), slot=dt.time(9) if n < 3 else dt.time(10)), clock()
        )
        codes.append(booking.code)
        redis.hset(
            keys.booking("jakarta-salemba", booking.code),
            "sms:booked",
            f"sent,{int(clock().timestamp() * 1000)},1,,,,",
        )
    planned = Outbox(redis).plan_reminders(MONDAY_3PM, ["jakarta-salemba"])

    assert planned == 5
    assert sorted(redis.zrange(keys.sms_reminders("jakarta-salemba"), 0, -1)) == sorted(
        f"{code}:reminder" for code in codes
    )
    assert redis.hget(keys.sms_reminders_planned("jakarta-salemba"), "2026-11-24") != "0"


def test_a_planning_that_fails_does_not_stop_the_sweep(book, redis, monkeypatch, caplog):
    book()
    outbox = Outbox(redis)

    def fail(*_args):
        raise ConnectionError("lost")

    monkeypatch.setattr(outbox, "plan_reminders", fail)
    assert [pending.event for pending in outbox.pending(MONDAY_3PM)] == ["booked"]
    assert "SMS reminders not planned this sweep" in caplog.text


def test_a_confirmation_settled_just_after_its_day_was_planned_still_gets_its_reminder(
    book, work, sent_sms, clock, redis, worker_settings
):
    booking = book()
    # The eve's planning runs while the confirmation's job is still at the provider ...
    assert Outbox(redis).plan_reminders(MONDAY_3PM, ["jakarta-salemba"]) == 0
    clock.set(MONDAY_3PM - dt.timedelta(seconds=1))  # ... a job that began before 15:00
    work()
    clock.set(MONDAY_3PM + dt.timedelta(minutes=1))
    work()

    assert [line["event"] for line in sent_sms()] == ["booked", "reminder"]
    assert booking["code"] in sent_sms()[1]["body"]


def test_a_planning_says_one_line_and_only_when_it_planned_something(book, work, redis, caplog):
    outbox = Outbox(redis)
    every_branch = outbox.branch_ids()
    assert len(every_branch) > 1
    with caplog.at_level(logging.INFO, logger="queue_service.notifications.reminders"):
        # Sunday's eve walks every branch's Monday: nobody booked.
        assert outbox.plan_reminders(MONDAY_3PM - dt.timedelta(days=1), every_branch) == 0
        assert caplog.records == []

        book()
        work()  # its confirmation goes out: it gets a reminder
        assert outbox.plan_reminders(MONDAY_3PM, every_branch) == 1
    said = [record.getMessage() for record in caplog.records if record.name == Reminders.__module__]
    assert said == ["SMS reminders planned: 1, at 1 branch(es)"]
