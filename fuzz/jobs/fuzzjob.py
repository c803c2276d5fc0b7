# fuzzjob SEED LINES PEERS...: one fuzzing job. Writes generated and mutated command lines
# to fd 3, reads the replies from fd 4, and checks, with the model of docs/protocol.md,
# that every complete line gets exactly one well-formed reply, in order, in time.
# Violations go to $FUZZ_RESULTS/violation-*.txt and make the job exit 1.
import json
import os
import select
import sys
import time
from collections import deque

sys.path.insert(0, os.path.join(os.environ['CHAQUM_TREE'], 'lib'))
import model  # noqa: E402
from grammar import Context, Generator  # noqa: E402

ME = os.environ.get('CHAQUM_IDENT', '')
if os.environ.get('CHAQUM_PARENT') != 'init' or len(sys.argv) < 3:
    sys.exit(0)  # started by a fuzzed enqueue or repeat: not a fuzzer, do nothing

SEED = int(sys.argv[1])
LINES = int(sys.argv[2])
STRANGERS = sys.argv[3].split(',')
PEERS = [p for p in sys.argv[4].split(',') if p] if len(sys.argv) > 4 else []
RESULTS = os.environ['FUZZ_RESULTS']
TREE = os.environ['CHAQUM_TREE']
SLACK = float(os.environ.get('FUZZ_SLACK', '10'))
GRACE = float(os.environ.get('FUZZ_GRACE', '1'))
BLOCK_CAP = 2.0          # longest wait a fuzzed command may ask for (except the last)
WINDOW_MAX = 64          # replies owed at most at once
OUT_MAX = 512 * 1024     # bytes queued for fd 3 at most

SCRIPTS = open(os.path.join(TREE, 'lib', 'scripts.txt')).read().split()
OUTSIDE = open(os.path.join(TREE, 'lib', 'outside.txt')).read().split('\n')
OUTSIDE = [o for o in OUTSIDE if o]


class Violation(Exception):
    pass


class Player:
    def __init__(self):
        self.ctx = Context(ME, TREE, STRANGERS, PEERS, OUTSIDE)
        self.gen = Generator(SEED, self.ctx)
        self.world = model.World(SCRIPTS, ME, STRANGERS, GRACE)
        self.world.outside = set(OUTSIDE)
        self.framing = model.Framing(self.world)
        self.out = bytearray()
        self.written = 0           # bytes written to fd 3 so far
        self.queued = 0            # bytes handed to self.out so far
        self.owed = deque()        # [expect, end offset in the stream, time fully written]
        self.inbuf = bytearray()
        self.last_progress = time.monotonic()
        self.last_reply = time.monotonic()
        self.history = deque(maxlen=30)
        self.answered = deque(maxlen=12)   # (line, verb, recvmsg?, reply, body length)
        self.stats = {'frames': 0, 'lines': 0, 'replies': 0, 'S': 0, 'E': 0, 'T': 0,
                      'bytes_out': 0, 'max_reply_wait': 0.0}
        self.rng = self.gen.rng
        self.cmd_closed = False
        os.set_blocking(3, False)
        os.set_blocking(4, False)

    # ---- writing ------------------------------------------------------------------
    def queue(self, frame, final=False):
        """Adds a frame unless the model says it could hold the connection too long."""
        trial = model.Framing(self.world)
        trial.buf = bytearray(self.framing.buf)
        trial.discarding = self.framing.discarding
        trial.payload = list(self.framing.payload) if self.framing.payload else None
        expects = trial.feed(frame)
        if not final:
            if any(e.max_wait is None or e.max_wait > BLOCK_CAP for e in expects):
                return False
            if trial.payload is not None and trial.payload[1] > 1024 * 1024:
                return False
        self.framing = trial
        self.out += frame
        self.queued += len(frame)
        for e in expects:
            self.owed.append([e, self.queued, None])
        self.stats['frames'] += 1
        self.stats['lines'] += len(expects)
        self.history.append(frame[:300])
        return True

    def resync(self):
        """After a sendmsg whose length lied, usually pay the missing bytes, so that the
        next command is not eaten as payload (sometimes it is, on purpose)."""
        if self.framing.payload is not None and self.rng.random() < 0.7:
            self.queue(b'f' * self.framing.payload[1] + b'\n')

    def write(self):
        if not self.out:
            return
        try:
            n = os.write(3, self.out[:65536])
        except BlockingIOError:
            return
        del self.out[:n]
        self.written += n
        self.stats['bytes_out'] += n
        now = time.monotonic()
        self.last_progress = now
        for item in self.owed:
            if item[2] is None and item[1] <= self.written:
                item[2] = now

    # ---- reading ------------------------------------------------------------------
    def read(self):
        try:
            data = os.read(4, 65536)
        except BlockingIOError:
            return True
        if not data:
            return False
        self.inbuf += data
        self.last_progress = time.monotonic()
        while self.take_reply():
            pass
        return True

    def take_reply(self):
        lf = self.inbuf.find(b'\n')
        if lf < 0:
            if len(self.inbuf) > 1 << 20:
                raise Violation('a reply line longer than 1 MiB without LF')
            return False
        line = bytes(self.inbuf[:lf])
        if not self.owed:
            raise Violation('a reply nobody asked for: %r' % line[:200])
        expect, _, written_at = self.owed[0]
        body = 0
        if expect.recvmsg and line.startswith(b'S '):
            try:
                body = int(line[2:])
            except ValueError:
                raise Violation('recvmsg reply without a length: %r' % line[:200])
            if len(self.inbuf) < lf + 1 + body + 1:
                return False
            if self.inbuf[lf + 1 + body] != 10:
                raise Violation('recvmsg body of %d bytes not followed by LF' % body)
        del self.inbuf[:lf + 1 + (body + 1 if body or (expect.recvmsg and line.startswith(b'S ')) else 0)]
        self.owed.popleft()
        self.answered.append((expect.line[:200], expect.verb, expect.recvmsg, line[:120], body))
        self.check(expect, line, written_at)
        return True

    def check(self, expect, line, written_at):
        now = time.monotonic()
        start = max(written_at or now, self.last_reply)
        self.stats['max_reply_wait'] = max(self.stats['max_reply_wait'], now - start)
        self.last_reply = now
        self.stats['replies'] += 1
        letter = line[:1].decode('latin-1')
        if letter not in ('S', 'E', 'T'):
            raise Violation('reply %r to %r does not start with S, E or T' % (line[:200], expect.line[:200]))
        self.stats[letter] += 1
        if letter == 'T' and (not expect.recvmsg or line != b'T'):
            raise Violation('reply %r to %r: T only answers recvmsg' % (line[:200], expect.line[:200]))
        if len(line) > 1 and line[1:2] != b' ':
            raise Violation('reply %r: no blank after the letter' % line[:200])
        try:
            text = line.decode('utf-8')
        except UnicodeDecodeError:
            raise Violation('reply %r to %r is not UTF-8' % (line[:200], expect.line[:200]))
        if 'internal error' in text:
            raise Violation('daemon bug: %r answered %r' % (expect.line[:300], text))
        if expect.letter != '?' and expect.letter != letter:
            raise Violation('%r answered %r; the protocol says %s (%s)'
                            % (expect.line[:300], text[:300], expect.letter, expect.why))
        if letter == 'S':
            self.learn(expect.verb, text)

    def learn(self, verb, reply):
        """Ids in successful replies: our children, messages and repeats."""
        words = reply.split(' ')[1:]
        for w in words:
            if w.startswith('repeat:') and verb == 'repeat':
                self.ctx.repeats.append(w)
                if not self.cmd_closed:
                    self.queue(('unrepeat -- %s\n' % w).encode())   # keep firings few
            elif w.startswith('msg:') and verb == 'sendmsg':
                self.ctx.messages.append(w)
            elif verb == 'enqueue' and '/' in w and w not in self.ctx.children:
                self.ctx.children.append(w)

    # ---- the run ------------------------------------------------------------------
    def pump(self, deadline, closing=False):
        """Writes and reads until everything owed is answered (and, when closing, fd 4
        reaches EOF) or the deadline passes."""
        while True:
            now = time.monotonic()
            if not closing and not self.owed and not self.out:
                return True
            if now > deadline:
                return False
            self.check_hang(now)
            wfds = [3] if self.out and not closing else []
            r, w, _ = select.select([4], wfds, [], 0.5)
            if w:
                self.write()
            if r and not self.read():
                if self.owed:
                    raise Violation('fd 4 closed with %d replies owed, first for %r'
                                    % (len(self.owed), self.owed[0][0].line[:200]))
                return True

    def check_hang(self, now):
        if not self.owed and not self.out:
            return
        head = self.owed[0] if self.owed else None
        allowed = SLACK
        if head is not None and head[2] is not None and head[0].max_wait:
            allowed += head[0].max_wait
        if now - max(self.last_progress, self.last_reply) > allowed:
            what = head[0].line[:300] if head else b'(writing)'
            raise Violation('no progress for %.1fs; waiting for the reply to %r' % (now - self.last_progress, what))

    def run(self):
        deadline = time.monotonic() + float(os.environ.get('FUZZ_JOB_SECONDS', '20'))
        produced = 0
        while produced < LINES and time.monotonic() < deadline:
            while len(self.owed) < self.rng.randint(1, WINDOW_MAX) and len(self.out) < OUT_MAX and produced < LINES:
                if self.queue(self.gen.frame()):
                    produced += 1
                    self.resync()
            self.pump_once()
        self.finish(deadline + SLACK + 30)

    def pump_once(self):
        self.check_hang(time.monotonic())
        r, w, _ = select.select([4], [3] if self.out else [], [], 0.5)
        if w:
            self.write()
        if r and not self.read():
            raise Violation('fd 4 closed early')

    def finish(self, deadline):
        # Clean up what we started: children killed, one per command (a child got by a
        # shared -k key may be someone else's, and one refusal would spare the others).
        for child in self.ctx.children:
            self.queue(('killjobs -t 2 -- %s\n' % child).encode())
        if not self.framing.pending_payload() and not self.framing.discarding and not self.framing.buf:
            self.queue(b'wait --\n')
        ending = self.rng.random()
        if ending < 0.04:
            # Exit at once, leaving the daemon with unread replies and half-read input.
            self.pump_writes(0.2)
            self.report()
            os._exit(0)
        if ending < 0.08:
            self.queue(b'wait -t 0 -- ' + b'y' * self.rng.randint(0, 100), final=True)  # close mid-line
        elif ending < 0.12:
            self.queue(b'sendmsg -- %s 1000\n' % ME.encode() + b'z' * self.rng.randint(0, 999), final=True)
        elif ending < 0.15:
            self.queue(b'sendmsg -- init 999999999999\n' + os.urandom(100), final=True)
        elif ending < 0.20:
            self.queue(b'recvmsg\n', final=True)   # blocks for ever: abandoned when we exit
        self.pump_writes(deadline - time.monotonic())
        blocked = self.owed and self.owed[-1][0].max_wait is None
        if blocked:
            self.pump_until_head_blocks(deadline)
            self.report()
            os._exit(0)
        os.close(3)
        self.cmd_closed = True
        if not self.pump(deadline, closing=True):
            raise Violation('%d replies still owed at the end, first for %r'
                            % (len(self.owed), self.owed[0][0].line[:300] if self.owed else b''))
        self.report()

    def pump_writes(self, seconds):
        end = time.monotonic() + max(0, seconds)
        while self.out and time.monotonic() < end:
            self.pump_once()

    def pump_until_head_blocks(self, deadline):
        while len(self.owed) > 1 and time.monotonic() < deadline:
            self.pump_once()

    def report(self, violation=None):
        self.stats['seed'] = SEED
        self.stats['violation'] = violation
        path = os.path.join(RESULTS, 'jobs', ME.replace('/', '_') + '.json')
        with open(path + '.tmp', 'w') as f:
            json.dump(self.stats, f)
        os.rename(path + '.tmp', path)


def main():
    player = Player()
    try:
        player.run()
    except Violation as v:
        detail = '%s\nseed %d, job %s\nlast replies (line, verb, recvmsg?, reply, body):\n%s\nlast frames:\n%s\n' % (
            v, SEED, ME, '\n'.join(repr(a) for a in player.answered), '\n'.join(repr(f) for f in player.history))
        with open(os.path.join(RESULTS, 'violation-%s.txt' % ME.replace('/', '_')), 'w') as f:
            f.write(detail)
        player.report(str(v))
        print('VIOLATION: %s' % v, file=sys.stderr)
        sys.exit(1)


main()
