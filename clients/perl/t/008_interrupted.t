# A call interrupted while it waits for its reply (a die from a signal handler, as with
# alarm) must not leave the late reply to be taken for the answer to the next command.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(ualarm);

use Chaqum;
use FakeDaemon;

alarm 60;
my $daemon = FakeDaemon->new;

# Runs the code with a 0.2 s alarm that dies; returns the error.
sub interrupted {
    my ($code) = @_;
    local $SIG{ALRM} = sub { die "interrupted\n" };
    ualarm(200_000);
    my $ok = eval { $code->(); 1 };
    ualarm(0);
    return $ok ? 'not interrupted' : $@;
}

subtest 'an interrupted wait' => sub {
    is interrupted(sub { Chaqum::wait_jobs('sleeper/1') }), "interrupted\n", 'the wait was interrupted';
    $daemon->reply('S sleeper/1 -15', 'S exiter/2');
    is Chaqum::enqueue('exiter')->id, 'exiter/2', 'the next call gets its own reply';
    is $daemon->written, "wait -a -- sleeper/1\nenqueue -- exiter\n";
};

subtest 'a receive interrupted before the message came' => sub {
    is interrupted(sub { Chaqum::receive() }), "interrupted\n";
    $daemon->reply('S 3')->reply_bytes("S x\n")->reply('S exiter/3');
    is Chaqum::enqueue('exiter')->id, 'exiter/3', 'the message body is skipped too, even if it looks like a reply';
    $daemon->written;
};

subtest 'a receive interrupted in the middle of the message' => sub {
    $daemon->reply('S 5')->reply_bytes('ab');
    is interrupted(sub { Chaqum::receive() }), "interrupted\n";
    $daemon->reply_bytes("cde\n")->reply('S 2')->reply_bytes("ok\n");
    is Chaqum::receive(), 'ok', 'the next message is the next message';
    $daemon->written;
};

subtest 'two interrupted calls in a row' => sub {
    is interrupted(sub { Chaqum::wait_jobs('a/1') }), "interrupted\n";
    is interrupted(sub { Chaqum::wait_jobs('b/2') }), "interrupted\n",
        'the second is interrupted while still waiting for the first reply';
    $daemon->reply('S a/1 0', 'S c/3 2');
    is Chaqum::wait_jobs('c/3'), 'exit 2';
    is $daemon->written, "wait -a -- a/1\nwait -a -- c/3\n", 'so it never sent its command';
};

done_testing;
