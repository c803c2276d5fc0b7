"""The chaqum API against a fake daemon on os.pipe() pairs: the exact command
lines sent, and how replies become Jobs, Statuses and errors."""
from __future__ import annotations

import datetime
import json
import os
import pathlib
import signal
import tempfile
import threading
import unittest
from unittest import mock

import chaqum
from chaqum import ChaqumError, Job, Message, Plan, Repeat, Status

from .fake_daemon import FakeDaemon


class EnqueueTests(unittest.TestCase):
    def test_plain(self):
        with FakeDaemon("S convert/12") as d:
            job = chaqum.enqueue("convert", "my file.txt", 3)
        self.assertEqual(d.lines, ["enqueue -- convert 'my file.txt' 3"])
        self.assertEqual(job, Job("convert/12"))
        self.assertEqual(str(job), "convert/12")

    def test_every_option(self):
        with FakeDaemon("S w/3") as d:
            chaqum.enqueue("w", "-x", forget=True, group="g", max_procs=2, max_cpu=0.8, max_load=4,
                           min_mem="512M", max_pressure=50, timeout=1.5, priority=-2, key="k 1",
                           after=[Job("a/1"), "b/2"], retries=3)
        self.assertEqual(d.lines, ["enqueue -F -g g -m 2 -c 0.8 -l 4 -M 512M -P 50 -t 1.5 -p -2 "
                                   "-k 'k 1' -r 3 -a a/1 -a b/2 -- w -x"])

    def test_after_a_single_job_and_memory_in_bytes(self):
        with FakeDaemon("S w/4") as d:
            chaqum.enqueue("w", after=Job("a/1"), min_mem=1024, timeout=datetime.timedelta(seconds=90))
        self.assertEqual(d.lines, ["enqueue -M 1024 -t 90 -a a/1 -- w"])

    def test_delays_times_holds_urgent_and_requeue(self):
        with FakeDaemon("S w/5", "S w/6", "S w/7", "S w/8", "S w/9") as d:
            chaqum.enqueue("w", delay="10m", held=True, urgent=True, requeue=True)
            chaqum.enqueue("w", delay=datetime.timedelta(minutes=1, seconds=30))
            chaqum.enqueue("w", at="02:00")
            chaqum.enqueue("w", at=datetime.time(2, 30))
            chaqum.enqueue("w", at=datetime.datetime(2026, 12, 24, 18, 0, tzinfo=datetime.timezone.utc))
        self.assertEqual(d.lines, ["enqueue -d 10m -H -U -R -- w", "enqueue -d 90 -- w", "enqueue -A 02:00 -- w",
                                   "enqueue -A 02:30:00 -- w", "enqueue -A 2026-12-24T18:00:00+00:00 -- w"])
        with self.assertRaises(ValueError):
            chaqum.enqueue("w", delay=5, at="02:00")

    def test_refusal_raises_with_the_reason(self):
        with FakeDaemon("E enqueue: no such script: 'nosuch'", "S") as d:
            with self.assertRaises(ChaqumError) as caught:
                chaqum.enqueue("nosuch")
            self.assertEqual(caught.exception.reason, "enqueue: no such script: 'nosuch'")
            self.assertEqual(str(caught.exception), "enqueue: no such script: 'nosuch'")
            self.assertEqual(chaqum.wait(), {})  # still in step
        self.assertEqual(d.lines, ["enqueue -- nosuch", "wait -a --"])


class WaitTests(unittest.TestCase):
    def test_statuses_of_every_kind(self):
        jobs = [Job("a/1"), Job("b/2"), Job("c/3"), Job("d/4"), Job("e/5")]
        with FakeDaemon("S a/1 0 b/2 3 c/3 -9 d/4 N") as d:
            result = chaqum.wait(*jobs, timeout=600)
        self.assertEqual(d.lines, ["wait -a -t 600 -- a/1 b/2 c/3 d/4 e/5"])
        self.assertEqual(list(result), jobs, "in the order asked")
        a, b, c, n, e = (result[j] for j in jobs)
        self.assertEqual((a.exit_code, a.ok, a.ended, str(a)), (0, True, True, "exit 0"))
        self.assertEqual((b.exit_code, b.ok, str(b)), (3, False, "exit 3"))
        self.assertEqual((c.exit_code, c.signal, c.ended, str(c)), (None, 9, True, "signal 9"))
        self.assertEqual((n.never_ran, n.ended, n.exit_code, str(n)), (True, True, None, "never-ran"))
        self.assertEqual((e.unknown, e.ended, str(e)), (True, False, "unknown"))

    def test_pending_first_and_ids_and_lists(self):
        with FakeDaemon("S s/1 T x/2 4") as d:
            result = chaqum.wait(["s/1", "x/2"], "s/1", first=True)
        self.assertEqual(d.lines, ["wait -f -- s/1 x/2"])
        self.assertTrue(result[Job("s/1")].pending)
        self.assertEqual(result[Job("x/2")], Status("exit", 4))

    def test_job_wait(self):
        with FakeDaemon("S x/2 7") as d:
            self.assertEqual(Job("x/2").wait(timeout=0).exit_code, 7)
        self.assertEqual(d.lines, ["wait -a -t 0 -- x/2"])

    def test_kill(self):
        with FakeDaemon("S s/1 -15", "S s/1 -9", "S s/1 -12", "E killjobs: not permitted: init is not a descendant of init") as d:
            self.assertEqual(Job("s/1").kill().signal, 15)
            self.assertEqual(chaqum.kill("s/1", signal="KILL", timeout=5)[Job("s/1")].signal, 9)
            chaqum.kill(Job("s/1"), signal=signal.SIGUSR2)
            with self.assertRaises(ChaqumError) as caught:
                chaqum.kill("init")
        self.assertEqual(caught.exception.reason, "killjobs: not permitted: init is not a descendant of init")
        self.assertEqual(d.lines, ["killjobs -- s/1", "killjobs -s KILL -t 5 -- s/1",
                                   "killjobs -s %d -- s/1" % signal.SIGUSR2, "killjobs -- init"])

    def test_odd_replies_are_errors(self):
        with FakeDaemon("S a/1", "S a/1 maybe", "T") as d:
            for _ in range(3):
                with self.assertRaises(ChaqumError):
                    chaqum.wait("a/1")
        self.assertEqual(len(d.lines), 3)


class RepeatGroupTests(unittest.TestCase):
    def test_cron_with_group_and_cpu_share(self):
        with FakeDaemon("S repeat:1") as d:
            r = chaqum.repeat("report", "daily", cron="0 2 * * *", group="nightly", max_cpu=50,
                              overlap=True, timeout=60, priority=1, key="rep", retries=2)
        self.assertEqual(r, Repeat("repeat:1"))
        self.assertEqual(d.lines, ["repeat -c '0 2 * * *' -o -g nightly -c 50 -t 60 -p 1 -k rep -r 2 -- report daily"])

    def test_cron_in_a_time_zone(self):
        with FakeDaemon("S repeat:1") as d:
            chaqum.repeat("backup", cron="30 2 * * *", zone="Europe/Berlin", overlap=True)
        self.assertEqual(d.lines, ["repeat -c '30 2 * * *' -z Europe/Berlin -o -- backup"])

    def test_a_zone_needs_a_cron_schedule(self):
        with self.assertRaises(ValueError):
            chaqum.repeat("a", interval=5, zone="Europe/Berlin")

    def test_intervals(self):
        with FakeDaemon("S repeat:1", "S repeat:2", "S repeat:3") as d:
            chaqum.repeat("a", interval=0.2)
            chaqum.repeat("a", interval="1h30m")
            chaqum.repeat("a", interval=datetime.timedelta(hours=1))
        self.assertEqual(d.lines, ["repeat -i 0.2 -- a", "repeat -i 1h30m -- a", "repeat -i 3600 -- a"])

    def test_file_triggers_and_the_breaker(self):
        with FakeDaemon("S repeat:1", "S repeat:2", "S") as d:
            chaqum.repeat("scan", "x", watch="inbox", settle=0.25, group="g", break_after=3)
            chaqum.repeat("scan", watch=["a", "b c"], watch_tree="/srv/data")
            chaqum.group("g", max_procs=2, break_after=0)
        self.assertEqual(d.lines, [
            "repeat -w inbox --settle 0.25 -g g -B 3 -- scan x",
            "repeat -w a -w 'b c' -W /srv/data -- scan",
            "group -B 0 -m 2 -- g",
        ])
        with self.assertRaises(ValueError):
            chaqum.repeat("a", interval=5, watch="inbox")
        with self.assertRaises(ValueError):
            chaqum.repeat("a", interval=5, settle=1)

    def test_changed_paths(self):
        import tempfile
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(b"/in/a\0/in/new\nline\0")
        old = {k: os.environ.get(k) for k in ("CHAQUM_CHANGED", "CHAQUM_CHANGED_INCOMPLETE")}
        try:
            os.environ.pop("CHAQUM_CHANGED", None)
            self.assertIsNone(chaqum.changed_paths())
            os.environ["CHAQUM_CHANGED"] = f.name
            self.assertEqual(chaqum.changed_paths(), ["/in/a", "/in/new\nline"])
            self.assertFalse(chaqum.changes_incomplete())
            os.environ["CHAQUM_CHANGED_INCOMPLETE"] = "1"
            self.assertTrue(chaqum.changes_incomplete())
        finally:
            os.unlink(f.name)
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_exactly_one_schedule(self):
        with self.assertRaises(ValueError):
            chaqum.repeat("a")
        with self.assertRaises(ValueError):
            chaqum.repeat("a", cron="* * * * *", interval=5)

    def test_unrepeat_and_cancel(self):
        with FakeDaemon("S", "S", "E unrepeat: unknown repeat id repeat:999") as d:
            chaqum.unrepeat(Repeat("repeat:1"), "repeat:2")
            Repeat("repeat:3").cancel()
            with self.assertRaises(ChaqumError):
                chaqum.unrepeat("repeat:999")
        self.assertEqual(d.lines, ["unrepeat -- repeat:1 repeat:2", "unrepeat -- repeat:3", "unrepeat -- repeat:999"])

    def test_group(self):
        with FakeDaemon("S", "S") as d:
            chaqum.group("pool", max_procs=4, max_cpu=80, max_load=2.5, min_mem="2G", max_pressure=40)
            chaqum.group("pool", max_procs=0)
        self.assertEqual(d.lines, ["group -m 4 -c 80 -l 2.5 -M 2G -P 40 -- pool", "group -m 0 -- pool"])


class MessageTests(unittest.TestCase):
    def test_send_bytes_text_and_json(self):
        raw = bytes([0, 1, 10, 255, 127, 13, 10, 32])
        with FakeDaemon("S msg:1", "S msg:2", "S msg:3") as d:
            self.assertEqual(Job("e/1").send(raw), Message("msg:1"))
            chaqum.send("e/1", "héllo\nend")
            chaqum.send_json(Job("e/1"), {"s": "ü", "l": [True, None]})
        self.assertEqual(d.commands, [
            ("sendmsg -- e/1 8", raw),
            ("sendmsg -- e/1 10", "héllo\nend".encode()),
            ('sendmsg -- e/1 %d' % len('{"s": "ü", "l": [true, null]}'.encode()), '{"s": "ü", "l": [true, null]}'.encode()),
        ])

    def test_receive(self):
        raw = b"\x00\n\xffS 3\n"
        with FakeDaemon(b"S %d\n%s\n" % (len(raw), raw), b"S 4\nn\xc3\xa9\n\n", b'S 7\n[1, {}]\n', b"T\n", b"S 0\n\n") as d:
            self.assertEqual(chaqum.receive(), raw)
            self.assertEqual(chaqum.receive_text(timeout=1), "né\n")
            self.assertEqual(chaqum.receive_json(timeout=2.5), [1, {}])
            with self.assertRaises(TimeoutError):
                chaqum.receive(timeout=0.2)
            self.assertEqual(chaqum.receive(), b"")
        self.assertEqual(d.lines, ["recvmsg", "recvmsg -t 1", "recvmsg -t 2.5", "recvmsg -t 0.2", "recvmsg"])

    def test_wait_received(self):
        with FakeDaemon("S msg:1 R msg:2 T", "S msg:3 R") as d:
            result = chaqum.wait_received(Message("msg:1"), "msg:2", "msg:9", timeout=10)
            self.assertTrue(Message("msg:3").wait_received())
        self.assertEqual(result, {Message("msg:1"): True, Message("msg:2"): False, Message("msg:9"): False})
        self.assertEqual(d.lines, ["waitrecv -t 10 -- msg:1 msg:2 msg:9", "waitrecv -- msg:3"])

    def test_error_while_sending_keeps_the_stream(self):
        with FakeDaemon("E sendmsg: unknown job id 'x/1'", "S msg:2") as d:
            with self.assertRaises(ChaqumError):
                chaqum.send("x/1", b"data")
            self.assertEqual(chaqum.send("y/2", b"more").id, "msg:2")
        self.assertEqual(d.commands, [("sendmsg -- x/1 4", b"data"), ("sendmsg -- y/2 4", b"more")])


class PlanTests(unittest.TestCase):
    PLAN = {"type": "sequence_group", "work": [
        {"type": "execute", "command": ["greet", "wörld"], "timeout": 60},
        {"type": "parallel_group", "role": "convert", "work": [
            {"type": "execute", "command": "convert a.png"},
            {"type": "execute", "command": "convert b.png"},
        ]},
    ]}

    def test_a_dict_goes_as_json_framed_like_sendmsg(self):
        body = json.dumps(self.PLAN, ensure_ascii=False).encode("utf-8")
        with FakeDaemon("S plan/3") as d:
            plan = chaqum.submit_plan(self.PLAN)
        self.assertEqual(plan, Plan("plan/3"))
        self.assertEqual(str(plan), "plan/3")
        self.assertEqual(d.commands, [("plan -- %d" % len(body), body)])
        self.assertEqual(json.loads(d.commands[0][1]), self.PLAN)

    def test_text_bytes_and_a_file(self):
        text = '{"type": "execute", "command": "greet wörld"}'
        raw = b'{"type": "execute",\n "command": ["greet"]}\n'
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(raw)
        try:
            with FakeDaemon("S plan/4", "S plan/5", "S plan/6") as d:
                chaqum.submit_plan(text)
                chaqum.submit_plan(raw)
                self.assertEqual(chaqum.submit_plan(pathlib.Path(f.name)).id, "plan/6")
        finally:
            os.unlink(f.name)
        self.assertEqual(d.commands, [
            ("plan -- %d" % len(text.encode()), text.encode()),
            ("plan -- %d" % len(raw), raw),
            ("plan -- %d" % len(raw), raw),
        ])

    def test_a_bad_plan_raises_the_reason_and_the_stream_goes_on(self):
        reason = "plan: $.work[1].type: unknown type 'teleport'"
        with FakeDaemon("E " + reason, "S plan/7") as d:
            with self.assertRaises(ChaqumError) as caught:
                chaqum.submit_plan({"type": "sequence_group", "work": [{"type": "teleport"}]})
            self.assertEqual(caught.exception.reason, reason)
            self.assertEqual(chaqum.submit_plan("{}").id, "plan/7")
        self.assertEqual(len(d.commands), 2)

    def test_wait_plan(self):
        with FakeDaemon("S plan/3 succeeded", "S plan/3 failed", "S plan/3 cancelled", "S plan/3 T",
                        "E waitplan: unknown plan 'plan/99'", "S plan/3 maybe") as d:
            self.assertEqual(chaqum.wait_plan("plan/3"), "succeeded")
            self.assertEqual(Plan("plan/3").wait(timeout=5), "failed")
            self.assertEqual(chaqum.wait_plan(Plan("plan/3"), timeout=datetime.timedelta(minutes=1)), "cancelled")
            self.assertEqual(chaqum.wait_plan("plan/3", timeout=0.2), "running")
            with self.assertRaises(ChaqumError) as caught:
                chaqum.wait_plan("plan/99")
            self.assertEqual(caught.exception.reason, "waitplan: unknown plan 'plan/99'")
            with self.assertRaises(ChaqumError):
                chaqum.wait_plan("plan/3")
        self.assertEqual(d.lines, ["waitplan -- plan/3", "waitplan -t 5 -- plan/3", "waitplan -t 60 -- plan/3",
                                   "waitplan -t 0.2 -- plan/3", "waitplan -- plan/99", "waitplan -- plan/3"])


class IdentityTests(unittest.TestCase):
    def test_from_the_environment(self):
        env = {"CHAQUM_IDENT": "init/5", "CHAQUM_PARENT": "init", "CHAQUM_GROUP": "g", "CHAQUM_SLOT": "2",
               "CHAQUM_ATTEMPT": "3", "CHAQUM_TREE": "/t"}
        with mock.patch.dict(os.environ, env):
            me = chaqum.identity()
        self.assertEqual((me.id, me.parent, me.group, me.slot, me.attempt, me.tree, me.job),
                         ("init/5", Job("init"), "g", 2, 3, "/t", Job("init/5")))

    def test_entry_job(self):
        with mock.patch.dict(os.environ, {"CHAQUM_IDENT": "init"}):
            for k in ("CHAQUM_PARENT", "CHAQUM_GROUP", "CHAQUM_SLOT", "CHAQUM_ATTEMPT"):
                os.environ.pop(k, None)
            me = chaqum.identity()
        self.assertEqual((me.id, me.parent, me.group, me.slot, me.attempt), ("init", None, None, None, 1))


class ConnectionTests(unittest.TestCase):
    def test_threads_get_their_own_replies(self):
        def respond(line, body):
            words = line.split()
            if words[0] == "enqueue":
                return "S %s/%s" % (words[-2], words[-1])
            return "S %s %s" % (words[-1], words[-1].split("/")[1])

        failures = []

        def worker(n):
            for i in range(40):
                code = str(n * 1000 + i)
                job = chaqum.enqueue("exiter", code)
                status = job.wait()
                if job.id != "exiter/" + code or status.exit_code != int(code):
                    failures.append((code, job, status))

        with FakeDaemon(responder=respond) as d:
            threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        self.assertEqual(failures, [])
        self.assertEqual(len(d.lines), 8 * 40 * 2)

    def test_an_interrupted_call_does_not_shift_the_replies(self):
        class Interrupted(Exception):
            pass

        def interrupt(signum, frame):
            raise Interrupted()

        previous = signal.signal(signal.SIGALRM, interrupt)
        try:
            with FakeDaemon(None) as d:  # the wait is not answered until later
                signal.setitimer(signal.ITIMER_REAL, 0.2)
                with self.assertRaises(Interrupted):
                    chaqum.wait("slow/1")
                d.reply("S slow/1 0")  # the late reply to the interrupted wait
                d.reply("S fast/2")
                self.assertEqual(chaqum.enqueue("fast").id, "fast/2")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        self.assertEqual(d.lines, ["wait -a -- slow/1", "enqueue -- fast"])

    def test_daemon_gone(self):
        with FakeDaemon("S") as d:
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, d.rep_r)  # the reply pipe is now at EOF
            os.close(null)
            with self.assertRaises(ChaqumError) as caught:
                chaqum.wait()
        self.assertIn("closed the reply pipe", caught.exception.reason)

    def test_non_utf8_argument_is_refused_before_sending(self):
        with FakeDaemon() as d:
            with self.assertRaises(ChaqumError):
                chaqum.enqueue("w", os.fsdecode(b"\xff"))
        self.assertEqual(d.lines, [])


if __name__ == "__main__":
    unittest.main()
