"""Quoting, splitting, numbers and reply parsing: the wire level, no daemon."""
from __future__ import annotations

import datetime
import shlex
import unittest

from chaqum import ChaqumError
from chaqum._protocol import decimal, join, parse_reply, quote, seconds, split, word

TRICKY = [
    "plain", "", "a b", "it's", 'say "hi"', "back\\slash", "$HOME and $(id) and `id`",
    "new\nline", "tab\there", "ünïcödé €", "-g", "--", "*?[]{};|&<>()!#~",
    "  leading and trailing  ", "cr\r", "bell\a and esc\x1b and del\x7f", "'", "''", "\\'",
    "$'not an escape'", "a\\nb",
]


class QuoteTests(unittest.TestCase):
    def test_every_word_splits_back_unchanged(self):
        for w in TRICKY:
            with self.subTest(word=w):
                self.assertEqual(split(quote(w)), [w])
        self.assertEqual(split(join(TRICKY)), TRICKY)

    def test_safe_words_go_bare(self):
        self.assertEqual(quote("script/sub-dir_1.py@host:80,x=y+z%"), "script/sub-dir_1.py@host:80,x=y+z%")

    def test_matches_shlex_without_control_characters(self):
        for w in TRICKY:
            if not any(ord(c) < 0x20 or ord(c) == 0x7F for c in w):
                with self.subTest(word=w):
                    self.assertEqual(quote(w), shlex.quote(w))

    def test_control_characters_use_dollar_quotes(self):
        self.assertEqual(quote("new\nline"), "$'new\\nline'")
        self.assertEqual(quote("it's\t"), "$'it\\'s\\t'")
        self.assertEqual(quote("\x01"), "$'\\x01'")
        self.assertNotIn("\n", join(TRICKY))

    def test_nul_cannot_be_quoted(self):
        with self.assertRaises(ChaqumError):
            quote("a\0b")


class SplitTests(unittest.TestCase):
    def test_posix_rules(self):
        self.assertEqual(split("  a\tb  "), ["a", "b"])
        self.assertEqual(split("'a b'c\"d e\"f"), ["a bcd ef"])
        self.assertEqual(split('"\\"\\\\\\$\\`\\a"'), ['"\\$`\\a'])
        self.assertEqual(split("a\\ b \\'"), ["a b", "'"])
        self.assertEqual(split("''"), [""])
        self.assertEqual(split(""), [])

    def test_dollar_single_escapes(self):
        self.assertEqual(split("$'\\n\\t\\r\\a\\b\\e\\f\\v\\\\\\'\\\"\\?'"),
                         ["\n\t\r\a\b\x1b\f\v\\'\"?"])
        self.assertEqual(split("$'\\xc3\\xbc\\303\\274'"), ["üü"])
        self.assertEqual(split("x$'\\x41'y"), ["xAy"])

    def test_malformed(self):
        for bad in ("'open", '"open', "trailing\\", "$'\\q'", "$'open", "$'\\x'"):
            with self.subTest(line=bad):
                with self.assertRaises(ValueError):
                    split(bad)


class ValueTests(unittest.TestCase):
    def test_decimal_never_uses_exponents(self):
        self.assertEqual(decimal(5), "5")
        self.assertEqual(decimal(0.2), "0.2")
        self.assertEqual(decimal(2.0), "2")
        self.assertEqual(decimal(1e-5), "0.00001")
        self.assertEqual(decimal(-3), "-3")
        self.assertEqual(decimal("80"), "80")
        with self.assertRaises(TypeError):
            decimal(True)

    def test_seconds_from_timedelta(self):
        self.assertEqual(seconds(datetime.timedelta(minutes=1, milliseconds=500)), "60.5")
        self.assertEqual(seconds(0), "0")

    def test_words_from_other_types(self):
        import pathlib
        self.assertEqual(word(3), "3")
        self.assertEqual(word(pathlib.Path("a/b")), "a/b")
        self.assertEqual(word(b"x"), "x")


class ReplyTests(unittest.TestCase):
    def test_success_with_words(self):
        reply = parse_reply(b"S job/1 0 'odd name/2' -15")
        self.assertEqual((reply.kind, reply.words), ("S", ["job/1", "0", "odd name/2", "-15"]))
        self.assertEqual(parse_reply(b"S").words, [])

    def test_error_keeps_the_reason_word_for_word(self):
        reply = parse_reply(b"E enqueue: no such script: 'nosuch'")
        self.assertEqual((reply.kind, reply.reason), ("E", "enqueue: no such script: 'nosuch'"))

    def test_timeout(self):
        self.assertEqual(parse_reply(b"T").kind, "T")

    def test_garbage_is_an_error(self):
        for bad in (b"", b"X", b"Sjob", b"S 'open"):
            with self.subTest(line=bad):
                with self.assertRaises(ChaqumError):
                    parse_reply(bad)


if __name__ == "__main__":
    unittest.main()
