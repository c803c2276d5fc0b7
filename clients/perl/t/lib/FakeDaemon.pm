package FakeDaemon;

# A stand-in for the chaqum daemon in unit tests: two pipes, one for the commands the
# library writes, one for the replies. Replies are written before the call (a pipe
# holds 64 KiB), so a test runs in one process: queue the reply, call, read the command.

use strict;
use warnings;

use IO::Handle ();

use Chaqum;
use Chaqum::Connection;

sub new {
    my ($class) = @_;
    pipe(my $commands_in, my $commands_out) or die "pipe: $!";
    pipe(my $replies_in, my $replies_out) or die "pipe: $!";
    binmode $_ for $commands_in, $commands_out, $replies_in, $replies_out;
    $commands_in->blocking(0);
    $replies_out->autoflush(1);
    my $self = bless {
        commands => $commands_in,
        replies  => $replies_out,
        connection => Chaqum::Connection->new(commands => $commands_out, replies => $replies_in),
    }, $class;
    $Chaqum::CONNECTION = $self->{connection};
    return $self;
}

# Queues reply lines (a line feed is added to each).
sub reply {
    my ($self, @lines) = @_;
    print { $self->{replies} } map { "$_\n" } @lines;
    return $self;
}

# Queues raw bytes (a message body).
sub reply_bytes {
    my ($self, $bytes) = @_;
    print { $self->{replies} } $bytes;
    return $self;
}

# Everything the library has written since the last look.
sub written {
    my ($self) = @_;
    my $all = '';
    while (1) {
        my $got = sysread $self->{commands}, my $chunk, 65536;
        last unless $got;
        $all .= $chunk;
    }
    return $all;
}

# Closes the reply pipe: the daemon went away.
sub hang_up {
    my ($self) = @_;
    close $self->{replies};
    return $self;
}

1;
