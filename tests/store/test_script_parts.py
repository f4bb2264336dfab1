"""Scripts that run other scripts as parts (``--! uses``), composed before they are sent."""

import re

from queue_service.store import scripts


def defined_functions(source: str) -> list[str]:
    return re.findall(r"^local function (\w+)\(KEYS, ARGV\)$", source, flags=re.MULTILINE)


def test_a_part_that_uses_parts_brings_them_each_once_and_before_their_users():
    own = {
        "outer": "--! uses middle leaf\nreturn middle(KEYS, ARGV)",
        "middle": "--! uses leaf\nreturn leaf(KEYS, ARGV)",
        "leaf": "return 1",
    }
    composed = scripts._with_parts(own["outer"], own)
    assert defined_functions(composed) == ["leaf", "middle"]
    assert composed.endswith(own["outer"])


def test_booking_in_one_step_carries_the_quota_checks_that_reserve_uses():
    functions = defined_functions(scripts.source("book"))
    assert functions.count("place_refusal") == 1
    assert functions.index("place_refusal") < functions.index("reserve")
    assert defined_functions(scripts.source("reschedule")) == ["waiters_kept", "place_refusal"]
    assert defined_functions(scripts.source("place_refusal")) == ["waiters_kept"]
