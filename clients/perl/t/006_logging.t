# The five log levels write "LEVEL\x1f message\n" lines to fd 2.
use strict;
use warnings;
use utf8;

use Test::More;

use File::Temp qw(tempfile);
use IO::Handle ();

use Chaqum;

# Runs the code with fd 2 going to a file; returns what was written, as bytes.
sub stderr_of {
    my ($code) = @_;
    my ($fh, $name) = tempfile(UNLINK => 1);
    open my $saved, '>&', \*STDERR or die "dup: $!";
    open STDERR, '>&', $fh or die "redirect: $!";
    my $ok = eval { $code->(); 1 };
    my $error = $@;
    open STDERR, '>&', $saved or die "restore: $!";
    die $error unless $ok;
    open my $in, '<:raw', $name or die "$name: $!";
    local $/;
    return scalar <$in>;
}

is stderr_of(sub {
    Chaqum::critical('conformance critical 1');
    Chaqum::error('conformance error 2');
    Chaqum::warning('conformance warning 3');
    Chaqum::info('conformance info 4');
    Chaqum::debug('conformance debug 5');
}), "C\x1fconformance critical 1\nE\x1fconformance error 2\nW\x1fconformance warning 3\n"
  . "I\x1fconformance info 4\nD\x1fconformance debug 5\n", 'one prefixed line per call';

is stderr_of(sub { Chaqum::info('disk ', 3, ' almost ', 'full') }), "I\x1fdisk 3 almost full\n",
    'parts are joined like print';
is stderr_of(sub { Chaqum::warning("first\nsecond\n") }), "W\x1ffirst\nW\x1fsecond\n",
    'every line of a multi-line message is prefixed; a final newline is not doubled';
is stderr_of(sub { Chaqum::debug('') }), "D\x1f\n", 'an empty message is still a line';
is stderr_of(sub { Chaqum::info('ünïcödé €') }), "I\x1f\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9 \xe2\x82\xac\n",
    'characters are written as UTF-8';

is stderr_of(sub {
    binmode STDERR, ':encoding(UTF-8)';
    print STDERR "plain ü\n";
    Chaqum::error('prefixed ü');
    binmode STDERR;
}), "plain \xc3\xbc\nE\x1fprefixed \xc3\xbc\n", 'layers on STDERR do not double-encode, and order is kept';

my $previous = select STDOUT;
ok $|, 'STDOUT is autoflushed, so output reaches the log at once and in order';
select $previous;

done_testing;
