#!/usr/bin/env python3
"""ping.py M: M round trips of "wait --" through the Python client library."""
import os
import sys
import time

import chaqum

m = int(sys.argv[1])
chaqum.wait()  # the first call opens fds 3 and 4: not timed
start = time.perf_counter_ns()
for _ in range(m):
    chaqum.wait()
elapsed = time.perf_counter_ns() - start
with open(os.environ["BENCH_RESULTS"], "a") as results:
    results.write(f"python_roundtrips {m} {elapsed}\n")
