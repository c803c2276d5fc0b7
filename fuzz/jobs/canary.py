# canary SECONDS: ordinary enqueue/wait round trips and pings, all the time the fuzz jobs
# run (until init creates $FUZZ_RESULTS/stop-canary; SECONDS is only a backstop). Every
# answer must be right; canary.json records the round-trip times.
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ['CHAQUM_TREE'], 'lib'))
from proto import Protocol  # noqa: E402

if os.environ.get('CHAQUM_PARENT') != 'init' or len(sys.argv) < 2:
    sys.exit(0)

RESULTS = os.environ['FUZZ_RESULTS']
deadline = time.monotonic() + float(sys.argv[1])
stop = os.path.join(os.environ['FUZZ_RESULTS'], 'stop-canary')
p = Protocol()
stats = {'round_trips': 0, 'pings': 0, 'max_round_trip': 0.0, 'max_ping': 0.0, 'ping_samples': []}
last_write = 0


def fail(text):
    with open(os.path.join(RESULTS, 'violation-canary.txt'), 'w') as f:
        f.write(text + '\n')
    print('VIOLATION: ' + text, file=sys.stderr)
    sys.exit(1)


while time.monotonic() < deadline and not os.path.exists(stop):
    t0 = time.monotonic()
    reply = p.cmd('enqueue -- t/ok')
    if not reply.startswith('S t/ok/'):
        fail('canary: enqueue answered %r' % reply)
    jid = reply.split()[1]
    reply = p.cmd('wait -t 60 -- ' + jid)
    if reply != 'S %s 0' % jid:
        fail('canary: wait answered %r' % reply)
    t1 = time.monotonic()
    if p.cmd('wait --') != 'S':
        fail('canary: ping not answered S')
    t2 = time.monotonic()
    stats['round_trips'] += 1
    stats['pings'] += 1
    stats['max_round_trip'] = max(stats['max_round_trip'], t1 - t0)
    stats['max_ping'] = max(stats['max_ping'], t2 - t1)
    stats['ping_samples'].append(round(t2 - t1, 6))
    if len(stats['ping_samples']) > 20000:
        stats['ping_samples'] = stats['ping_samples'][::2]
    if t2 - last_write > 1:
        last_write = t2
        with open(os.path.join(RESULTS, 'canary.json.tmp'), 'w') as f:
            json.dump(stats, f)
        os.rename(os.path.join(RESULTS, 'canary.json.tmp'), os.path.join(RESULTS, 'canary.json'))
    time.sleep(0.02)

with open(os.path.join(RESULTS, 'canary.json'), 'w') as f:
    json.dump(stats, f)
