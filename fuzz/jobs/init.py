# init: keeps FUZZ_JOBS fuzz jobs running until FUZZ_SECONDS have passed, next to a canary
# (ordinary round trips that must keep working) and a sibling (a job no fuzz job may kill).
# At the end it checks both, writes init.json and waits for the harness to look at the
# quiet daemon (fds, zombies) before it exits.
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ['CHAQUM_TREE'], 'lib'))
from proto import Protocol  # noqa: E402

if os.environ.get('CHAQUM_IDENT') != 'init':
    sys.exit(0)  # named by a fuzzed enqueue: not the real init

RESULTS = os.environ['FUZZ_RESULTS']
SECONDS = float(os.environ['FUZZ_SECONDS'])
JOBS = int(os.environ['FUZZ_JOBS'])
LINES = int(os.environ['FUZZ_LINES'])
SEED = int(os.environ['FUZZ_SEED'])
SLACK = float(os.environ.get('FUZZ_SLACK', '10'))

p = Protocol()
problems = []


def problem(text):
    problems.append(text)
    print('PROBLEM: ' + text, file=sys.stderr)


sibling = p.cmd('enqueue -- t/sibling').split()[1]
canary = p.cmd('enqueue -- canary %f' % (SECONDS + SLACK + 300)).split()[1]
strangers = ','.join(['init', canary, sibling])
deadline = time.monotonic() + SECONDS
running = []
statuses = {}
started = 0


def record(pairs):
    for jid, status in pairs.items():
        if status == 'T':
            continue
        running.remove(jid)
        statuses[status] = statuses.get(status, 0) + 1
        if status == '1':
            continue  # the job wrote its violation file itself
        if status != '0':
            problem('fuzz job %s ended with status %s' % (jid, status))
    # Left out of the reply: another fuzz job waited for it and took its result (any job
    # may). It has ended; its own report says how it went.
    for jid in [j for j in running if j not in pairs]:
        running.remove(jid)
        statuses['taken'] = statuses.get('taken', 0) + 1
        if not os.path.exists(os.path.join(RESULTS, 'jobs', jid.replace('/', '_') + '.json')):
            problem('fuzz job %s ended (its result taken by another) without a report' % jid)


while time.monotonic() < deadline:
    while len(running) < JOBS:
        reply = p.cmd('enqueue -- fuzzjob %d %d %s %s' % (SEED + started, LINES, strangers, ','.join(running)))
        running.append(reply.split()[1])
        started += 1
    record(p.pairs(p.cmd('wait -f -t 1 -- ' + ' '.join(running))))

while running:
    reply = p.cmd('wait -t %f -- %s' % (SLACK + 60, ' '.join(running)))
    pairs = p.pairs(reply)
    if pairs and all(s == 'T' for s in pairs.values()):
        problem('fuzz jobs did not end: ' + ' '.join(running))
        break
    record(pairs)

# The canary and the sibling outlived every fuzz job: no fuzz job could have consumed
# their results, and every killjobs naming them must have been refused.
open(os.path.join(RESULTS, 'stop-canary'), 'w').close()
canary_status = p.pairs(p.cmd('wait -t %f -- %s' % (SLACK + 60, canary))).get(canary)
if canary_status != '0':
    problem('canary ended with %s' % canary_status)
sibling_alive = p.pairs(p.cmd('wait -t 0 -- ' + sibling)).get(sibling)
if sibling_alive != 'T':
    problem('the sibling (nobody may kill it) ended with %s' % sibling_alive)
sibling_status = p.pairs(p.cmd('killjobs -t 30 -- ' + sibling)).get(sibling)
if sibling_status != '-15':
    problem('killing the sibling ended with %s, not -15' % sibling_status)

with open(os.path.join(RESULTS, 'init.json'), 'w') as f:
    json.dump({'fuzz_jobs': started, 'statuses': statuses, 'problems': problems}, f)
open(os.path.join(RESULTS, 'quiescent'), 'w').close()
end = time.monotonic() + 120
while not os.path.exists(os.path.join(RESULTS, 'go')) and time.monotonic() < end:
    time.sleep(0.1)
sys.exit(1 if problems else 0)
