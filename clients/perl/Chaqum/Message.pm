package Chaqum::Message;

use strict;
use warnings;

use Carp qw(croak);

use Chaqum ();
use Chaqum::Words ();

our $VERSION = '1.000';
our @CARP_NOT = qw(Chaqum Chaqum::Connection Chaqum::Job Chaqum::Repeat Chaqum::Words);

use overload '""' => sub { $_[0]->{id} }, fallback => 1;

=head1 NAME

Chaqum::Message - a message sent to a job, to wait for its delivery

=head1 SYNOPSIS

    my $message = $worker->send_text("item 42\n");
    if ($message->wait_received(timeout => 10)) {
        print "$worker has taken $message\n";
    }

=head1 DESCRIPTION

What the send functions of L<Chaqum> return. Its id (C<msg:N>) is what the
object stringifies to.

=head1 METHODS

=head2 new

    my $message = Chaqum::Message->new('msg:7');

=cut

sub new {
    my ($class, $id) = @_;
    croak 'Chaqum::Message->new needs a message id' unless defined $id && length $id;
    return bless { id => Chaqum::Words::to_bytes($id), received => undef }, $class;
}

=head2 id

The message id, such as C<msg:7>.

=cut

sub id { $_[0]->{id} }

=head2 wait_received

    my $received = $message->wait_received;                # until it is received
    my $received = $message->wait_received(timeout => 10);

Waits until the destination job has received the message (taken it with
C<receive>), at most C<timeout> seconds. Returns 1 if it has been received, 0
if not (yet: the time ran out; or never: the destination ended without
receiving it), and C<undef> if the daemon no longer knows the message (its
final state was already reported). Same as
C<Chaqum::wait_received($message, \%options)>.

=cut

sub wait_received {
    my ($self, @options) = @_;
    my ($received) = Chaqum::wait_received($self, Chaqum::_named('wait_received', @options));
    return $received;
}

1;
