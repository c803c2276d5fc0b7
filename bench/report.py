#!/usr/bin/env python3
"""report.py RESULTS STAMPS_CHAQUM STAMPS_BASELINE: the table of bench/run.

RESULTS has "KEY VALUE..." lines written by the jobs and by bench/run; the stamp files
have "S ns" / "E ns" lines of jobs run one after the other. Throughputs are the best of
the repetitions on both sides (other work on the machine only ever slows a run down);
latencies are medians."""
import statistics
import sys
from collections import defaultdict

results, stamps_chaqum, stamps_base = sys.argv[1:4]
r = defaultdict(list)
threads = defaultdict(list)   # mode -> [(thread name, ns, user ticks, sys ticks)]
for line in open(results):
    key, *values = line.split()
    if key == "threads":
        mode, name, ns, user, system = values
        threads[mode].append((name, int(ns), int(user), int(system)))
        continue
    r[key].append([int(v) for v in values])


def cpu_per(key, unit_ns, unit):
    """The daemon's CPU time per item (all threads), best of the repetitions: " (daemon
    CPU 120 µs/job)"."""
    rows = r.get(key)
    if not rows:
        return ""
    best = min(ns / count for count, *_, ns in rows)
    return f" (daemon CPU {best / unit_ns:,.1f} {unit})"


def best_rate(key):
    """Items per second: the best of the repetitions of "KEY COUNT NS"."""
    rows = r.get(key)
    return max(count / (ns / 1e9) for count, *_, ns in rows) if rows else None


def handovers(path):
    """Gaps from each job's end (E) to the next job's start (S), in ms."""
    stamps = [line.split() for line in open(path)]
    gaps = []
    for (kind_a, a), (kind_b, b) in zip(stamps, stamps[1:]):
        if kind_a == "E" and kind_b == "S":
            gaps.append((int(b) - int(a)) / 1e6)
    return gaps


rows = []


def row(figure, value, baseline, ratio, target, met):
    rows.append((figure, value, baseline, ratio, target, met))


def fmt_rate(x, unit="/s"):
    return "-" if x is None else f"{x:,.0f}{unit}"


def check(ok):
    return "-" if ok is None else ("yes" if ok else "NO")


def ratio_of(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(x):
    return "-" if x is None else f"{x:.2f}"


# spawn
spawn, base_spawn = best_rate("spawn"), best_rate("base_spawn")
n = r["spawn"][0][0] if r["spawn"] else 0
q = ratio_of(spawn, base_spawn)
row(f"spawn: {n} sh jobs, 64 in flight", fmt_rate(spawn, " jobs/s") + cpu_per("cpu_spawn", 1e3, "µs/job"), fmt_rate(base_spawn, " jobs/s") + " C posix_spawn",
    fmt_ratio(q), ">= 0.80", check(None if q is None else q >= 0.80))

# round trips
c_rt, base_rt = best_rate("c_roundtrips"), best_rate("base_roundtrips")
q = ratio_of(c_rt, base_rt)
row("round trips: C job", fmt_rate(c_rt) + cpu_per("cpu_roundtrip", 1e3, "µs each"), fmt_rate(base_rt) + " C ping-pong", fmt_ratio(q), ">= 0.70",
    check(None if q is None else q >= 0.70))
for name, key in [("Python", "python_roundtrips"), ("Perl", "perl_roundtrips"), ("sh", "sh_roundtrips"), (".NET", "dotnet_roundtrips")]:
    v = best_rate(key)
    row(f"round trips: {name} client", fmt_rate(v), fmt_rate(c_rt) + " C job", fmt_ratio(ratio_of(v, c_rt)), "-", "-")

# enqueue rate: the best of the repetitions for each stretch
first = min(r["enqueue_first"], key=lambda x: x[1]) if r["enqueue_first"] else None
last = min(r["enqueue_last"], key=lambda x: x[2]) if r["enqueue_last"] else None
rate_small = first[0] / (first[1] / 1e9) if first else None
rate_big = last[0] / (last[2] / 1e9) if last else None
small = first[0] if first else 0
big = last[1] if last else 0
row(f"enqueue rate: 0 to {small:,} queued", fmt_rate(rate_small) + cpu_per("cpu_enqueue", 1e3, "µs each"), fmt_rate(c_rt) + " C job round trips",
    fmt_ratio(ratio_of(rate_small, c_rt)), "-", "-")
q = ratio_of(rate_big, rate_small)
row(f"enqueue rate: {big - small:,} to {big:,} queued", fmt_rate(rate_big) + cpu_per("cpu_enqueue_last", 1e3, "µs each"), fmt_rate(rate_small) + f" at 0 to {small:,}",
    fmt_ratio(q), ">= 0.80", check(None if q is None else q >= 0.80))

# memory
mb = lambda kb: f"{kb / 1024:.1f} MB"
# memory: the median of the repetitions
idle = statistics.median(kb for kb, in r["rss_idle_kb"]) if r["rss_idle_kb"] else None
by_count = defaultdict(list)
for count, kb in r["rss_queued_kb"]:
    by_count[count].append(kb)
queued = {count: statistics.median(kbs) for count, kbs in by_count.items()}
if idle is not None:
    row("daemon RSS: idle", mb(idle), "-", "-", "< 30 MB", check(idle < 30 * 1024))
if small in queued:
    row(f"daemon RSS: {small:,} queued", mb(queued[small]), mb(idle) + " idle", fmt_ratio(queued[small] / idle),
        "< 40 MB" if small == 10000 else "-", check(queued[small] < 40 * 1024) if small == 10000 else "-")
if big in queued:
    row(f"daemon RSS: {big:,} queued", mb(queued[big]), mb(idle) + " idle", fmt_ratio(queued[big] / idle), "-", "-")
if small in queued and idle is not None:
    per = (queued[small] - idle) * 1024 / small
    row(f"bytes per queued job (idle to {small:,})", f"{per:,.0f} B", "-", "-", "<= 2048 B", check(per <= 2048))
if small in queued and big in queued:
    per = (queued[big] - queued[small]) * 1024 / (big - small)
    row(f"bytes per queued job ({small:,} to {big:,})", f"{per:,.0f} B", "-", "-", "<= 2048 B", check(per <= 2048))
for k, kb in r["rss_running_kb"]:
    row(f"daemon RSS: {k:,} jobs running sleep", mb(kb), mb(idle) + " idle" if idle else "-",
        fmt_ratio(kb / idle) if idle else "-", "-", "-")

# start-up: medians, each next to the medians of /bin/true and `tsp -h` timed between its runs
def median_ms(key):
    return statistics.median(ns for ns, in r[key]) / 1e6 if r[key] else None


true_ms, tsp_ms = median_ms("base_true_ns"), median_ms("base_tsp_ns")
for key, figure, target_ms in [("startup_ns", "start-up: chaqum TREE to first answer", 50),
                               ("ctl_ps_ns", "start-up: chaqumctl ps, daemon running", 20)]:
    v = median_ms(key)
    if v is None:
        continue
    baseline = "-" if tsp_ms is None else f"{tsp_ms:.1f} ms tsp -h, {true_ms:.1f} ms /bin/true"
    row(figure, f"{v:.1f} ms", baseline, fmt_ratio(ratio_of(v, tsp_ms)), f"< {target_ms} ms", check(v < target_ms))

# start-up with jobs to resume: medians, against the same start with nothing to resume
none_ms, kept_ms = median_ms("resume_none_ns"), median_ms("resume_kept_ns")
if kept_ms is not None and none_ms is not None:
    resumed = max(n for n, in r["resumed_count"]) if r["resumed_count"] else 0
    row(f"start-up: to first answer with {resumed:,} queued jobs to resume", f"{kept_ms:.0f} ms",
        f"{none_ms:.0f} ms with none to resume", fmt_ratio(ratio_of(kept_ms, none_ms)), "< 2000 ms", check(kept_ms < 2000))

# hand-over
gaps, base_gaps = handovers(stamps_chaqum), handovers(stamps_base)
if gaps and base_gaps:
    m, bm = statistics.median(gaps), statistics.median(base_gaps)
    p90 = statistics.quantiles(gaps, n=10)[-1]
    row(f"slot hand-over: exit to next spawn (median of {len(gaps)})", f"{m:.3f} ms (p90 {p90:.3f})",
        f"{bm:.3f} ms C parent", fmt_ratio(m / bm), "< 1 ms", check(m < 1))

# log
log, base_log = best_rate("log"), best_rate("base_log")
if log:
    q = ratio_of(log, base_log)
    size = r["log"][0][0] / 1e6
    row(f"log: {size:.0f} MB of 60-byte lines", fmt_rate(log / 1e6, " MB/s") + cpu_per("cpu_log", 1e-3, "ms/GB"), fmt_rate(base_log / 1e6, " MB/s") + " cat to a file",
        fmt_ratio(q), ">= 0.50", check(None if q is None else q >= 0.50))

# plans: daemon CPU for the same work as a plan and as -a enqueues (medians)
if r["cpu_plan"] and r["cpu_deps"]:
    plan_ms = statistics.median(ns for _, ns in r["cpu_plan"]) / 1e6
    deps_ms = statistics.median(ns for _, ns in r["cpu_deps"]) / 1e6
    steps = r["cpu_plan"][0][0]
    q = plan_ms / deps_ms
    row(f"plan of {steps:,} steps (parallel groups in sequence): daemon CPU", f"{plan_ms:,.0f} ms",
        f"{deps_ms:,.0f} ms the same jobs enqueued with -a by a C job", fmt_ratio(q), "<= 1.20", check(q <= 1.20))

if len(sys.argv) > 4:
    # Where the daemon's time went, per figure and thread (for docs/performance.md).
    with open(sys.argv[4], "w") as f:
        for mode, rows_ in threads.items():
            total = sum(ns for _, ns, _, _ in rows_)
            f.write(f"{mode}: daemon CPU {total / 1e6:.0f} ms\n")
            merged = defaultdict(lambda: [0, 0, 0])
            for name, ns, user, system in rows_:
                m = merged[name]
                m[0] += ns; m[1] += user; m[2] += system
            for name, (ns, user, system) in sorted(merged.items(), key=lambda kv: -kv[1][0]):
                if ns >= total / 50:
                    f.write(f"  {name:<16} {ns / 1e6:8.0f} ms  (user {user * 10} ms, system {system * 10} ms)\n")

header = ("figure", "value", "baseline (same run)", "ratio", "target", "met?")
widths = [max(len(str(x[i])) for x in rows + [header]) for i in range(6)]
line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
print(line(header))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for x in rows:
    print(line(x))
