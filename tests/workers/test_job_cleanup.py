"""What RQ's bookkeeping costs an SMS worker: a finished job's clean-up reads its status once,
where RQ asked Redis for it again for each registry it considered, and the worker's own beats
go at most once a second, where RQ sent three for each job."""

from __future__ import annotations

import pytest
import redis as redis_lib
from rq import Queue
from rq.job import JobStatus

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


def beats_sent(connection: redis_lib.Redis) -> int:
    return connection.info("commandstats").get("cmdstat_expire", {}).get("calls", 0)


def test_the_workers_own_beats_go_at_most_once_a_second(redis_server):
    """RQ beats before and after each wait for a job and after each job; one a second is
    plenty for a key that lives minutes. A beat with a timeout of its own (a job's) always
    goes."""
    connection = redis_lib.Redis.from_url(redis_server.url)
    try:
        worker = SmsWorker(["beats-test"], connection=connection)
        before = beats_sent(connection)
        for _ in range(5):
            worker.heartbeat()
        assert beats_sent(connection) - before == 1
        worker.heartbeat(120)
        assert beats_sent(connection) - before == 2
        assert 0 < connection.ttl(worker.key) <= 120
        worker._last_beat -= 1.0  # a second later
        worker.heartbeat()
        assert beats_sent(connection) - before == 3
    finally:
        connection.flushall()
        connection.close()
