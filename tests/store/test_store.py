"""The embedded Redis default and the settings loader."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading

import pytest
import redis as redis_lib

from config import load_settings
from queue_service import cli, create_app
from queue_service.store import connect as store


@pytest.fixture
def var_dir(tmp_path_factory):
    # A short path: Unix socket paths are limited to about 100 bytes.
    path = tmp_path_factory.mktemp("v")
    yield path
    store.stop_embedded(path)


def test_embedded_redis_starts_once_persists_and_restarts(var_dir):
    url = store.ensure_embedded(var_dir)
    assert store.ensure_embedded(var_dir) == url  # already running: reused
    client = redis_lib.Redis.from_url(url, decode_responses=True)
    client.set("kept", "yes")
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    client.close()
    assert store.stop_embedded(var_dir)
    assert not store.stop_embedded(var_dir)
    store.ensure_embedded(var_dir)
    with redis_lib.Redis.from_url(url, decode_responses=True) as again:
        assert again.get("kept") == "yes"


@pytest.fixture
def quick_probes(monkeypatch):
    monkeypatch.setattr(store, "_PROBE_SECONDS", 0.5)
    monkeypatch.setattr(store, "_START_SECONDS", 1.5)


def test_a_hung_embedded_redis_is_reported_not_started_twice(var_dir, quick_probes, capsys, monkeypatch):
    url = store.ensure_embedded(var_dir)
    pid = int((var_dir / "redis.pid").read_text())
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(store.EmbeddedRedisError, match="does not answer within"):
            store.ensure_embedded(var_dir)
        with pytest.raises(store.EmbeddedRedisError, match="redis.pid"):
            store.stop_embedded(var_dir)
        monkeypatch.setenv("VAR_DIR", str(var_dir))
        assert cli.main(["stop-embedded"]) == 1
        assert "does not answer" in capsys.readouterr().err
    finally:
        os.kill(pid, signal.SIGCONT)
    assert int((var_dir / "redis.pid").read_text()) == pid  # no second server took over
    with redis_lib.Redis.from_url(url) as client:
        assert client.info("server")["process_id"] == pid


@pytest.mark.parametrize("holder", ["loading", "never accepting"])
def test_a_socket_held_by_a_server_that_gives_no_answer_is_never_started_over(
    tmp_path_factory, quick_probes, holder
):
    var = tmp_path_factory.mktemp("v")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(store.embedded_socket(var)))
    listener.listen(1)

    def answer_loading():  # what a Redis loading a large data file says to every command
        with contextlib.suppress(OSError):
            while True:
                connection, _ = listener.accept()
                with connection:
                    connection.recv(1024)
                    connection.sendall(b"-LOADING Redis is loading the dataset in memory\r\n")

    if holder == "loading":
        threading.Thread(target=answer_loading, daemon=True).start()
    try:
        # A hung server's queue of connections fills up with probes: still not free.
        assert {store._probe(store.embedded_url(var)) for _ in range(4)} == {store._Probe.SILENT}
        with pytest.raises(store.EmbeddedRedisError, match="does not answer within"):
            store.ensure_embedded(var)
        assert not (var / "redis.pid").exists()  # none was started beside it
    finally:
        listener.close()


def test_app_without_redis_url_uses_the_embedded_server(var_dir):
    app = create_app({"REDIS_URL": None, "VAR_DIR": str(var_dir), "SECRET_KEY": None})
    assert app.test_client().get("/readyz").status_code == 200
    assert (var_dir / "redis.sock").exists()
    # The generated secret is kept for the next start.
    assert (
        create_app({"REDIS_URL": None, "VAR_DIR": str(var_dir), "SECRET_KEY": None}).config["SECRET_KEY"]
        == app.config["SECRET_KEY"]
    )


def test_settings_come_from_the_environment_with_typed_parsers():
    settings = load_settings(
        {
            "RATELIMIT_ENABLED": "0",
            "PORT": "9000",
            "REDIS_CLUSTER": "yes",
            "REDIS_URL": "redis://node1:7000",
            "QUEUE_REDIS_URL": "redis://q:6379",
        }
    )
    assert settings["RATELIMIT_ENABLED"] is False
    assert settings["PORT"] == 9000
    assert settings["REDIS_CLUSTER"] is True
    assert settings["SMS_OUTBOX"].endswith("sms-outbox.jsonl")
    assert load_settings({})["SMS_BACKEND"] == "console"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"RATELIMIT_ENABLED": "maybe"}, "RATELIMIT_ENABLED"),
        ({"APP_ENV": "staging"}, "APP_ENV"),
        ({"SMS_REMINDER_TIME": "25:00"}, "SMS_REMINDER_TIME"),
        ({"SMS_BACKEND": "twilio", "TWILIO_FROM": "+15005550006"}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"),
        ({"SMS_BACKEND": "pigeon"}, "SMS_BACKEND"),
        # Settings that would silently break a rule.
        ({"APP_ENV": "production"}, "SECRET_KEY must be set"),
        ({"APP_ENV": "production", "SECRET_KEY": "short"}, "SECRET_KEY must be set"),
        ({"REDIS_CLUSTER": "1", "REDIS_URL": "redis://node1:7000"}, "needs QUEUE_REDIS_URL"),
        ({"REDIS_CLUSTER": "1", "QUEUE_REDIS_URL": "redis://q:6379"}, "needs REDIS_URL"),
        ({"PERSONAL_DATA_RETENTION_DAYS": "-1"}, "PERSONAL_DATA_RETENTION_DAYS must be at least 0"),
        ({"RESERVATION_CLAIM_SECONDS": "0"}, "RESERVATION_CLAIM_SECONDS must be at least 1"),
        ({"REDIS_SOCKET_TIMEOUT": "0"}, "REDIS_SOCKET_TIMEOUT"),
        ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY"),
        ({"PORT": "70000"}, "PORT must be at most 65535"),
        ({"TRUSTED_PROXY_COUNT": "-1"}, "TRUSTED_PROXY_COUNT"),
        ({"SMS_RETRY_INTERVALS": "10,-5"}, "SMS_RETRY_INTERVALS"),
        ({"SMS_SWEEP_SECONDS": "0"}, "SMS_SWEEP_SECONDS"),
        ({"TWILIO_TIMEOUT_SECONDS": "0"}, "TWILIO_TIMEOUT_SECONDS"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL must start with"),
        ({"PUBLIC_BASE_URL": "antrian.example.id"}, "PUBLIC_BASE_URL must start with"),
        ({"REDIS_WAIT_REPLICAS": "-1"}, "REDIS_WAIT_REPLICAS must be at least 0"),
        ({"REDIS_WAIT_REPLICAS": "one"}, "REDIS_WAIT_REPLICAS"),
        ({"REDIS_WAIT_TIMEOUT_MS": "0"}, "REDIS_WAIT_TIMEOUT_MS must be at least 1"),
        ({"REDIS_WAIT_TIMEOUT_MS": "2000"}, "REDIS_WAIT_TIMEOUT_MS .2000. must be below REDIS_SOCKET_"),
        (
            {
                "REDIS_WAIT_REPLICAS": "1",
                "REDIS_CLUSTER": "1",
                "REDIS_URL": "redis://n:7000",
                "QUEUE_REDIS_URL": "redis://q:6379",
            },
            "REDIS_WAIT_REPLICAS needs a single Redis",
        ),
    ],
)
def test_bad_settings_are_refused_by_name(environ, named):
    with pytest.raises(ValueError, match=named):
        load_settings(environ)


def test_production_with_a_shared_secret_starts():
    settings = load_settings({"APP_ENV": "production", "SECRET_KEY": "s" * 32})
    assert settings["SECRET_KEY"] == "s" * 32


def test_production_without_secret_key_refuses_to_start_naming_it(tmp_path):
    env = {**os.environ, "APP_ENV": "production", "VAR_DIR": str(tmp_path / "var")}
    env.pop("SECRET_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "queue_service.cli", "seed-demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert not (tmp_path / "var").exists()  # refused before anything was started


def test_hosts_sharing_a_secret_key_see_each_others_bookings(make_app, booking_body, tmp_path):
    # Two web hosts behind a load balancer, each with its own var directory, one SECRET_KEY.
    first = make_app(VAR_DIR=str(tmp_path / "host-a")).test_client()
    body = booking_body()
    booked = first.post("/api/v1/bookings", json=body).get_json()
    second = make_app(VAR_DIR=str(tmp_path / "host-b")).test_client()

    found = second.post("/api/v1/bookings/lookup", json={"code": booked["code"], "nik": body["nik"]})
    again = second.post("/api/v1/bookings", json=booking_body(nik=body["nik"]))

    assert found.status_code == 200
    assert again.get_json()["error"]["code"] == "already_booked"
