"""chaqum: the Python client library for jobs of a chaqum job tree.

A job talks to its daemon by writing one command line to fd 3 and reading one
reply line from fd 4 (docs/protocol.md). This module wraps every command::

    import chaqum

    jobs = [chaqum.enqueue("convert", f, group="convert", max_procs=2) for f in files]
    for job, status in chaqum.wait(*jobs, timeout=600).items():
        if status.exit_code != 0:
            chaqum.log.error(job.id, "failed", status)
    chaqum.repeat("nightly", cron="30 2 * * *")

Importing works anywhere; fds 3 and 4 are checked and opened on the first call,
which raises ChaqumError outside a chaqum job. A refused command raises
ChaqumError with the daemon's reason. All calls are thread-safe: each command
and its reply are one unit on the job's single pipe pair.

Trees written for the original chaqum (0.16) use ``from chaqum.lib import *``,
the compatibility module built on this one.
"""
from __future__ import annotations

import datetime
import json
import os
import sys
import threading
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any, Dict, List, Optional, Union

from ._protocol import ChaqumError, Connection, Reply, Seconds, decimal, seconds, word

ChaqumError.__module__ = __name__  # tracebacks say chaqum.ChaqumError

__all__ = [
    "ChaqumError", "Job", "Status", "Message", "Repeat", "Plan", "Identity",
    "enqueue", "repeat", "unrepeat", "group", "wait", "kill",
    "send", "send_json", "receive", "receive_text", "receive_json", "wait_received",
    "submit_plan", "wait_plan",
    "identity", "log", "changed_paths", "changes_incomplete",
]

# In a job, stdout and stderr are pipes, which Python block-buffers: make them
# line-buffered so that each print() reaches the daemon's log when it happens.
if os.environ.get("CHAQUM_IDENT"):
    for _stream in (sys.stdout, sys.stderr):
        try:
            _stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass  # replaced by something that cannot, or closed

# --- the connection, opened on first use ------------------------------------------

_connection: Optional[Connection] = None
_connection_lock = threading.Lock()


def _conn() -> Connection:
    global _connection
    conn = _connection
    if conn is None:
        with _connection_lock:
            if _connection is None:
                _connection = Connection.of_job()
            conn = _connection
    return conn


def _use_connection(conn: Optional[Connection]) -> Optional[Connection]:
    """Replaces the connection (the tests talk through os.pipe() pairs); returns
    the previous one. None means: open fds 3 and 4 again on the next call."""
    global _connection
    with _connection_lock:
        previous, _connection = _connection, conn
    return previous


def _after_fork_in_child() -> None:
    global _connection_lock
    _connection_lock = threading.Lock()
    if _connection is not None:
        _connection.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _call(*words: str, body: Optional[bytes] = None, has_body: bool = False, timeout_ok: bool = False) -> Reply:
    reply = _conn().call(words, body, has_body)
    if reply.kind == "E":
        raise ChaqumError(reply.reason)
    if reply.kind == "T" and not timeout_ok:
        raise ChaqumError("unexpected reply T to %s" % words[0])
    return reply


# --- values ------------------------------------------------------------------------

@dataclass(frozen=True)
class Status:
    """How a job ended, or that it has not: ``kind`` is one of "exit",
    "signal", "never-ran" (N: cancelled, dependency failed, could not be
    spawned), "pending" (T: still queued, running or between retries) or
    "unknown" (the daemon does not know the id, or already reported it).
    ``code`` is the exit code or the signal number."""

    kind: str
    code: Optional[int] = None

    @classmethod
    def parse(cls, text: str) -> "Status":
        """A status as the daemon writes it: 0..255, -SIGNAL, N or T."""
        if text == "N":
            return cls("never-ran")
        if text == "T":
            return cls("pending")
        try:
            number = int(text)
        except ValueError:
            raise ChaqumError("unexpected job status from the daemon: %r" % text) from None
        return cls("signal", -number) if number < 0 else cls("exit", number)

    @property
    def exit_code(self) -> Optional[int]:
        """The exit code, or None when the job did not exit normally."""
        return self.code if self.kind == "exit" else None

    @property
    def signal(self) -> Optional[int]:
        """The signal that ended the job, or None."""
        return self.code if self.kind == "signal" else None

    @property
    def never_ran(self) -> bool:
        return self.kind == "never-ran"

    @property
    def pending(self) -> bool:
        return self.kind == "pending"

    @property
    def unknown(self) -> bool:
        return self.kind == "unknown"

    @property
    def ended(self) -> bool:
        """True for exit, signal and never-ran."""
        return self.kind in ("exit", "signal", "never-ran")

    @property
    def ok(self) -> bool:
        """True when the job exited with code 0."""
        return self.kind == "exit" and self.code == 0

    def __str__(self) -> str:
        return "%s %d" % (self.kind, self.code) if self.code is not None else self.kind


_UNKNOWN = Status("unknown")

Signal = Union[int, str]


@dataclass(frozen=True)
class Job:
    """A job, by its id ("script/N", or the entry job's script name). Jobs are
    equal when their ids are, so they work as dict keys."""

    id: str

    def __str__(self) -> str:
        return self.id

    def wait(self, timeout: Optional[Seconds] = None) -> Status:
        """Waits for this job; see chaqum.wait."""
        return wait(self, timeout=timeout)[self]

    def kill(self, signal: Optional[Signal] = None, timeout: Optional[Seconds] = None) -> Status:
        """Kills this job; see chaqum.kill."""
        return kill(self, signal=signal, timeout=timeout)[self]

    def send(self, data: Union[bytes, bytearray, memoryview, str]) -> "Message":
        """Sends this job a message; see chaqum.send."""
        return send(self, data)

    def send_json(self, obj: Any) -> "Message":
        """Sends this job obj as JSON; see chaqum.send_json."""
        return send_json(self, obj)


@dataclass(frozen=True)
class Message:
    """A message sent to a job, by its id ("msg:N")."""

    id: str

    def __str__(self) -> str:
        return self.id

    def wait_received(self, timeout: Optional[Seconds] = None) -> bool:
        """Waits until the destination has received it; see chaqum.wait_received."""
        return wait_received(self, timeout=timeout)[self]


@dataclass(frozen=True)
class Repeat:
    """A registered repeat, by its id ("repeat:N")."""

    id: str

    def __str__(self) -> str:
        return self.id

    def cancel(self) -> None:
        """Stops the repeat (chaqum.unrepeat)."""
        unrepeat(self)


@dataclass(frozen=True)
class Plan:
    """A submitted plan, by its id ("plan/N")."""

    id: str

    def __str__(self) -> str:
        return self.id

    def wait(self, timeout: Optional[Seconds] = None) -> str:
        """Waits for this plan to end; see chaqum.wait_plan."""
        return wait_plan(self, timeout=timeout)


@dataclass(frozen=True)
class Identity:
    """Who the calling job is, from the environment the daemon gave it."""

    id: Optional[str]
    """CHAQUM_IDENT: this job's id (None outside a job)."""
    parent: Optional[Job]
    """CHAQUM_PARENT: the job that enqueued this one (None for the entry job
    and repeat firings)."""
    group: Optional[str]
    """CHAQUM_GROUP: the job's group, if any."""
    slot: Optional[int]
    """CHAQUM_SLOT: 0..m-1 in a group capped at m running jobs, else None."""
    attempt: int
    """CHAQUM_ATTEMPT: 1 for the first run, 2, 3... for retries."""
    tree: Optional[str]
    """CHAQUM_TREE: the tree's absolute path."""

    @property
    def job(self) -> Optional[Job]:
        """This job as a Job (None outside a job)."""
        return Job(self.id) if self.id else None


def identity() -> Identity:
    """The calling job's identity (read from the environment on each call)."""
    env = os.environ

    def number(name: str) -> Optional[int]:
        text = env.get(name, "")
        return int(text) if text.lstrip("-").isdigit() else None

    parent = env.get("CHAQUM_PARENT")
    attempt = number("CHAQUM_ATTEMPT")
    return Identity(
        id=env.get("CHAQUM_IDENT") or None,
        parent=Job(parent) if parent else None,
        group=env.get("CHAQUM_GROUP") or None,
        slot=number("CHAQUM_SLOT"),
        attempt=attempt if attempt is not None else 1,
        tree=env.get("CHAQUM_TREE") or None,
    )


# --- arguments ----------------------------------------------------------------------

JobRef = Union[Job, str]


def _flatten(items: Iterable[Any], kind: type) -> List[Any]:
    """Arguments as objects of kind: each may be one (or its id) or an iterable
    of them, so both wait(a, b) and wait(jobs) work."""
    out = []
    for item in items:
        if isinstance(item, (kind, str)):
            out.append(item if isinstance(item, kind) else kind(item))
        elif isinstance(item, Iterable):
            out.extend(_flatten(item, kind))
        else:
            raise TypeError("expected a %s or its id, got %r" % (kind.__name__, item))
    return out


def _group_options(max_procs: Optional[int], max_cpu: Optional[float], max_load: Optional[float],
                   min_mem: Union[int, str, None], max_pressure: Optional[float],
                   break_after: Optional[int] = None) -> List[str]:
    opts: List[str] = []
    if break_after is not None:
        opts += ["-B", decimal(break_after)]
    if max_procs is not None:
        opts += ["-m", decimal(max_procs)]
    if max_cpu is not None:
        opts += ["-c", decimal(max_cpu)]
    if max_load is not None:
        opts += ["-l", decimal(max_load)]
    if min_mem is not None:
        opts += ["-M", min_mem if isinstance(min_mem, str) else decimal(min_mem)]
    if max_pressure is not None:
        opts += ["-P", decimal(max_pressure)]
    return opts


def _job_options(timeout: Optional[Seconds], priority: Optional[int], key: Optional[str],
                 retries: Optional[int]) -> List[str]:
    opts: List[str] = []
    if timeout is not None:
        opts += ["-t", seconds(timeout)]
    if priority is not None:
        opts += ["-p", decimal(priority)]
    if key is not None:
        opts += ["-k", key]
    if retries is not None:
        opts += ["-r", decimal(retries)]
    return opts


def _one_word(reply: Reply, verb: str) -> str:
    if len(reply.words) != 1:
        raise ChaqumError("unexpected reply to %s: S %s" % (verb, " ".join(reply.words)))
    return reply.words[0]


# --- commands -----------------------------------------------------------------------

def _due_time(at: Union[datetime.datetime, datetime.time, str]) -> str:
    """-A TIME: text as given, a datetime in ISO 8601, a time as HH:MM:SS."""
    if isinstance(at, str):
        return at
    if isinstance(at, datetime.datetime):
        return at.isoformat()
    if isinstance(at, datetime.time):
        if at.tzinfo is not None:
            raise ValueError("at=: a time of day is read on the daemon's clock; give a datetime for another zone")
        return at.strftime("%H:%M:%S")
    raise TypeError("at= takes a datetime, a time or text, not %r" % (at,))


def enqueue(script: Union[str, os.PathLike], *args: Any,
            forget: bool = False,
            group: Optional[str] = None,
            max_procs: Optional[int] = None,
            max_cpu: Optional[float] = None,
            max_load: Optional[float] = None,
            min_mem: Union[int, str, None] = None,
            max_pressure: Optional[float] = None,
            timeout: Optional[Seconds] = None,
            priority: Optional[int] = None,
            key: Optional[str] = None,
            after: Union[JobRef, Iterable[JobRef]] = (),
            retries: Optional[int] = None,
            delay: Union[Seconds, str, None] = None,
            at: Union[datetime.datetime, datetime.time, str, None] = None,
            held: bool = False,
            urgent: bool = False,
            requeue: bool = False) -> Job:
    """Enqueues SCRIPT (a path relative to the tree) with ARGS and returns the
    new job at once, before it is spawned.

    forget: keep no result for wait once it has ended. group: the group to run
    in; max_procs, max_cpu (a fraction like 0.8 or a percentage like 80),
    max_load, min_mem (bytes, or "512M"), max_pressure (percent) update that
    group's limits. timeout: seconds after which the running job is killed.
    priority: higher starts first within the group. key: while a job with the
    same key is queued or running, return that job instead. after: job(s) that
    must end with exit 0 first (else this one ends never-ran). retries: how
    many more times to run it if it fails.

    delay: start no sooner than that from now (seconds, a timedelta, or text
    like "10m"); at: no sooner than then (a datetime: an aware one is that
    instant, a naive one a wall time of the daemon's zone; a time: the next
    time the daemon's clock shows it; or text: "02:00", "2026-12-24T18:00").
    The job is "scheduled" until then. held: it does not start until an
    operator releases it (chaqumctl release). urgent: ahead of every job
    waiting in its group, whatever their priority. requeue: if it is running
    when the daemon stops in order, it runs again after the restart.
    """
    if delay is not None and at is not None:
        raise ValueError("enqueue takes delay= or at=, not both")
    words = ["enqueue"]
    if forget:
        words.append("-F")
    if group is not None:
        words += ["-g", group]
    words += _group_options(max_procs, max_cpu, max_load, min_mem, max_pressure)
    words += _job_options(timeout, priority, key, retries)
    for dependency in _flatten([after], Job):
        words += ["-a", dependency.id]
    if delay is not None:
        words += ["-d", seconds(delay)]
    if at is not None:
        words += ["-A", _due_time(at)]
    words += [flag for flag, on in (("-H", held), ("-U", urgent), ("-R", requeue)) if on]
    words += ["--", word(script)] + [word(a) for a in args]
    return Job(_one_word(_call(*words), "enqueue"))


def repeat(script: Union[str, os.PathLike], *args: Any,
           cron: Optional[str] = None,
           interval: Union[Seconds, str, None] = None,
           watch: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]], None] = None,
           watch_tree: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]], None] = None,
           settle: Optional[Seconds] = None,
           zone: Optional[str] = None,
           overlap: bool = False,
           group: Optional[str] = None,
           max_procs: Optional[int] = None,
           max_cpu: Optional[float] = None,
           max_load: Optional[float] = None,
           min_mem: Union[int, str, None] = None,
           max_pressure: Optional[float] = None,
           break_after: Optional[int] = None,
           timeout: Optional[Seconds] = None,
           priority: Optional[int] = None,
           key: Optional[str] = None,
           retries: Optional[int] = None) -> Repeat:
    """Enqueues SCRIPT with ARGS again and again, either at the times of a cron
    expression (5 fields, or 6 with leading seconds, or @daily...; L, W and #)
    or every interval (seconds, a timedelta, or text like "1h30m"). A cron
    expression is read in the daemon's time zone, or in zone (an IANA name such
    as "Europe/Berlin"; cron only). The first interval
    firing is one interval from now. A firing is skipped while the previous one
    is still queued or running, unless overlap. The group options update the
    group once, now; timeout, priority, key and retries apply to every firing.

    Or, as a file trigger, when files are written or moved into the
    directories of watch (a path or several; watch_tree: also every directory
    below, new ones included), once no change has come for settle seconds
    (the daemon's default: 0.5). Changes during a firing make one more firing
    after it; the firing's job finds the paths with changed_paths().
    break_after pauses the group after that many failed runs in a row.
    """
    dirs = _paths(watch) + _paths(watch_tree)
    if (cron is not None) + (interval is not None) + bool(dirs) != 1:
        raise ValueError("repeat needs exactly one of cron=, interval= and watch=/watch_tree=")
    if zone is not None and cron is None:
        raise ValueError("zone= is the time zone of a cron= schedule, not of an interval or a file trigger")
    if settle is not None and not dirs:
        raise ValueError("settle= applies to file triggers (watch=) only")
    words = ["repeat"]
    if cron is not None:
        words += ["-c", cron]
        if zone is not None:
            words += ["-z", zone]
    elif interval is not None:
        words += ["-i", interval if isinstance(interval, str) else seconds(interval)]  # type: ignore[arg-type]
    else:
        for d in _paths(watch):
            words += ["-w", d]
        for d in _paths(watch_tree):
            words += ["-W", d]
        if settle is not None:
            words += ["--settle", seconds(settle)]
    if overlap:
        words.append("-o")
    if group is not None:
        words += ["-g", group]
    # -c is both the cron expression and the CPU limit on repeat: the daemon
    # tells them apart (a plain number is a CPU share).
    words += _group_options(max_procs, max_cpu, max_load, min_mem, max_pressure, break_after)
    words += _job_options(timeout, priority, key, retries)
    words += ["--", word(script)] + [word(a) for a in args]
    return Repeat(_one_word(_call(*words), "repeat"))


def _paths(paths: Union[str, os.PathLike, Iterable[Union[str, os.PathLike]], None]) -> List[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        return [word(paths)]
    return [word(p) for p in paths]


def changed_paths() -> Optional[List[str]]:
    """In a firing of a file trigger (repeat(watch=...)): the absolute paths
    that changed, in the order first seen (possibly none, when an operator
    fired it by hand). None in any other job. Names are decoded as the file
    system encoding does (undecodable bytes as surrogates, like os.listdir)."""
    path = os.environ.get("CHAQUM_CHANGED")
    if not path:
        return None
    with open(path, "rb") as f:
        data = f.read()
    return [os.fsdecode(p) for p in data.split(b"\0")[:-1]]


def changes_incomplete() -> bool:
    """True when the daemon lost changes for this firing (the kernel's queue
    overflowed): the list of changed_paths() is incomplete, rescan."""
    return bool(os.environ.get("CHAQUM_CHANGED_INCOMPLETE"))


def unrepeat(*repeats: Union[Repeat, str, Iterable[Union[Repeat, str]]]) -> None:
    """Stops repeats. If any id is unknown, none is stopped (ChaqumError)."""
    _call("unrepeat", "--", *(r.id for r in _flatten(repeats, Repeat)))


def group(name: str, *,
          max_procs: Optional[int] = None,
          max_cpu: Optional[float] = None,
          max_load: Optional[float] = None,
          min_mem: Union[int, str, None] = None,
          max_pressure: Optional[float] = None,
          break_after: Optional[int] = None) -> None:
    """Creates group NAME if needed and sets the limits given (0 removes one);
    limits not given stay as they were. break_after: the group pauses itself
    after that many failed runs in a row (an operator resumes it)."""
    _call("group", *_group_options(max_procs, max_cpu, max_load, min_mem, max_pressure, break_after), "--", name)


def _statuses(reply: Reply, asked: List[Job], verb: str) -> Dict[Job, Status]:
    words = reply.words
    if len(words) % 2:
        raise ChaqumError("unexpected reply to %s: S %s" % (verb, " ".join(words)))
    known = {words[i]: Status.parse(words[i + 1]) for i in range(0, len(words), 2)}
    return {job: known.get(job.id, _UNKNOWN) for job in asked}


def wait(*jobs: Union[JobRef, Iterable[JobRef]], timeout: Optional[Seconds] = None,
         first: bool = False) -> Dict[Job, Status]:
    """Waits until all the jobs have ended (or, with first=True, one of them),
    for at most timeout seconds (None: no limit). Returns {job: Status} for
    every job asked, in that order: "pending" for those still running,
    "unknown" for ids the daemon does not know or already reported (a result
    is reported once). Jobs may be given as Job objects, ids, or lists."""
    asked = list(dict.fromkeys(_flatten(jobs, Job)))
    words = ["wait", "-f" if first else "-a"]
    if timeout is not None:
        words += ["-t", seconds(timeout)]
    words += ["--"] + [job.id for job in asked]
    return _statuses(_call(*words), asked, "wait")


def kill(*jobs: Union[JobRef, Iterable[JobRef]], signal: Optional[Signal] = None,
         timeout: Optional[Seconds] = None) -> Dict[Job, Status]:
    """Sends signal (default SIGTERM; a number, a signal.Signals, or a name
    like "KILL" or "SIGKILL") to each job's process group, cancels those not
    started, then waits like wait() (timeout bounds only that wait). Jobs still
    running after the daemon's grace period get SIGKILL. Only descendants of
    the calling job may be killed; otherwise nothing is and ChaqumError says why."""
    asked = list(dict.fromkeys(_flatten(jobs, Job)))
    words = ["killjobs"]
    if signal is not None:
        words += ["-s", signal if isinstance(signal, str) else decimal(int(signal))]
    if timeout is not None:
        words += ["-t", seconds(timeout)]
    words += ["--"] + [job.id for job in asked]
    return _statuses(_call(*words), asked, "killjobs")


def send(job: JobRef, data: Union[bytes, bytearray, memoryview, str]) -> Message:
    """Sends JOB a message: bytes as they are, str as UTF-8. Any job not yet
    ended may be messaged (queued ones find it when they run)."""
    target = job if isinstance(job, Job) else Job(job)
    body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    reply = _call("sendmsg", "--", target.id, str(len(body)), body=body)
    return Message(_one_word(reply, "sendmsg"))


def send_json(job: JobRef, obj: Any) -> Message:
    """Sends JOB obj as JSON (UTF-8)."""
    return send(job, json.dumps(obj, ensure_ascii=False))


def receive(timeout: Optional[Seconds] = None) -> bytes:
    """Takes the oldest message addressed to this job, waiting at most timeout
    seconds (None: for ever). Raises TimeoutError when none came in time."""
    words = ["recvmsg"]
    if timeout is not None:
        words += ["-t", seconds(timeout)]
    reply = _call(*words, has_body=True, timeout_ok=True)
    if reply.kind == "T":
        raise TimeoutError("no message within %s s" % seconds(timeout) if timeout is not None else "no message")
    assert reply.body is not None
    return reply.body


def receive_text(timeout: Optional[Seconds] = None, encoding: str = "utf-8", errors: str = "strict") -> str:
    """receive(), decoded."""
    return receive(timeout).decode(encoding, errors)


def receive_json(timeout: Optional[Seconds] = None) -> Any:
    """receive(), parsed as JSON."""
    return json.loads(receive(timeout).decode("utf-8"))


def wait_received(*messages: Union[Message, str, Iterable[Union[Message, str]]],
                  timeout: Optional[Seconds] = None) -> Dict[Message, bool]:
    """Waits until every message has been received by its destination, for at
    most timeout seconds. Returns {message: received}; False also for messages
    dropped because their destination ended, and for ids the daemon no longer
    knows (a final state is reported once)."""
    asked = list(dict.fromkeys(_flatten(messages, Message)))
    words = ["waitrecv"]
    if timeout is not None:
        words += ["-t", seconds(timeout)]
    reply = _call(*(words + ["--"] + [m.id for m in asked]))
    pairs = reply.words
    if len(pairs) % 2:
        raise ChaqumError("unexpected reply to waitrecv: S %s" % " ".join(pairs))
    received = {pairs[i]: pairs[i + 1] == "R" for i in range(0, len(pairs), 2)}
    return {m: received.get(m.id, False) for m in asked}


PlanDocument = Union[Dict[str, Any], str, bytes, bytearray, memoryview, os.PathLike]

_PLAN_STATES = ("succeeded", "failed", "cancelled")


def submit_plan(plan: PlanDocument) -> Plan:
    """Submits a plan (docs/protocol.md): a JSON document of execute steps in
    sequence_group and parallel_group nodes, run as ordinary jobs of the tree.
    plan is the document as a dict (sent as JSON), as JSON text (str, sent as
    UTF-8) or bytes (sent as they are), or the path of a file holding it
    (os.PathLike, such as pathlib.Path: its bytes are sent). Returns the Plan at
    once. A bad plan is refused whole, before any step runs: ChaqumError, whose
    reason names the JSON path of the fault."""
    if isinstance(plan, os.PathLike):
        with open(plan, "rb") as f:
            body = f.read()
    elif isinstance(plan, str):
        body = plan.encode("utf-8")
    elif isinstance(plan, (bytes, bytearray, memoryview)):
        body = bytes(plan)
    else:
        body = json.dumps(plan, ensure_ascii=False).encode("utf-8")
    reply = _call("plan", "--", str(len(body)), body=body)
    return Plan(_one_word(reply, "plan"))


def wait_plan(plan: Union[Plan, str], timeout: Optional[Seconds] = None) -> str:
    """Waits until the plan has ended, for at most timeout seconds (None: no
    limit), and returns its state: "succeeded", "failed" or "cancelled"; or
    "running" when the timeout passed first. An unknown id raises ChaqumError."""
    target = plan if isinstance(plan, Plan) else Plan(plan)
    words = ["waitplan"]
    if timeout is not None:
        words += ["-t", seconds(timeout)]
    reply = _call(*(words + ["--", target.id]))
    if len(reply.words) != 2 or reply.words[1] not in _PLAN_STATES + ("T",):
        raise ChaqumError("unexpected reply to waitplan: S %s" % " ".join(reply.words))
    return "running" if reply.words[1] == "T" else reply.words[1]


# --- logging ------------------------------------------------------------------------

_log_lock = threading.Lock()


def _encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")  # bytes os.fsdecode made into str
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def _log(level: bytes, args: Iterable[Any], sep: str) -> None:
    """Writes LEVEL, the unit separator and the message to stderr; the daemon
    logs the line at that level. Every line of a multi-line message gets the
    prefix, so that all of it is logged at the level asked."""
    text = sep.join(str(a) for a in args)
    data = b"".join(level + b"\x1f" + _encode(line) + b"\n" for line in text.split("\n"))
    with _log_lock:
        try:
            if sys.stderr is not None:
                sys.stderr.flush()  # what was printed to stderr before comes first
        except (OSError, ValueError):
            pass
        view = memoryview(data)
        while view:
            view = view[os.write(2, view):]


class Log:
    """Logging at the daemon's five levels: chaqum.log.error("disk", name, "full").
    Arguments are joined like print() joins them."""

    @staticmethod
    def critical(*args: Any, sep: str = " ") -> None:
        _log(b"C", args, sep)

    @staticmethod
    def error(*args: Any, sep: str = " ") -> None:
        _log(b"E", args, sep)

    @staticmethod
    def warning(*args: Any, sep: str = " ") -> None:
        _log(b"W", args, sep)

    @staticmethod
    def info(*args: Any, sep: str = " ") -> None:
        _log(b"I", args, sep)

    @staticmethod
    def debug(*args: Any, sep: str = " ") -> None:
        _log(b"D", args, sep)


log = Log()
