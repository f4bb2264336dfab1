"""The settings loader (config/settings.py): typed values from the environment, and
settings that would break a rule refused by name before anything starts."""

import os
import subprocess
import sys

import pytest

from config import load_settings
from tests.factories import DATA_KEYS


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


def test_the_participant_registry_is_off_by_default_and_fails_open():
    defaults = load_settings({})
    assert defaults["PARTICIPANT_REGISTRY_URL"] is None
    assert defaults["PARTICIPANT_REGISTRY_TIMEOUT_MS"] == 800
    assert defaults["PARTICIPANT_REGISTRY_FAILURE"] == "open"
    chosen = load_settings(
        {
            "PARTICIPANT_REGISTRY_URL": "https://registry.example.id/check",
            "PARTICIPANT_REGISTRY_TIMEOUT_MS": "250",
            "PARTICIPANT_REGISTRY_FAILURE": "closed",
        }
    )
    assert chosen["PARTICIPANT_REGISTRY_URL"] == "https://registry.example.id/check"
    assert chosen["PARTICIPANT_REGISTRY_TIMEOUT_MS"] == 250
    assert chosen["PARTICIPANT_REGISTRY_FAILURE"] == "closed"


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
        (
            {"PARTICIPANT_REGISTRY_URL": "registry.example.id/check"},
            "PARTICIPANT_REGISTRY_URL must start with",
        ),
        (
            {"PARTICIPANT_REGISTRY_URL": "ftp://registry.example.id"},
            "PARTICIPANT_REGISTRY_URL must start with",
        ),
        ({"PARTICIPANT_REGISTRY_TIMEOUT_MS": "0"}, "PARTICIPANT_REGISTRY_TIMEOUT_MS must be at least 1"),
        ({"PARTICIPANT_REGISTRY_TIMEOUT_MS": "-5"}, "PARTICIPANT_REGISTRY_TIMEOUT_MS must be at least 1"),
        ({"PARTICIPANT_REGISTRY_TIMEOUT_MS": "fast"}, "PARTICIPANT_REGISTRY_TIMEOUT_MS"),
        (
            {"PARTICIPANT_REGISTRY_FAILURE": "half-open"},
            "PARTICIPANT_REGISTRY_FAILURE must be open or closed",
        ),
        ({"REDIS_WAIT_REPLICAS": "-1"}, "REDIS_WAIT_REPLICAS must be at least 0"),
        ({"REDIS_WAIT_REPLICAS": "one"}, "REDIS_WAIT_REPLICAS"),
        ({"REDIS_WAIT_TIMEOUT_MS": "0"}, "REDIS_WAIT_TIMEOUT_MS must be at least 1"),
        ({"REDIS_WAIT_TIMEOUT_MS": "2000"}, "REDIS_WAIT_TIMEOUT_MS .2000. must be below REDIS_SOCKET_"),
        # Sentinel: addresses that do not parse, and a store named twice or not at all.
        ({"REDIS_SENTINELS": "10.0.0.1"}, "REDIS_SENTINELS: not host:port: '10.0.0.1'"),
        ({"REDIS_SENTINELS": "10.0.0.1:26379,10.0.0.2:sentinel"}, "REDIS_SENTINELS: not host:port"),
        ({"REDIS_SENTINELS": "10.0.0.1:70000"}, "REDIS_SENTINELS: not host:port"),
        ({"REDIS_SENTINELS": "fd00::1:26379"}, "REDIS_SENTINELS: not host:port"),
        (
            {"REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_CLUSTER": "1"},
            "REDIS_SENTINELS and REDIS_CLUSTER=1 cannot be used together",
        ),
        (
            {"REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_URL": "redis://:pw@10.0.0.5:6379/0"},
            "REDIS_URL with REDIS_SENTINELS gives only the master's password, database and TLS",
        ),
        (
            {"REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_URL": "unix:///run/redis.sock"},
            "REDIS_URL with REDIS_SENTINELS gives only",
        ),
        (
            {
                "REDIS_SENTINELS": "10.0.0.1:26379",
                "QUEUE_REDIS_SENTINEL_MASTER": "antrian-queue",
                "QUEUE_REDIS_URL": "redis://q:6379",
            },
            "QUEUE_REDIS_URL and QUEUE_REDIS_SENTINEL_MASTER both name the job queue's store",
        ),
        (
            {"QUEUE_REDIS_SENTINEL_MASTER": "antrian-queue"},
            "QUEUE_REDIS_SENTINEL_MASTER needs REDIS_SENTINELS",
        ),
        ({"REDIS_SENTINEL_PASSWORD": "secret"}, "REDIS_SENTINEL_PASSWORD needs REDIS_SENTINELS"),
    ],
)
def test_bad_settings_are_refused_by_name(environ, named):
    with pytest.raises(ValueError, match=named):
        load_settings(environ)


def test_sentinels_are_read_with_the_master_s_password_and_replicas_to_wait_for():
    settings = load_settings(
        {
            "REDIS_SENTINELS": "10.0.0.1:26379, 10.0.0.2:26379,[fd00::3]:26380",
            "REDIS_URL": "rediss://:secret@/2",
            "REDIS_WAIT_REPLICAS": "1",
        }
    )
    assert settings["REDIS_SENTINELS"] == [("10.0.0.1", 26379), ("10.0.0.2", 26379), ("fd00::3", 26380)]
    assert settings["REDIS_SENTINEL_MASTER"] == "antrian"
    assert settings["QUEUE_REDIS_SENTINEL_MASTER"] is None  # the data store's master
    assert settings["REDIS_WAIT_REPLICAS"] == 1
    assert load_settings({})["REDIS_SENTINELS"] == []


def test_production_with_a_shared_secret_starts():
    settings = load_settings({"APP_ENV": "production", "SECRET_KEY": "s" * 32, "DATA_KEYS": DATA_KEYS})
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
