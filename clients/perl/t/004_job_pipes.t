# The connection opens the job's real fds 3 and 4, lazily, and only if they are the
# daemon's pipes. Here the test process puts pipes on fds 3 and 4 itself.
use strict;
use warnings;

use Test::More;

use POSIX ();
use IO::Handle ();

use Chaqum;

alarm 60;

is $Chaqum::CONNECTION, undef, 'loading the module opens nothing';

# Puts a pipe pair on fds 3 and 4 as the daemon does; returns the daemon's ends.
sub job_pipes {
    # Hold fds 3 and 4 first, or pipe() might create the new pipes right there.
    POSIX::dup2(0, $_) for 3, 4;
    pipe(my $commands_in, my $commands_out) or die "pipe: $!";
    pipe(my $replies_in, my $replies_out) or die "pipe: $!";
    POSIX::dup2(fileno $commands_out, 3) or die "dup2: $!";
    POSIX::dup2(fileno $replies_in, 4) or die "dup2: $!";
    close $commands_out;
    close $replies_in;
    $commands_in->blocking(0);
    $replies_out->autoflush(1);
    undef $Chaqum::CONNECTION;
    return ($commands_in, $replies_out);
}

sub written {
    my ($handle) = @_;
    my $all = '';
    while (sysread $handle, my $chunk, 65536) { $all .= $chunk }
    return $all;
}

subtest 'the first call opens fds 3 and 4 and talks through them' => sub {
    my ($commands, $replies) = job_pipes();
    print {$replies} "S exiter/1\n", "S exiter/1 0\n";
    my $job = Chaqum::enqueue('exiter', 0);
    is $job->id, 'exiter/1';
    is $job->wait, 'exit 0';
    is written($commands), "enqueue -- exiter 0\nwait -a -- exiter/1\n";
    ok scalar(POSIX::fstat(3)) && scalar(POSIX::fstat(4)), 'fds 3 and 4 are still open (the library uses duplicates)';
};

subtest 'a forked child opens its own connection' => sub {
    my ($commands, $replies) = job_pipes();
    print {$replies} "S a/1\n";
    Chaqum::enqueue('a');
    my $parent_connection = $Chaqum::CONNECTION;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        print {$replies} "S b/2\n";
        my $id = eval { Chaqum::enqueue('b')->id } || '';
        POSIX::_exit($id eq 'b/2' && $Chaqum::CONNECTION != $parent_connection ? 0 : 1);
    }
    waitpid $pid, 0;
    is $?, 0, 'the child got its reply through a connection of its own';
    is $Chaqum::CONNECTION, $parent_connection, 'the parent keeps its connection';
    is written($commands), "enqueue -- a\nenqueue -- b\n";
};

subtest 'pipes the wrong way round are refused before anything is written' => sub {
    POSIX::dup2(0, $_) for 3, 4;
    pipe(my $in, my $out) or die "pipe: $!";
    POSIX::dup2(fileno $in, 3) or die "dup2: $!";     # a read end where the command pipe should be
    POSIX::dup2(fileno $out, 4) or die "dup2: $!";
    undef $Chaqum::CONNECTION;
    ok !eval { Chaqum::enqueue('x'); 1 }, 'croaks';
    like $@, qr/fds 3 and 4/, 'names fds 3 and 4';
    like $@, qr/fd 3 cannot be written/, 'says what is wrong';
};

subtest 'a file on fd 3 is not written to' => sub {
    my $file = "/tmp/chaqum-perl-test-$$";
    open my $fh, '>', $file or die "$file: $!";
    POSIX::dup2(fileno $fh, 3) or die "dup2: $!";
    undef $Chaqum::CONNECTION;
    ok !eval { Chaqum::enqueue('x'); 1 }, 'croaks';
    like $@, qr/fds 3 and 4 .*fd 3 is not a pipe/;
    is -s $file, 0, 'the file stays empty';
    unlink $file;
};

subtest 'closed fds 3 and 4' => sub {
    POSIX::close(3);
    POSIX::close(4);
    undef $Chaqum::CONNECTION;
    ok !eval { Chaqum::wait_jobs('x/1'); 1 }, 'croaks';
    like $@, qr/not running as a chaqum job: fds 3 and 4 .*fd 3 is not open/;
    ok !eval { Chaqum::receive(timeout => 1); 1 }, 'every call croaks';
    like $@, qr/fds 3 and 4/;
};

done_testing;
