"""The embedded Redis default: started once, kept, never started twice (the settings loader is
tested in tests/config/test_settings.py)."""

import contextlib
import os
import signal
import socket
import threading

import pytest
import redis as redis_lib

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


def test_the_embedded_store_s_files_are_the_owner_s_only(var_dir):
    # As an older version left it: the folder and its files open to everyone on the host.
    var_dir.chmod(0o755)
    old = var_dir / "sms-outbox.jsonl"
    old.write_text("{}\n")
    old.chmod(0o644)
    url = store.ensure_embedded(var_dir)
    with redis_lib.Redis.from_url(url) as client:
        client.set("nik", "3171011201900001")
        client.bgrewriteaof()
        client.save()
    store.persistent_secret(var_dir)
    modes = {
        path.relative_to(var_dir).as_posix(): path.stat().st_mode & 0o777
        for path in (var_dir, *var_dir.rglob("*"))
        if not path.is_socket()
    }
    assert modes["."] == 0o700
    assert {"antrian.rdb", "redis.log", "secret_key", "sms-outbox.jsonl"} <= set(modes)
    assert any(name.startswith(("antrian.aof", "appendonlydir")) for name in modes)
    assert {name: mode for name, mode in modes.items() if mode & 0o077} == {}


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
