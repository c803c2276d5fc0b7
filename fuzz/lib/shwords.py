"""The protocol's word splitting, written again from docs/protocol.md ("Framing").

This is the fuzzer's oracle, deliberately independent of the daemon's C# code: when the
two disagree, either the daemon or this file is wrong, and the fuzzer says so.

split(line) returns a list of words, or raises SplitError with a reason.
"""


class SplitError(Exception):
    pass


_ESCAPES = {
    'n': 10, 't': 9, 'r': 13, 'a': 7, 'b': 8, 'e': 27, 'E': 27, 'f': 12, 'v': 11,
    '\\': 92, "'": 39, '"': 34, '?': 63,
}
_HEX = set('0123456789abcdefABCDEF')
_OCT = set('01234567')


def split(line: str) -> list:
    words = []
    word = []
    in_word = False
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c in ' \t':
            if in_word:
                words.append(''.join(word))
                word = []
                in_word = False
            i += 1
        elif c == "'":
            end = line.find("'", i + 1)
            if end < 0:
                raise SplitError('unterminated single quote')
            word.append(line[i + 1:end])
            in_word = True
            i = end + 1
        elif c == '"':
            i += 1
            in_word = True
            closed = False
            while i < n:
                d = line[i]
                if d == '"':
                    closed = True
                    i += 1
                    break
                if d == '\\' and i + 1 < n:
                    e = line[i + 1]
                    if e in '"\\$`':
                        word.append(e)
                        i += 2
                        continue
                    if e == '\n':
                        i += 2
                        continue
                word.append(d)
                i += 1
            if not closed:
                raise SplitError('unterminated double quote')
        elif c == '\\':
            if i + 1 >= n:
                raise SplitError('backslash at end of line')
            if line[i + 1] != '\n':
                word.append(line[i + 1])
            in_word = True
            i += 2
        elif c == '$' and i + 1 < n and line[i + 1] == "'":
            in_word = True
            i = _dollar_single(line, i, word)
        else:
            word.append(c)
            in_word = True
            i += 1
    if in_word:
        words.append(''.join(word))
    return words


def _dollar_single(line, i, word):
    """$'...' with C escapes; the bytes escapes produce must form valid UTF-8."""
    i += 2
    n = len(line)
    pending = bytearray()

    def flush():
        if not pending:
            return
        try:
            word.append(bytes(pending).decode('utf-8'))
        except UnicodeDecodeError:
            raise SplitError("$'...' escapes do not form valid UTF-8")
        pending.clear()

    while i < n:
        c = line[i]
        if c == "'":
            flush()
            return i + 1
        if c != '\\':
            flush()
            word.append(c)
            i += 1
            continue
        if i + 1 >= n:
            break
        e = line[i + 1]
        i += 2
        if e in _ESCAPES:
            pending.append(_ESCAPES[e])
        elif e == 'x':
            value = digits = 0
            while digits < 2 and i < n and line[i] in _HEX:
                value = value * 16 + int(line[i], 16)
                digits += 1
                i += 1
            if digits == 0:
                raise SplitError("\\x without hex digits in $'...'")
            pending.append(value)
        elif e in _OCT:
            value = int(e)
            digits = 1
            while digits < 3 and i < n and line[i] in _OCT:
                value = value * 8 + int(line[i])
                digits += 1
                i += 1
            pending.append(value & 0xff)
        else:
            raise SplitError("unknown escape \\%s in $'...'" % e)
    raise SplitError("unterminated $'...' quote")


_SAFE = set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-')


def quote(word: str) -> str:
    """Quotes a word so that split() gives it back (shlex style, $'...' for controls)."""
    if word == '':
        return "''"
    if all(c in _SAFE for c in word):
        return word
    if any(ord(c) < 0x20 or ord(c) == 0x7f for c in word):
        out = ["$'"]
        for c in word:
            if c == '\\':
                out.append('\\\\')
            elif c == "'":
                out.append("\\'")
            elif ord(c) < 0x20 or ord(c) == 0x7f:
                out.append('\\x%02x' % ord(c))
            else:
                out.append(c)
        out.append("'")
        return ''.join(out)
    return "'" + word.replace("'", "'\"'\"'") + "'"


def join(words) -> str:
    return ' '.join(quote(w) for w in words)
