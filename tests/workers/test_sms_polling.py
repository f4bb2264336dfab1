"""SMS without an enqueue in the request: the change's own script writes the event to its
branch's outbox, and workers poll the outboxes and queue one job per event."""

from __future__ import annotations

import datetime as dt
import subprocess
import threading
import time
from pathlib import Path

import pytest
from rq import Queue

from queue_service.domain.operations import job_queue_figures
from queue_service.notifications import queues
from queue_service.notifications.delivery import NOT_PENDING
from queue_service.notifications.dispatch import SmsDispatcher, enqueue_sms, sms_job_id
from queue_service.notifications.outbox import Outbox
from queue_service.store import keys
from tests.factories import JAKARTA
from tests.live import a_bookable_weekday
from workers import runtime
from workers.sms import send_sms

BRANCH = "jakarta-salemba"


def wait_for(condition, what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def rq_keys(redis) -> list[str]:
    return sorted(redis.scan_iter(match="rq:*"))


def test_a_booking_and_its_cancellation_queue_no_job_only_their_outbox_entries(
    book, client, booking_body, redis
):
    body = booking_body()
    booking = book(nik=body["nik"])
    assert redis.zrange(keys.sms_outbox(BRANCH), 0, -1) == [f"{booking['code']}:booked"]
    response = client.post(f"/api/v1/bookings/{booking['code']}/cancel", json={"nik": body["nik"]})
    assert response.status_code == 200

    assert redis.zrange(keys.sms_outbox(BRANCH), 0, -1) == [
        f"{booking['code']}:booked",
        f"{booking['code']}:cancelled",
    ]
    assert rq_keys(redis) == []  # the job queue (the same server here) was not touched


def test_a_finished_job_leaves_nothing_in_the_job_queue(book, work, sent_sms, redis):
    booking = book()
    work()

    assert len(sent_sms()) == 1
    job_id = sms_job_id(BRANCH, booking["code"], "booked")
    assert [key for key in rq_keys(redis) if job_id in key] == []  # hash, results, executions
    for registry in ("finished", "failed", "started", "scheduled", "deferred"):
        assert redis.zcard(f"rq:{registry}:{queues.SMS}") == 0, registry
    assert redis.llen(f"rq:queue:{queues.SMS}") == 0
    # What stays is the delivery record (and the reminder on the branch's reminders).
    assert Outbox(redis).delivery(BRANCH, booking["code"], "booked")["state"] == "sent"


def test_a_job_that_comes_after_its_event_was_settled_does_nothing(
    book, work, sent_sms, redis, worker_settings, clock
):
    booking = book()
    work()
    # A poll that read the outbox just before the job settled the event queues it again: the
    # first job is gone, so its id is free.
    connection = runtime.queue_connection(worker_settings)
    try:
        options = runtime.configure(worker_settings, clock).options
        assert enqueue_sms(connection, options, BRANCH, booking["code"], "booked") is not None
        assert send_sms(BRANCH, booking["code"], "booked") == NOT_PENDING
    finally:
        connection.close()
        runtime.reset()
    work()

    assert len(sent_sms()) == 1
    assert job_queue_figures(redis).sms_outcomes == {("booked", "sent"): 1}  # counted once


def test_two_dispatchers_polling_at_once_queue_one_job_per_event(
    book, work, sent_sms, worker_settings, clock
):
    codes = [book()["code"] for _ in range(10)]
    current = runtime.configure(worker_settings, clock)
    dispatchers = [
        SmsDispatcher(current.outbox, current.queue_connection, current.options, current.clock)
        for _ in range(2)
    ]
    start = threading.Barrier(len(dispatchers))
    queued = []

    def poll(dispatcher: SmsDispatcher) -> None:
        start.wait()
        queued.append(dispatcher.poll())

    threads = [threading.Thread(target=poll, args=(dispatcher,)) for dispatcher in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(queued) == len(codes)
    queue = Queue(queues.SMS, connection=current.queue_connection)
    assert sorted(queue.get_job_ids()) == sorted(sms_job_id(BRANCH, code, "booked") for code in codes)
    assert [dispatcher.poll() for dispatcher in dispatchers] == [0, 0]
    runtime.reset()
    work()

    assert sorted(line["code"] for line in sent_sms()) == sorted(codes)


def test_a_poll_queues_only_what_is_new(book, worker_settings, clock):
    first = book()["code"]
    current = runtime.configure(worker_settings, clock)
    dispatcher = SmsDispatcher(current.outbox, current.queue_connection, current.options, current.clock)
    assert dispatcher.poll() == 1  # the first poll sweeps
    assert dispatcher.poll() == 0
    second = book()["code"]
    assert dispatcher.poll() == 1
    queue = Queue(queues.SMS, connection=current.queue_connection)
    assert queue.get_job_ids() == [sms_job_id(BRANCH, code, "booked") for code in (first, second)]
    runtime.reset()


# Real `queue-service worker` processes, polling; they keep the real clock, so the bookings
# are for a real date ahead.


@pytest.fixture
def start_worker(settings, redis, worker_process):
    """``start_worker()`` runs ``queue-service worker`` on the suite's Redis, polling every
    second and sweeping only at start."""

    def start() -> subprocess.Popen:
        return worker_process(
            {
                "REDIS_URL": settings["REDIS_URL"],
                "SECRET_KEY": settings["SECRET_KEY"],
                "VAR_DIR": settings["VAR_DIR"],
                "SMS_BACKEND": "file",
                "SMS_OUTBOX": settings["SMS_OUTBOX"],
                "SMS_POLL_SECONDS": "1",
                "SMS_SWEEP_SECONDS": "3600",
                "WORKER_HEARTBEAT_SECONDS": "1",
                "WORKER_MAINTENANCE_SECONDS": "1",
            }
        )

    return start


@pytest.fixture
def real_day(clock):
    """The app on the real clock, and a day ahead that every demo branch takes bookings on."""
    clock.set(dt.datetime.now(JAKARTA))
    return a_bookable_weekday().isoformat()


def test_a_polling_worker_sends_a_new_booking_within_a_few_polls(
    start_worker, book, real_day, sent_sms, redis
):
    worker = start_worker()
    wait_for(lambda: redis.scard("rq:workers") > 0, "the worker to register")  # swept already
    booking = book(date=real_day)

    wait_for(lambda: len(sent_sms()) == 1, "the SMS", 10)
    assert sent_sms()[0]["code"] == booking["code"]
    assert worker.poll() is None


def test_two_polling_workers_send_each_event_once(start_worker, book, real_day, sent_sms, redis, settings):
    for _ in range(2):
        start_worker()
    wait_for(lambda: redis.scard("rq:workers") == 2, "both workers to register")
    codes = [book(date=real_day, slot=slot)["code"] for slot in ("09:00", "09:30") * 5]

    wait_for(lambda: len(sent_sms()) >= len(codes), "the SMS", 20)
    time.sleep(3)  # three more polls of each worker
    assert sorted(line["code"] for line in sent_sms()) == sorted(codes)
    assert redis.zcard(keys.sms_outbox(BRANCH)) == 0
    assert Path(settings["SMS_OUTBOX"]).read_text().count("\n") == len(codes)
