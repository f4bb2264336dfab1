"""The command line a person meets: one line, not a traceback, when the data store is away;
``--version``; help text for every command and argument; the README lists every command."""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import redis as redis_lib

from queue_service import cli
from tests.live import with_the_real_clock
from tests.redis_server import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: dict[str, str], tmp_path: Path, real_clock: bool = False
) -> subprocess.CompletedProcess:
    """``queue-service ARGS`` in a process of its own, as a person runs it; ``real_clock`` for
    a burst worker, which can hang under libfaketime (``tests/live.py``)."""
    environ = {**os.environ, "VAR_DIR": str(tmp_path / "var"), **env}
    return subprocess.run(
        [sys.executable, "-m", "queue_service.cli", *args],
        cwd=ROOT,
        env=with_the_real_clock(environ) if real_clock else environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


# Every command that talks to the data store, with arguments that would otherwise succeed.
STORE_COMMANDS = [
    ("seed-demo",),
    ("create-admin", "nasional"),
    ("create-admin", "siti", "--branch", "jakarta-salemba"),
    ("create-staff", "budi", "jakarta-salemba"),
    ("create-kiosk", "jakarta-salemba", "Pintu depan"),
]


@pytest.mark.parametrize("args", STORE_COMMANDS, ids=lambda args: " ".join(args))
def test_a_store_nobody_answers_on_is_one_line_naming_it_with_the_password_masked(args, tmp_path):
    url = f"redis://operator:hunter2-secret@127.0.0.1:{free_port()}/0"  # nothing listens there

    done = run_cli(*args, env={"REDIS_URL": url}, tmp_path=tmp_path)

    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("queue-service: cannot use the data store at redis://operator:***@127.0.0.1:")
    assert "hunter2-secret" not in done.stderr
    assert "refused" in lines[0].lower()


def test_a_store_that_refuses_the_password_is_one_line_too(tmp_path):
    server = RedisServer()
    try:
        with redis_lib.Redis.from_url(server.url) as client:
            client.config_set("requirepass", "the-right-one")
        url = f"redis://:a-wrong-one@127.0.0.1:{server.port}/0"
        done = run_cli("seed-demo", env={"REDIS_URL": url}, tmp_path=tmp_path)
    finally:
        server.stop()

    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"queue-service: cannot use the data store at redis://:***@127.0.0.1:{server.port}/0: "
        "invalid username-password pair or user is disabled."
    ]


def test_a_cluster_nobody_answers_on_stops_the_worker_in_one_line(tmp_path):
    # A plain Redis outage is ridden out by the worker; a cluster client cannot even be built.
    port = free_port()
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{port}",
        "REDIS_CLUSTER": "1",
        "QUEUE_REDIS_URL": f"redis://127.0.0.1:{port}",
    }

    done = run_cli("worker", env=env, tmp_path=tmp_path)

    assert done.returncode == 1, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert f"cannot use the data store at redis://127.0.0.1:{port}: Redis Cluster cannot be connected" in (
        done.stderr
    )


def test_a_reachable_store_still_works_after_the_one_line_errors(redis_server, redis, tmp_path):
    try:
        done = run_cli("create-kiosk", "jakarta-salemba", "Pintu depan", env={}, tmp_path=tmp_path)
    finally:  # the embedded Redis it started outlives it, as a developer's does
        run_cli("stop-embedded", env={}, tmp_path=tmp_path)
    assert done.returncode != 0  # no catalog yet, and not the data store's fault
    assert "cannot use the data store" not in done.stderr

    env = {"REDIS_URL": redis_server.url}
    assert run_cli("seed-demo", env=env, tmp_path=tmp_path).returncode == 0
    made = run_cli("create-kiosk", "jakarta-salemba", "Pintu depan", env=env, tmp_path=tmp_path)
    assert made.returncode == 0, made.stderr
    assert len(made.stdout.splitlines()[-1]) >= 20  # the kiosk's token


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("rediss://user:p%40ss@host:6380", "rediss://user:***@host:6380"),
        ("redis://user:p@ss@host", "redis://user:***@host"),
        ("redis://host:6379?password=pw&db=2", "redis://host:6379?password=***&db=2"),
        ("unix:///tmp/r.sock?password=pw", "unix:///tmp/r.sock?password=***"),
        ("redis://user@host:6379/0", "redis://user@host:6379/0"),
        ("unix:///srv/antrian/var/redis.sock", "unix:///srv/antrian/var/redis.sock"),
    ],
)
def test_urls_are_named_with_their_password_masked(url, masked):
    assert cli.masked_url(url) == masked


def test_reset_password_unlock_and_the_worker_work_without_a_secret_key_set(redis_server, redis, tmp_path):
    # As on a developer's machine: SECRET_KEY generated under VAR_DIR, as the web app does.
    env = {"REDIS_URL": redis_server.url, "SECRET_KEY": ""}
    assert run_cli("seed-demo", env=env, tmp_path=tmp_path).returncode == 0
    assert run_cli("create-staff", "siti.cli", "bekasi", env=env, tmp_path=tmp_path).returncode == 0
    reset = run_cli("reset-password", "siti.cli", env=env, tmp_path=tmp_path)
    assert reset.returncode == 0, reset.stderr
    assert len(reset.stdout.strip().splitlines()[-1]) >= 12  # the temporary password
    unlocked = run_cli("unlock", "siti.cli", env=env, tmp_path=tmp_path)
    assert unlocked.returncode == 0, unlocked.stderr
    # make run's worker too: it failed at start with AttributeError where no SECRET_KEY was set.
    worked = run_cli("worker", "--burst", env=env, tmp_path=tmp_path, real_clock=True)
    assert worked.returncode == 0, worked.stderr


def test_version_is_the_installed_package_s(tmp_path):
    done = run_cli("--version", env={}, tmp_path=tmp_path)

    assert done.returncode == 0
    assert done.stdout == f"queue-service {importlib.metadata.version('antrian')}\n"


def _parsers(parser: argparse.ArgumentParser, path: str):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                yield from _parsers(subparser, f"{path} {name}")


def test_every_command_and_argument_has_help_text():
    missing = []
    for path, parser in _parsers(cli.build_parser(), "queue-service"):
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path}: {action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [f"{path} {name}" for name in action.choices if name not in helped]
    assert missing == []


def test_the_readme_lists_every_command():
    readme = (ROOT / "README.md").read_text()
    listing = re.search(r"^## Command line\n+```\n(.*?)```", readme, re.S | re.M)
    assert listing, "README.md has no ## Command line listing"
    listed = set(re.findall(r"^queue-service ([a-z-]+)", listing[1], re.M))
    commands = {
        name
        for action in cli.build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }
    assert commands <= listed, f"not in the README: {sorted(commands - listed)}"
