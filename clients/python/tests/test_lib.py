"""chaqum.lib, the original chaqum 0.16 API, against a fake daemon: the command
lines the original sent, and its result types."""
from __future__ import annotations

import os
import subprocess
import sys
import unittest

import chaqum.lib as lib
from chaqum import ChaqumError
from chaqum.lib import job, job_status, msg

from .fake_daemon import FakeDaemon

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(lib.__file__)))


class CompatCommandTests(unittest.TestCase):
    def test_star_import_gives_exactly_the_original_names(self):
        scope = {}
        exec("from chaqum.lib import *", scope)
        self.assertEqual(sorted(k for k in scope if k != "__builtins__"),
                         sorted(["log", "enqueue", "interval", "cron", "waitjobs", "killjobs", "waitrecv",
                                 "recvmsg", "recvjson", "parent"]))

    def test_enqueue(self):
        with FakeDaemon("S worker/1", "S worker/2", "S worker/3") as d:
            self.assertEqual(lib.enqueue("worker", 5, "a b"), job("worker/1"))
            lib.enqueue("worker", group="workers", max_jobs=3, max_cpu=80, forget=True)
            lib.enqueue("worker", group="workers", max_jobs="3", max_cpu="0.5")
        self.assertEqual(d.lines, ["enqueue -- worker 5 'a b'", "enqueue -F -g workers -m 3 -c 80 -- worker",
                                   "enqueue -g workers -m 3 -c 0.5 -- worker"])

    def test_interval_and_cron(self):
        with FakeDaemon("S repeat:1", "S repeat:2", "S repeat:3") as d:
            self.assertIsNone(lib.interval("scan", seconds=1))
            lib.interval("scan", "x", minutes=5, hours=1, weeks=2)
            lib.cron("scan", second="*/1", hour=2)
        self.assertEqual(d.lines, ["repeat -i 1s0m0h0d0w -- scan", "repeat -i 0s5m1h0d2w -- scan x",
                                   "repeat -c '*/1 * 2 * * *' -- scan"])

    def test_waitjobs_statuses(self):
        jobs = [job("a/1"), job("b/2"), job("c/3"), job("d/4"), job("e/5")]
        with FakeDaemon("S a/1 T b/2 N c/3 3 d/4 -15") as d:
            result = lib.waitjobs(*jobs, timeout=5)
        self.assertEqual(d.lines, ["wait -a -t 5 -- a/1 b/2 c/3 d/4 e/5"])
        self.assertEqual(result, [
            (jobs[0], job_status(True, None, None)),
            (jobs[1], job_status(False, True, None)),
            (jobs[2], job_status(False, True, 3)),
            (jobs[3], job_status(False, True, -15)),
            (jobs[4], None),
        ])

    def test_job_methods(self):
        with FakeDaemon("S a/1 0", "S", "S a/1 -15", "S msg:4", "S msg:5", "S msg:4 R") as d:
            self.assertEqual(job("a/1").wait(timeout=0.5), job_status(False, True, 0))
            self.assertEqual(job("a/1").wait(), job_status(False, True, None), "left out: ended, taken")
            self.assertEqual(job("a/1").kill(), job_status(False, True, -15))
            m = job("a/1").sendmsg(b"\x00raw")
            job("a/1").sendjson({"hello": "wörld", "newline": "\n"})
            self.assertTrue(m.waitrecv())
        self.assertEqual(m, msg("msg:4"))
        self.assertEqual(d.commands[:3], [("wait -a -t 0.5 -- a/1", None), ("wait -a -- a/1", None),
                                          ("killjobs -- a/1", None)])
        self.assertEqual(d.commands[3], ("sendmsg -- a/1 4", b"\x00raw"))
        self.assertEqual(d.commands[4][1], b'{"hello": "w\\u00f6rld", "newline": "\\n"}')
        self.assertEqual(d.commands[5], ("waitrecv -- msg:4", None))

    def test_killjobs_and_waitrecv(self):
        with FakeDaemon("S a/1 -15 b/2 N", "S msg:1 R msg:2 T") as d:
            killed = lib.killjobs(job("a/1"), job("b/2"), timeout=3)
            received = lib.waitrecv(msg("msg:1"), msg("msg:2"), msg("msg:3"), timeout=1)
        self.assertEqual(killed, [(job("a/1"), job_status(False, True, -15)), (job("b/2"), job_status(False, True, None))])
        self.assertEqual(received, [(msg("msg:1"), True), (msg("msg:2"), False), (msg("msg:3"), False)])
        self.assertEqual(d.lines, ["killjobs -t 3 -- a/1 b/2", "waitrecv -t 1 -- msg:1 msg:2 msg:3"])

    def test_recv(self):
        with FakeDaemon(b"S 3\nabc\n", b'S 10\n{"a": [1]}\n', b"T\n", b"T\n") as d:
            self.assertEqual(lib.recvmsg(), b"abc")
            self.assertEqual(lib.recvjson(timeout=1), {"a": [1]})
            self.assertIsNone(lib.recvmsg(timeout=0.1))
            self.assertIsNone(lib.recvjson(timeout=0.1))
        self.assertEqual(d.lines, ["recvmsg", "recvmsg -t 1", "recvmsg -t 0.1", "recvmsg -t 0.1"])

    def test_refusal_is_an_exception(self):
        with FakeDaemon("E enqueue: no such script: 'x'") as d:
            with self.assertRaises(Exception) as caught:
                lib.enqueue("x")
        self.assertIsInstance(caught.exception, ChaqumError)
        self.assertEqual(len(d.lines), 1)

    def test_dataclasses_are_frozen(self):
        import dataclasses
        with self.assertRaises(dataclasses.FrozenInstanceError):
            job("a/1").ident = "b/2"  # type: ignore[misc]
        self.assertEqual(job_status(True, None, None).timeout, True)


class CompatImportTests(unittest.TestCase):
    def run_python(self, code, env=None):
        environment = {k: v for k, v in os.environ.items() if not k.startswith("CHAQUM_")}
        environment["PYTHONPATH"] = PACKAGE_DIR
        environment.update(env or {})
        return subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True,
                              timeout=30, close_fds=True)

    def test_parent_and_line_buffering(self):
        code = ("from chaqum.lib import *\nimport sys\n"
                "print(parent, sys.stdout.line_buffering, sys.stderr.line_buffering)")
        self.assertEqual(self.run_python(code, {"CHAQUM_PARENT": "init"}).stdout, b"job(ident='init') True True\n")
        self.assertEqual(self.run_python(code).stdout, b"None True True\n")

    def test_print_reaches_the_pipe_without_flushing(self):
        # os._exit skips flushing: only a line-buffered stdout has written it.
        result = self.run_python("import chaqum.lib, os\nprint('line one')\nos._exit(0)")
        self.assertEqual(result.stdout, b"line one\n")

    def test_log_levels(self):
        result = self.run_python("from chaqum.lib import *\nlog.critical('a', 1)\nlog.error('b')\n"
                                 "log.warning('c')\nlog.info('d', 'e', sep='-')\nlog.debug('f')")
        self.assertEqual(result.stderr, b"C\x1fa 1\nE\x1fb\nW\x1fc\nI\x1fd-e\nD\x1ff\n")


if __name__ == "__main__":
    unittest.main()
