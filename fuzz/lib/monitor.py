"""Watches the daemon from outside while the fuzzer runs: its memory and descriptors
(/proc/PID), its log (stderr), and its responsiveness over the control socket."""
import collections
import json
import os
import re
import socket
import threading
import time

BAD_LOG = re.compile(r'internal error|event loop failed|Unhandled exception|^\S+ FTL ')
# Every line of the daemon's log is one event: a line without the time and level is a
# piece of an event split by a newline a job smuggled in (a forged log line).
LOG_LINE = re.compile(r'^\d\d:\d\d:\d\d\.\d{3} (VRB|DBG|INF|WRN|ERR|FTL) ')


def proc_status(pid):
    """(rss KiB, threads) of a process, or None when it is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            text = f.read()
    except OSError:
        return None
    rss = int(re.search(r'^VmRSS:\s+(\d+)', text, re.M).group(1))
    threads = int(re.search(r'^Threads:\s+(\d+)', text, re.M).group(1))
    return rss, threads


def fd_count(pid):
    try:
        return len(os.listdir('/proc/%d/fd' % pid))
    except OSError:
        return None


def fd_kinds(pid):
    """What the descriptors are: pipe, socket, anon_inode:[eventpoll], or file paths."""
    kinds = collections.Counter()
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                target = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            except OSError:
                continue
            kinds[target.split(':[')[0] if ':[' in target else target] += 1
    except OSError:
        pass
    return dict(kinds)


def zombie_children(pid):
    zombies = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        rest = stat[stat.rfind(')') + 2:].split()
        if rest[0] == 'Z' and int(rest[1]) == pid:
            zombies.append(int(entry))
    return zombies


class Monitor:
    def __init__(self, process, socket_path, log_path=None):
        self.process = process
        self.pid = process.pid
        self.socket_path = socket_path
        self.samples = []              # (seconds since start, rss KiB, fds, threads)
        self.pings = []                # control socket round trips, seconds
        self.ping_failures = 0
        self.log_levels = collections.Counter()
        self.bad_lines = []
        self.tail = collections.deque(maxlen=300)
        self.log_lines = 0
        self.start = time.monotonic()
        self.pinging = True            # off once the daemon is told to finish
        self.baseline_files = None     # descriptors other than pipes just after start
        self.stop = threading.Event()
        self.log_file = open(log_path, 'w', errors='replace') if log_path else None
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.read_log, self.sample, self.ping)]
        for t in self.threads:
            t.start()

    def read_log(self):
        level = re.compile(r'^\S+ (\w{3}) ')
        for raw in self.process.stderr:
            line = raw.decode('utf-8', 'replace').rstrip('\n')
            self.log_lines += 1
            m = level.match(line)
            if m:
                self.log_levels[m.group(1)] += 1
            self.tail.append(line)
            if self.log_file:
                self.log_file.write(line + '\n')
            if (BAD_LOG.search(line) or not LOG_LINE.match(line)) and len(self.bad_lines) < 200:
                self.bad_lines.append(line)

    def sample(self):
        # Descriptors other than pipes once the daemon is up (its socket exists): the
        # runtime's files, SQLite, the log. Pipes come and go with jobs.
        while self.baseline_files is None and not self.stop.wait(0.1):
            if os.path.exists(self.socket_path):
                self.stop.wait(1.0)
                kinds = fd_kinds(self.pid)
                self.baseline_files = sum(kinds.values()) - kinds.get('pipe', 0)
        while not self.stop.is_set():
            status = proc_status(self.pid)
            fds = fd_count(self.pid)
            if status is None or fds is None:
                return
            self.samples.append((time.monotonic() - self.start, status[0], fds, status[1]))
            self.stop.wait(0.5)

    def ping(self):
        """'hello' over the control socket: answered on the daemon's event loop."""
        while not self.stop.wait(1.0):
            if not self.pinging or not os.path.exists(self.socket_path):
                continue
            t0 = time.monotonic()
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(60)
                    s.connect(self.socket_path)
                    s.sendall(b'{"v":1,"id":1,"cmd":"hello","args":{}}\n')
                    data = b''
                    while b'\n' not in data:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    reply = json.loads(data.split(b'\n')[0])
                    if not reply.get('ok'):
                        raise ValueError(reply)
                self.pings.append(time.monotonic() - t0)
            except (OSError, ValueError):
                if self.process.poll() is None and self.pinging:
                    self.ping_failures += 1

    def finish(self):
        self.stop.set()
        for t in self.threads[1:]:
            t.join(5)
        self.threads[0].join(10)
        if self.log_file:
            self.log_file.close()
