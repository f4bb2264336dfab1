"""What operators watch of the stores: whether a store answers, and what the job queue's
store holds (the jobs waiting in each queue, how SMS jobs ended)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from redis import Redis
from redis.cluster import RedisCluster
from rq import Queue
from rq.registry import FailedJobRegistry

from queue_service.notifications import queues
from queue_service.store import keys


def answers(client: Redis | RedisCluster) -> bool:
    """Whether ``client``'s store works: a plain server answers a ping; a cluster says its
    state is ``ok`` (a node answers a ping while slots have no node, and then every branch
    whose keys sit there fails). Any failure (unreachable, hung, refusing) is a no."""
    try:
        if isinstance(client, RedisCluster):
            return client.cluster_info().get("cluster_state") == "ok"
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - every way of not answering means not ready
        return False


# The field of ``keys.SMS_OUTCOMES`` beside the ``"<event>:<state>"`` counts: when a worker
# last sent an SMS (ms since the epoch, on the worker's clock).
_LAST_SENT = "last_sent_ms"


@dataclass(frozen=True)
class JobQueueFigures:
    """The jobs waiting in each job queue, the jobs that failed for good in each (RQ's
    failed-job registry: a failure that used up its retries), how many SMS jobs ended
    each way, by ``(event, state)``, and when a worker last sent one (Unix time in seconds;
    None before the first)."""

    depths: dict[str, int]
    failed: dict[str, int]
    sms_outcomes: dict[tuple[str, str], int]
    sms_last_sent: float | None = None


def count_sms_outcome(connection: Redis, event: str, state: str, now: dt.datetime) -> None:
    """Count how one SMS job ended, in the job queue's store, and for ``sent`` note ``now``
    as the time of the last SMS sent: both in one step.

    Raises:
        redis.RedisError: the job queue's store cannot be written.
    """
    with connection.pipeline(transaction=True) as pipe:
        pipe.hincrby(keys.SMS_OUTCOMES, f"{event}:{state}", 1)
        if state == "sent":
            pipe.hset(keys.SMS_OUTCOMES, _LAST_SENT, round(now.timestamp() * 1000))
        pipe.execute()


def job_queue_figures(connection: Redis) -> JobQueueFigures:
    """The job queue's figures, read from its store (the workers add each SMS job's outcome
    there, ``keys.SMS_OUTCOMES``, as ``"<event>:<state>"``).

    Raises:
        redis.RedisError: the job queue's store cannot be read.
    """
    depths = {name: Queue(name, connection=connection).count for name in queues.ALL}
    failed = {name: FailedJobRegistry(name, connection=connection).count for name in queues.ALL}
    outcomes, last_sent = {}, None
    for field, count in connection.hgetall(keys.SMS_OUTCOMES).items():
        field = field.decode() if isinstance(field, bytes) else field
        if field == _LAST_SENT:
            last_sent = int(count) / 1000
            continue
        event, _, state = field.partition(":")
        outcomes[(event, state)] = int(count)
    return JobQueueFigures(depths, failed, outcomes, last_sent)
