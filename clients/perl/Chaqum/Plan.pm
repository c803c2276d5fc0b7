package Chaqum::Plan;

use strict;
use warnings;

use Carp qw(croak);

use Chaqum ();
use Chaqum::Words ();

our $VERSION = '1.000';
our @CARP_NOT = qw(Chaqum Chaqum::Connection Chaqum::Job Chaqum::Message Chaqum::Repeat Chaqum::Words);

use overload '""' => sub { $_[0]->{id} }, fallback => 1;

=head1 NAME

Chaqum::Plan - a submitted plan, to wait for its end

=head1 SYNOPSIS

    my $plan = Chaqum::submit_plan({ type => 'sequence_group', work => [...] });
    my $state = $plan->wait(timeout => 3600);    # succeeded, failed, cancelled, running

=head1 DESCRIPTION

What L<Chaqum/submit_plan> and L<Chaqum/submit_plan_file> return. Its id
(C<plan/N>) is what the object stringifies to.

=head1 METHODS

=head2 new

    my $plan = Chaqum::Plan->new('plan/3');

=cut

sub new {
    my ($class, $id) = @_;
    croak 'Chaqum::Plan->new needs a plan id' unless defined $id && length $id;
    return bless { id => Chaqum::Words::to_bytes($id), state => undef }, $class;
}

=head2 id

The plan id, such as C<plan/3>.

=cut

sub id { $_[0]->{id} }

=head2 state

The state the last wait found once the plan had ended (C<succeeded>,
C<failed>, C<cancelled>), or C<undef> before that.

=cut

sub state { $_[0]->{state} }

=head2 wait

    my $state = $plan->wait;                  # until it has ended
    my $state = $plan->wait(timeout => 60);

Same as C<Chaqum::wait_plan($plan, %options)>: C<succeeded>, C<failed> or
C<cancelled> once the plan has ended, C<running> if the timeout passed first.
An ended plan remembers its state: waiting again asks nothing.

=cut

sub wait {
    my ($self, @options) = @_;
    return Chaqum::wait_plan($self, @options);
}

1;
