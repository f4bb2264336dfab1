"""Time as an argument: the type of a clock, and the real one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The real clock, timezone-aware."""
    return dt.datetime.now(dt.UTC)
