package Chaqum::Connection;

# The pipe pair to the daemon: commands go out on fd 3, replies come back on fd 4.
# One command at a time, strictly in order, so a reply never has to be matched up.

use strict;
use warnings;

use Carp qw(croak);
use Errno ();
use Fcntl qw(F_GETFL O_ACCMODE O_RDONLY O_WRONLY O_RDWR S_ISFIFO S_ISSOCK);
use POSIX ();

use Chaqum::Error;
use Chaqum::Words qw(join_words split_words);

our $VERSION = '1.000';
our @CARP_NOT = qw(Chaqum Chaqum::Job Chaqum::Message Chaqum::Plan Chaqum::Repeat Chaqum::Words Chaqum::Error);

=head1 NAME

Chaqum::Connection - the command and reply pipes of a chaqum job

=head1 SYNOPSIS

    my $connection = Chaqum::Connection->open_job_pipes;   # fds 3 and 4
    my @reply = $connection->command('wait', '-t', '5', '--', 'convert/3');
    # ('S', 'convert/3', '0')

=head1 DESCRIPTION

Internal to L<Chaqum>, which opens one connection lazily, on the first call
that talks to the daemon. Documented for the tests and the curious.

=head1 METHODS

=head2 new

    my $connection = Chaqum::Connection->new(commands => $write_fh, replies => $read_fh);

A connection over any two handles (the tests use pipe pairs).

=cut

sub new {
    my ($class, %args) = @_;
    for my $handle (@args{qw(commands replies)}) {
        croak 'Chaqum::Connection->new needs commands and replies handles' unless $handle;
        binmode $handle;
    }
    return bless {
        commands => $args{commands},
        replies  => $args{replies},
        buffer   => '',    # reply bytes read but not used yet
        owed     => [],    # commands whose reply has not been read completely
        pid      => $$,    # a forked child must not use its parent's buffer and bookkeeping
    }, $class;
}

=head2 open_job_pipes

    my $connection = Chaqum::Connection->open_job_pipes;

Opens the job's fds 3 (commands) and 4 (replies). Both must be open pipes (or
sockets) with the right direction; otherwise this is not a chaqum job, and it
croaks with a message saying so (containing C<fds 3 and 4>) rather than writing
into some unrelated file or waiting for a reply that never comes.

The descriptors are duplicated, not taken over: fds 3 and 4 themselves stay as
they were, so programs the job runs still inherit them.

=cut

sub open_job_pipes {
    my ($class) = @_;
    my %open;
    for my $pipe ([3, 'commands', '>&', O_WRONLY, 'written'], [4, 'replies', '<&', O_RDONLY, 'read']) {
        my ($fd, $name, $mode, $access, $what) = @$pipe;
        my @stat = POSIX::fstat($fd);
        _outside("fd $fd is not open") unless @stat;
        _outside("fd $fd is not a pipe") unless S_ISFIFO($stat[2]) || S_ISSOCK($stat[2]);
        # A dup, so that dropping our handle never closes the job's own fd.
        open(my $handle, $mode, $fd)
            or _outside("fd $fd cannot be opened ($!)");
        # The other end of the pipe (fds swapped) would fail on first use, or worse, hang.
        my $flags = fcntl($handle, F_GETFL, 0);
        my $got = defined $flags ? $flags & O_ACCMODE : -1;
        _outside("fd $fd cannot be $what") unless $got == $access || $got == O_RDWR;
        $open{$name} = $handle;
    }
    return $class->new(%open);
}

sub _outside {
    my ($detail) = @_;
    croak "Chaqum: not running as a chaqum job: fds 3 and 4 must be the pipes to the chaqum daemon, but $detail";
}

=head2 command

    my ($kind, @words) = $connection->command(@words);

Sends one command (the words are quoted, see L<Chaqum::Words>) and reads its
reply. Returns C<S> followed by the reply's words; for C<recvmsg>, C<S> and the
message's bytes, or just C<T> if it timed out. A refusal (C<E reason>) dies
with a L<Chaqum::Error>.

=cut

sub command {
    my ($self, @words) = @_;
    return $self->_exchange($words[0], join_words(@words));
}

=head2 command_with_body

    my ($kind, $message_id) = $connection->command_with_body($bytes, 'sendmsg', '--', $job, length $bytes);

As L</command>, with C<$bytes> and a line feed written right after the
command line (the body of C<sendmsg>, the document of C<plan>).

=cut

sub command_with_body {
    my ($self, $body, @words) = @_;
    return $self->_exchange($words[0], join_words(@words), $body);
}

# One command and its reply. Each command is written down as owed a reply until the
# reply has been read completely, so that if the caller is interrupted while waiting
# (a die from a signal handler, an alarm around a long wait), the late reply is read
# and dropped before the next command instead of being taken for its answer.
sub _exchange {
    my ($self, $verb, $line, $body) = @_;
    $self->_catch_up;
    my $owed = { verb => $verb };
    push @{ $self->{owed} }, $owed;
    $self->_write(defined $body ? "$line\n$body\n" : "$line\n");
    my $reply = $self->_read_line;
    if ($verb eq 'recvmsg' && $reply =~ /\AS ([0-9]+)\z/) {
        $owed->{body} = $1 + 1;
        my $message = $self->_read_bytes($owed->{body});
        shift @{ $self->{owed} };
        croak 'Chaqum: a message from the chaqum daemon does not end with a line feed'
            unless substr($message, -1, 1, '') eq "\n";
        return ('S', $message);
    }
    shift @{ $self->{owed} };
    return ('S', split_words($1)) if $reply =~ /\AS[ \t](.*)\z/s;
    return ('S') if $reply eq 'S';
    return ('T') if $reply eq 'T';
    if ($reply =~ /\AE(?: (.*))?\z/s) {
        Chaqum::Error->throw(reason => defined $1 ? $1 : '', command => $line);
    }
    croak "Chaqum: unexpected reply from the chaqum daemon: '$reply'";
}

# Reads and drops the replies of interrupted commands.
sub _catch_up {
    my ($self) = @_;
    croak "Chaqum: the connection to the chaqum daemon is unusable: $self->{broken}" if $self->{broken};
    while (my $owed = $self->{owed}[0]) {
        if ($owed->{body}) {
            $self->_read_bytes($owed->{body});
        }
        elsif ($self->_read_line =~ /\AS ([0-9]+)\z/ && $owed->{verb} eq 'recvmsg') {
            $owed->{body} = $1 + 1;
            next;
        }
        shift @{ $self->{owed} };
    }
    return;
}

sub _write {
    my ($self, $data) = @_;
    # Half a command in the pipe would swallow the next one: if this is interrupted,
    # the connection is done for.
    $self->{broken} = 'a command was interrupted while it was being written';
    # A daemon that went away should be an error the job can report, not a SIGPIPE.
    local $SIG{PIPE} = 'IGNORE';
    my $offset = 0;
    while ($offset < length $data) {
        my $written = syswrite $self->{commands}, $data, length($data) - $offset, $offset;
        if (!defined $written) {
            next if $! == Errno::EINTR;
            $self->{broken} = "writing to fd 3 failed: $!";
            croak "Chaqum: cannot write to the chaqum daemon (fd 3): $!";
        }
        $offset += $written;
    }
    delete $self->{broken};
    return;
}

# Exactly $length bytes from the reply pipe. The buffer gives them up only all at
# once, so an interruption loses nothing.
sub _read_bytes {
    my ($self, $length) = @_;
    while (length $self->{buffer} < $length) {
        $self->_fill;
    }
    return substr $self->{buffer}, 0, $length, '';
}

sub _read_line {
    my ($self) = @_;
    my $end;
    while (($end = index $self->{buffer}, "\n") < 0) {
        $self->_fill;
    }
    my $line = substr $self->{buffer}, 0, $end + 1, '';
    chop $line;
    return $line;
}

# Appends what the pipe has to the buffer. Only the answer to the command in
# progress can arrive, so reading ahead never takes anything that is not ours.
sub _fill {
    my ($self) = @_;
    while (1) {
        my $got = sysread $self->{replies}, $self->{buffer}, 65536, length $self->{buffer};
        if (!defined $got) {
            next if $! == Errno::EINTR;
            croak "Chaqum: cannot read from the chaqum daemon (fd 4): $!";
        }
        croak 'Chaqum: the chaqum daemon closed the reply pipe (fd 4)' if $got == 0;
        return $got;
    }
}

1;
