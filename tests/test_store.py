"""The embedded Redis default and the settings loader."""

import pytest
import redis as redis_lib

from config import load_settings
from queue_service import create_app, store


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
    assert store.stop_embedded(var_dir)
    assert not store.stop_embedded(var_dir)
    store.ensure_embedded(var_dir)
    assert redis_lib.Redis.from_url(url, decode_responses=True).get("kept") == "yes"


def test_app_without_redis_url_uses_the_embedded_server(var_dir):
    app = create_app({"REDIS_URL": None, "VAR_DIR": str(var_dir), "SECRET_KEY": None})
    assert app.test_client().get("/readyz").status_code == 200
    assert (var_dir / "redis.sock").exists()
    # The generated secret is kept for the next start.
    assert create_app({"REDIS_URL": None, "VAR_DIR": str(var_dir), "SECRET_KEY": None}).config[
        "SECRET_KEY"] == \
        app.config["SECRET_KEY"]


def test_settings_come_from_the_environment_with_typed_parsers():
    settings = load_settings({"RATELIMIT_ENABLED": "0", "PORT": "9000", "REDIS_CLUSTER": "yes"})
    assert settings["RATELIMIT_ENABLED"] is False
    assert settings["PORT"] == 9000
    assert settings["REDIS_CLUSTER"] is True
    assert settings["SMS_OUTBOX"].endswith("sms-outbox.jsonl")
    assert load_settings({})["SMS_BACKEND"] == "console"


@pytest.mark.parametrize(("environ", "named"), [
    ({"PORT": "eighty"}, "PORT"), ({"RATELIMIT_ENABLED": "maybe"}, "RATELIMIT_ENABLED"),
    ({"APP_ENV": "staging"}, "APP_ENV"), ({"SMS_REMINDER_TIME": "25:00"}, "SMS_REMINDER_TIME"),
    ({"SMS_BACKEND": "twilio", "TWILIO_FROM": "+15005550006"}, "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"),
    ({"SMS_BACKEND": "pigeon"}, "SMS_BACKEND"),
])
def test_bad_settings_are_refused_by_name(environ, named):
    with pytest.raises(ValueError, match=named):
        load_settings(environ)
