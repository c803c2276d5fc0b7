"""Outside a chaqum job: import works, logging works, and every call fails at
once with a message naming fds 3 and 4, without touching whatever fd 3 is."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import unittest

import chaqum

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(chaqum.__file__)))


def run(code, shell_redirects=""):
    """Runs code in a fresh Python (by way of sh, to set up fds 3 and 4 as the
    redirects say; without them, both are closed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAQUM_")}
    env["PYTHONPATH"] = PACKAGE_DIR
    command = 'exec "$0" -c "$1" 3>&- 4>&- ' + shell_redirects
    return subprocess.run(["sh", "-c", command, sys.executable, code], env=env, capture_output=True,
                          timeout=30, close_fds=True)


CALLS = [
    "chaqum.enqueue('x')", "chaqum.wait()", "chaqum.receive(timeout=1)", "chaqum.group('g')",
    "chaqum.repeat('x', interval=1)", "chaqum.Job('a/1').send(b'x')", "chaqum.kill('a/1')",
    "import chaqum.lib; chaqum.lib.enqueue('x')", "import chaqum.lib; chaqum.lib.recvmsg()",
]


class OutsideTests(unittest.TestCase):
    def test_every_call_says_fds_3_and_4(self):
        for call in CALLS:
            with self.subTest(call=call):
                result = run("import chaqum\ntry:\n    %s\nexcept chaqum.ChaqumError as e:\n"
                             "    print(e)\nelse:\n    print('no error')" % call.replace("; ", "\n    "))
                self.assertIn(b"fds 3 and 4", result.stdout, result.stderr)

    def test_uncaught_it_ends_the_program_with_a_clear_message(self):
        result = run("import chaqum\nchaqum.enqueue('x')")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn(b"chaqum.ChaqumError", result.stderr)
        self.assertIn(b"fds 3 and 4", result.stderr)

    def test_an_unrelated_fd_3_is_left_alone(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fd3")
            open(path, "w").close()
            result = run("import chaqum\ntry:\n    chaqum.enqueue('x')\nexcept chaqum.ChaqumError as e:\n    print(e)",
                         '3>"%s" 4<"%s"' % (path, path))
            self.assertIn(b"fd 3 is not a pipe", result.stdout, result.stderr)
            self.assertEqual(os.path.getsize(path), 0)

    def test_pipes_the_wrong_way_round_are_refused(self):
        # fd 3 must be written to and fd 4 read from; here both are the other way.
        code = ("import os, chaqum\nr, w = os.pipe()\nr2, w2 = os.pipe()\nos.dup2(r, 3)\nos.dup2(w2, 4)\n"
                "try:\n    chaqum.wait()\nexcept chaqum.ChaqumError as e:\n    print(e)")
        result = run(code)
        self.assertIn(b"fd 3 is not open for writing", result.stdout, result.stderr)
        self.assertIn(b"fd 4 is not open for reading", result.stdout, result.stderr)

    def test_logging_needs_no_daemon(self):
        result = run("import chaqum\nchaqum.log.warning('two', 'lines\\nhere')\nchaqum.log.debug(b'x', 1, sep=',')")
        self.assertEqual(result.stderr, b"W\x1ftwo lines\nW\x1fhere\nD\x1fb'x',1\n")


if __name__ == "__main__":
    unittest.main()
