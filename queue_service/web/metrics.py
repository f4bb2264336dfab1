"""The web side of the metrics: request latencies, and what ``/metrics`` shows.

A request's latency is observed in an ``after_request`` hook, labelled by its endpoint
(the view's name, never the raw path: paths carry codes and would make a series each).
The job queue's depth and the workers' SMS outcomes are read from the job queue's Redis
only when Prometheus scrapes.
"""

from __future__ import annotations

import functools
import logging
import time

from flask import Flask, g, request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from queue_service.domain import operations
from queue_service.metrics import instruments

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Time every request of ``app``."""

    @app.before_request
    def _start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.get("started")
        if started is not None:
            method = request.method if request.method in _KNOWN_METHODS else "other"
            _series(method, request.endpoint or "unmatched", response.status_code).observe(
                time.perf_counter() - started
            )
        return response


# A method is whatever a client sends: each made-up one would add series to every process's
# metrics for good, so they are all counted as "other".
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# The histogram of each method, endpoint and status, found once: ``labels`` checks and
# locks on every call. Bounded by the app's routes and the statuses they give.
@functools.lru_cache(maxsize=1024)
def _series(method: str, endpoint: str, status: int):
    return instruments().request_seconds.labels(method, endpoint, str(status))


class JobQueueCollector:
    """Read at scrape time from the job queue's Redis: ``antrian_job_queue_depth{queue}``,
    the jobs waiting in each queue, and ``antrian_sms_total{event,state}``, how SMS jobs
    ended (``sent``, ``failed``, ``skipped``, ``expired``, or ``retry``: a passing failure)."""

    def __init__(self, connection):
        self.connection = connection

    def collect(self):
        depth = GaugeMetricFamily(
            "antrian_job_queue_depth", "Jobs waiting in each job queue", labels=["queue"]
        )
        sms = CounterMetricFamily("antrian_sms", "SMS jobs by event and outcome", labels=["event", "state"])
        try:
            figures = operations.job_queue_figures(self.connection)
        except Exception as error:  # the job queue is down: /readyz says so, leave them out
            log.warning("job queue figures unreadable: %s", type(error).__name__)
            return
        for name, waiting in figures.depths.items():
            depth.add_metric([name], waiting)
        for (event, state), count in sorted(figures.sms_outcomes.items()):
            sms.add_metric([event, state], count)
        yield depth
        yield sms
