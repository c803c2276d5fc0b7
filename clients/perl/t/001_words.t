# The line codec: quoting what the library sends, splitting what the daemon replies.
use strict;
use warnings;
use utf8;

use Test::More;

use Chaqum::Words qw(to_bytes quote_word join_words split_words);

subtest 'words that need no quoting go bare' => sub {
    is quote_word($_), $_, $_ for 'plain', 'convert/12', 'a-b_c.d', 'msg:3', 'x=1,y=2', 'user@host', '50%', '+1', '-g';
};

subtest 'the empty word is two single quotes' => sub {
    is quote_word(''), "''";
};

subtest q{other words go in single quotes, a quote written as '"'"'} => sub {
    is quote_word('a b'), q{'a b'};
    is quote_word(q{it's}), q{'it'"'"'s'};
    is quote_word('say "hi"'), q{'say "hi"'};
    is quote_word('back\\slash'), q{'back\\slash'};
    is quote_word('$HOME and $(id) and `id`'), q{'$HOME and $(id) and `id`'};
    is quote_word('*?[]{};|&<>()!#~'), q{'*?[]{};|&<>()!#~'};
    is quote_word('--'), '--';
};

subtest q{words with a control character use $'...' escapes} => sub {
    is quote_word("new\nline"), q{$'new\nline'};
    is quote_word("tab\there"), q{$'tab\there'};
    is quote_word("cr\r"), q{$'cr\r'};
    is quote_word("it's\n"), q{$'it\'s\n'};
    is quote_word("back\\slash\n"), q{$'back\\\\slash\n'};
    is quote_word("bell\a del\x7f nul\x00"), q{$'bell\x07 del\x7f nul\x00'};
};

subtest 'character strings are sent as UTF-8, byte strings unchanged' => sub {
    my $text = 'ünïcödé €';                         # characters (use utf8)
    my $bytes = "\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9 \xe2\x82\xac";   # the same, as UTF-8 bytes
    is to_bytes($text), $bytes, 'characters are encoded';
    is to_bytes($bytes), $bytes, 'bytes stay as they are';
    is quote_word($text), "'$bytes'";
    is quote_word($bytes), "'$bytes'";
    is quote_word("é\n"), "\$'\xc3\xa9\\n'", 'non-ASCII inside $... stays raw UTF-8';
    ok !utf8::is_utf8(join_words('enqueue', $text)), 'the line is bytes';
    no utf8;
    is to_bytes("\x{fc}ber"), "\xc3\xbcber", 'Latin-1 characters without the UTF8 flag are encoded';
    is to_bytes(chr(252)), "\xc3\xbc", 'chr 252 too';
    is to_bytes("\xed\xa0\x80"), "\xc3\xad\xc2\xa0\xc2\x80", 'a surrogate is not UTF-8: taken as characters';
    my $upgraded = "\xc3\xa9";
    utf8::upgrade($upgraded);
    is to_bytes($upgraded), "\xc3\x83\xc2\xa9", 'an upgraded string is characters';
};

subtest 'join_words quotes each word' => sub {
    is join_words('enqueue', '-g', 'my group', '--', 'job', '', "a\tb"),
        q{enqueue -g 'my group' -- job '' $'a\tb'};
};

subtest 'objects stand for their string' => sub {
    package Stringy { use overload '""' => sub { 'job/7' } }
    is quote_word(bless {}, 'Stringy'), 'job/7';
};

subtest 'splitting replies' => sub {
    is_deeply [split_words('S')], ['S'];
    is_deeply [split_words('S job/1 0 job/2 -15 job/3 N job/4 T')],
        [qw(S job/1 0 job/2 -15 job/3 N job/4 T)];
    is_deeply [split_words("  a \t b  ")], ['a', 'b'], 'blanks separate';
    is_deeply [split_words(q{'my job'/3 ''})], ['my job/3', ''], 'single quotes';
    is_deeply [split_words(q{"a \"b\" \\\\ \$x \`y\` \z"})], ['a "b" \\ $x `y` \z'], 'double quotes';
    is_deeply [split_words(q{a\ b\'c})], [q{a b'c}], 'backslash outside quotes';
    is_deeply [split_words(q{$'a\nb\tc\\\\d\'e\x41\101\e\?'})], ["a\nb\tc\\d'eAA\e?"], 'dollar quotes';
    is_deeply [split_words(q{$'\xc3\xa9'})], ["\xc3\xa9"], '\x escapes give bytes';
    is_deeply [split_words(q{cost$ 5})], ['cost$', '5'], 'a lone $ is literal';
    is_deeply [split_words(q{'it'"'"'s'})], [q{it's}], 'concatenated quotes';
};

subtest 'malformed replies croak' => sub {
    for my $bad (q{'open}, q{"open}, q{end\\}, q{$'open}, q{$'\q'}) {
        ok !eval { split_words($bad); 1 }, "croaks on <$bad>";
        like $@, qr/malformed quoting/, 'says why';
    }
};

subtest 'what is quoted splits back to the same bytes' => sub {
    my @words = (
        'plain', '', 'a b', "it's", 'say "hi"', 'back\\slash', '$HOME and $(id) and `id`',
        "new\nline", "tab\there", 'ünïcödé €', '-g', '--', '*?[]{};|&<>()!#~',
        '  leading and trailing  ', "\x01\x1f\x7f", "'\n'", "\\x41", "a\\\nb",
    );
    is_deeply [split_words(join_words(@words))], [map { to_bytes($_) } @words];
};

done_testing;
