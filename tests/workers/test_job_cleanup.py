"""What RQ's bookkeeping costs an SMS worker: a finished job's clean-up reads its status once,
where RQ asked Redis for it again for each registry it considered."""

from __future__ import annotations

import pytest
import redis as redis_lib
from rq import Queue
from rq.job import JobStatus

from workers.worker import SmsJob


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
