"""Jobs for the worker tests, run by a real ``queue-service worker`` by dotted name."""

from __future__ import annotations

import time
from pathlib import Path


def hang_once_then_finish(folder: str) -> str:
    """First run: note it began, then hang (the test kills its worker). Later runs: finish."""
    began, done = Path(folder) / "began", Path(folder) / "done"
    if began.exists():
        done.touch()
        return "done"
    began.touch()
    time.sleep(120)
    return "woke"


def touch(path: str) -> None:
    """Leave a mark that a worker ran this job."""
    Path(path).touch()


def pause_then_touch(path: str, seconds: float) -> None:
    """Note the start, work for a while (Redis goes away meanwhile), then leave a mark."""
    Path(path + ".began").touch()
    time.sleep(seconds)
    Path(path).touch()


def note_then_pause(path: str, seconds: float) -> None:
    """Add a line to ``path`` for each run, work for a while, then leave a mark."""
    with open(path, "a") as runs:
        runs.write("run\n")
    time.sleep(seconds)
    Path(path + ".done").touch()


def fail_once_then_touch(path: str) -> None:
    """First run: fail (its retry is scheduled, on the worker's clock). Later runs: leave a mark."""
    began = Path(path + ".failed")
    if not began.exists():
        began.touch()
        raise RuntimeError("failing once, as asked")
    Path(path).touch()
