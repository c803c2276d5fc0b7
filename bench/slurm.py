#!/usr/bin/env python3
"""bench/slurm.py OUT [--quick]: the Slurm executor's figures (docs/performance.md,
"The Slurm executor").

Run by bench/slurm, which builds OUT/chaqum (the daemon, with shim/chaqum-shim beside
it), OUT/stamp and OUT/rtt, holds the loopback cluster (a shared lock on its users file)
and sets SLURM_CONF. Every figure is a ratio against a baseline measured in the same
run, on the same cluster and partition, in rounds that alternate the two sides:

1. Spawn to exit of a trivial job, one after another: a job of a group `-x slurm:P -m 1`
   (enqueue to the wait's answer) against `srun -N1 -n1 -p P stamp FILE` (fork to
   waitpid), both timed by the entry job, which alternates them job by job with `srun -u
   ... chaqum-shim stamp FILE` as the daemon runs it but without the daemon, and with
   the same job in a local group, and with a step in an existing allocation (`salloc
   --no-shell`, timed apart, then `srun --jobid`). The job is bench/jobs/stamp.c, which
   stamps CLOCK_MONOTONIC when it starts and just before it exits, so that each latency
   splits into "to the job's start" and "after the job's end". Beside them, to say where
   the time goes: the interpreter the shim starts with (`python3 -c pass`, the python3
   of PATH) and the shim run locally.
2. N in flight: K jobs through a group `-x slurm:P -m N`, against K sruns with N in
   flight; jobs per second, best of the rounds.
3. The fd 3/4 round trip (`wait --`, a ping) of bench/jobs/rtt.c as a job of a Slurm
   group, against the same program as a job of a local group of the same daemon; and a
   line echoed by `srun -u cat` (srun's I/O forwarding alone, no shim, no daemon).

The daemon's CPU per job (all its threads, /proc/PID/task/*/schedstat) and the CPU of
the sruns it reaped (/proc/PID/stat cutime+cstime) are read by the entry job around
the measured stretch; the baseline sruns' CPU from getrusage(RUSAGE_CHILDREN).
"""
import concurrent.futures, os, resource, shutil, statistics, subprocess, sys, tempfile, time

out = sys.argv[1]
quick = "--quick" in sys.argv
reps = 1 if quick else 3
seq_k = 4 if quick else 10
flight_k = 12 if quick else 24
flights = (4, 8)
rtt_m = 300 if quick else 2000
partition = os.environ.get("CHAQUM_BENCH_PARTITION", "main")
chaqum = os.path.join(out, "chaqum", "chaqum")
shim = os.path.join(out, "chaqum", "shim", "chaqum-shim")
hz = os.sysconf("SC_CLK_TCK")
DEVNULL, PIPE = subprocess.DEVNULL, subprocess.PIPE

tmp = tempfile.mkdtemp(prefix="chaqum-bench-slurm.", dir="/tmp")
tree = os.path.join(tmp, "tree")
results = os.path.join(tmp, "results")
log = open(os.path.join(out, "daemon.log"), "w")
srun_log = open(os.path.join(out, "srun.log"), "w")   # the baselines' srun messages ("queued and waiting...")
os.makedirs(tree)
for name in ("stamp", "rtt"):
    shutil.copy(os.path.join(out, name), tree)
stamp = os.path.join(tree, "stamp")
open(results, "w").close()


def say(text):
    print(text, file=sys.stderr, flush=True)


# The entry job: drives the daemon through fds 3/4 and times from inside.
#   init seq K PARTITION STAMPS SHIM    K rounds, one after another, of: a stamp job of a
#                                       Slurm group, the same as a local group's job, and
#                                       (run by this job itself) srun -N1 -n1 stamp and
#                                       srun -u ... SHIM stamp, and salloc + srun --jobid
#                                       stamp, in an order that rotates
#   init flight LABEL EXECUTOR K N      K stamp jobs, N in flight, waited for at once
#   init rtt EXECUTOR M                 rtt M as a job of a local group, then of EXECUTOR's
INIT = r'''#!%s
import os, sys, time
w = os.fdopen(3, "w"); r = os.fdopen(4)
daemon = os.getppid()

def ask(command):
    w.write(command + "\n"); w.flush()
    reply = r.readline().rstrip("\n")
    if not reply.startswith("S"):
        sys.exit("init: %%r answered %%r" %% (command, reply))
    return reply[1:].split()

def daemon_ns():
    total = 0
    for t in os.listdir("/proc/%%d/task" %% daemon):
        try:
            with open("/proc/%%d/task/%%s/schedstat" %% (daemon, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total

def reaped_ticks():
    with open("/proc/%%d/stat" %% daemon) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[13]) + int(fields[14])

def result(line):
    with open(os.environ["BENCH_RESULTS"], "a") as f:
        f.write(line + "\n")

def run(group, script):
    (job,) = ask("enqueue -g %%s -- %%s" %% (group, script))
    _, status = ask("wait -- " + job)
    if status != "0":
        sys.exit("init: %%s ended with %%s" %% (script, status))

mode = sys.argv[1]
if mode == "seq":
    import re, resource, subprocess
    hz = os.sysconf("SC_CLK_TCK")
    k, partition, stamps, shim = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    ask("group -m 1 -x slurm:%%s -- slurm" %% partition)
    ask("group -m 1 -x local -- local")
    srun = ["srun", "-N1", "-n1", "-p", partition]
    def daemon_job(group):
        # The daemon does nothing else meanwhile: its CPU and what it reaped are this job's.
        cpu, reaped = daemon_ns(), reaped_ticks()
        run(group, "stamp %%s.%%s" %% (stamps, group))
        result("seq_cpu %%s %%d %%d" %% (group, daemon_ns() - cpu, (reaped_ticks() - reaped) * 10**9 // hz))
    def children_ns():
        u = resource.getrusage(resource.RUSAGE_CHILDREN)
        return int((u.ru_utime + u.ru_stime) * 1e9)
    def srun_plain():
        ch = children_ns()
        subprocess.run(srun + [os.path.abspath("stamp"), stamps + ".srun"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, check=True)
        result("seq_cpu srun 0 %%d" %% (children_ns() - ch))
    def srun_shim():
        # As the daemon runs it: stdin a pipe, held open until stdout ends.
        p = subprocess.Popen(srun + ["-u", "--", shim, os.path.abspath("stamp"), stamps + ".shim"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        while p.stdout.read(65536):
            pass
        p.stdin.close()
        if p.wait() != 0:
            sys.exit("init: srun -u shim ended with %%d" %% p.returncode)
    def step():
        # An allocation first (timed apart), then the job as a step in it.
        t0 = time.monotonic_ns()
        p = subprocess.run(["salloc", "-N1", "-n1", "-p", partition, "--no-shell"], stdin=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
        result("salloc %%d" %% (time.monotonic_ns() - t0))
        m = re.search(r"Granted job allocation (\d+)", p.stderr)
        if p.returncode != 0 or not m:
            sys.exit("init: salloc: " + p.stderr)
        try:
            t0 = time.monotonic_ns()
            subprocess.run(["srun", "--jobid=" + m.group(1), "-N1", "-n1", os.path.abspath("stamp"), stamps + ".step"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=True)
            result("seq step %%d %%d" %% (t0, time.monotonic_ns()))
        finally:
            subprocess.run(["scancel", m.group(1)])
    kinds = [("slurm", lambda: daemon_job("slurm")), ("srun", srun_plain),
             ("shim", srun_shim), ("local", lambda: daemon_job("local")), ("step", step)]
    for _ in range(3):
        run("slurm", "stamp /dev/null")   # untimed: the first of their kind (a JIT build compiles then)
    for i in range(k):
        for name, do in kinds[i %% 5:] + kinds[:i %% 5]:
            t0 = time.monotonic_ns()
            do()
            if name != "step":
                result("seq %%s %%d %%d" %% (name, t0, time.monotonic_ns()))
elif mode == "flight":
    label, executor, k, n = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    ask("group -m %%d -x %%s -- g" %% (n, executor))
    for _ in range(3):
        run("g", "stamp /dev/null")
    cpu, reaped = daemon_ns(), reaped_ticks()
    t0 = time.monotonic_ns()
    jobs = [ask("enqueue -g g -- stamp /dev/null")[0] for _ in range(k)]
    reply = ask("wait -- " + " ".join(jobs))
    elapsed = time.monotonic_ns() - t0
    if reply[1::2] != ["0"] * k:
        sys.exit("init: not every job ended with 0: %%s" %% reply)
    result("flight %%s %%d %%d %%d %%d %%d" %% (label, n, k, elapsed, daemon_ns() - cpu, reaped_ticks() - reaped))
elif mode == "rtt":
    executor, m = sys.argv[2], int(sys.argv[3])
    ask("group -m 1 -- l")
    ask("group -m 1 -x %%s -- s" %% executor)
    for group, tag in (("l", "local"), ("s", "slurm")):
        run(group, "rtt warm 100")   # untimed: the spawn, the first commands
        cpu = daemon_ns()
        run(group, "rtt %%s %%d" %% (tag, m))
        result("rtt_cpu %%s %%d %%d" %% (tag, m, daemon_ns() - cpu))
''' % sys.executable
with open(os.path.join(tree, "init"), "w") as f:
    f.write(INIT)
os.chmod(os.path.join(tree, "init"), 0o755)


def daemon(*args):
    """One daemon run on a fresh state directory, the entry job doing the measuring."""
    state = tempfile.mkdtemp(dir=tmp)
    env = dict(os.environ, BENCH_RESULTS=results)
    p = subprocess.run([chaqum, "--state-dir", state, "--control", os.path.join(state, "control.sock"), tree, *args],
                       stdin=DEVNULL, stdout=log, stderr=log, env=env, timeout=1800)
    if p.returncode != 0:
        raise SystemExit(f"bench/slurm: chaqum {' '.join(args)} ended with {p.returncode}; see {log.name}")


def srun(*args):
    return ["srun", "-N1", "-n1", "-p", partition, *args]


def stamps_of(path):
    """(start, end) of each stamp job, in order."""
    lines = [line.split() for line in open(path)] if os.path.exists(path) else []
    return [(int(s[1]), int(e[1])) for s, e in zip(lines[0::2], lines[1::2])]


def tunnel(argv):
    """Runs argv as the daemon runs srun: stdin a pipe held open until stdout ends."""
    p = subprocess.Popen(argv, stdin=PIPE, stdout=PIPE, stderr=srun_log)
    while p.stdout.read(65536):
        pass
    p.stdin.close()
    if p.wait(timeout=120) != 0:
        raise SystemExit(f"bench/slurm: {' '.join(argv)} ended with {p.returncode}")


def plain(argv):
    subprocess.run(argv, stdin=DEVNULL, stdout=DEVNULL, stderr=srun_log, check=True, timeout=120)


def children_ns():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return int((u.ru_utime + u.ru_stime) * 1e9)


lat = {}      # label -> [(t0, start, end, t1)] in ns (start/end None when not stamped)
cpu = {}      # label -> [(jobs, daemon ns, srun ns)]
rate = {}     # (label, n) -> [jobs per second]
rtt = {}      # label -> [median ns]
rtt_cpu = {}  # label -> [daemon ns per round trip]


def seq_here(label, run, k):
    """k runs of run(stamps) one after another, timed here."""
    stamps = os.path.join(tmp, f"stamps-{label}-{time.monotonic_ns()}")
    times = []
    ch = children_ns()
    for _ in range(k):
        t0 = time.monotonic_ns()
        run(stamps)
        times.append((t0, time.monotonic_ns()))
    cpu.setdefault(label, []).append((k, 0, children_ns() - ch))
    marks = stamps_of(stamps) or [(None, None)] * k   # not a stamp job: no split
    lat.setdefault(label, []).extend((t0, s, e, t1) for (t0, t1), (s, e) in zip(times, marks))


def seq_chaqum(k):
    """The entry job's rounds: a Slurm group's job, a local group's, srun, srun -u + shim,
    a step in an allocation."""
    stamps = os.path.join(tmp, f"stamps-{time.monotonic_ns()}")
    before = len(open(results).readlines())
    daemon("seq", str(k), partition, stamps, shim)
    lines = [l.split() for l in open(results).readlines()[before:]]
    lat.setdefault("salloc", []).extend((0, None, None, int(l[1])) for l in lines if l[0] == "salloc")
    for label, chaqum_label in (("slurm", "chaqum"), ("srun", "srun"), ("shim", "shim"), ("local", "local"), ("step", "step")):
        times = [(int(l[2]), int(l[3])) for l in lines if l[0] == "seq" and l[1] == label]
        marks = stamps_of(f"{stamps}.{label}")
        lat.setdefault(chaqum_label, []).extend((t0, s, e, t1) for (t0, t1), (s, e) in zip(times, marks))
        for l in lines:
            if l[0] == "seq_cpu" and l[1] == label:
                cpu.setdefault(chaqum_label, []).append((1, int(l[2]), int(l[3])))


def flight_here(label, run, k, n):
    """k runs of run(), n at a time (a thread each waits for its process)."""
    t0 = time.monotonic_ns()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        for f in [pool.submit(run) for _ in range(k)]:
            f.result()
    rate.setdefault((label, n), []).append(k / ((time.monotonic_ns() - t0) / 1e9))


def flight_chaqum(k, n):
    before = len(open(results).readlines())
    daemon("flight", "chaqum", f"slurm:{partition}", str(k), str(n))
    for l in open(results).readlines()[before:]:
        l = l.split()
        if l[0] == "flight":
            rate.setdefault(("chaqum", n), []).append(int(l[3]) / (int(l[4]) / 1e9))
            cpu.setdefault(f"flight{n}", []).append((int(l[3]), int(l[5]), int(l[6]) * 1_000_000_000 // hz))


def rtt_echo(m):
    """A line through `srun -u cat` and back: srun's I/O forwarding alone."""
    p = subprocess.Popen(srun("-u", "--", "cat"), stdin=PIPE, stdout=PIPE, stderr=srun_log, bufsize=0)
    fin, fout = p.stdin.fileno(), p.stdout.fileno()
    buf = b""
    each = []
    for i in range(50 + m):
        t = time.monotonic_ns()
        os.write(fin, b"wait --\n")
        while b"\n" not in buf:
            chunk = os.read(fout, 65536)
            if not chunk:
                raise SystemExit("bench/slurm: srun cat ended early")
            buf += chunk
        buf = buf.split(b"\n", 1)[1]
        if i >= 50:
            each.append(time.monotonic_ns() - t)
    p.stdin.close()
    p.wait(timeout=60)
    each.sort()
    rtt.setdefault("echo", []).append((each[len(each) // 2], each[len(each) * 9 // 10]))


def rtt_chaqum(m):
    before = len(open(results).readlines())
    daemon("rtt", f"slurm:{partition}", str(m))
    for l in open(results).readlines()[before:]:
        l = l.split()
        if l[0] in ("rtt_local", "rtt_slurm"):
            rtt.setdefault(l[0][4:], []).append((int(l[3]), int(l[4])))
        elif l[0] == "rtt_cpu":
            rtt_cpu.setdefault(l[1], []).append(int(l[3]) / int(l[2]))


load = [open("/proc/loadavg").read().split()[:3]]
python3 = shutil.which("python3") or "python3"
try:
    say("slurm: warming up (one srun)...")
    plain(srun(stamp, "/dev/null"))
    for r in range(reps):
        say(f"slurm: round {r + 1}/{reps}: {seq_k} jobs one after another, each way...")
        seq_chaqum(seq_k)
        seq_here("python", lambda stamps: plain([python3, "-c", "pass"]), seq_k)
        seq_here("shimlocal", lambda stamps: tunnel([shim, stamp, stamps]), seq_k)
        for n in flights:
            say(f"slurm: round {r + 1}/{reps}: {flight_k} jobs, {n} in flight, each way...")
            flight_here("srun", lambda: plain(srun(stamp, "/dev/null")), flight_k, n)
            flight_chaqum(flight_k, n)
            flight_here("shim", lambda: tunnel(srun("-u", "--", shim, stamp, "/dev/null")), flight_k, n)
        say(f"slurm: round {r + 1}/{reps}: {rtt_m} round trips from a local and a Slurm job, and through srun cat...")
        rtt_chaqum(rtt_m)
        rtt_echo(rtt_m)
    load.append(open("/proc/loadavg").read().split()[:3])
finally:
    shutil.rmtree(tmp, ignore_errors=True)


def med(label, part):
    """Median in ms: part 'all' (t1-t0), 'start' (s-t0), 'end' (t1-e)."""
    rows = lat.get(label, [])
    pick = {"all": lambda t0, s, e, t1: t1 - t0, "start": lambda t0, s, e, t1: s - t0,
            "end": lambda t0, s, e, t1: t1 - e}[part]
    vals = [pick(*row) for row in rows if part == "all" or row[1] is not None]
    return statistics.median(vals) / 1e6 if vals else float("nan")


def p90(label):
    vals = sorted(t1 - t0 for t0, s, e, t1 in lat.get(label, []))
    return vals[len(vals) * 9 // 10] / 1e6 if vals else float("nan")


def per_job(label):
    rows = cpu.get(label, [])
    jobs = sum(r[0] for r in rows) or 1
    return sum(r[1] for r in rows) / jobs / 1e3, sum(r[2] for r in rows) / jobs / 1e6


table = []


def row(figure, value, baseline, ratio):
    table.append((figure, value, baseline, ratio))


def split(label):
    return f"{med(label, 'all'):.0f} ms (start {med(label, 'start'):.0f} + end {med(label, 'end'):.0f})"


base = med("srun", "all")
d_us, srun_ms = per_job("chaqum")
_, base_srun_ms = per_job("srun")
row("spawn to exit, one after another: Slurm group", split("chaqum") + f", p90 {p90('chaqum'):.0f}",
    split("srun") + " srun -N1 -n1", f"{med('chaqum', 'all') / base:.2f} (+{med('chaqum', 'all') - base:.0f} ms)")
row("  CPU per job on the daemon's machine", f"daemon {d_us:,.0f} µs, its srun {srun_ms:.0f} ms",
    f"srun {base_srun_ms:.0f} ms", "-")
row("  srun -u + shim, no daemon", split("shim"), "srun -N1 -n1",
    f"{med('shim', 'all') / base:.2f} (+{med('shim', 'all') - base:.0f} ms)")
row("  salloc --no-shell, then a step with srun --jobid", f"{med('salloc', 'all'):.0f} ms + " + split("step"),
    "srun -N1 -n1", f"{med('step', 'all') / base:.2f} (step)")
row(f"  {python3} -c pass / the shim run locally", f"{med('python', 'all'):.0f} ms / {med('shimlocal', 'all'):.0f} ms",
    "srun -N1 -n1", f"{med('shimlocal', 'all') / base:.2f} (shim)")
d_local, _ = per_job("local")
row("  the same job in a local group", split("local") + f", daemon {d_local:,.0f} µs", "srun -N1 -n1",
    f"{med('local', 'all') / base:.3f}")
for n in flights:
    c, s, h = (max(rate.get((k, n), [0])) for k in ("chaqum", "srun", "shim"))
    fd_us, fsrun_ms = per_job(f"flight{n}")
    row(f"{flight_k} jobs, {n} in flight: Slurm group", f"{c:.2f} jobs/s (daemon {fd_us:,.0f} µs/job)",
        f"{s:.2f} jobs/s srun -N1 -n1", f"{c / s:.2f}" if s else "-")
    row(f"  srun -u + shim, {n} in flight, no daemon", f"{h:.2f} jobs/s", f"{s:.2f} jobs/s srun -N1 -n1",
        f"{h / s:.2f}" if s else "-")
def rtt_us(label):
    """(median, p90) in µs: the median over the rounds of each round's."""
    rows = rtt.get(label) or [(float("nan"), float("nan"))]
    return statistics.median(r[0] for r in rows) / 1e3, statistics.median(r[1] for r in rows) / 1e3


(lr, lp), (sr, sp), (er, ep) = (rtt_us(k) for k in ("local", "slurm", "echo"))
lc, sc = (statistics.median(rtt_cpu.get(k, [float("nan")])) / 1e3 for k in ("local", "slurm"))
row("fd 3/4 round trip (wait --), median: Slurm job", f"{sr:,.0f} µs (p90 {sp:,.0f}; daemon {sc:.1f} µs)",
    f"{lr:,.1f} µs local job (p90 {lp:,.1f}; daemon {lc:.1f} µs)", f"{sr / lr:.1f}")
row("  a line through srun -u cat and back", f"{er:,.0f} µs (p90 {ep:,.0f})", f"{lr:,.1f} µs local job", f"{er / lr:.1f}")

widths = [max(len(str(r[i])) for r in table + [("figure", "value", "baseline (same run)", "ratio")]) for i in range(4)]
print(f"machine: {os.cpu_count()} cores; load average at the start {' '.join(load[0])}, at the end {' '.join(load[-1])}"
      + (" (quick run: reduced sizes)" if quick else ""))
print(f"cluster: SLURM_CONF={os.environ.get('SLURM_CONF')}, partition {partition}; python3 on PATH: {python3}")
print(f"sizes: {reps} round(s) of {seq_k} jobs one after another per kind, {flight_k} jobs per in-flight run, {rtt_m} round trips")
print()
for r in [("figure", "value", "baseline (same run)", "ratio")] + table:
    print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
