#!/usr/bin/env python3
"""bench/web.py OUT: the dashboard's figures (docs/performance.md, "The dashboard").

Runs the built chaqum, chaqumctl and chaqum-web (OUT/chaqum, published by bench/web)
on a temporary tree and prints ratios measured in the same run:

1. 100 000 queued jobs: time to first byte of the jobs page and of /api/jobs (a page
   of 50, paged by the daemon), next to `chaqumctl ps --json` (all of them).
2. An idle night: the daemon's CPU time over a quiet window without chaqum-web, and
   with chaqum-web and ten browser tabs (SSE /live/events) open.
3. Ten browsers following a chatty job's output (/live/output/ID): the daemon's protocol
   round trip (a job's `wait --` ping) with them, against without them, the chatty job
   running in both.
"""
import json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

out = sys.argv[1]
quick = "--quick" in sys.argv
queued = 20000 if quick else 100000
pings = 1000 if quick else 5000
reps = 1 if quick else 3
dotnet = shutil.which("dotnet")
tmp = tempfile.mkdtemp(prefix="chaqum-bench-web-")
tree, state = os.path.join(tmp, "tree"), os.path.join(tmp, "state")
os.makedirs(tree)
procs = []


def script(name, body):
    path = os.path.join(tree, name)
    with open(path, "w") as f:
        f.write(body)
    os.chmod(path, 0o755)


def start(args, **kw):
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kw)
    procs.append(p)
    return p


def wait_for(cond, what, limit=600):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise SystemExit(f"bench/web: timed out waiting for {what}")


def ctl(*args):
    return subprocess.run([dotnet, f"{out}/chaqum/chaqumctl.dll", "-t", tree, "--state-dir", state, *args],
                          capture_output=True, text=True, check=True).stdout


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def ttfb(url):
    t = time.perf_counter()
    with urllib.request.urlopen(url) as r:
        r.read(1)
        first = time.perf_counter() - t
        r.read()
    return first


# init: enqueues N held jobs (held: nothing runs), then waits for the stop file.
script("noop", "#!/bin/sh\nexit 0\n")
script("init", f"""#!/usr/bin/env python3
import os
w = os.fdopen(3, "w"); r = os.fdopen(4)
for i in range({queued}):
    w.write("enqueue -H -g pile -- noop %d\\n" % i); w.flush(); r.readline()
open("queued", "w").close()
while not os.path.exists("stop"):
    import time; time.sleep(0.2)
""")
script("chatty", "#!/bin/sh\nwhile [ ! -e stop-chatty ]; do echo 'a line of output, about sixty characters long, again and again'; done\n")
script("ping", f"""#!/usr/bin/env python3
import os, time
w = os.fdopen(3, "w"); r = os.fdopen(4)
t = time.perf_counter()
for i in range({pings}):
    w.write("wait --\\n"); w.flush(); r.readline()
print("ROUNDTRIP_NS", int((time.perf_counter() - t) / {pings} * 1e9))
""")

daemon = start([dotnet, f"{out}/chaqum/chaqum.dll", "--state-dir", state, "--grace", "2", tree],
               stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "daemon.log"), "w"), cwd=tree)
try:
    wait_for(lambda: os.path.exists(os.path.join(tree, "queued")), f"{queued} queued jobs")
    port_sock = socket.socket(); port_sock.bind(("127.0.0.1", 0)); port = port_sock.getsockname()[1]; port_sock.close()
    base = f"http://127.0.0.1:{port}"

    # 2 (first part): the daemon alone, idle.
    window = 5 if quick else 20
    before = cpu_ticks(daemon.pid); time.sleep(window); alone = cpu_ticks(daemon.pid) - before

    web = start([dotnet, f"{out}/web/chaqum-web.dll", "-t", tree, "--state-dir", state, "--listen", f"127.0.0.1:{port}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: subprocess.run(["curl", "-sf", "-o", "/dev/null", base + "/api/status"]).returncode == 0, "chaqum-web")

    # 1: time to first byte, best of reps (after one warm-up each).
    def best(f):
        f()
        return min(f() for _ in range(reps))
    page = best(lambda: ttfb(base + "/jobs?state=held"))
    page_last = best(lambda: ttfb(base + f"/jobs?state=held&page={queued // 50}"))
    api = best(lambda: ttfb(base + "/api/jobs?limit=50"))
    def ps():
        t = time.perf_counter(); ctl("ps", "--json"); return time.perf_counter() - t
    psall = best(ps)
    def ps_page():
        t = time.perf_counter(); ctl("ps", "--json", "-s", "running"); return time.perf_counter() - t
    small = best(ps_page)

    # 2 (second part): ten idle tabs on the events stream.
    tabs = [start(["curl", "-sN", base + "/live/events"], stdout=subprocess.DEVNULL) for _ in range(10)]
    time.sleep(2)
    before = cpu_ticks(daemon.pid); time.sleep(window); with_tabs = cpu_ticks(daemon.pid) - before
    for t in tabs:
        t.terminate()

    # 3: round trips with and without ten followers of a chatty job.
    chatty = ctl("enqueue", "--", "chatty").strip()
    def roundtrip():
        return int(ctl("run", "--", "ping").split()[1])
    without = statistics.median(roundtrip() for _ in range(reps))
    path = "/live/output/" + chatty
    followers = [start(["curl", "-sN", base + path], stdout=subprocess.DEVNULL) for _ in range(10)]
    time.sleep(2)
    with_followers = statistics.median(roundtrip() for _ in range(reps))
    for f in followers:
        f.terminate()
    open(os.path.join(tree, "stop-chatty"), "w").close()

    hz = os.sysconf("SC_CLK_TCK")
    print(f"queued jobs                              {queued}")
    print(f"jobs page, first byte (page 1)           {page * 1000:.1f} ms")
    print(f"jobs page, first byte (last page)        {page_last * 1000:.1f} ms")
    print(f"/api/jobs?limit=50, first byte           {api * 1000:.1f} ms")
    print(f"chaqumctl ps --json (all {queued})       {psall * 1000:.1f} ms")
    print(f"chaqumctl ps --json -s running (a few)   {small * 1000:.1f} ms")
    print(f"jobs page / chaqumctl ps --json          {page / psall:.3f}")
    print(f"daemon CPU, idle {window}s, no web        {alone * 1000 / hz:.0f} ms")
    print(f"daemon CPU, idle {window}s, 10 tabs open  {with_tabs * 1000 / hz:.0f} ms")
    print(f"round trip without followers             {without / 1000:.1f} us")
    print(f"round trip with 10 log followers         {with_followers / 1000:.1f} us")
    print(f"with / without                           {with_followers / without:.3f}")
finally:
    open(os.path.join(tree, "stop"), "w").close()
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
