"""The web processes' Prometheus instruments, and the exposition that sums them.

Each is a counter or histogram in process memory: recording one is an increment, never
a call to Redis. Under gunicorn many processes record: prometheus_client's multiprocess
mode keeps each process's values in a file of ``PROMETHEUS_MULTIPROC_DIR`` and
``exposition`` sums them.

The workers' SMS outcomes are not kept here: workers run on other hosts than the web, as
many as the load needs. Each job adds its outcome to a hash in the job queue's Redis instead
(``keys.SMS_OUTCOMES``; the worker is off the hot path), which ``/metrics`` reads at scrape
time with the queue's depth (``web/metrics.py``).
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

# Request latencies, in seconds: the booking targets (p99 under 100 ms) sit mid-range.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Instruments:
    bookings: Counter
    cancellations: Counter
    refusals: Counter
    check_ins: Counter
    registry_unchecked: Counter
    bulk_cancellations: Counter
    request_seconds: Histogram


_made: Instruments | None = None
_making = threading.Lock()


def instruments() -> Instruments:
    """The instruments, made on first use: after ``use_multiprocess_dir``, in the process
    (a gunicorn worker, a job's work horse) that records.

    Made once under a lock: a worker's first requests arrive together on its threads, and a
    second ``Counter`` of the same name is refused by the registry (a 500 on that request).
    """
    global _made
    if _made is None:
        with _making:
            if _made is None:
                _made = _make_instruments()
    return _made


def _make_instruments() -> Instruments:
    return Instruments(
        bookings=Counter("antrian_bookings", "Bookings made"),
        cancellations=Counter("antrian_cancellations", "Bookings cancelled"),
        refusals=Counter("antrian_refusals", "Error responses, by their SPEC code", ["code"]),
        check_ins=Counter("antrian_check_ins", "Bookings checked in at a kiosk (first time)"),
        registry_unchecked=Counter(
            "antrian_bookings_registry_unchecked",
            "Bookings made without the participant registry's verdict (PARTICIPANT_REGISTRY_FAILURE=open)",
        ),
        bulk_cancellations=Counter(
            "antrian_bulk_cancellations",
            "Bookings of selections cancelled at once (the hoarding view), by outcome: cancelled, "
            "or why it was skipped",
            ["outcome"],
        ),
        request_seconds=Histogram(
            "antrian_http_request_duration_seconds",
            "Time to answer a request, by endpoint",
            ["method", "endpoint", "status"],
            buckets=_LATENCY_BUCKETS,
        ),
    )


def count_check_in(already_checked_in: bool) -> None:
    """Count a check-in, once per booking: a kiosk's repeat is not a second arrival."""
    if not already_checked_in:
        instruments().check_ins.inc()


def count_bulk_cancellation(outcomes: Iterable[str]) -> None:
    """Count each booking of a selection cancelled at once, by what became of it."""
    for outcome in outcomes:
        instruments().bulk_cancellations.labels(outcome).inc()


def use_multiprocess_dir(path: str, clear: bool = True) -> None:
    """Record every process's values as files in ``path`` (before any process records).

    Args:
        path: an existing directory, one per server: its files are summed as one.
        clear: remove what a previous run left (prometheus_client's files are per pid, and
            a dead run's counters would be added to this one's).
    """
    if _made is not None:
        raise RuntimeError("multiprocess mode must be chosen before the first metric is made")
    if clear:
        for leftover in glob.glob(os.path.join(path, "*.db")):
            os.remove(leftover)
    os.environ[MULTIPROC_DIR] = path
    # prometheus_client chooses where values live when it is imported, which the package's
    # imports did before the command line could set the variable: choose again.
    values.ValueClass = values.get_value_class()


def process_exited(pid: int) -> None:
    """Drop a dead process's live gauges (gunicorn's ``child_exit``)."""
    if MULTIPROC_DIR in os.environ:
        multiprocess.mark_process_dead(pid)


def registry() -> CollectorRegistry:
    """Every process's values (multiprocess mode), or this process's."""
    if MULTIPROC_DIR not in os.environ:
        return REGISTRY
    summed = CollectorRegistry()
    multiprocess.MultiProcessCollector(summed)
    return summed


def exposition(extra: Iterable[object] = ()) -> tuple[bytes, str]:
    """The text exposition of the instruments and of ``extra`` collectors (read at scrape
    time), and its content type."""
    instruments()  # so that a scrape before the first request lists every metric
    text = generate_latest(registry())
    extra = list(extra)
    if extra:
        more = CollectorRegistry(auto_describe=False)
        for collector in extra:
            more.register(collector)
        text += generate_latest(more)
    return text, CONTENT_TYPE_LATEST
