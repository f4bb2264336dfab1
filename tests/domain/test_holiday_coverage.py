"""Years the installed ``holidays`` package has no data for, inside a branch's booking window:
the rule, and where it is said (serve and the worker at start, the admin console's home)."""

from __future__ import annotations

import datetime as dt
import logging

import holidays
import pytest

from config import load_settings
from queue_service import cli
from queue_service.domain import calendar, demo, holiday_coverage, schedules
from queue_service.domain.accounts import BRANCH_ADMIN
from tests.factories import JAKARTA
from tests.web.pages.test_admin_console import PASSWORD, sign_in

# Far beyond any release of the package: no government has decreed 2100's collective leave.
FAR = dt.datetime(2099, 12, 20, 9, 0, tzinfo=JAKARTA)


def test_years_the_package_lists_no_collective_leave_for_are_reported():
    assert calendar.years_without_data(dt.date(2099, 12, 1), dt.date(2101, 1, 10)) == [2099, 2100, 2101]


def test_years_the_declared_floor_knows_are_not_reported():
    # holidays 0.105, pyproject's floor, is the first to know 2027's cuti bersama.
    assert calendar.years_without_data(dt.date(2026, 1, 1), dt.date(2027, 12, 31)) == []


def test_only_the_years_of_the_window_are_looked_at():
    assert calendar.years_without_data(dt.date(2027, 12, 1), dt.date(2027, 12, 31)) == []
    assert calendar.years_without_data(dt.date(2100, 3, 1), dt.date(2100, 3, 2)) == [2100]


def test_the_window_runs_from_the_earliest_local_today_to_the_farthest_last_day(redis):
    demo.seed(redis)
    settings = schedules.load_settings(redis, "jayapura")
    settings.booking_window_days = 40
    schedules.store_settings(redis, "jayapura", settings)
    # 23:00 in Jakarta on New Year's Eve is already 1 January in Jayapura (WIT, two hours on).
    now = dt.datetime(2026, 12, 31, 23, 0, tzinfo=JAKARTA)
    first, last = holiday_coverage.booking_window(redis, now)
    assert first == dt.date(2026, 12, 31)
    assert last == dt.date(2027, 1, 1) + dt.timedelta(days=40)


def test_no_branch_no_window(redis):
    assert holiday_coverage.booking_window(redis, FAR) is None
    assert holiday_coverage.start_warning(redis, FAR) is None


def test_the_start_warning_names_the_years_and_the_installed_version(redis):
    demo.seed(redis)
    assert holiday_coverage.start_warning(redis, dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA)) is None
    line = holiday_coverage.start_warning(redis, FAR)
    assert "2100" in line and holidays.__version__ in line and "cuti bersama" in line


def test_serve_says_it_once_on_standard_error(redis, redis_server, tmp_path, capsys):
    demo.seed(redis)
    # A window into the next century, from whatever day the suite runs on.
    settings = schedules.load_settings(redis, "jakarta-salemba")
    settings.booking_window_days = 366 * 80
    schedules.store_settings(redis, "jakarta-salemba", settings)
    cli._warn_of_holiday_gaps(
        load_settings(overrides={"REDIS_URL": redis_server.url, "VAR_DIR": str(tmp_path)})
    )
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("queue-service: warning: ") and "2100" in lines[0]


def test_serve_starts_even_when_the_store_cannot_be_asked(tmp_path, capsys):
    unreachable = {"REDIS_URL": "redis://127.0.0.1:1/0", "VAR_DIR": str(tmp_path)}
    cli._warn_of_holiday_gaps(load_settings(overrides=unreachable))
    assert "holidays coverage not checked" in capsys.readouterr().err


def test_the_worker_says_it_at_start(redis, work, clock, caplog):
    demo.seed(redis)
    clock.set(FAR)
    with caplog.at_level(logging.WARNING, logger="workers.worker"):
        work()
    assert [r for r in caplog.records if "no data for 2099, 2100" in r.getMessage()]


def test_the_worker_says_nothing_when_the_package_knows_the_window(redis, work, caplog):
    demo.seed(redis)  # the suite's clock: November 2026, a fortnight's window
    with caplog.at_level(logging.WARNING, logger="workers.worker"):
        work()
    assert not [r for r in caplog.records if "holidays" in r.getMessage()]


@pytest.fixture
def admin(app):
    app.extensions["antrian"].accounts.create("siti", BRANCH_ADMIN, ("jakarta-salemba",), password=PASSWORD)


def test_the_admin_home_says_it_in_indonesian_and_english(app, client, admin, clock):
    sign_in(client)
    assert "holidays" not in client.get("/admin/").get_data(as_text=True)
    clock.set(FAR)
    page = client.get("/admin/").get_data(as_text=True)
    assert (
        f"Paket holidays yang terpasang (versi {holidays.__version__}) belum punya data tahun 2099, 2100"
        in page
    )
    english = client.get("/admin/?lang=en").get_data(as_text=True)
    assert (
        f"The installed holidays package (version {holidays.__version__}) has no data for 2099, 2100"
        in english
    )
