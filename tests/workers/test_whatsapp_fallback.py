"""The fall back from WhatsApp to SMS at its edges (issue 25's review): a refusal reported
while its attempt is still under way, a channel that changes between attempts, a reminder
sent again, and stale news. Real Redis, a real burst worker, the real ``twilio`` library
against the local fake."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

from rq import Queue

from queue_service.notifications import queues
from queue_service.store import keys
from tests.factories import JAKARTA
from tests.fake_twilio import FROM
from tests.workers.test_whatsapp import (  # noqa: F401 - ``settings``: the WhatsApp set-up
    BRANCH,
    PHONE,
    held,
    settings,
    status_callback,
    verified,
    whatsapp,
)
from workers import runtime


def refused_on_arrival(client, fake_twilio, error_code: str = "63016", answer_lost: bool = False):
    """Twilio reports the first WhatsApp message undelivered with ``error_code`` while its
    create request is still being answered; ``answer_lost``: and that answer never arrives
    (a 500 after the message was stored)."""
    reported = []

    def on_create(message):
        if reported or not message["to"].startswith("whatsapp:"):
            return
        reported.append(message["sid"])
        query = parse_qs(urlsplit(fake_twilio.creates[-1].form["StatusCallback"]).query)
        code, event = query["code"][0], query["event"][0]
        status_callback(client, code, event, message["sid"], "undelivered", error_code)
        if answer_lost:
            raise RuntimeError("Twilio stored the message, then failed to answer")

    fake_twilio.on_create = on_create
    return reported


def another_job(worker_settings, code: str):
    """Queue one more job for the code's ``otp`` (its first failed for good); the job queue's
    connection."""
    connection = runtime.queue_connection(worker_settings)
    Queue(queues.SMS, connection=connection).enqueue("workers.sms.send_sms", BRANCH, code, "otp")
    return connection


def sms_creates(fake_twilio):
    return [create for create in fake_twilio.creates if not create.form["To"].startswith("whatsapp:")]


def test_a_refusal_reported_before_the_attempt_settles_still_goes_by_sms(
    client, booking_body, work, fake_twilio, delivery
):
    reported = refused_on_arrival(client, fake_twilio)
    _body, answer = held(client, booking_body)
    work()
    work()  # the sweep finds the event back on the outbox
    [sms] = sms_creates(fake_twilio)
    assert (sms.form["To"], sms.form["From"]) == (PHONE, FROM)
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["channel"], record["fallback"]) == ("sent", "sms", "63016")
    assert record["whatsapp_sid"] == reported[0]
    assert record["sid"] == fake_twilio.messages[-1]["sid"]
    work()
    assert len(fake_twilio.creates) == 2


def test_a_refusal_reported_for_an_attempt_without_an_answer_still_goes_by_sms(
    client, booking_body, work, fake_twilio, delivery
):
    reported = refused_on_arrival(client, fake_twilio, "63003", answer_lost=True)
    _body, answer = held(client, booking_body)
    work()
    work()
    [sms] = sms_creates(fake_twilio)
    assert sms.form["To"] == PHONE
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["channel"], record["fallback"], record["whatsapp_sid"]) == (
        "sent",
        "sms",
        "63003",
        reported[0],
    )
    assert [create.form["To"] for create in fake_twilio.creates] == [whatsapp(PHONE), PHONE]


def test_a_reminder_whatsapp_could_not_deliver_goes_by_sms_at_the_next_sweep(
    client, booking_body, work, fake_twilio, delivery, clock
):
    # The worker's clock is not Redis's (here days apart): the reminder sent again must be due
    # by the worker's.
    _body, booking = verified(client, booking_body, work, fake_twilio)
    work()  # the confirmation
    clock.set(dt.datetime(2026, 11, 23, 15, 0, tzinfo=JAKARTA))
    work()  # the eve: the reminder, by WhatsApp
    reminder = fake_twilio.messages[-1]
    assert reminder["to"] == whatsapp(PHONE)
    status_callback(client, booking["code"], "reminder", reminder["sid"], "undelivered", "63016")
    clock.set(dt.datetime(2026, 11, 23, 15, 5, tzinfo=JAKARTA))
    work()
    assert fake_twilio.creates[-1].form["To"] == PHONE
    record = delivery(booking["code"], "reminder")
    assert (record["state"], record["channel"], record["whatsapp_sid"]) == ("sent", "sms", reminder["sid"])


def test_a_failure_reported_after_delivered_or_read_sends_nothing_again(
    client, booking_body, work, fake_twilio, delivery
):
    _body, answer = held(client, booking_body)
    work()
    [message] = fake_twilio.messages
    status_callback(client, answer["code"], "otp", message["sid"], "read")
    # Out of order, or wrong: the phone has shown it.
    status_callback(client, answer["code"], "otp", message["sid"], "failed", "63016")
    status_callback(client, answer["code"], "otp", message["sid"], "undelivered", "63003")
    work()
    assert len(fake_twilio.creates) == 1
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["status"], record["channel"]) == ("sent", "read", "whatsapp")


def test_an_event_tried_by_sms_first_stays_sms_on_a_worker_with_whatsapp(
    client, booking_body, work, fake_twilio, delivery, worker_settings
):
    # A rolling deploy: a worker still without WhatsApp tries the code by SMS and gets no
    # answer (Twilio stored it); the next, with WhatsApp, must look for that SMS, not send
    # the event again by WhatsApp.
    def answer_lost(_message):
        fake_twilio.on_create = None
        raise RuntimeError("Twilio stored the message, then failed to answer")

    fake_twilio.on_create = answer_lost
    _body, answer = held(client, booking_body)
    work(TWILIO_WHATSAPP_FROM=None, SMS_RETRY_INTERVALS=[])
    assert [message["to"] for message in fake_twilio.messages] == [PHONE]
    # Its job failed for good; another job for the event, taken by the new worker.
    another_job(worker_settings, answer["code"])
    work()
    assert [message["to"] for message in fake_twilio.messages] == [PHONE]
    assert [create.form["To"] for create in fake_twilio.creates] == [PHONE]
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["sid"]) == ("sent", fake_twilio.messages[0]["sid"])
    assert (record["channel"], record["fallback"]) == ("sms", "channel_unavailable")


def test_an_event_meant_for_whatsapp_goes_by_sms_on_a_worker_without_it(
    client, booking_body, work, fake_twilio, delivery, worker_settings
):
    # Its first attempt, by WhatsApp, was turned away (429); the worker that takes it next
    # has no WhatsApp sender: it sends it by SMS instead of refusing it again and again.
    fake_twilio.answers.append((429, {"code": 20429, "status": 429, "message": "Too Many Requests"}))
    _body, answer = held(client, booking_body)
    work(SMS_RETRY_INTERVALS=[])
    assert [create.form["To"] for create in fake_twilio.creates] == [whatsapp(PHONE)]
    connection = another_job(worker_settings, answer["code"])
    work(TWILIO_WHATSAPP_FROM=None)
    assert [create.form["To"] for create in fake_twilio.creates] == [whatsapp(PHONE), PHONE]
    assert fake_twilio.creates[-1].form["From"] == FROM
    record = delivery(answer["code"], "otp")
    assert (record["state"], record["channel"], record["fallback"]) == ("sent", "sms", "channel_unavailable")
    assert connection.hgetall(keys.SMS_OUTCOMES)[b"otp:whatsapp_fallback"] == b"1"
