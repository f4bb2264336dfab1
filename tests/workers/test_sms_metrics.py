"""The workers' SMS outcomes reach /metrics (counted in the job queue's Redis)."""

import datetime as dt

from rq import Queue
from rq.registry import FailedJobRegistry

from queue_service.version import package_version
from tests.web.test_server_ops import metric


def test_sms_sent_by_the_worker_are_counted_in_metrics(client, book, work, sent_sms):
    book()
    work()
    assert len(sent_sms()) == 1
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, 'antrian_sms_total{event="booked",state="sent"}') == 1
    assert metric(text, 'antrian_job_queue_depth{queue="sms"}') == 0


def test_jobs_failed_for_good_and_the_release_are_in_metrics(app, client):
    # A job that used up its retries sits in RQ's failed-job registry: an operator's alarm.
    connection = app.extensions["antrian"].queue_redis
    job = Queue("sms", connection=connection).enqueue("builtins.len", [])
    FailedJobRegistry("sms", connection=connection).add(job, ttl=3600, exc_string="gave up")
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, 'antrian_job_queue_failed{queue="sms"}') == 1
    assert metric(text, f'antrian_build_info{{version="{package_version()}"}}') == 1


def test_the_time_of_the_last_sms_sent_is_in_metrics(client, book, work, sent_sms, clock):
    name = "antrian_sms_last_sent_timestamp_seconds"
    assert f"\n{name} " not in client.get("/metrics").get_data(as_text=True)  # none sent yet
    book()
    work()
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, name) == clock().timestamp()
    clock.set(clock() + dt.timedelta(minutes=42))  # the worker's clock, as the web's
    book()
    work()
    assert len(sent_sms()) == 2
    text = client.get("/metrics").get_data(as_text=True)
    assert metric(text, name) == clock().timestamp()
    assert metric(text, 'antrian_sms_total{event="booked",state="sent"}') == 2  # counted beside it
