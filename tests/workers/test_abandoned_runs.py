"""A job run again after its worker died ends as one success: the dead run's id, which RQ keeps
a minute longer than the run's own record, no longer fails the bookkeeping of the run that
worked (``LiveExecutions``). In this process, against the suite's Redis; the kill itself is
in test_worker_kills.py."""

from __future__ import annotations

import time

import pytest
import redis as redis_lib
from rq import Queue, Retry
from rq.registry import FailedJobRegistry, ScheduledJobRegistry

from queue_service.notifications import queues
from workers.worker import SmsWorker


class QuietSmsWorker(SmsWorker):
    """The worker without its remote-command channel, whose thread can take a second to stop."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


@pytest.fixture
def connection(redis, redis_server):  # redis: flushed around the test
    client = redis_lib.Redis.from_url(redis_server.url)  # bytes, as RQ's
    yield client
    client.close()


def test_a_run_after_an_abandoned_one_ends_as_a_success(connection, tmp_path):
    mark = tmp_path / "sent"
    job = Queue(queues.SMS, connection=connection).enqueue(
        "tests.workers.slow_jobs.touch", str(mark), retry=Retry(max=3), result_ttl=0
    )
    # What a worker killed mid-run leaves once the job is queued again: the run's id in the
    # job's executions for another minute, its record expired with its last heartbeat.
    connection.zadd(f"rq:executions:{job.id}", {"0123456789abcdef": time.time() + 60})

    QuietSmsWorker([queues.SMS], connection=connection).work(burst=True)

    assert mark.exists()
    assert not connection.exists(job.key), "deleted on success (result_ttl=0)"
    assert job.id not in FailedJobRegistry(queues.SMS, connection=connection)
    assert job.id not in ScheduledJobRegistry(queues.SMS, connection=connection)
    assert not connection.exists(f"rq:executions:{job.id}")
