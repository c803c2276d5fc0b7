"""The API of the original Python chaqum (0.16), so that its trees run unchanged:

    from chaqum.lib import *

    job = enqueue("worker", group="workers", max_jobs=3)
    (j, status), = waitjobs(job, timeout=5)
    if status.timeout:
        job.kill()

Built on the chaqum module. Differences from the original, where it had none to
offer: a refused command raises chaqum.ChaqumError (an Exception) with the
daemon's reason, and recvmsg/recvjson return None when the timeout expires.
Import works outside a job; fds 3 and 4 are opened on the first call.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any, List, Optional, Tuple

import chaqum
from chaqum._protocol import Seconds, word

# Like the original: line-buffered stdout and stderr (when not a terminal they
# are block-buffered), so that plain print() lines reach the log promptly.
for _stream in (sys.stdout, sys.stderr):
    try:
        _stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        pass  # replaced by something that cannot, or closed


class log:
    """log.error("a", "b", sep=" "): one line at that level in the daemon's log."""

    @staticmethod
    def critical(*args: Any, sep: str = " ") -> None:
        chaqum.log.critical(*args, sep=sep)

    @staticmethod
    def error(*args: Any, sep: str = " ") -> None:
        chaqum.log.error(*args, sep=sep)

    @staticmethod
    def warning(*args: Any, sep: str = " ") -> None:
        chaqum.log.warning(*args, sep=sep)

    @staticmethod
    def info(*args: Any, sep: str = " ") -> None:
        chaqum.log.info(*args, sep=sep)

    @staticmethod
    def debug(*args: Any, sep: str = " ") -> None:
        chaqum.log.debug(*args, sep=sep)


@dataclasses.dataclass(frozen=True)
class job_status:
    """timeout: still running (T). done: ended. exitcode: the exit code, minus
    the signal number for a job killed by a signal, None if it never ran."""

    timeout: bool
    done: Optional[bool]
    exitcode: Optional[int]


def _job_status(status: chaqum.Status) -> Optional[job_status]:
    if status.unknown:
        return None
    if status.pending:
        return job_status(True, None, None)
    if status.never_ran:
        return job_status(False, True, None)
    if status.signal is not None:
        return job_status(False, True, -status.signal)
    return job_status(False, True, status.exit_code)


@dataclasses.dataclass(frozen=True)
class msg:
    ident: str

    def waitrecv(self, timeout: Optional[Seconds] = None) -> bool:
        """True once the destination has received this message."""
        (_, received), = waitrecv(self, timeout=timeout)
        return received


@dataclasses.dataclass(frozen=True)
class job:
    ident: str

    def wait(self, timeout: Optional[Seconds] = None) -> job_status:
        (_, status), = waitjobs(self, timeout=timeout)
        # The daemon leaves out ids it no longer knows: the job has ended and
        # its result was already taken.
        return status if status is not None else job_status(False, True, None)

    def kill(self, timeout: Optional[Seconds] = None) -> job_status:
        (_, status), = killjobs(self, timeout=timeout)
        return status if status is not None else job_status(False, True, None)

    def sendmsg(self, buf: bytes) -> msg:
        return msg(chaqum.send(self.ident, buf).id)

    def sendjson(self, obj: Any) -> msg:
        return self.sendmsg(json.dumps(obj).encode("utf-8"))


def enqueue(script: str, *args: Any, group: Optional[str] = None, max_jobs: Optional[int] = None,
            max_cpu: Any = None, forget: bool = False) -> job:
    """Enqueues SCRIPT with ARGS. max_jobs and max_cpu (as given: 0.8 or 80)
    set the group's limits; the daemon ignores them without a group."""
    return job(chaqum.enqueue(script, *args, group=group, max_procs=max_jobs, max_cpu=max_cpu,
                              forget=forget).id)


def _repeat(script: str, args: Tuple[Any, ...], *options: str) -> None:
    words = ["repeat", *options, "--", word(script)] + [word(a) for a in args]
    chaqum._call(*words)


def interval(script: str, *args: Any, seconds: Any = 0, minutes: Any = 0, hours: Any = 0,
             days: Any = 0, weeks: Any = 0) -> None:
    """Enqueues SCRIPT every so often, the first time one interval from now."""
    _repeat(script, args, "-i", "%ss%sm%sh%sd%sw" % (seconds, minutes, hours, days, weeks))


def cron(script: str, *args: Any, second: Any = "*", minute: Any = "*", hour: Any = "*",
         day: Any = "*", month: Any = "*", day_of_week: Any = "*") -> None:
    """Enqueues SCRIPT at the times of a cron expression with leading seconds."""
    _repeat(script, args, "-c", "%s %s %s %s %s %s" % (second, minute, hour, day, month, day_of_week))


def waitjobs(*jobs: job, timeout: Optional[Seconds] = None) -> List[Tuple[job, Optional[job_status]]]:
    """[(job, job_status)] once all have ended or the timeout expired; the
    status is None for ids the daemon left out."""
    statuses = chaqum.wait(*(j.ident for j in jobs), timeout=timeout)
    return [(j, _job_status(statuses[chaqum.Job(j.ident)])) for j in jobs]


def killjobs(*jobs: job, timeout: Optional[Seconds] = None) -> List[Tuple[job, Optional[job_status]]]:
    """Kills the jobs (SIGTERM, SIGKILL after the grace period), then as waitjobs."""
    statuses = chaqum.kill(*(j.ident for j in jobs), timeout=timeout)
    return [(j, _job_status(statuses[chaqum.Job(j.ident)])) for j in jobs]


def waitrecv(*messages: msg, timeout: Optional[Seconds] = None) -> List[Tuple[msg, bool]]:
    """[(msg, received)] once all are received or the timeout expired."""
    received = chaqum.wait_received(*(m.ident for m in messages), timeout=timeout)
    return [(m, received[chaqum.Message(m.ident)]) for m in messages]


def recvmsg(timeout: Optional[Seconds] = None) -> Optional[bytes]:
    """The oldest message for this job; None if none came within timeout."""
    try:
        return chaqum.receive(timeout)
    except TimeoutError:
        return None


def recvjson(timeout: Optional[Seconds] = None) -> Any:
    """recvmsg() parsed as JSON; None if none came within timeout."""
    data = recvmsg(timeout)
    return None if data is None else json.loads(data.decode("utf-8"))


parent: Optional[job] = job(os.environ["CHAQUM_PARENT"]) if os.environ.get("CHAQUM_PARENT") else None

__all__ = (
    "log",
    "enqueue",
    "interval",
    "cron",
    "waitjobs",
    "killjobs",
    "waitrecv",
    "recvmsg",
    "recvjson",
    "parent",
)
