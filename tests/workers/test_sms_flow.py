"""Booking and cancellation SMS end to end: API, outbox, a real RQ worker, the file backend."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from rq import Queue

from queue_service import create_app
from queue_service.domain import demo
from queue_service.notifications import queues
from queue_service.notifications.backends import OutgoingSms, SentSms, SmsTransientError
from queue_service.notifications.delivery import SmsBusyError
from queue_service.notifications.outbox import Outbox
from queue_service.store import keys
from tests.factories import JAKARTA
from tests.redis_server import free_port
from workers import runtime


def test_booking_sends_one_sms_through_the_worker(book, work, sent_sms, redis, delivery, clock):
    booking = book()
    assert redis.zrange(keys.sms_outbox("jakarta-salemba"), 0, -1) == [f"{booking['code']}:booked"]
    assert sent_sms() == []  # never sent in the request

    work()

    [line] = sent_sms()
    assert line["to"] == "+6281234567890"
    assert line["code"] == booking["code"]
    assert line["event"] == "booked"
    body = line["body"]
    for part in (
        booking["queue_number"],
        "Jakarta Salemba",
        "Selasa, 24 Nov 2026",
        "09:00-09:30 WIB",
        booking["code"],
        "KTP",
    ):
        assert part in body
    assert redis.zcard(keys.sms_outbox("jakarta-salemba")) == 0
    record = delivery(booking["code"])
    assert record["state"] == "sent"
    assert record["attempts"] == "1"
    assert record["sid"]
    # Settled as of the job's clock, which the eve's planning compares with the reminder time.
    assert record["settled_ms"] == str(int(clock().timestamp() * 1000))
    # Settled, the record keeps no message text (queue number, name) for the booking's life,
    # and no key of its own: it is two fields of the booking, which stays compact (named
    # ziplist before 7.0).
    assert "body" not in record and "token" not in record
    assert not redis.exists(keys.sms_delivery("jakarta-salemba", booking["code"], "booked"))
    assert redis.object("encoding", keys.booking("jakarta-salemba", booking["code"])) in (
        "listpack",
        "ziplist",
    )


def test_cancellation_sends_its_own_sms(book, work, client, booking_body, sent_sms):
    body = booking_body()
    booking = book(nik=body["nik"])
    work()
    response = client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})
    assert response.status_code == 200
    work()

    lines = sent_sms()
    assert [line["event"] for line in lines] == ["booked", "cancelled"]
    assert "DIBATALKAN" in lines[1]["body"]
    assert booking["code"] in lines[1]["body"]


def test_running_the_worker_again_sends_nothing_more(book, work, sent_sms, worker_settings):
    booking = book()
    work()
    # The same event queued again by hand (not by the unique helper): the job runs twice.
    Queue(queues.SMS, connection=runtime.queue_connection(worker_settings)).enqueue(
        "workers.sms.send_sms", "jakarta-salemba", booking["code"], "booked"
    )
    work()
    assert len(sent_sms()) == 1


def test_a_visit_day_that_is_over_gets_no_sms(book, work, sent_sms, clock, redis, delivery):
    booking = book()
    clock.set(dt.datetime(2026, 11, 25, 0, 0, tzinfo=JAKARTA))
    work()
    assert sent_sms() == []
    assert delivery(booking["code"])["state"] == "expired"
    assert redis.zcard(keys.sms_outbox("jakarta-salemba")) == 0


@pytest.fixture
def queue_down(settings):
    """The job queue's Redis is a closed port; the data store is fine."""
    return {**settings, "QUEUE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}


def test_booking_succeeds_when_the_queue_is_down_and_the_sweep_sends_later(
    redis, queue_down, clock, booking_body, work, sent_sms
):
    demo.seed(redis)
    client = create_app(queue_down, clock=clock).test_client()
    codes = []
    for _ in range(2):
        body = booking_body()
        started = time.monotonic()
        response = client.post("/api/v1/bookings", json=body)
        elapsed = time.monotonic() - started
        assert response.status_code == 201
        # Not a connect timeout per booking (the queue's client gives up at once); generous
        # for a loaded machine.
        assert elapsed < 3.0
        codes.append(response.get_json()["code"])
    assert sent_sms() == []

    work()  # the worker reaches the queue; its sweep finds both events on the outbox

    assert sorted(line["code"] for line in sent_sms()) == sorted(codes)


def test_a_confirmation_still_queued_when_the_booking_is_cancelled_is_skipped(
    book, work, client, booking_body, sent_sms, delivery
):
    # The participant's last message must not say the booking stands.
    body = booking_body()
    booking = book(nik=body["nik"])
    client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})
    work()

    assert [line["event"] for line in sent_sms()] == ["cancelled"]
    assert delivery(booking["code"])["state"] == "skipped"


def test_a_cancellation_waits_while_its_confirmation_is_in_flight(
    book, client, booking_body, redis, worker_settings, clock
):
    body = booking_body()
    booking = book(nik=body["nik"])
    runtime.configure(worker_settings, clock)
    outbox, sender = runtime.current().outbox, runtime.current().sender
    # A confirmation attempt has begun (its worker is talking to the provider) ...
    redis.hset(
        keys.sms_delivery("jakarta-salemba", booking["code"], "booked"),
        mapping={"state": "attempting", "attempt_ms": int(time.time() * 1000)},
    )
    client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})

    # ... so the cancellation must not overtake it.
    with pytest.raises(SmsBusyError):
        outbox.deliver("jakarta-salemba", booking["code"], "cancelled", sender, clock())


def test_an_attempt_whose_message_a_callback_named_is_settled_without_sending_again(
    book, work, sent_sms, redis, delivery, clock
):
    # Its worker died after the provider took the message, and a status callback recorded the
    # message's SID on the attempt: the next attempt knows it went out.
    booking = book()
    record = keys.sms_delivery("jakarta-salemba", booking["code"], "booked")
    redis.hset(
        record,
        mapping={
            "state": "attempting",
            "attempt_ms": "0",
            "attempts": "1",
            "sid": "SM" + "c" * 32,
            "status": "delivered",
            "status_rank": "4",
        },
    )
    work()

    assert sent_sms() == []
    assert not redis.exists(record)
    assert delivery(booking["code"]) == {
        "state": "sent",
        "settled_ms": str(int(clock().timestamp() * 1000)),
        "attempts": "1",
        "sid": "SM" + "c" * 32,
        "status": "delivered",
        "status_rank": "4",
    }


def test_a_purged_booking_leaves_no_sms_record(book, work, sent_sms, redis):
    booking = book()
    redis.delete(keys.booking("jakarta-salemba", booking["code"]))  # gone past retention
    work()

    assert sent_sms() == []
    assert redis.zcard(keys.sms_outbox("jakarta-salemba")) == 0
    assert not redis.exists(
        keys.booking("jakarta-salemba", booking["code"]),
        keys.sms_delivery("jakarta-salemba", booking["code"], "booked"),
    )


class _TakenOverWhileSending:
    """A sender whose attempt outlives its lease: another attempt takes the event over and
    sends it, and this one then ends without an answer."""

    def __init__(self, outbox: Outbox, redis, code: str, clock):
        self.outbox, self.redis, self.code, self.clock = outbox, redis, code, clock
        self.sent: list[str] = []

    def send(self, sms: OutgoingSms) -> SentSms:
        record = keys.sms_delivery("jakarta-salemba", self.code, "booked")
        self.redis.hset(record, "attempt_ms", 0)  # the lease ran out
        result = self.outbox.deliver("jakarta-salemba", self.code, "booked", _Sends(self.sent), self.clock())
        assert result.state == "sent"
        raise SmsTransientError("no answer")

    def find(self, sms, since):
        return None


class _Sends:
    def __init__(self, sent: list[str]):
        self.sent = sent

    def send(self, sms: OutgoingSms) -> SentSms:
        self.sent.append(sms.code)
        return SentSms(sid="SM" + "d" * 32, status="queued")

    def find(self, sms, since):
        return None


def test_an_attempt_that_ends_after_another_settled_the_event_leaves_it_settled(book, redis, clock, delivery):
    booking = book()
    outbox = Outbox(redis)
    sender = _TakenOverWhileSending(outbox, redis, booking["code"], clock)
    with pytest.raises(SmsTransientError):
        outbox.deliver("jakarta-salemba", booking["code"], "booked", sender, clock())

    assert sender.sent == [booking["code"]]
    assert not redis.exists(keys.sms_delivery("jakarta-salemba", booking["code"], "booked"))
    assert delivery(booking["code"])["state"] == "sent"
