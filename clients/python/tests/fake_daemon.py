"""A stand-in for the chaqum daemon on two os.pipe() pairs: it records every
command line (and a sendmsg or plan body) and answers with scripted replies, so the
library can be tested without the real daemon."""
from __future__ import annotations

import os
import queue
import threading
from typing import Callable, List, Optional, Tuple, Union

import chaqum
from chaqum._protocol import Connection

Responder = Callable[[str, Optional[bytes]], Union[bytes, str]]


class FakeDaemon:
    """Use as a context manager: installs a Connection to itself as the
    library's connection, restores the previous one on exit.

    replies: bytes/str answered in order, one per command (a str gets a LF
    appended); or responder(line, body) computing each reply. A reply of None
    from the queue means: answer nothing (yet) to that command."""

    def __init__(self, *replies: Union[bytes, str], responder: Optional[Responder] = None) -> None:
        self.commands: List[Tuple[str, Optional[bytes]]] = []
        self.responder = responder
        self._replies: "queue.Queue[Union[bytes, str, None]]" = queue.Queue()
        for r in replies:
            self._replies.put(r)
        cmd_r, self.cmd_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        self._commands = os.fdopen(cmd_r, "rb")
        self._out = os.fdopen(rep_w, "wb", buffering=0)
        self.connection = Connection(self.cmd_w, self.rep_r)
        self._previous: Optional[Connection] = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def reply(self, data: Union[bytes, str]) -> None:
        """Adds a reply to the queue (for commands not answered yet)."""
        self._replies.put(data)

    def send_raw(self, data: bytes) -> None:
        """Writes bytes to the reply pipe out of turn."""
        self._out.write(data)

    def __enter__(self) -> "FakeDaemon":
        self._thread.start()
        self._previous = chaqum._use_connection(self.connection)
        return self

    def __exit__(self, *exc: object) -> None:
        chaqum._use_connection(self._previous)
        os.close(self.cmd_w)  # the serving thread sees EOF and ends
        self._thread.join(5)
        self._out.close()
        os.close(self.rep_r)
        self._commands.close()

    @property
    def lines(self) -> List[str]:
        return [line for line, _ in self.commands]

    def _serve(self) -> None:
        while True:
            raw = self._commands.readline()
            if not raw:
                return
            line = raw[:-1].decode("utf-8")
            body = None
            if line.startswith(("sendmsg ", "plan ")):
                length = int(line.split()[-1])
                body = self._commands.read(length + 1)
                assert body.endswith(b"\n"), "a sendmsg or plan body must end in LF"
                body = body[:-1]
            self.commands.append((line, body))
            if self.responder is not None:
                answer: Union[bytes, str, None] = self.responder(line, body)
            else:
                answer = self._replies.get(timeout=10)
            if answer is None:
                answer = self._replies.get(timeout=10)
            if isinstance(answer, str):
                answer = (answer + "\n").encode("utf-8")
            try:
                self._out.write(answer)
            except BrokenPipeError:
                return
