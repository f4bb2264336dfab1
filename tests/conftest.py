"""Fixtures: a real redis-server started by the suite, the app, the command line (``runner``).
The plain helpers tests import (NIKs, booking requests, the time zone) are in
``tests/factories.py``.

Captcha: ``settings`` sets ``CAPTCHA_TEST_ANSWER`` to ``captcha_answer``, and every
``booking_body()`` names a fresh challenge (made through the app's captcha gate) with
that answer. Pass ``captcha_id=`` / ``captcha_answer=`` to override.

Rate limits are ON in tests, as in production, so every request goes through
flask-limiter and its Redis storage; but ``settings`` raises every ceiling out of reach
(``UNREACHED_LIMITS``), and the cap of bookings per phone too (``BOOKINGS_PER_PHONE``), so
a test may fire hundreds of bookings from one address and one phone. A test module that
tests the limits overrides the fixture, e.g.::

    @pytest.fixture
    def settings(settings):
        return {**settings, "RATELIMIT_BOOKING": "10 per minute"}

and ``"RATELIMIT_ENABLED": False`` turns limiting off altogether.

The rate limiter is one module-level object (``extensions.limiter``) that each
``create_app`` rebinds, flask-limiter keeping its storage on that object: once a test
has built a second app (``make_app``), use that app, not the first.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis as redis_lib
from rq import SimpleWorker

from config import load_settings
from queue_service import create_app
from queue_service.domain import demo, schedules
from queue_service.notifications.outbox import Outbox
from queue_service.store import sealing
from tests.factories import DATA_KEYS, JAKARTA, UNREACHED_LIMITS, make_nik
from tests.fake_registry import TIMEOUT_MS as REGISTRY_TIMEOUT_MS
from tests.fake_registry import FakeRegistry
from tests.fake_twilio import FakeTwilio
from tests.redis_server import RedisServer
from workers import runtime
from workers.worker import run_worker

ROOT = Path(__file__).resolve().parents[1]


# The slow tests, chosen by measuring (`pytest -n 2 --durations=60`); `pytest -m "not slow"`
# (`make test-fast`) runs the rest, `make test` runs all. An entry is a folder, a module, or
# module::test (every parameter of it). An entry naming no file or no test stops the run, so
# that a moved or renamed test does not quietly leave the list.
SLOW = (
    # A browser on a live server.
    "tests/e2e/",
    # Real worker processes, stopped, killed or waited for (RQ's heartbeats, back-offs, polls).
    "tests/workers/test_worker_outage.py",
    "tests/workers/test_worker_kills.py",
    "tests/workers/test_worker_signals.py",
    "tests/workers/test_job_heartbeats.py",
    "tests/workers/test_sms_polling.py::test_a_polling_worker_sends_a_new_booking_within_a_few_polls",
    "tests/workers/test_sms_polling.py::test_two_polling_workers_send_each_event_once",
    "tests/workers/test_sms_twilio.py::test_a_worker_killed_after_twilio_accepted_does_not_cause_a_second_message",
    "tests/web/test_logging.py::test_a_developer_s_worker_writes_text_lines_and_says_nothing_per_branch",
    "tests/web/test_logging.py::test_production_s_worker_writes_json_lines",
    # A real server (gunicorn) over sockets: stalled clients, a burst, a store killed, the fuzz.
    "tests/web/test_server_ops.py",
    "tests/web/test_live_server.py",
    "tests/web/test_slow_clients.py",
    "tests/web/test_serve_binds.py",
    "tests/deploy/",
    "tests/web/test_store_outage_burst.py",
    "tests/web/test_metrics_instruments.py::test_a_workers_first_requests_on_many_threads_make_the_instruments_once",
    "tests/web/api/test_fuzz.py",
    # The command line in a process of its own; a wheel built and installed.
    "tests/test_cli.py",
    "tests/test_catalog_cli.py",
    "tests/test_packaging.py",
    "tests/test_bench_scripts.py",
    "tests/config/test_settings.py::test_production_without_secret_key_refuses_to_start_naming_it",
    "tests/domain/test_captcha.py::test_cli_refuses_test_answer_in_production",
    "tests/domain/test_accounts.py::test_create_admin_prints_a_working_token_on_its_last_line",
    "tests/domain/test_accounts.py::test_create_admin_of_branches_with_a_password_from_stdin",
    "tests/domain/test_accounts.py::test_create_staff_and_refusals",
    "tests/web/api/test_kiosk_api.py::test_create_kiosk_prints_a_working_token_on_its_last_line",
    # A Redis cluster, a replica, sentinels, an embedded Redis that hangs: servers started, probes timed out.
    "tests/store/test_cluster.py",
    "tests/store/test_end_of_day_cluster.py",
    "tests/store/test_live_queue_cluster.py",
    "tests/store/test_closures_cluster.py",
    "tests/store/test_replication.py",
    "tests/store/test_sentinel.py",
    "tests/store/test_backup_restore.py",
    "tests/store/test_store.py::test_a_hung_embedded_redis_is_reported_not_started_twice",
    "tests/store/test_store.py::test_a_socket_held_by_a_server_that_gives_no_answer_is_never_started_over",
    # Real time let pass (a participant registry slower than its timeout, waited out).
    "tests/domain/test_participant_registry.py::test_a_registry_slower_than_the_timeout_is_no_verdict_and_is_not_waited_for",
    "tests/web/api/test_participant_registry_api.py::test_a_registry_too_slow_failing_open_books_and_flags_the_booking",
    "tests/web/api/test_participant_registry_api.py::test_a_flagged_booking_shows_in_the_admin_export",
    "tests/web/api/test_participant_registry_api.py::test_a_registry_too_slow_failing_closed_is_a_503_that_books_nothing",
    "tests/web/pages/test_participant_registry_pages.py::test_a_registry_without_a_verdict_failing_closed_shows_the_form_again_with_a_503",
    "tests/web/pages/test_participant_registry_pages.py::test_the_console_flags_a_booking_made_without_the_registrys_verdict",
    "tests/web/api/test_captcha_api.py::test_expired_challenge_fails",
    # Passwords hashed and checked with argon2, slow on purpose, in every test.
    "tests/domain/test_sign_in.py",
    "tests/domain/test_sign_in_lockouts.py",
    "tests/domain/test_account_changes.py",
    "tests/web/pages/test_accounts_console.py",
    "tests/test_cli_accounts.py",
    "tests/domain/test_accounts.py::test_passwords_are_argon2_and_short_ones_refused",
    "tests/web/pages/test_admin_console.py",
    "tests/web/pages/test_counter_pages.py",
)


def pytest_configure(config):
    # Every process a test starts (serve, worker, the command line) and every production
    # settings a test loads seal with the suite's key, as the in-process app does.
    os.environ.setdefault("DATA_KEYS", DATA_KEYS)
    for entry in SLOW:
        path, _, name = entry.partition("::")
        where = config.rootpath / path
        if not where.exists() or (name and f"def {name}(" not in where.read_text(encoding="utf-8")):
            raise pytest.UsageError(f"tests/conftest.py SLOW names what is not there: {entry}")


def pytest_collection_modifyitems(items):
    folders = tuple(entry for entry in SLOW if entry.endswith("/"))
    for item in items:
        path, _, rest = item.nodeid.partition("::")
        if path.startswith(folders) or path in SLOW or f"{path}::{rest.split('[')[0]}" in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture
def redis(redis_server):
    """The data store client, flushed around every test."""
    client = redis_lib.Redis.from_url(redis_server.url, decode_responses=True)
    client.flushall()
    yield client
    client.flushall()
    client.close()


class Clock:
    """A settable clock: tests stand anywhere in WIB, WITA or WIT."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        self.now = when


@pytest.fixture(autouse=True)
def data_keys():
    """The suite's keyring in this process, as an app or a worker of the suite installs it,
    for the tests that write bookings with no app (and put back after a test that changed it)."""
    return sealing.install(sealing.Keyring.parse(DATA_KEYS))


@pytest.fixture
def clock():
    # A Monday morning in Jakarta, with no holiday in the next fortnight.
    return Clock(dt.datetime(2026, 11, 23, 7, 0, tzinfo=JAKARTA))


@pytest.fixture
def captcha_answer():
    """The answer every captcha challenge accepts in tests (``CAPTCHA_TEST_ANSWER``).

    Five digits, so it never equals a real (six-digit) answer by chance.
    """
    return "12345"


@pytest.fixture
def settings(redis_server, tmp_path, captcha_answer):
    return {
        "REDIS_URL": redis_server.url,
        "SECRET_KEY": "test-secret-of-the-suite",
        "DATA_KEYS": DATA_KEYS,
        "VAR_DIR": str(tmp_path / "var"),
        "SMS_BACKEND": "file",
        "SMS_OUTBOX": str(tmp_path / "outbox.jsonl"),
        "CAPTCHA_TEST_ANSWER": captcha_answer,
        # Tests read what they just booked; AvailabilityCache is tested on its own.
        "AVAILABILITY_FRESH_MS": 0,
        "RATELIMIT_ENABLED": True,
        **UNREACHED_LIMITS,
        # Many tests book again and again with the factories' one phone: the cap is set to
        # its default (3) only in the tests of the cap (tests/domain/test_phone_cap.py).
        "BOOKINGS_PER_PHONE": 10_000,
        # Booked at once, as most tests read a booking straight back; the holds and their
        # one-time codes are tested with it on (tests/**/test_phone_verification*.py).
        "PHONE_VERIFICATION": False,
    }


@pytest.fixture
def app(redis, settings, clock):
    demo.seed(redis)
    app = create_app(settings, clock=clock)
    yield app
    app.extensions["antrian"].close()


@pytest.fixture
def make_app(redis, settings, clock):
    """Build an app with extra settings: ``make_app(APP_ENV="production")``.

    Use only that app afterwards (see the module docstring on the rate limiter).
    """

    made = []

    def make(**overrides):
        demo.seed(redis)
        made.append(create_app({**settings, **overrides}, clock=clock))
        return made[-1]

    yield make
    for app in made:
        app.extensions["antrian"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def reservations(app):
    return app.extensions["antrian"].reservations


@pytest.fixture
def tune_branch(redis):
    """Change a branch's settings: ``tune_branch("jakarta-salemba", slot_capacity=2)``."""

    def tune(branch_id: str, **changes) -> schedules.BranchSettings:
        current = schedules.load_settings(redis, branch_id)
        for name, value in changes.items():
            setattr(current, name, value)
        schedules.store_settings(redis, branch_id, current)
        return current

    return tune


@pytest.fixture
def booking_body(app, captcha_answer):
    """A valid booking request body naming a fresh captcha challenge; override any field by
    keyword."""
    gate = app.extensions["antrian"].captcha

    def body(**overrides) -> dict:
        data = {
            "branch_id": "jakarta-salemba",
            "service_id": "jht",
            "date": "2026-11-24",
            "slot": "09:00",
            "name": "Budi Santoso",
            "nik": make_nik(),
            "kpj": "12345678901",
            "phone": "081234567890",
            "captcha_answer": captcha_answer,
        }
        data.update(overrides)
        if "captcha_id" not in data:
            data["captcha_id"] = gate.create().id
        return data

    return body


@pytest.fixture
def worker_settings(settings):
    """The full settings a worker of the test app runs with."""
    return load_settings(overrides=settings)


class InProcessWorker(SimpleWorker):
    """RQ's ``SimpleWorker`` without the remote-command channel, whose thread can take a
    second to stop: each burst here takes milliseconds."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


@pytest.fixture
def work(worker_settings, clock):
    """Run a real RQ worker (``SimpleWorker``, in this process) until the queues are empty.

    As ``queue-service worker --burst`` does, it sweeps the SMS outboxes first.
    """

    def run(**overrides) -> None:
        run_worker({**worker_settings, **overrides}, burst=True, clock=clock, worker_class=InProcessWorker)

    yield run
    runtime.reset()


@pytest.fixture
def sent_sms(settings):
    """What the ``file`` SMS backend has sent so far: ``sent_sms()`` -> one dict per message."""

    def read() -> list[dict]:
        path = Path(settings["SMS_OUTBOX"])
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    return read


@pytest.fixture
def delivery(redis):
    """An SMS event's delivery record, in flight or settled: ``delivery(code, event,
    branch_id="jakarta-salemba")`` -> dict (empty for none)."""

    def read(code: str, event: str = "booked", branch_id: str = "jakarta-salemba") -> dict:
        return Outbox(redis).delivery(branch_id, code, event)

    return read


@pytest.fixture
def fake_twilio(httpserver):
    """A local server that answers like Twilio's Messages API."""
    return FakeTwilio(httpserver).install()


@pytest.fixture
def book(client, booking_body):
    """Book through the API: ``book(slot="10:00")`` returns the 201 body."""

    def make(**overrides) -> dict:
        response = client.post("/api/v1/bookings", json=booking_body(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


@pytest.fixture
def runner(settings):
    """Run the command line in a process of its own, on the test's data store, secret and var
    directory: ``runner("create-kiosk", "jakarta-salemba", "Pintu depan")`` -> the
    ``CompletedProcess`` (text); ``stdin=`` is what is typed in."""

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "REDIS_URL": settings["REDIS_URL"],
            "SECRET_KEY": settings["SECRET_KEY"],
            "DATA_KEYS": settings["DATA_KEYS"],
            "VAR_DIR": settings["VAR_DIR"],
        }
        return subprocess.run(
            [sys.executable, "-m", "queue_service.cli", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run


@pytest.fixture
def registry_failure():
    """What a booking does when the participant registry gives no verdict (``open``)."""
    return "open"


@pytest.fixture
def registry(httpserver):
    """A fake participant registry (``tests/fake_registry.py``), left idle after the test."""
    fake = FakeRegistry(httpserver)
    yield fake
    fake.settle()


@pytest.fixture
def registry_settings(registry, registry_failure):
    """The settings that send bookings to ``registry``: ``{**settings, **registry_settings}``."""
    return {
        "PARTICIPANT_REGISTRY_URL": registry.url,
        "PARTICIPANT_REGISTRY_TIMEOUT_MS": REGISTRY_TIMEOUT_MS,
        "PARTICIPANT_REGISTRY_FAILURE": registry_failure,
    }
