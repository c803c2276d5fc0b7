"""Runs one fuzzing session: builds the tree, starts the daemon on it, watches it while
init keeps the fuzz jobs going, and checks every invariant at the end. Returns a summary
dict whose "violations" list is empty when everything held."""
import glob
import json
import os
import signal
import statistics
import subprocess
import time

import monitor
import tree as treebuilder


def find_daemon(repo):
    """The newest built chaqum.dll under the repository."""
    found = glob.glob(os.path.join(repo, 'src/Chaqum/bin/*/net*/chaqum.dll')) + \
        glob.glob(os.path.join(repo, 'tests/Chaqum.Tests/bin/*/net*/chaqum.dll'))
    if not found:
        raise SystemExit('no chaqum.dll found; build first (dotnet build src/Chaqum) or pass --daemon')
    return max(found, key=os.path.getmtime)


def daemon_command(daemon):
    return ['dotnet', 'exec', daemon] if daemon.endswith('.dll') else [daemon]


def tree_processes(tree):
    """Pids of live processes whose environment names the tree (the daemon's jobs)."""
    marker = ('CHAQUM_TREE=' + tree + '\0').encode()
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open('/proc/%s/environ' % entry, 'rb') as f:
                if marker in f.read():
                    with open('/proc/%s/stat' % entry) as s:
                        if s.read().rsplit(')', 1)[1].split()[0] != 'Z':
                            pids.append(int(entry))
        except OSError:
            pass
    return pids


def run(args):
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    results = os.path.join(work, 'results')
    os.makedirs(os.path.join(results, 'jobs'))
    tree, _ = treebuilder.build(work)
    socket_path = os.path.join(work, 'control.sock')
    env = dict(os.environ)
    for k in list(env):
        if k.startswith('CHAQUM_'):
            del env[k]
    env.update({
        'FUZZ_RESULTS': results, 'FUZZ_SECONDS': str(args.seconds), 'FUZZ_JOBS': str(args.jobs),
        'FUZZ_LINES': str(args.lines), 'FUZZ_SEED': str(args.seed), 'FUZZ_SLACK': str(args.slack),
        'FUZZ_GRACE': '1', 'FUZZ_JOB_SECONDS': str(args.job_seconds), 'PYTHONDONTWRITEBYTECODE': '1',
    })
    command = daemon_command(args.daemon) + [
        '--state-dir', os.path.join(work, 'state'), '--control', socket_path, '--grace', '1', tree]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    watch = monitor.Monitor(process, socket_path, os.path.join(work, 'daemon.log') if args.keep_log else None)
    violations = []
    quiet = {}
    exit_code = None
    try:
        limit = started + args.seconds + args.slack + 180
        quiescent = os.path.join(results, 'quiescent')
        while not os.path.exists(quiescent) and process.poll() is None and time.monotonic() < limit:
            time.sleep(0.2)
        if process.poll() is not None:
            violations.append('the daemon exited during the run with status %s' % process.returncode)
        elif not os.path.exists(quiescent):
            violations.append('init did not finish within %.0fs' % (limit - started))
        else:
            quiet = look_at_quiet_daemon(process.pid, tree, watch.baseline_files, violations)
        watch.pinging = False
        open(os.path.join(results, 'go'), 'w').close()
        exit_code = stop(process, violations)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        watch.finish()
        survivors = tree_processes(tree)
        for pid in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    if survivors:
        violations.append('%d processes of the tree survived the daemon' % len(survivors))
    return summarize(args, work, results, watch, violations, quiet, exit_code, time.monotonic() - started)


def look_at_quiet_daemon(pid, tree, baseline, violations):
    """Everything has ended but init (which waits): descriptors back to what they were
    after start, no zombies."""
    baseline = baseline or 0
    deadline = time.monotonic() + 5
    while True:
        fds = monitor.fd_count(pid)
        zombies = monitor.zombie_children(pid)
        if (fds is not None and not zombies) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    kinds = monitor.fd_kinds(pid)
    pipes = kinds.get('pipe', 0)
    live = len(tree_processes(tree))
    # Each live job holds four pipes (stdout, stderr, fd 3, fd 4); the .NET runtime
    # keeps about eight of its own (signal handling, stdio). The rest (assemblies,
    # SQLite, the log) is about what it was just after start.
    if pipes > 4 * live + 12:
        violations.append('%d pipes open in the quiet daemon with %d job processes alive: %s' % (pipes, live, kinds))
    files = (fds or 0) - pipes
    if fds is None or files > baseline + live + 64:
        violations.append('%d descriptors other than pipes open in the quiet daemon (%d just after start, '
                          '%d job processes): %s' % (files, baseline, live, kinds))
    if zombies:
        violations.append('zombie children of the daemon: %s' % zombies)
    status = monitor.proc_status(pid)
    return {'fds': fds, 'non_pipe_fds_after_start': baseline, 'pipes': pipes, 'job_processes': live,
            'zombies': len(zombies), 'rss_kib': status[0] if status else None}


def stop(process, violations):
    """The daemon exits by itself once init is gone, unless fuzzed repeats or queued jobs
    keep it busy; then SIGTERM must stop it cleanly."""
    try:
        return process.wait(5)
    except subprocess.TimeoutExpired:
        pass
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(60)
    except subprocess.TimeoutExpired:
        violations.append('the daemon did not exit within 60s of SIGTERM')
        return None
    if code != 0:
        violations.append('the daemon exited with status %s after SIGTERM' % code)
    return code


def summarize(args, work, results, watch, violations, quiet, exit_code, elapsed):
    if exit_code not in (0, None):
        violations.append('the daemon exited with status %s' % exit_code)
    for path in sorted(glob.glob(os.path.join(results, 'violation-*.txt'))):
        with open(path) as f:
            violations.append(os.path.basename(path) + ': ' + f.read().strip())
    for path in glob.glob(os.path.join(results, 'ESCAPED-*')):
        violations.append('a script outside the tree ran: ' + path)
    init = load(os.path.join(results, 'init.json')) or {}
    violations += ['init: ' + p for p in init.get('problems', [])]
    for line in watch.bad_lines:
        violations.append('daemon log: ' + line)
    if watch.ping_failures:
        violations.append('%d control-socket pings failed' % watch.ping_failures)

    totals = {}
    jobs = 0
    for path in glob.glob(os.path.join(results, 'jobs', '*.json')):
        stats = load(path)
        if not stats:
            continue
        jobs += 1
        for k, v in stats.items():
            if isinstance(v, (int, float)) and k not in ('seed',):
                totals[k] = max(totals.get(k, 0), v) if k.startswith('max') else totals.get(k, 0) + v
    canary = load(os.path.join(results, 'canary.json')) or {}
    samples = canary.pop('ping_samples', [])
    rss = [s[1] for s in watch.samples]
    fds = [s[2] for s in watch.samples]
    if rss and max(rss) > args.rss_limit_mb * 1024:
        violations.append('daemon RSS peaked at %d MiB (limit %d)' % (max(rss) // 1024, args.rss_limit_mb))
    if fds and max(fds) > args.fd_limit:
        violations.append('daemon descriptors peaked at %d (limit %d)' % (max(fds), args.fd_limit))
    if canary.get('round_trips', 0) == 0:
        violations.append('the canary made no round trip')
    return {
        'seconds': round(elapsed, 1),
        'seed': args.seed,
        'concurrent_jobs': args.jobs,
        'fuzz_jobs_run': init.get('fuzz_jobs', 0),
        'fuzz_job_reports': jobs,
        'fuzz_job_statuses': init.get('statuses', {}),
        'lines': totals.get('lines', 0),
        'frames': totals.get('frames', 0),
        'replies': {k: totals.get(k, 0) for k in ('S', 'E', 'T')},
        'bytes_written': totals.get('bytes_out', 0),
        'max_reply_wait_s': round(totals.get('max_reply_wait', 0), 3),
        'canary': {
            'round_trips': canary.get('round_trips', 0),
            'max_round_trip_s': round(canary.get('max_round_trip', 0), 3),
            'ping_p50_ms': round(statistics.median(samples) * 1000, 2) if samples else None,
            'ping_p99_ms': round(sorted(samples)[int(len(samples) * 0.99)] * 1000, 2) if samples else None,
            'ping_max_ms': round(max(samples) * 1000, 2) if samples else None,
        },
        'control_hello': {
            'count': len(watch.pings),
            'max_ms': round(max(watch.pings) * 1000, 1) if watch.pings else None,
        },
        'daemon': {
            'peak_rss_mib': round(max(rss) / 1024, 1) if rss else None,
            # Peak of each quarter of the run: bounded memory levels off.
            'rss_mib_by_quarter': [round(max(rss[i * len(rss) // 4:(i + 1) * len(rss) // 4] or [0]) / 1024, 1)
                                   for i in range(4)] if rss else None,
            'final_rss_mib': round(rss[-1] / 1024, 1) if rss else None,
            'peak_fds': max(fds) if fds else None,
            'peak_threads': max(s[3] for s in watch.samples) if watch.samples else None,
            'quiet': quiet,
            'log_lines': watch.log_lines,
            'log_levels': dict(watch.log_levels),
            'exit_code': exit_code,
        },
        'work': work,
        'violations': violations,
    }


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
