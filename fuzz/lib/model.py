"""What the daemon must answer, predicted from docs/protocol.md alone.

Framing (class Framing) follows the bytes a job writes on fd 3 exactly as the protocol
says the daemon reads them: LF-terminated lines of at most 64 KiB, over-long lines
refused once and skipped to the next LF, `sendmsg -- ID LENGTH` followed by LENGTH
payload bytes and a LF (anything else there: refused, skipped to the next LF).

predict(line) says, for one complete line, what its single reply must look like:
which letter it starts with ('S', 'E', or '?' when the outcome depends on live state),
how long the daemon may legitimately take (a timeout, or None for "until some job
ends", which the fuzzer avoids), whether it is recvmsg (a reply with a body), and for
sendmsg how many payload bytes follow.
"""
import re

MAX_LINE = 64 * 1024
MAX_MESSAGE = 16 * 1024 * 1024
SECONDS_CAP = 3_153_600_000.0

SPECS = {
    'enqueue': 'Fg:m:c:l:M:P:t:p:k:a:r:d:A:HUR',
    'repeat': 'c:i:og:m:l:M:P:t:p:k:r:z:',
    'unrepeat': '',
    'group': 'm:c:l:M:P:B:x:X:',
    'wait': 'aft:',
    'waitjobs': 'aft:',
    'killjobs': 's:t:',
    'sendmsg': '',
    'waitrecv': 't:',
    'recvmsg': 't:',
}

_SECONDS = re.compile(r'^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\Z')
_DIGITS = re.compile(r'^[0-9]+\Z')
_JOB_ID = re.compile(r'^(.+)/([0-9]+)\Z')
_MSG_ID = re.compile(r'^msg:([0-9]+)\Z')


class Expect:
    """One reply the daemon owes."""
    __slots__ = ('letter', 'max_wait', 'recvmsg', 'line', 'why', 'verb')

    def __init__(self, letter, max_wait, recvmsg, line, why='', verb=None):
        self.letter = letter        # 'S', 'E' or '?'
        self.max_wait = max_wait    # seconds the daemon may hold the reply; None: unbounded
        self.recvmsg = recvmsg      # the reply may carry a body
        self.line = line            # the command's bytes, for reports
        self.why = why              # why the letter is certain
        self.verb = verb            # the command's verb, when the line parsed that far


class World:
    """What the predictor knows about the tree and the calling job."""

    def __init__(self, scripts, me, alive_strangers, grace):
        self.scripts = set(scripts)        # relative paths of the tree's executable files
        self.me = me                       # the calling job's id
        self.alive_strangers = set(alive_strangers)  # known, live, not our descendants
        self.grace = grace                 # the daemon's --grace
        self.outside = set()               # script spellings that point out of the tree

    def certainly_unknown_job(self, jid):
        if jid == 'init':
            return False
        m = _JOB_ID.match(jid)
        if not m:
            return True
        return m.group(1) not in self.scripts or len(m.group(2)) > 11

    @staticmethod
    def certainly_unknown_msg(mid):
        m = _MSG_ID.match(mid)
        return not m or len(m.group(1)) > 11


def seconds(text):
    """A -t value as the daemon reads it: seconds, or None when it is refused."""
    if not _SECONDS.match(text):
        return None
    value = float(text)
    if value != value or value in (float('inf'), float('-inf')) or value < 0:
        return None
    return min(value, SECONDS_CAP)


def parse_options(words, spec):
    """getopt as the protocol describes it; (options, operands) or None."""
    options = {}
    i = 0
    while i < len(words):
        w = words[i]
        if w == '--':
            i += 1
            break
        if len(w) < 2 or w[0] != '-':
            break
        j = 1
        while j < len(w):
            letter = w[j]
            at = spec.find(letter)
            if at < 0 or letter == ':':
                return None
            if at + 1 < len(spec) and spec[at + 1] == ':':
                if j + 1 < len(w):
                    options.setdefault(letter, []).append(w[j + 1:])
                elif i + 1 < len(words):
                    i += 1
                    options.setdefault(letter, []).append(words[i])
                else:
                    return None
                break
            options.setdefault(letter, []).append('')
            j += 1
        i += 1
    return options, words[i:]


def predict(line: bytes, world: World):
    """(Expect, payload_length or None) for one complete line (without its LF)."""
    def refused(why):
        return Expect('E', 0, False, line, why), None

    if len(line) > MAX_LINE:
        return refused('line too long')
    if b'\0' in line:
        return refused('NUL byte')
    try:
        text = line.decode('utf-8')
    except UnicodeDecodeError:
        return refused('invalid UTF-8')
    from shwords import split, SplitError
    try:
        words = split(text)
    except SplitError:
        return refused('malformed quoting')
    if not words:
        return refused('empty command')
    if any('\0' in w for w in words):
        return refused('NUL in a word')
    verb = words[0]
    if verb not in SPECS:
        return refused('unknown command')
    parsed = parse_options(words[1:], SPECS[verb])
    if parsed is None:
        return refused('bad options')
    options, operands = parsed

    def last(letter):
        values = options.get(letter)
        return values[-1] if values else None

    def timeout():
        t = last('t')
        return 'none' if t is None else seconds(t)

    def maybe(wait=0, recv=False):
        return Expect('?', wait, recv, line, verb=verb), None

    if verb == 'sendmsg':
        if len(operands) != 2 or not _DIGITS.match(operands[1]) or int(operands[1]) > 2**63 - 1:
            return refused('bad sendmsg operands')
        length = int(operands[1])
        certain = length > MAX_MESSAGE or world.certainly_unknown_job(operands[0])
        return Expect('E' if certain else '?', 0, False, line, 'undeliverable', verb), length

    if verb in ('wait', 'waitjobs'):
        if 'a' in options and 'f' in options:
            return refused('-a and -f')
        t = timeout()
        if t is None:
            return refused('bad -t')
        if world.me in operands:
            return refused('waits for itself')
        ids = [o for o in operands if not world.certainly_unknown_job(o)]
        if not ids or t == 0:
            return Expect('S', 0, False, line, 'nothing to wait for'), None
        return maybe(None if t == 'none' else t)

    if verb == 'killjobs':
        t = timeout()
        if t is None:
            return refused('bad -t')
        ids = [o for o in operands if not world.certainly_unknown_job(o)]
        # A bad -s is refused too, so whatever the signal the answer is E.
        if any(o in world.alive_strangers or o == world.me for o in ids):
            return refused('kills a non-descendant')
        if not ids:
            return maybe(0)
        # Our descendants die within the grace period, whatever the signal.
        bound = world.grace + 5
        return maybe(bound if t == 'none' else min(t, bound))

    if verb == 'waitrecv':
        t = timeout()
        if t is None:
            return refused('bad -t')
        if all(world.certainly_unknown_msg(o) for o in operands) or t == 0:
            return maybe(0)
        return maybe(None if t == 'none' else t)

    if verb == 'recvmsg':
        if operands:
            return refused('operands')
        t = timeout()
        if t is None:
            return refused('bad -t')
        return maybe(None if t == 'none' else t, recv=True)

    if verb in ('enqueue', 'repeat') and operands and operands[0] in world.outside:
        return refused('script outside the tree')
    if verb == 'group' and len(operands) != 1:
        return refused('group needs one operand')
    return maybe(0)


class Framing:
    """The daemon's reader, as the protocol describes it; feed() returns the replies
    owed for the bytes written so far (those whose lines are complete)."""

    def __init__(self, world):
        self.world = world
        self.buf = bytearray()
        self.discarding = False
        self.payload = None   # [expect, bytes still to skip]

    def feed(self, data: bytes):
        out = []
        self.buf += data
        while True:
            if self.payload is not None:
                expect, left = self.payload
                take = min(left, len(self.buf))
                del self.buf[:take]
                left -= take
                if left > 0:
                    self.payload[1] = left
                    return out
                if not self.buf:
                    self.payload[1] = 0
                    return out
                self.payload = None
                if self.buf[0] == 10:
                    del self.buf[:1]
                else:
                    self.discarding = True
                    expect = Expect('E', 0, False, expect.line, 'payload not followed by LF')
                out.append(expect)
                continue
            lf = self.buf.find(b'\n')
            if self.discarding:
                if lf < 0:
                    self.buf.clear()
                    return out
                del self.buf[:lf + 1]
                self.discarding = False
                continue
            if lf < 0:
                if len(self.buf) > MAX_LINE:
                    out.append(Expect('E', 0, False, bytes(self.buf[:200]), 'line too long'))
                    self.buf.clear()
                    self.discarding = True
                    continue
                return out
            line = bytes(self.buf[:lf])
            del self.buf[:lf + 1]
            expect, payload = predict(line, self.world)
            if payload is None:
                out.append(expect)
            else:
                self.payload = [expect, payload]

    def pending_payload(self):
        return self.payload is not None
