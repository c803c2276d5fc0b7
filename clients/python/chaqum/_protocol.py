"""The wire level of the chaqum job protocol: quoting, reply parsing and the one
connection a job has to its daemon (commands on fd 3, replies on fd 4).

Nothing here knows what the verbs mean; that is in chaqum/__init__.py.
"""
from __future__ import annotations

import datetime
import fcntl
import math
import numbers
import os
import stat
import threading
from typing import List, Optional, Sequence, Tuple, Union

COMMANDS_FD = 3
REPLIES_FD = 4


class ChaqumError(Exception):
    """A call the daemon refused (an ``E`` reply), or a job that cannot talk to
    its daemon at all. ``reason`` is the daemon's reason, word for word."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- quoting -------------------------------------------------------------------

# The characters Python's shlex.quote leaves bare; the daemon uses the same set.
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-")

_DOLLAR_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", "\\": "\\\\", "'": "\\'"}


def quote(word: str) -> str:
    """Quotes one word so that the daemon splits it back unchanged: bare when it
    is made of safe characters, $'...' when it holds a control character (a
    command is one line, so that is how a newline travels), else '...'."""
    if word == "":
        return "''"
    if all(c in _SAFE for c in word):
        return word
    if "\0" in word:
        # No process argument, group name or id can hold a NUL byte.
        raise ChaqumError("a word of a command cannot contain a NUL byte: %r" % word)
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in word):
        out = []
        for c in word:
            if c in _DOLLAR_ESCAPES:
                out.append(_DOLLAR_ESCAPES[c])
            elif ord(c) < 0x20 or ord(c) == 0x7F:
                out.append("\\x%02x" % ord(c))
            else:
                out.append(c)
        return "$'" + "".join(out) + "'"
    return "'" + word.replace("'", "'\"'\"'") + "'"


def join(words: Sequence[str]) -> str:
    """One command line (without its LF) from words."""
    return " ".join(quote(w) for w in words)


_C_ESCAPES = {
    "n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "e": 27, "E": 27, "f": 12, "v": 11,
    "\\": 92, "'": 39, '"': 34, "?": 63,
}


def split(line: str) -> List[str]:
    """Splits a line into words by the protocol's rules (POSIX sh without any
    expansion, plus $'...'). Replies are quoted the same way as commands."""
    words: List[str] = []
    word: List[str] = []
    in_word = False
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t":
            if in_word:
                words.append("".join(word))
                word, in_word = [], False
            i += 1
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise ValueError("unterminated single quote")
            word.append(line[i + 1:end])
            in_word, i = True, end + 1
        elif c == '"':
            i += 1
            in_word = True
            while True:
                if i >= n:
                    raise ValueError("unterminated double quote")
                d = line[i]
                if d == '"':
                    i += 1
                    break
                if d == "\\" and i + 1 < n and line[i + 1] in '"\\$`\n':
                    if line[i + 1] != "\n":
                        word.append(line[i + 1])
                    i += 2
                    continue
                word.append(d)
                i += 1
        elif c == "\\":
            if i + 1 >= n:
                raise ValueError("backslash at end of line")
            if line[i + 1] != "\n":
                word.append(line[i + 1])
            in_word, i = True, i + 2
        elif c == "$" and i + 1 < n and line[i + 1] == "'":
            text, i = _dollar_single(line, i + 2)
            word.append(text)
            in_word = True
        else:
            word.append(c)
            in_word, i = True, i + 1
    if in_word:
        words.append("".join(word))
    return words


def _dollar_single(line: str, i: int) -> Tuple[str, int]:
    """Decodes the inside of $'...' from line[i]; returns it and the index after
    the closing quote. Escapes give bytes (\\xHH may be half a UTF-8 character),
    so runs of them are decoded together."""
    out: List[str] = []
    raw = bytearray()

    def flush() -> None:
        if raw:
            out.append(raw.decode("utf-8"))
            raw.clear()

    n = len(line)
    while i < n:
        c = line[i]
        if c == "'":
            flush()
            return "".join(out), i + 1
        if c != "\\":
            flush()
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:
            break
        e = line[i + 1]
        i += 2
        if e in _C_ESCAPES:
            raw.append(_C_ESCAPES[e])
        elif e == "x":
            digits = ""
            while len(digits) < 2 and i < n and line[i] in "0123456789abcdefABCDEF":
                digits += line[i]
                i += 1
            if not digits:
                raise ValueError("\\x without hex digits in $'...'")
            raw.append(int(digits, 16))
        elif "0" <= e <= "7":
            digits = e
            while len(digits) < 3 and i < n and "0" <= line[i] <= "7":
                digits += line[i]
                i += 1
            raw.append(int(digits, 8) & 0xFF)
        else:
            raise ValueError("unknown escape \\%s in $'...'" % e)
    raise ValueError("unterminated $'...' quote")


# --- values --------------------------------------------------------------------

Seconds = Union[int, float, datetime.timedelta, str]


def decimal(value: Union[int, float, str]) -> str:
    """A number as the daemon reads it: plain decimal notation, never 1e-05.
    Text is passed as given (trees for the original library pass "80")."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError("expected a number, not a bool")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if not isinstance(value, numbers.Real):
        raise TypeError("expected a number, got %r" % (value,))
    f = float(value)
    if not math.isfinite(f):
        return str(f)  # the daemon refuses it with a clear reason
    if f == int(f) and abs(f) < 1e15:
        return str(int(f))
    text = repr(f)
    if "e" in text or "E" in text:
        text = ("%.9f" % f).rstrip("0").rstrip(".")
    return text


def seconds(value: Seconds) -> str:
    """A duration in seconds for -t: a number, a datetime.timedelta, or text."""
    if isinstance(value, datetime.timedelta):
        return decimal(value.total_seconds())
    return decimal(value)


def word(value: object) -> str:
    """A script name or argument: str as is, bytes and paths as the file system
    names them, anything else (numbers) by str()."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, os.PathLike)):
        return os.fsdecode(value)
    return str(value)


# --- replies -------------------------------------------------------------------

class Reply:
    """One reply: kind "S" (with words), "E" (with the reason) or "T"."""

    __slots__ = ("kind", "words", "reason", "body")

    def __init__(self, kind: str, words: Optional[List[str]] = None, reason: str = "",
                 body: Optional[bytes] = None) -> None:
        self.kind = kind
        self.words = words or []
        self.reason = reason
        self.body = body

    def __repr__(self) -> str:
        return "Reply(%r, %r, %r)" % (self.kind, self.words, self.reason)


def parse_reply(line: bytes) -> Reply:
    """Parses one reply line (without its LF)."""
    text = line.decode("utf-8", errors="replace")
    kind = text[:1]
    if kind == "E":
        return Reply("E", reason=text[2:] if text[1:2] == " " else text[1:])
    if kind == "T" and len(text) == 1:
        return Reply("T")
    if kind == "S" and (len(text) == 1 or text[1] == " "):
        try:
            return Reply("S", split(text[1:]))
        except (ValueError, UnicodeDecodeError) as e:
            raise ChaqumError("malformed reply from the daemon (%s): %r" % (e, text)) from None
    raise ChaqumError("unexpected reply from the daemon: %r" % text)


# --- the connection ------------------------------------------------------------

def _describe_fd(fd: int, want_write: bool) -> Optional[str]:
    """None when fd is a pipe (or socket) open in the direction the protocol
    uses, else what is wrong with it. Checked before the first byte is written,
    so that a script run outside chaqum never writes into some unrelated fd 3."""
    try:
        st = os.fstat(fd)
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        return "fd %d is not open" % fd
    if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode)):
        return "fd %d is not a pipe" % fd
    mode = flags & os.O_ACCMODE
    if want_write and mode not in (os.O_WRONLY, os.O_RDWR):
        return "fd %d is not open for writing" % fd
    if not want_write and mode not in (os.O_RDONLY, os.O_RDWR):
        return "fd %d is not open for reading" % fd
    return None


class Connection:
    """The command pipe and the reply pipe of one job. The lock makes each
    command and its reply one unit, so threads may share the connection."""

    def __init__(self, commands_fd: int = COMMANDS_FD, replies_fd: int = REPLIES_FD) -> None:
        self.commands_fd = commands_fd
        # closefd=False: the fds belong to the job, not to this object.
        self._replies = open(replies_fd, "rb", closefd=False)
        self._lock = threading.Lock()
        # Replies still due for commands whose caller was interrupted (say by
        # KeyboardInterrupt during a wait): True for those that carry a body.
        # They are read and dropped before the next reply, to stay in step.
        self._owed: List[bool] = []

    @classmethod
    def of_job(cls) -> "Connection":
        """The job's own connection on fds 3 and 4, checked first."""
        problems = [p for p in (_describe_fd(COMMANDS_FD, True), _describe_fd(REPLIES_FD, False)) if p]
        if problems:
            raise ChaqumError(
                "not running as a chaqum job: fds 3 and 4 must be the pipes to the "
                "chaqum daemon, but " + " and ".join(problems)
                + " (start this program as a job of a chaqum tree)")
        return cls()

    def after_fork(self) -> None:
        # A lock held by another thread at fork time would never be released
        # in the child.
        self._lock = threading.Lock()

    def call(self, words: Sequence[str], body: Optional[bytes] = None, has_body: bool = False) -> Reply:
        """Sends one command (plus, for sendmsg, its body) and returns its reply.
        has_body: the S reply is followed by a body (recvmsg)."""
        try:
            data = join(words).encode("utf-8") + b"\n"
        except UnicodeEncodeError:
            # Lone surrogates, as os.fsdecode makes of non-UTF-8 file names.
            raise ChaqumError("a command must be valid UTF-8, and this one is not: %r" % (list(words),)) from None
        if body is not None:
            data += body + b"\n"
        with self._lock:
            while self._owed:
                self._take_reply(self._owed[0])
            self._write(data)
            self._owed.append(has_body)
            return self._take_reply(has_body)

    def _take_reply(self, has_body: bool) -> Reply:
        """Reads the oldest reply due. An interruption (KeyboardInterrupt, say)
        leaves it due, to be skipped by the next call; once read, or found
        broken, it is no longer due."""
        try:
            reply = self._read_reply(has_body)
        except ChaqumError:
            self._owed.pop(0)
            raise
        self._owed.pop(0)
        return reply

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.write(self.commands_fd, view)
                view = view[written:]
        except BrokenPipeError:
            raise ChaqumError("the chaqum daemon closed the command pipe (fd %d)" % self.commands_fd) from None
        except OSError as e:
            raise ChaqumError("cannot write to the command pipe (fd %d): %s" % (self.commands_fd, e.strerror)) from None

    def _read_reply(self, has_body: bool) -> Reply:
        try:
            line = self._replies.readline()
        except OSError as e:
            raise ChaqumError("cannot read the reply pipe (fd %d): %s" % (self._replies.fileno(), e.strerror)) from None
        if not line.endswith(b"\n"):
            raise ChaqumError("the chaqum daemon closed the reply pipe (fd %d)" % self._replies.fileno())
        reply = parse_reply(line[:-1])
        if has_body and reply.kind == "S":
            if len(reply.words) != 1 or not reply.words[0].isdigit():
                raise ChaqumError("malformed message header from the daemon: %r" % line)
            length = int(reply.words[0])
            body = self._read_exactly(length + 1)
            reply.body = body[:-1]
        return reply

    def _read_exactly(self, count: int) -> bytes:
        chunks = []
        while count > 0:
            chunk = self._replies.read(count)
            if not chunk:
                raise ChaqumError("the chaqum daemon closed the reply pipe in the middle of a message")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)
