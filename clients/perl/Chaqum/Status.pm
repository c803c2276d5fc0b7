package Chaqum::Status;

use strict;
use warnings;

our $VERSION = '1.000';

# A status prints as its description ("exit 3", "signal 15", ...), which is what
# logs and messages want; compare with the methods, not with ==.
use overload '""' => sub { $_[0]->as_string }, fallback => 1;

=head1 NAME

Chaqum::Status - how a chaqum job ended (or that it has not)

=head1 SYNOPSIS

    my $status = $job->wait(timeout => 600);
    if    ($status->success)   { print "done\n" }
    elsif ($status->pending)   { print "still running after 10 minutes\n" }
    elsif ($status->never_ran) { print "cancelled, or a dependency failed\n" }
    elsif (defined $status->signal) { print "killed by signal ", $status->signal, "\n" }
    else  { print "failed with exit code ", $status->code, "\n" }
    print "$status\n";    # "exit 0", "signal 15", "never-ran", "pending" or "unknown"

=head1 DESCRIPTION

What L<Chaqum/wait_jobs>, L<Chaqum/kill_jobs> and the job methods return for
each job. It distinguishes the five answers the daemon can give:

    wire   kind        meaning
    0..255 exit        the job exited with that code
    -SIG   signal      the job died from signal SIG
    N      never-ran   it ended without running: cancelled, dependency failed, spawn failed
    T      pending     still queued, waiting for dependencies, running or between retries
    (none) unknown     the daemon does not know the id (never issued, result already
                       reported to an earlier wait, or forgotten with the forget option)

=head1 METHODS

=head2 new

    my $status = Chaqum::Status->new($wire);

A status from its wire form (C<0>, C<-15>, C<N>, C<T>); C<undef> makes an
C<unknown> status.

=cut

sub new {
    my ($class, $wire) = @_;
    return bless { wire => $wire }, $class;
}

=head2 wire

The status as the daemon sent it, or C<undef> for C<unknown>.

=cut

sub wire { $_[0]->{wire} }

=head2 kind

One of C<exit>, C<signal>, C<never-ran>, C<pending>, C<unknown>.

=cut

sub kind {
    my ($self) = @_;
    my $wire = $self->{wire};
    return 'unknown'   unless defined $wire;
    return 'exit'      if $wire =~ /\A[0-9]+\z/;
    return 'signal'    if $wire =~ /\A-[0-9]+\z/;
    return 'never-ran' if $wire eq 'N';
    return 'pending'   if $wire eq 'T';
    return 'unknown';
}

=head2 code

The exit code (0..255) if the job exited, else C<undef>.

=cut

sub code {
    my ($self) = @_;
    return $self->kind eq 'exit' ? 0 + $self->{wire} : undef;
}

=head2 signal

The number of the signal that killed the job (15 for SIGTERM, 9 for SIGKILL),
else C<undef>.

=cut

sub signal {
    my ($self) = @_;
    return $self->kind eq 'signal' ? 0 - $self->{wire} : undef;
}

=head2 exited, never_ran, pending, unknown

True for the kind of status of the same name.

=cut

sub exited    { $_[0]->kind eq 'exit' }
sub never_ran { $_[0]->kind eq 'never-ran' }
sub pending   { $_[0]->kind eq 'pending' }
sub unknown   { $_[0]->kind eq 'unknown' }

=head2 ended

True if the job has ended for good: exited, killed by a signal or never ran.
Such a status never changes again.

=cut

sub ended {
    my $kind = $_[0]->kind;
    return $kind eq 'exit' || $kind eq 'signal' || $kind eq 'never-ran';
}

=head2 success

True if the job exited with code 0.

=cut

sub success {
    my ($self) = @_;
    return $self->kind eq 'exit' && $self->{wire} == 0;
}

=head2 as_string

C<exit N>, C<signal N>, C<never-ran>, C<pending> or C<unknown>. This is also
what the status stringifies to.

=cut

sub as_string {
    my ($self) = @_;
    my $kind = $self->kind;
    return "exit " . $self->code     if $kind eq 'exit';
    return "signal " . $self->signal if $kind eq 'signal';
    return $kind;
}

1;
