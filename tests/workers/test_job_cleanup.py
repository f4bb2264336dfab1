"""What RQ's bookkeeping costs an SMS worker: a finished job's clean-up reads its status once,
where RQ asked Redis for it again for each registry it considered; the worker's own beats and
its look for a suspension go at most once a second, where RQ sent three beats and a look for
each job; and it says it is idle once between two jobs, where RQ said it twice."""

from __future__ import annotations

import pytest
import redis as redis_lib
from rq import Queue
from rq.job import JobStatus
from rq.worker import WorkerStatus

from workers.worker import SmsJob, SmsWorker


def status_reads(connection: redis_lib.Redis) -> int:
    return connection.info("commandstats").get("cmdstat_hget", {}).get("calls", 0)


@pytest.mark.parametrize("status", [JobStatus.STARTED, JobStatus.FAILED, JobStatus.FINISHED])
def test_a_jobs_clean_up_reads_its_status_once(redis_server, status):
    connection = redis_lib.Redis.from_url(redis_server.url)
    try:
        job = Queue("cleanup-test", connection=connection, job_class=SmsJob).enqueue(print, "x")
        job.set_status(status)
        before = status_reads(connection)
        job.delete()
        assert status_reads(connection) - before == 1
        assert not connection.exists(job.key)
        job.set_status(JobStatus.QUEUED)  # afterwards a read asks Redis again
        assert job.get_status() == JobStatus.QUEUED
    finally:
        connection.flushall()
        connection.close()


def calls(connection: redis_lib.Redis, command: str) -> int:
    return connection.info("commandstats").get(f"cmdstat_{command}", {}).get("calls", 0)


@pytest.fixture
def worker(redis_server):
    connection = redis_lib.Redis.from_url(redis_server.url)
    yield SmsWorker(["beats-test"], connection=connection)
    connection.flushall()
    connection.close()


def test_the_workers_own_beats_go_at_most_once_a_second(worker):
    """A beat with a timeout of its own (a job's) always goes."""
    before = calls(worker.connection, "expire")
    for _ in range(5):
        worker.heartbeat()
    assert calls(worker.connection, "expire") - before == 1
    assert worker.connection.hget(worker.key, "last_heartbeat")
    worker.heartbeat(120)
    assert calls(worker.connection, "expire") - before == 2
    assert 0 < worker.connection.ttl(worker.key) <= 120
    worker._last_beat -= 1.0  # a second later
    worker.heartbeat()
    assert calls(worker.connection, "expire") - before == 3


def test_the_worker_looks_for_a_suspension_at_most_once_a_second(worker):
    before = calls(worker.connection, "exists")
    for _ in range(5):
        worker.check_for_suspension(burst=False)
    assert calls(worker.connection, "exists") - before == 1
    worker._last_suspension_look -= 1.0  # a second later
    worker.check_for_suspension(burst=False)
    assert calls(worker.connection, "exists") - before == 2


def test_the_worker_says_it_is_idle_once_between_two_jobs(worker):
    before = calls(worker.connection, "hset")
    worker.set_state(WorkerStatus.BUSY)
    worker.set_state(WorkerStatus.IDLE)  # after the job
    worker.set_state(WorkerStatus.IDLE)  # before its wait for the next
    assert calls(worker.connection, "hset") - before == 2
    assert worker.connection.hget(worker.key, "state") == b"idle"
    worker.set_state(WorkerStatus.BUSY)
    assert worker.connection.hget(worker.key, "state") == b"busy"
