"""The worker's RQ scheduler: a process that dies with its worker, and a lock that a dead
scheduler does not keep.

RQ forks the scheduler from the worker (``multiprocessing``, fork) and nothing ties the two
together: a worker killed with ``kill -9`` left its scheduler running, still holding the
scheduler lock (so the restarted worker ran without one) and, through the sockets it
inherited, the dead worker's blocked wait for a job, to which Redis handed the next job
queued. When that orphan died in turn, no scheduler ran until its lock's TTL passed (61 s).

Here the scheduler process asks the kernel for SIGTERM when its worker dies
(``PR_SET_PDEATHSIG``, Linux), looks at its parent every second too (elsewhere, and for a
parent that died before it asked), and stops as on Ctrl+C: it releases its lock, so the
restarted worker takes it at once. A scheduler that cannot stop (Redis hung) is ended by an
alarm a few seconds later. A lock whose scheduler ran on this host and is gone (killed with
its whole process group, say) is taken over rather than waited out.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
from pathlib import Path

import redis
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler
from rq.scripts import release_lock
from rq.utils import as_text, now

# prctl(2): the signal a process gets when the thread that forked it ends.
_PR_SET_PDEATHSIG = 1
# How long a scheduler asked to stop may take to release its lock before its alarm ends it.
STOP_GRACE_SECONDS = 5


def die_with_parent(signum: int) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent ends (Linux).

    Returns:
        False where ``prctl`` is not to be had: the caller's own look at its parent must do.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def pid_namespace() -> str:
    """This process's PID namespace (Linux), so that a PID is compared only with its own kind:
    containers may share a host name (host networking) and not their PIDs."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs here: none by that number, or only its zombie (a
    container's first process may never reap an orphan)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's: it runs
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


class WorkerScheduler(RQScheduler):
    """RQ's scheduler, whose process dies with its worker, whose lock is taken over from a
    scheduler of this host that is gone, and which ends with a line, not a traceback, when
    Redis goes away.

    On that last point: RQ's own lets the error escape its process, and multiprocessing
    prints the traceback twice: at every outage, and at every Ctrl+C while Redis is away
    (stopping, it releases its locks in Redis). Either way the worker's maintenance starts
    a new one once Redis answers again.
    """

    # The worker's PID, taken when it forks the scheduler process: in that process, a parent
    # other than this one means the worker is gone.
    _parent_pid = 0

    def start(self):
        self._parent_pid = os.getpid()
        return super().start()

    def work(self):
        # In the scheduler's process. Its own handlers first: the signal asked for below
        # must not reach the worker's handlers, which the fork copied.
        self._install_signal_handlers()
        signal.signal(signal.SIGALRM, signal.SIG_DFL)  # a job's timeout alarm, copied too
        die_with_parent(signal.SIGTERM)
        if self._orphaned():  # the worker died before the kernel was asked
            self.request_stop()
        try:
            super().work()
        except (redis.ConnectionError, redis.TimeoutError) as error:
            self.log.warning("scheduler lost Redis, ending: %s: %s", type(error).__name__, error)

    def heartbeat(self):
        # Once a second (the scheduler's interval): where the kernel does not send the
        # signal, the scheduler notices its worker's death here.
        if self._orphaned():
            self.log.warning("scheduler's worker (PID %s) is gone; stopping", self._parent_pid)
            self.request_stop()
        super().heartbeat()

    def request_stop(self, signum=None, frame=None):
        super().request_stop(signum, frame)
        # The loop stops within a second and releases the lock; should a Redis command hang,
        # SIGALRM's default action ends the process all the same.
        signal.alarm(STOP_GRACE_SECONDS)

    def _orphaned(self) -> bool:
        return self._parent_pid not in (0, os.getpid()) and os.getppid() != self._parent_pid

    def to_dict(self) -> dict:
        return {**super().to_dict(), "pid_namespace": pid_namespace()}

    def acquire_locks(self, auto_start=False):
        for name in self._queue_names:
            self._free_lock_of_a_gone_scheduler(name)
        # The record that lets a lock be taken over is written before the lock, naming this
        # process (the worker, until the scheduler's own process names itself): else a
        # worker killed with its process group between the lock and the new process's birth
        # left a lock without a record, kept to its TTL.
        self.pid = os.getpid()
        self.last_heartbeat = now()
        self.save()
        return super().acquire_locks(auto_start=auto_start)

    def _free_lock_of_a_gone_scheduler(self, queue_name: str) -> None:
        """Release the lock of ``queue_name`` if a scheduler of this host holds it whose
        process is gone; any other holder (another host's, or one that says nothing of its
        host and PID) keeps it until it stops or its TTL passes."""
        key = self.get_locking_key(queue_name)
        holder = self.connection.get(key)
        if holder is None or as_text(holder) == self.name:
            return
        holder = as_text(holder)
        # Hash fields and values are bytes on the queue's connection.
        found = {
            as_text(field): as_text(value)
            for field, value in self.connection.hgetall(SCHEDULER_KEY_TEMPLATE % holder).items()
        }
        if (
            found.get("hostname") != socket.gethostname()
            or found.get("pid_namespace") != pid_namespace()
            or not found.get("pid", "").isdigit()
            or not process_gone(int(found["pid"]))
        ):
            return
        if release_lock(self.connection, key, holder):
            self.log.info(
                "Took over the scheduler lock for %s from scheduler %s (PID %s), which is gone",
                queue_name,
                holder,
                found["pid"],
            )
