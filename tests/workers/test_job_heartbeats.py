"""The worker's heartbeats for the job it runs in its own process (``JobHeartbeats``)."""

import logging
import time
from types import SimpleNamespace

from workers.worker import JobHeartbeats


class BeatCounter:
    """Stands in for the worker: the thread reads its interval and calls it to beat."""

    job_monitoring_interval = 0.5
    current_job_working_time = 0.0

    def __init__(self):
        self.beats: list[float] = []

    def maintain_heartbeats(self, _job) -> None:
        self.beats.append(time.monotonic())


def test_heartbeats_stop_once_a_job_outlives_its_timeout(caplog):
    worker = BeatCounter()
    stuck = SimpleNamespace(id="sms_booked_X_b", timeout=1)
    heartbeats = JobHeartbeats(worker)
    heartbeats.start()
    started = time.monotonic()
    heartbeats.watch(stuck)
    with caplog.at_level(logging.ERROR, logger="workers.worker"):
        time.sleep(3.5)
    heartbeats.stop()
    heartbeats.join(timeout=5)

    assert worker.beats, "it beat while the job was within its time"
    # Beats end by the timeout plus one interval (and one tick of the thread's clock).
    assert max(worker.beats) - started < stuck.timeout + 2 * worker.job_monitoring_interval + 0.2
    assert [record.message for record in caplog.records].count(
        "job sms_booked_X_b is stuck past its timeout: no more heartbeats"
    ) == 1
