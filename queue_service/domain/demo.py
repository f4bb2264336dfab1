"""The demo catalog: 42 real-sounding branch offices in 12 areas across Indonesia's three time
zones, shipped in the package as a catalog file (``demo_catalog.json``, in the format of
``queue-service import-catalog``), and the demo's schedules."""

from __future__ import annotations

import datetime as dt
from importlib import resources

from redis import Redis

from queue_service.domain import catalog, catalog_changes, catalog_files, schedules
from queue_service.domain.audit import Actor
from queue_service.domain.catalog import Area, Branch, Service
from queue_service.domain.catalog_changes import AREA, BRANCH, SERVICE

CATALOG_FILE = "demo_catalog.json"


def catalog_file_text() -> str:
    """The demo catalog file as shipped."""
    return resources.files("queue_service.domain").joinpath(CATALOG_FILE).read_text(encoding="utf-8")


# The file's rows, read once: every test's app seeds the demo.
_ROWS = catalog_files.read_json(catalog_file_text())


def _entries(kind: str) -> list:
    entries = []
    for row in _ROWS:
        if row.kind == kind:
            checked, problems = catalog_changes.read_document(kind, row.given)
            if problems:
                raise ValueError(f"{CATALOG_FILE}: {row.label}: {problems}")
            entries.append(catalog_changes.entry_of(kind, checked))
    return entries


AREAS: list[Area] = _entries(AREA)
SERVICES: list[Service] = _entries(SERVICE)
BRANCHES: list[Branch] = _entries(BRANCH)

# The demo's schedules, (online booking, daily quota) per branch: demo data, so not in the
# catalog file, whose format is the import's (a real agency's new branch starts with online
# booking off and no hours until its admins set them).
SCHEDULES: dict[str, tuple[bool, int]] = {
    "jakarta-salemba": (True, 160),
    "jakarta-menara-jamsostek": (True, 200),
    "jakarta-cilandak": (True, 120),
    "jakarta-kelapa-gading": (True, 120),
    "jakarta-grogol": (True, 120),
    "jakarta-rawamangun": (False, 80),
    "bandung-suci": (True, 140),
    "bandung-lodaya": (True, 120),
    "bekasi": (True, 150),
    "bogor-kota": (True, 100),
    "cirebon": (False, 60),
    "tangerang-cikokol": (True, 150),
    "serang": (True, 90),
    "cilegon": (True, 70),
    "semarang-majapahit": (True, 130),
    "surakarta": (True, 100),
    "yogyakarta": (True, 110),
    "surabaya-karimunjawa": (True, 160),
    "surabaya-rungkut": (True, 140),
    "malang": (True, 110),
    "sidoarjo": (True, 120),
    "medan-kota": (True, 130),
    "banda-aceh": (True, 80),
    "padang": (True, 90),
    "pekanbaru-kota": (True, 110),
    "batam-nagoya": (True, 130),
    "palembang": (True, 120),
    "bandar-lampung": (True, 100),
    "pontianak": (True, 90),
    "balikpapan": (True, 100),
    "samarinda": (True, 90),
    "banjarmasin": (True, 90),
    "denpasar": (True, 110),
    "mataram": (True, 80),
    "kupang": (False, 50),
    "makassar": (True, 130),
    "manado": (True, 90),
    "kendari": (True, 60),
    "ambon": (True, 70),
    "jayapura": (True, 80),
    "sorong": (True, 50),
    "merauke": (False, 40),
}

WEEKDAY_HOURS = [["08:00", "12:00"], ["13:00", "15:00"]]
FRIDAY_HOURS = [["08:00", "11:30"], ["13:30", "15:00"]]


def default_settings(online_booking: bool, daily_quota: int) -> schedules.BranchSettings:
    """The demo schedule: Monday-Thursday with a lunch hour, Friday prayers off, weekends closed."""
    return schedules.BranchSettings(
        online_booking=online_booking,
        daily_quota=daily_quota,
        slot_minutes=30,
        slot_capacity=max(4, daily_quota // 10),
        booking_window_days=14,
        booking_cutoff_minutes=60,
        service_hours={
            "mon": WEEKDAY_HOURS,
            "tue": WEEKDAY_HOURS,
            "wed": WEEKDAY_HOURS,
            "thu": WEEKDAY_HOURS,
            "fri": FRIDAY_HOURS,
            "sat": [],
            "sun": [],
        },
        service_quotas={},
    )


def seed(redis: Redis, actor: Actor | None = None, now: dt.datetime | None = None) -> int:
    """Import the demo catalog where missing, with its schedules: never overwrites what is
    there (an admin's change to a demo branch stays), so it is safe on every start; an entry an
    older version stored without a field gets that field.

    Args:
        actor: whom the audit log names for each entry added (None: no entries, as in tests).

    Returns:
        How many catalog entries and branch schedules were added or completed.
    """
    # The schedules first: a branch the import adds then finds its demo hours, not a new
    # branch's (online booking off, no hours).
    pipe = redis.pipeline(transaction=False)
    for branch_id, (online, quota) in SCHEDULES.items():
        schedules.store_settings(pipe, branch_id, default_settings(online, quota), overwrite=False)
    added = sum(map(bool, pipe.execute()))
    report = catalog_files.import_catalog(
        redis,
        _ROWS,
        now or dt.datetime.now(dt.UTC),
        actor,
        only_missing=True,
    )
    if report.problems:  # the shipped file is checked by the tests: never here
        raise ValueError(f"{CATALOG_FILE}: {'; '.join(map(str, report.problems))}")
    catalog.copy_to_branches(redis)  # a store from before the copies gets them too
    return added + report.changes
