package Chaqum::Words;

# The line codec of the chaqum protocol: words quoted and split the way POSIX sh
# does, plus $'...' for control characters. Everything here works on byte strings:
# the wire is UTF-8 bytes, so words are turned into bytes first (see to_bytes).

use strict;
use warnings;

use Carp qw(croak);
use Encode ();
use Exporter qw(import);

our $VERSION = '1.000';
our @EXPORT_OK = qw(to_bytes quote_word join_words split_words);
our @CARP_NOT = qw(Chaqum Chaqum::Connection Chaqum::Job Chaqum::Message Chaqum::Repeat);

=head1 NAME

Chaqum::Words - quote and split the words of chaqum protocol lines

=head1 SYNOPSIS

    use Chaqum::Words qw(join_words split_words);

    my $line  = join_words('enqueue', '--', 'convert', "my file.txt");
    # enqueue -- convert 'my file.txt'
    my @words = split_words(q{S convert/12 0});
    # ('S', 'convert/12', '0')

=head1 DESCRIPTION

Internal to L<Chaqum>; documented because the rules are the protocol's. A word
made only of C<[A-Za-z0-9@%+=:,./_-]> goes bare; the empty word is C<''>; a
word with a control character (newline, tab, CR, ...) is written C<$'...'> with
C escapes; anything else goes in single quotes, each C<'> written C<'"'"'>.
This is what Python's C<shlex.join> does for words without control characters,
and what the daemon itself uses for its replies.

=head1 FUNCTIONS

=head2 to_bytes

    my $bytes = to_bytes($word);

Returns the UTF-8 bytes of a word (or of a text), whatever kind of Perl string
it is:

=over 4

=item *

a character string with the UTF8 flag (a C<use utf8> literal, decoded input)
is encoded;

=item *

any other string that is valid UTF-8 already (ASCII, C<@ARGV>, C<%ENV>, file
contents read without layers) is returned unchanged;

=item *

any other string is taken to be characters 0..255 (like C<"\x{e9}"> or
C<chr 252>, which Perl keeps without the flag) and encoded.

=back

Objects are stringified first, so a L<Chaqum::Job> stands for its id. Croaks on
C<undef>.

=cut

sub to_bytes {
    my ($word) = @_;
    croak 'Chaqum: undefined value where a word was expected' unless defined $word;
    my $bytes = "$word";
    if (utf8::is_utf8($bytes)) {
        utf8::encode($bytes);
    }
    elsif ($bytes =~ /[\x80-\xff]/ && !_valid_utf8($bytes)) {
        # Not UTF-8, so not bytes meant for the wire: Latin-1 characters.
        utf8::upgrade($bytes);
        utf8::encode($bytes);
    }
    return $bytes;
}

# Strict UTF-8 (no surrogates, nothing above U+10FFFF), as the daemon checks it.
sub _valid_utf8 {
    my $rest = $_[0];
    Encode::decode('UTF-8', $rest, Encode::FB_QUIET);
    return length $rest == 0;
}

# The escapes $'...' needs for the control characters people actually use; any
# other control character becomes \xHH.
my %ESCAPE = ("\n" => '\n', "\t" => '\t', "\r" => '\r', "\\" => '\\\\', "'" => "\\'");

=head2 quote_word

    my $quoted = quote_word($word);

Returns the word (as bytes, see L</to_bytes>) quoted for a command line, so that
the daemon's splitter gives back exactly the same bytes.

=cut

sub quote_word {
    my $word = to_bytes($_[0]);
    return "''" if $word eq '';
    return $word if $word =~ m{\A[A-Za-z0-9@%+=:,./_-]+\z};
    if ($word =~ /[\x00-\x1f\x7f]/) {
        # A command is one line: control characters must not travel raw.
        (my $escaped = $word) =~ s/([\\'\x00-\x1f\x7f])/
            exists $ESCAPE{$1} ? $ESCAPE{$1} : sprintf('\\x%02x', ord $1)/ge;
        return "\$'$escaped'";
    }
    (my $quoted = $word) =~ s/'/'"'"'/g;
    return "'$quoted'";
}

=head2 join_words

    my $line = join_words(@words);

Quotes each word and joins them with single spaces (without a line feed).

=cut

sub join_words {
    return join ' ', map { quote_word($_) } @_;
}

# What the C escapes of $'...' stand for (\x and octal are handled apart).
my %UNESCAPE = (
    n => "\n", t => "\t", r => "\r", a => "\a", b => "\b", e => "\e", E => "\e",
    f => "\f", v => "\x0b", '\\' => '\\', "'" => "'", '"' => '"', '?' => '?',
);

=head2 split_words

    my @words = split_words($line);

Splits a line (bytes, without its line feed) into words like POSIX sh without
expansions: blanks separate words, C<'...'> is literal, C<"..."> allows
C<\"> C<\\> C<\$> C<\`>, a backslash outside quotes escapes the next character,
and C<$'...'> allows C escapes (C<\n>, C<\t>, C<\xHH>, octal C<\NNN>, ...).
Returns byte strings. Croaks on unbalanced quotes or a bad escape.

=cut

sub split_words {
    my ($line) = @_;
    my (@words, $word);    # $word is undef between words
    pos($line) = 0;
    while (pos($line) < length $line) {
        if ($line =~ /\G[ \t]+/gc) {
            push @words, $word if defined $word;
            undef $word;
        }
        elsif ($line =~ /\G'([^']*)'/gc) {
            $word .= $1;
        }
        elsif ($line =~ /\G"((?:[^"\\]|\\.)*)"/gcs) {
            (my $inner = $1) =~ s/\\(["\\\$`]|\n)/$1 eq "\n" ? '' : $1/ge;
            $word .= $inner;
        }
        elsif ($line =~ /\G\$'/gc) {
            $word .= _dollar_single(\$line);
        }
        elsif ($line =~ /\G\\(.)/gcs) {
            $word .= $1 eq "\n" ? '' : $1;
        }
        elsif ($line =~ /\G([^ \t'"\\\$]+|\$)/gc) {
            $word .= $1;
        }
        else {
            my $rest = substr $line, pos $line;
            croak 'Chaqum: malformed quoting: '
                . ($rest =~ /\A'/ ? 'unterminated single quote'
                 : $rest =~ /\A"/ ? 'unterminated double quote'
                 :                  'backslash at end of line')
                . " in reply: $line";
        }
    }
    push @words, $word if defined $word;
    return @words;
}

# Decodes the body of $'...' (pos() is just after the opening quote), leaving pos()
# after the closing quote.
sub _dollar_single {
    my ($line) = @_;
    my $text = '';
    while (1) {
        if    ($$line =~ /\G([^'\\]+)/gc)          { $text .= $1 }
        elsif ($$line =~ /\G'/gc)                  { return $text }
        elsif ($$line =~ /\G\\x([0-9A-Fa-f]{1,2})/gc) { $text .= chr hex $1 }
        elsif ($$line =~ /\G\\([0-7]{1,3})/gc)     { $text .= chr(oct($1) & 0xff) }
        elsif ($$line =~ /\G\\(.)/gcs) {
            croak "Chaqum: malformed quoting: unknown escape \\$1 in \$'...'" unless exists $UNESCAPE{$1};
            $text .= $UNESCAPE{$1};
        }
        else { croak "Chaqum: malformed quoting: unterminated \$'...' quote" }
    }
}

1;

__END__

=head1 SEE ALSO

L<Chaqum>, the protocol description in F<docs/protocol.md>.

=cut
