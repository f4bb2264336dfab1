"""The web side of the metrics: request latencies, and what ``/metrics`` shows.

A request's latency is observed in an ``after_request`` hook, labelled by its endpoint
(the view's name, never the raw path: paths carry codes and would make a series each).
The job queue's depth and the workers' SMS outcomes are read from the job queue's Redis
only when Prometheus scrapes, and so are the hoarding view's figures from the data store.
"""

from __future__ import annotations

import functools
import logging
import time

from flask import Flask, g, request
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from queue_service.domain import operations
from queue_service.domain.hoarding import HoardingWatch
from queue_service.metrics import instruments
from queue_service.version import package_version

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
    ended (``sent``, ``failed``, ``skipped``, ``expired``, or ``retry``: a passing failure);
    ``antrian_sms_last_sent_timestamp_seconds``, when a worker last sent an SMS (Unix time;
    absent until one has: alert on ``time() -`` it, and on ``absent()`` after a while)."""

    def __init__(self, connection):
        self.connection = connection

    def collect(self):
        depth = GaugeMetricFamily(
            "antrian_job_queue_depth", "Jobs waiting in each job queue", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "antrian_job_queue_failed",
            "Jobs that failed for good in each job queue (retries used up; RQ's failed-job registry)",
            labels=["queue"],
        )
        sms = CounterMetricFamily("antrian_sms", "SMS jobs by event and outcome", labels=["event", "state"])
        last_sent = GaugeMetricFamily(
            "antrian_sms_last_sent_timestamp_seconds", "Unix time of the last SMS a worker sent"
        )
        try:
            figures = operations.job_queue_figures(self.connection)
        except Exception as error:  # the job queue is down: /readyz says so, leave them out
            log.warning("job queue figures unreadable: %s", type(error).__name__)
            return
        for name, waiting in figures.depths.items():
            depth.add_metric([name], waiting)
        for name, count in figures.failed.items():
            failed.add_metric([name], count)
        for (event, state), count in sorted(figures.sms_outcomes.items()):
            sms.add_metric([event, state], count)
        yield depth
        yield failed
        yield sms
        if figures.sms_last_sent is not None:
            last_sent.add_metric([], figures.sms_last_sent)
            yield last_sent


class BuildInfoCollector:
    """``antrian_build_info{version}`` 1: which release each scraped process runs (a rolling
    upgrade shows both)."""

    def collect(self):
        info = GaugeMetricFamily(
            "antrian_build_info", "The installed release of the service", labels=["version"]
        )
        info.add_metric([package_version()], 1)
        yield info


class HoardingCollector:
    """The hoarding view's signals per branch, read at scrape time over the visit days from each
    branch's today through its booking window (``HoardingWatch.branch_figures``: a day's
    bookings are read again only when its list changed or its figures are older than
    ``hoarding.METRICS_REFRESH_SECONDS``, so a quiet scrape is one round trip of list lengths):

    - ``antrian_hoarding_bookings{branch,signal}``: bookings in flagged groups, ``signal``
      ``phone`` (a phone behind several NIKs) or ``address`` (a client address behind many);
    - ``antrian_hoarding_burst_days{branch}``: days whose busiest minute reached the threshold;
    - ``antrian_booking_peak_per_minute{branch}`` and ``antrian_booking_usual_peak_per_minute{branch}``
      (the latter only once the branch has a history);
    - ``antrian_holds{branch,state}``: holds ``pending`` (waiting for the phone's code) and
      ``expired`` (released unverified).

    No personal data: figures only.
    """

    def __init__(self, watch: HoardingWatch, now):
        self.watch = watch
        self.now = now

    def collect(self):
        try:
            figures = self.watch.branch_figures(self.now)
        except Exception as error:  # the data store is down: /readyz says so, leave them out
            log.warning("hoarding figures unreadable: %s", type(error).__name__)
            return
        flagged = GaugeMetricFamily(
            "antrian_hoarding_bookings",
            "Bookings from today through the booking window in groups the hoarding view flags",
            labels=["branch", "signal"],
        )
        bursts = GaugeMetricFamily(
            "antrian_hoarding_burst_days",
            "Days from today through the booking window whose busiest minute is far above the branch's usual",
            labels=["branch"],
        )
        peak = GaugeMetricFamily(
            "antrian_booking_peak_per_minute",
            "Most bookings for one day made in one minute, over today through the booking window",
            labels=["branch"],
        )
        usual = GaugeMetricFamily(
            "antrian_booking_usual_peak_per_minute",
            "The branch's usual busiest minute (median over its recent days with bookings)",
            labels=["branch"],
        )
        holds = GaugeMetricFamily(
            "antrian_holds",
            "Holds from today through the booking window: pending (waiting for the phone's code) "
            "or expired unverified",
            labels=["branch", "state"],
        )
        for branch in figures:
            flagged.add_metric([branch.branch_id, "phone"], branch.phone)
            flagged.add_metric([branch.branch_id, "address"], branch.address)
            bursts.add_metric([branch.branch_id], branch.burst_days)
            peak.add_metric([branch.branch_id], branch.peak)
            if branch.usual is not None:
                usual.add_metric([branch.branch_id], branch.usual)
            holds.add_metric([branch.branch_id, "pending"], branch.pending)
            holds.add_metric([branch.branch_id, "expired"], branch.expired)
        yield from (flagged, bursts, peak, usual, holds)
