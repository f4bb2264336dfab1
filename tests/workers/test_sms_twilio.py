"""The Twilio backend through a real worker: the request, retries, refusals, exactly once."""

from __future__ import annotations

import base64
import datetime as dt
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rq import Queue
from rq.registry import StartedJobRegistry

from config import load_settings
from queue_service import create_app
from queue_service.domain import calendar
from queue_service.notifications import queues
from queue_service.notifications.delivery import SmsBusyError
from queue_service.notifications.dispatch import sms_job_id
from queue_service.store import keys
from tests.factories import JAKARTA
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM
from workers import runtime

PHONE = "+6281234567890"


@pytest.fixture
def settings(settings, fake_twilio):
    # Retries at once, so a burst worker runs them; PUBLIC_BASE_URL turns on status callbacks.
    return {
        **settings,
        **fake_twilio.settings,
        "SMS_RETRY_INTERVALS": [0, 0, 0],
        "PUBLIC_BASE_URL": "https://antrian.example.id",
    }


def test_the_request_twilio_receives(book, work, fake_twilio, redis, delivery):
    booking = book()
    work()

    [create] = fake_twilio.creates
    assert create.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert create.auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert create.form["To"] == PHONE
    assert create.form["From"] == FROM
    assert booking["queue_number"] in create.form["Body"]
    assert create.form["Body"].endswith(f"Ubah/batal: https://antrian.example.id/k/{booking['code']}")
    assert create.form["StatusCallback"] == (
        "https://antrian.example.id/webhooks/twilio/status"
        f"?branch=jakarta-salemba&code={booking['code']}&event=booked"
    )
    [message] = fake_twilio.messages
    record = delivery(booking["code"])
    assert record["state"] == "sent"
    assert record["sid"] == message["sid"]
    assert record["status"] == "queued"


def test_basic_auth_header_is_what_twilio_expects(book, work, fake_twilio, httpserver):
    book()
    work()
    request, _response = httpserver.log[0]
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_500_is_retried_after_asking_twilio_whether_the_message_exists(
    book, work, fake_twilio, redis, delivery
):
    fake_twilio.answers.append((500, {"code": 20500, "message": "Internal", "status": 500}))
    booking = book()
    work()

    assert len(fake_twilio.creates) == 2
    # A 500 may hide a created message: the retry looked before sending again.
    [listing] = fake_twilio.lists
    assert listing.args["To"] == PHONE
    assert listing.args["From"] == FROM  # not filtered by DateSent: a queued message has none
    assert len(fake_twilio.messages) == 1
    assert delivery(booking["code"])["state"] == "sent"


def test_a_429_is_retried_and_then_succeeds(book, work, fake_twilio, redis, delivery):
    fake_twilio.answers.append((429, {"code": 20429, "message": "Too Many Requests", "status": 429}))
    booking = book()
    work()

    assert len(fake_twilio.creates) == 2
    assert fake_twilio.lists == []  # a 429 sent nothing: no need to look
    assert len(fake_twilio.messages) == 1
    record = delivery(booking["code"])
    assert record["state"] == "sent"
    assert record["attempts"] == "2"


def test_an_invalid_number_is_not_retried(book, work, fake_twilio, redis, worker_settings, delivery):
    fake_twilio.answers.append(
        (400, {"code": 21211, "status": 400, "message": f"The 'To' number {PHONE} is not valid."})
    )
    booking = book()
    work()

    assert len(fake_twilio.creates) == 1
    record = delivery(booking["code"])
    assert record["state"] == "failed"
    assert record["error_code"] == "21211"
    assert redis.zcard(keys.sms_outbox("jakarta-salemba")) == 0
    assert redis.zcard(keys.sms_reminders("jakarta-salemba")) == 0  # no reminder either
    # Stopped, not failed for a retry: the job ended well, and was deleted.
    queue = Queue(queues.SMS, connection=runtime.queue_connection(worker_settings))
    assert queue.fetch_job(sms_job_id("jakarta-salemba", booking["code"], "booked")) is None
    assert queue.failed_job_registry.get_job_ids() == []
    assert queue.scheduled_job_registry.get_job_ids() == []


def test_retries_used_up_leave_the_event_for_the_sweep(book, work, fake_twilio, redis, delivery):
    for _ in range(4):  # the first try and three retries
        fake_twilio.answers.append((503, {"code": 20503, "message": "Unavailable", "status": 503}))
    booking = book()
    work()
    assert fake_twilio.messages == []
    assert redis.zrange(keys.sms_outbox("jakarta-salemba"), 0, -1) == [f"{booking['code']}:booked"]
    assert delivery(booking["code"])["state"] == "pending"


def test_a_job_run_twice_sends_one_message(book, work, fake_twilio, worker_settings):
    booking = book()
    work()
    Queue(queues.SMS, connection=runtime.queue_connection(worker_settings)).enqueue(
        "workers.sms.send_sms", "jakarta-salemba", booking["code"], "booked"
    )
    work()
    assert len(fake_twilio.creates) == 1
    assert len(fake_twilio.messages) == 1


def test_an_attempt_in_flight_holds_off_another(book, fake_twilio, redis, worker_settings, clock):
    booking = book()
    record = keys.sms_delivery("jakarta-salemba", booking["code"], "booked")
    redis.hset(record, mapping={"state": "attempting", "attempt_ms": int(time.time() * 1000)})
    current = runtime.configure(worker_settings, clock)
    try:
        with pytest.raises(SmsBusyError):
            current.outbox.deliver("jakarta-salemba", booking["code"], "booked", current.sender, clock())
    finally:
        runtime.reset()
    assert fake_twilio.seen == []


def test_no_phone_number_in_the_logs(book, work, fake_twilio, caplog):
    fake_twilio.answers.append((500, {"code": 20500, "message": "Internal", "status": 500}))
    fake_twilio.answers.append(
        (400, {"code": 21211, "status": 400, "message": f"The 'To' number {PHONE} is not valid."})
    )
    caplog.set_level(logging.INFO)
    for name in ("queue_service", "workers", "twilio", "rq"):
        caplog.set_level(logging.DEBUG, logger=name)
    book()
    work()
    assert len(fake_twilio.creates) == 2
    # Everything but the fake server's own access log (werkzeug) is the service's.
    ours = [record for record in caplog.records if not record.name.startswith("werkzeug")]
    assert any(record.name == "workers.sms" for record in ours)
    for record in ours:
        text = record.getMessage() + (record.exc_text or "")
        assert "1234567890" not in text, (record.name, text)


# A worker killed between Twilio's answer and the bookkeeping.


def a_bookable_day(today: dt.date) -> dt.date:
    """A Monday-Thursday without a holiday or collective leave (which closes branches by
    default), two to twenty days after ``today``."""
    for offset in range(2, 21):
        day = today + dt.timedelta(days=offset)
        if day.weekday() < 4 and not calendar.public_holiday(day) and not calendar.collective_leave(day):
            return day
    raise AssertionError("no bookable day")


def kill_with_children(pid: int) -> None:
    """SIGKILL ``pid``'s children (RQ's work horse, in a process group of its own), then it."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            os.kill(int(stat.parent.name), signal.SIGKILL)
    os.kill(pid, signal.SIGKILL)


def test_a_worker_killed_after_twilio_accepted_does_not_cause_a_second_message(
    app, settings, booking_body, clock, fake_twilio, redis, work, delivery
):  # app: the demo catalog
    # Retries a second apart and a short Twilio timeout (an attempt's lease is two of them and
    # a margin), so the retry that finds the lease still running can wait it out.
    settings = load_settings(
        overrides={**settings, "SMS_RETRY_INTERVALS": [1] * 8, "TWILIO_TIMEOUT_SECONDS": 1}
    )
    client = create_app(settings, clock=clock).test_client()
    # This test's first worker is another process on the real clock, so the visit is a
    # real date ahead rather than the suite's fixed one.
    clock.set(dt.datetime.now(JAKARTA))
    visit = a_bookable_day(clock().date())
    response = client.post("/api/v1/bookings", json=booking_body(date=visit.isoformat()))
    assert response.status_code == 201
    code = response.get_json()["code"]

    env = {
        **os.environ,
        "PYTHONPATH": os.getcwd(),
        **{
            name: ",".join(map(str, value)) if isinstance(value, list) else str(value)
            for name, value in settings.items()
            if value is not None
        },
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "queue_service.cli", "worker", "--burst"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # Twilio stores the message, and the worker and its work horse die before they read the
    # answer: the attempt is recorded, the SID is not.
    fake_twilio.on_create = lambda _message: kill_with_children(worker.pid)
    assert worker.wait(timeout=30) == -signal.SIGKILL
    fake_twilio.on_create = None
    assert len(fake_twilio.messages) == 1
    record = delivery(code)
    assert record["state"] == "attempting"
    assert "sid" not in record

    # RQ notices the dead worker (its maintenance does this after the heartbeat expires)
    # and retries the job; the retry waits out the attempt's lease, then asks Twilio.
    connection = runtime.queue_connection(settings)
    StartedJobRegistry(queues.SMS, connection=connection).cleanup(timestamp=time.time() + 3600)
    deadline = time.monotonic() + 20
    while delivery(code).get("state") != "sent":
        assert time.monotonic() < deadline, delivery(code)
        work(**settings)
        time.sleep(0.2)

    assert len(fake_twilio.creates) == 1
    assert len(fake_twilio.messages) == 1
    assert fake_twilio.lists
    record = delivery(code)
    assert record["sid"] == fake_twilio.messages[0]["sid"]
    assert record["uncertain"] == "1"
