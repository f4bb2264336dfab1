"""A branch's live queue (SPEC §3 "Counter staff" and "Public, for displays"), one concept a
module:

- ``counters``: the branch's counters, the services each serves, paused or not;
- ``queue_steps``: call, recall, served, no-show, transfer, priority;
- ``display``: what a display and a waiting participant read;
- ``lines``: a participant's place in their service's line, and the day's keys.

``LiveQueue`` offers all three to the web layer as one service.
"""

from __future__ import annotations

from queue_service.domain.live_queue.counters import COUNTER_NAME, Counter, Counters, check_counter_name
from queue_service.domain.live_queue.display import Announcement, Place, QueueDisplay, QueueView, Waiting
from queue_service.domain.live_queue.lines import DAY_KEYS_MS, place_in_line
from queue_service.domain.live_queue.queue_steps import Call, QueueSteps, Step

__all__ = [
    "COUNTER_NAME",
    "DAY_KEYS_MS",
    "Announcement",
    "Call",
    "Counter",
    "Counters",
    "LiveQueue",
    "Place",
    "QueueDisplay",
    "QueueSteps",
    "QueueView",
    "Step",
    "Waiting",
    "check_counter_name",
    "place_in_line",
]


class LiveQueue(Counters, QueueSteps, QueueDisplay):
    """The branch's counters, the queue's steps and the display's reads over one data store
    (``decode_responses=True``)."""
