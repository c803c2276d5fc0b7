"""Command lines for the fuzzer: every verb and option of docs/protocol.md with ordinary,
boundary and hostile values, quoted in every way the framing allows, and byte-level
mutations of them. A Generator is deterministic for a given seed and reply history."""
import random

from shwords import quote

# Values by kind: ordinary ones first, then boundary and hostile ones.
SECONDS = ['0', '0.01', '0.05', '0.1', '0.25', '0.5', '1', '1.5', '.5', '1.', '+0.2', '-0', '00.1']
SECONDS_NOW = ['0', '0.001', '0.01', '-0', '00.00', '+0', '0.', '.0', '0.005']
SECONDS_BAD = ['-1', '-0.5', 'NaN', 'nan', 'inf', 'Infinity', '-Infinity', '\u221e', '1e3', '1E-3',
               '0x10', '1,5', '', ' ', 'abc', '\u0661', '--1', '+-1', '.', '1..2', '5s', '1 ']
SECONDS_HUGE = ['1e308', '99999999999999999999', '1' + '0' * 400, '3153600001', str(2 ** 63),
                '9' * 5000, '3153600000', '922337203685.4775807', '922337203686', '0.0000001']
INTS = ['0', '1', '2', '3', '10', '-1', '+1', '2147483647', '2147483648', '-2147483648',
        '-2147483649', '99999999999999999999', '', '1.5', '0x1', 'abc', ' 1', '007']
CPU = ['0', '0.5', '0.99', '1', '50', '80', '100', '100.0001', '101', '-1', '1e2', 'nan', '']
LOAD = ['0', '0.5', '4', '1000', '-1', 'nan', '1e9', '']
MEM = ['0', '1', '512M', '1G', '2GiB', '1T', '8T', '1.5k', '-1M', 'M', '1X', '99999999999T',
       '1e3M', '', '512mb', '1kib', '9' * 400]
PRESSURE = ['0', '10', '50', '100', '100.5', '-1', '']
CRON = ['* * * * *', '*/5 * * * * *', '@hourly', '@daily', '@midnight', '@weekly', '@monthly',
        '@yearly', '@annually', '0 2 * * *', '0 0 29 2 *', '0 0 30 2 *', '0 0 31 4 *', '61 * * * *',
        '* * * *', '* * * * * * *', 'a b c d e', '*/0 * * * *', '0-59/1 * * * *',
        '1-5,10-20/3 */2 1,15 jan-dec mon-fri', '@reboot', '', '59 23 31 12 7', '0 0 * * 8',
        '5-1 * * * *', '*/99999999999 * * * *', '0 0 1 1 sun', '0 0 L * *', '? * * * *',
        '0 0 * * 1-6/2147483647', '0 0 * * 0-7/2', '0 0 * * 99999999999', '0 0 * * sun-sat/9999999999',
        '0 0 1 * 1-5', '99999999999-1 * * * *', '* * * * 7-1', '0 0 * * -1', '*/1 */1 */1 */1 */1 */1',
        '0 0 L-3 * *', '0 0 15W * *', '0 0 LW * *', '0 0 * * 5#3', '0 0 * * fri#6', '0 0 * * 5L',
        '0 0 * * 1,5L', '0 0 L,15 * *', '0 0 L-99999999999 * *', '0 0 * * 5#99999999999']
ZONES = ['Europe/Berlin', 'UTC', 'Asia/Kolkata', 'Pacific/Chatham', 'Nowhere/Atlantis', 'Europe', '',
         '../../etc/passwd', '/etc/localtime', 'Local', 'W. Europe Standard Time', 'x' * 5000, '-z']
INTERVALS = ['1s', '10s', '1m', '1h30m', '2d', '1w', '0.5s', '5s0m0h0d0w', '30', '2.5',
             '0', '0s', '-1s', '1e3', '1x', '', '9' * 400, '99999999999w', '1.5.5s', 's', '250ms',
             '0.0001', '1ms', '3155760000', '3155760001', '321474836480', '922337203685', '5217w',
             '5218w', '36525d', '36526d']
SIGNALS = ['TERM', 'SIGTERM', 'term', 'KILL', '9', '15', '0', 'HUP', 'INT', 'USR1', 'STOP', 'CONT',
           'CHLD', 'RTMIN', 'RTMIN+1', 'RTMAX-1', 'SIGRTMIN+31', 'RTMIN+99', '65', '-1', 'SIGFOO',
           '', 'sigkill', '1e1', 'WINCH']
PAYLOAD_SIZES = [0, 0, 1, 1, 2, 10, 100, 1000, 4096, 65535, 65536, 65537, 300000]
INTERESTING_BYTES = [0x00, 0x0a, 0x0d, 0x09, 0x20, 0x27, 0x22, 0x5c, 0x24, 0x2d, 0x7f, 0x80, 0xc3,
                     0xff, 0x1f, 0xfe]
INTERESTING_CHUNKS = [b'--', b' -- ', b'-t', b'-t 1e9', b'sendmsg', b"'", b'"', b"$'", b"$'\\x", b'\\',
                      b'\n', b'\r', b'\x00', b'\xc3', b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'\xc0\x80',
                      b'\xef\xbb\xbf', b'\xe2\x80\xae', b' ' * 70, b'9' * 30, b'-', b'-F', b'-a', b'-f']

# Payload bytes that are mostly text, with the odd LF and NUL (1 in 64 each).
_SPARSE = bytes(b'\n\x00abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[i % 64] for i in range(256))

VERBS = ['enqueue', 'repeat', 'unrepeat', 'group', 'wait', 'waitjobs', 'killjobs', 'sendmsg',
         'waitrecv', 'recvmsg']
VERB_WEIGHTS = [10, 3, 2, 4, 8, 2, 5, 8, 4, 4]
OTHER_VERBS = ['WAIT', 'Enqueue', 'enqueue\r', 'wait\u00a0', 'kill', 'ping', 'exit', 'sendmsg2',
               '-t', '--', "'", 'x' * 300, '\u00e9nqueue', 'e\u0301nqueue']


class Context:
    """What the generator may name: the tree's scripts, ids it learnt from replies."""

    def __init__(self, me, tree, strangers, peers, outside):
        self.me = me
        self.tree = tree
        self.strangers = list(strangers)   # init, canary, sibling: never ours to kill
        self.peers = list(peers)           # other fuzz jobs' likely ids
        self.outside = list(outside)       # spellings of scripts outside the tree
        self.children = []                 # ids our enqueues returned
        self.messages = []                 # ids our sendmsgs returned
        self.repeats = []                  # ids our repeats returned

    def good_scripts(self):
        return ['t/ok', 't/fail', 't/sleep', 't/chatty', 't/stubborn', 't/link-in', './t/ok',
                't/./ok', 't//ok', 't/../t/ok', self.tree + '/t/ok', 't/args']

    def refused_scripts(self):
        return ['t/dir', 't/noexec', 't/missing', 't/loop', 'lib/model.py', '', 'x' * 5000,
                't/' + 'a' * 300, 't/ok/', 't/ok/..', '.', '..', '/', 't/ok\x00evil', 't/nul\x00',
                't/' + '../' * 2000 + 't/ok']


class Generator:
    def __init__(self, seed, ctx):
        self.rng = random.Random(seed)
        self.ctx = ctx
        self.counter = 0

    # ---- values -------------------------------------------------------------------
    def pick(self, ordinary, hostile=(), p_hostile=0.15):
        if hostile and self.rng.random() < p_hostile:
            return self.rng.choice(hostile)
        return self.rng.choice(ordinary)

    def word(self):
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(['a', 'b c', 'x=1', '', '-', '--', '-x', "it's", '"q"', 'tab\there',
                                    'nl\nnl', '\u00e9t\u00e9', '\U0001f600', 'back\\slash', '$HOME',
                                    '`id`', '$(id)', '*', '~'])
        if r < 0.9:
            return ''.join(self.rng.choice('abcxyz019 -_./\'"\\$') for _ in range(self.rng.randint(0, 20)))
        return ''.join(chr(self.rng.choice([self.rng.randint(1, 0x7f), self.rng.randint(0x80, 0xd7ff),
                                            self.rng.randint(0xe000, 0x10ffff)]))
                       for _ in range(self.rng.randint(1, 8)))

    def script(self):
        r = self.rng.random()
        if r < 0.75:
            return self.rng.choice(self.ctx.good_scripts())
        if r < 0.88:
            return self.rng.choice(self.ctx.refused_scripts())
        if r < 0.97:
            return self.rng.choice(self.ctx.outside)
        return self.rng.choice(['init', 'fuzzjob', 'canary'])

    def job_id(self):
        r = self.rng.random()
        c = self.ctx
        if r < 0.45 and c.children:
            return self.rng.choice(c.children[-50:])
        if r < 0.6:
            return self.rng.choice(c.strangers + [c.me])
        if r < 0.75 and c.peers:
            return self.rng.choice(c.peers)
        return self.rng.choice(['t/ok/999999999999', 'nope', '', 'init/1', 'x' * 300, 't/ok/-1',
                                't/ok/0x1', 'canary', 'fuzzjob', '/t/ok/1', 't/ok/1 ', 'msg:1'])

    def msg_id(self):
        if self.ctx.messages and self.rng.random() < 0.6:
            return self.rng.choice(self.ctx.messages[-50:])
        return self.rng.choice(['msg:1', 'msg:2', 'msg:999999999999', 'msg:', 'msg:-1', 'msg:x', '',
                                'repeat:1', 'msg:0'])

    def seconds(self):
        """Mostly no wait at all (a connection waits while its command does), sometimes
        a real wait, sometimes hostile; huge values are kept for ids nobody can know."""
        r = self.rng.random()
        if r < 0.10:
            return self.rng.choice(SECONDS_BAD)
        if r < 0.13:
            return self.rng.choice(SECONDS_HUGE)
        if r < 0.30:
            return self.rng.choice(SECONDS)
        return self.rng.choice(SECONDS_NOW)

    def key(self):
        return self.pick(['k-%s-%d' % (self.ctx.me, self.rng.randint(0, 5)), 'k-%s' % self.ctx.me],
                         ['shared', '', 'k' * 3000, '\u043a\u043b\u044e\u0447', 'a b', '-k'])

    def group(self):
        return self.pick(['fz', 'fz1', 'fz2', 'fz-%s' % self.ctx.me],
                         ['', 'g with space', 'x' * 5000, '\u0433\u0440\u0443\u043f\u043f\u0430', '-g',
                          '--', 'default', '*'])

    # ---- options ------------------------------------------------------------------
    def limit_options(self):
        opts = []
        for letter, values in (('m', INTS), ('c', CPU), ('l', LOAD), ('M', MEM), ('P', PRESSURE)):
            if self.rng.random() < 0.25:
                if letter == 'm':
                    v = self.pick(['0', '1', '2', '3', '4'], INTS)
                elif letter == 'M':
                    v = self.pick(['0', '1M', '64M'], MEM)
                else:
                    v = self.pick(values[:4], values)
                opts.append(('-' + letter, v))
        return opts

    def job_options(self):
        opts = []
        if self.rng.random() < 0.15:
            opts.append(('-F', None))
        if self.rng.random() < 0.35:
            opts.append(('-t', self.pick(['0', '0.2', '1', '5', '30'], SECONDS_BAD + SECONDS_HUGE)))
        if self.rng.random() < 0.2:
            opts.append(('-p', self.pick(['0', '1', '-1', '5'], INTS)))
        if self.rng.random() < 0.2:
            opts.append(('-k', self.key()))
        if self.rng.random() < 0.2:
            opts.append(('-r', self.pick(['0', '1', '2'], INTS)))
        return opts

    def options_to_words(self, opts):
        """Options as words: '-g NAME', '-gNAME', clustered flags, in any order."""
        self.rng.shuffle(opts)
        words = []
        flags = ''
        for name, value in opts:
            if value is None:
                if self.rng.random() < 0.5:
                    flags += name[1:]
                else:
                    words.append(name)
                continue
            if self.rng.random() < 0.3 and value != '':
                words.append(name + value)
            else:
                words += [name, value]
        if flags:
            words.insert(self.rng.randint(0, len(words)), '-' + flags)
        return words

    # ---- commands -----------------------------------------------------------------
    def command(self):
        """(words, is_sendmsg_length or None) for one command of a random verb."""
        verb = self.rng.choices(VERBS, VERB_WEIGHTS)[0]
        if self.rng.random() < 0.02:
            verb = self.rng.choice(OTHER_VERBS)
        opts, operands = [], []
        if verb == 'enqueue':
            if self.rng.random() < 0.85:
                opts.append(('-g', self.group()))
                opts += self.limit_options()
            elif self.rng.random() < 0.3:
                opts += self.limit_options()
            opts += self.job_options()
            for _ in range(self.rng.choice([0, 0, 0, 1, 2])):
                opts.append(('-a', self.job_id()))
            operands = [self.script()] + [self.word() for _ in range(self.rng.choice([0, 0, 1, 3]))]
        elif verb == 'repeat':
            if self.rng.random() < 0.5:
                opts.append(('-i', self.pick(INTERVALS[:10], INTERVALS)))
            else:
                opts.append(('-c', self.pick(CRON[:10], CRON)))
            if self.rng.random() < 0.1:
                opts.append(('-c', self.pick(CRON[:3] + CPU[:3], CPU + INTERVALS)))
            if self.rng.random() < 0.15:
                opts.append(('-z', self.pick(ZONES[:3], ZONES)))
            if self.rng.random() < 0.2:
                opts.append(('-o', None))
            if self.rng.random() < 0.6:
                opts.append(('-g', self.group()))
                opts += self.limit_options()
            opts += self.job_options()
            operands = [self.script()] + [self.word() for _ in range(self.rng.choice([0, 0, 1]))]
        elif verb == 'unrepeat':
            ids = list(self.ctx.repeats[-3:]) if self.ctx.repeats and self.rng.random() < 0.5 else []
            ids += [self.rng.choice(['repeat:1', 'repeat:999999999999', 'repeat:', 'msg:1', ''])
                    for _ in range(self.rng.choice([0, 1, 1, 2]))]
            operands = ids
        elif verb == 'group':
            opts += self.limit_options()
            operands = [self.group()] if self.rng.random() < 0.9 else [self.group() for _ in range(self.rng.choice([0, 2]))]
        elif verb in ('wait', 'waitjobs'):
            r = self.rng.random()
            if r < 0.1:
                opts.append(('-a', None))
            elif r < 0.3:
                opts.append(('-f', None))
            elif r < 0.32:
                opts += [('-a', None), ('-f', None)]
            opts.append(('-t', self.seconds()))
            operands = [self.job_id() for _ in range(self.rng.choice([0, 1, 1, 2, 5]))]
        elif verb == 'killjobs':
            if self.rng.random() < 0.4:
                opts.append(('-s', self.rng.choice(SIGNALS)))
            if self.rng.random() < 0.7:
                opts.append(('-t', self.seconds()))
            operands = [self.job_id() for _ in range(self.rng.choice([0, 1, 1, 2, 4]))]
        elif verb == 'sendmsg':
            operands = [self.job_id() if self.rng.random() < 0.3 else
                        self.rng.choice([self.ctx.me] + self.ctx.peers + self.ctx.strangers), None]
        elif verb == 'waitrecv':
            opts.append(('-t', self.seconds()))
            operands = [self.msg_id() for _ in range(self.rng.choice([0, 1, 2, 3]))]
        elif verb == 'recvmsg':
            opts.append(('-t', self.seconds()))
            if self.rng.random() < 0.03:
                operands = ['x']
        words = [verb] + self.options_to_words(opts)
        if self.rng.random() < 0.9:
            words.append('--')
        return words, operands

    def render(self, words):
        """Quotes words into one line, in one of the spellings the framing allows."""
        out = []
        for w in words:
            r = self.rng.random()
            if r < 0.75:
                out.append(quote(w))
            elif r < 0.85 and '\n' not in w:
                out.append('"' + w.replace('\\', '\\\\').replace('"', '\\"').replace('$', '\\$')
                           .replace('`', '\\`') + '"')
            elif r < 0.93:
                out.append("$'" + ''.join('\\x%02x' % b for b in w.encode('utf-8')) + "'")
            else:
                out.append(''.join('\\' + c if c != '\n' else "$'\\n'" for c in w) if w else "''")
        sep = ' ' if self.rng.random() < 0.9 else self.rng.choice(['  ', '\t', ' \t '])
        line = sep.join(out)
        if self.rng.random() < 0.03:
            line = self.rng.choice([' ', '\t', '  ']) + line
        if self.rng.random() < 0.03:
            line += self.rng.choice([' ', '\t', '\r', " '", ' "', " $'", ' \\'])
        return line.encode('utf-8')

    # ---- frames -------------------------------------------------------------------
    def frame(self):
        """Bytes to write next: one line (maybe mutated), a sendmsg with its payload, or
        something odd."""
        self.counter += 1
        r = self.rng.random()
        if r < 0.06:
            return self.odd_frame()
        words, operands = self.command()
        if words[0] == 'sendmsg' and operands and operands[-1] is None:
            return self.sendmsg_frame(words, operands[0])
        line = self.render(words + [w for w in operands if w is not None])
        if r < 0.30:
            line = self.mutate(line)
        return line + b'\n'

    def sendmsg_frame(self, words, dest):
        size = self.rng.choice(PAYLOAD_SIZES)
        payload = self.rng.randbytes(size)
        if self.rng.random() < 0.5:
            payload = payload.translate(_SPARSE)   # mostly text, some LF and NUL
        declared = size
        tail = b'\n'
        r = self.rng.random()
        if r < 0.15 and size > 100:
            size = declared = self.rng.randint(0, 100)     # lies are told with small payloads
            payload = payload[:size]
        if r < 0.05:
            declared = size + self.rng.randint(1, 20)      # lies: the next bytes are eaten
        elif r < 0.10 and size > 0:
            declared = self.rng.randint(0, size - 1)       # lies: the rest is garbage
        elif r < 0.13:
            tail = self.rng.choice([b'', b'x\n', b'\r\n', b'xyz'])
        elif r < 0.15:
            declared = self.rng.choice([16 * 1024 * 1024 + 1, 2 ** 62, 10 ** 12])
            payload = b''
        length = str(declared)
        if self.rng.random() < 0.05:
            # Not a length: the daemon cannot know what to skip and reads the payload as
            # commands, so keep it short.
            length = self.rng.choice(['-1', '1.5', '0x10', '', 'ten', '9' * 40, '+5', ' 5'])
            payload = payload[:100]
        line = self.render(words + [dest, length])
        return line + b'\n' + payload + tail

    def odd_frame(self):
        r = self.rng.random()
        if r < 0.15:
            return self.rng.choice([b'\n', b' \n', b'\t\n', b'\r\n', b'\x00\n', b'--\n'])
        if r < 0.35:
            # Lines right at the 64 KiB cap: one byte under, at, over; and far over.
            size = self.rng.choice([65535, 65536, 65537, 70000, 200000])
            prefix = b'wait -t 0 -- '
            return prefix + b'x' * (size - len(prefix)) + b'\n'
        if r < 0.45:
            word = self.rng.choice([b'a' * 65000, b"'" + b'b' * 64000 + b"'"])
            return b'group -- ' + word + b'\n'
        if r < 0.60:
            return self.rng.randbytes(self.rng.randint(1, 300)) + b'\n'
        if r < 0.75:
            return self.rng.choice([b"wait -- 'unbalanced\n", b'wait -- "unbalanced\n',
                                    b"wait -- $'\\x\n", b"wait -- $'\\q'\n", b"wait -- $'\\xff'\n",
                                    b"wait -- $'\\0'\n", b'wait -- \\\n', b"wait -- $'abc\n",
                                    b"wait -- $'\\xc3\\xa9'\n", b"wait -- $'\\303\\251'\n",
                                    b'wait -- "\\\n', b"enqueue -- $'t/ok\\0evil'\n"])
        if r < 0.9:
            return b'\xef\xbb\xbfwait --\n' if self.rng.random() < 0.5 else b'wait --\xc3\n'
        return b'wait --\n' * self.rng.randint(2, 200)

    def mutate(self, line):
        data = bytearray(line)
        for _ in range(self.rng.randint(1, 4)):
            op = self.rng.randrange(8)
            pos = self.rng.randint(0, len(data))
            if op == 0 and data:
                i = self.rng.randrange(len(data))
                data[i] ^= 1 << self.rng.randrange(8)
            elif op == 1 and data:
                data[self.rng.randrange(len(data))] = self.rng.choice(INTERESTING_BYTES)
            elif op == 2:
                data[pos:pos] = bytes([self.rng.choice(INTERESTING_BYTES)])
            elif op == 3 and data:
                end = min(len(data), pos + self.rng.randint(1, 8))
                del data[pos:end]
            elif op == 4 and data:
                start = self.rng.randrange(len(data))
                chunk = data[start:start + self.rng.randint(1, 16)]
                data[pos:pos] = chunk
            elif op == 5:
                data[pos:pos] = self.rng.choice(INTERESTING_CHUNKS)
            elif op == 6:
                del data[pos:]
            else:
                data[pos:pos] = str(self.rng.choice([0, -1, 2 ** 31, 2 ** 63, 10 ** 30])).encode()
        return bytes(data)
