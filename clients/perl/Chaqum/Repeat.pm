package Chaqum::Repeat;

use strict;
use warnings;

use Carp qw(croak);

use Chaqum ();
use Chaqum::Words ();

our $VERSION = '1.000';
our @CARP_NOT = qw(Chaqum Chaqum::Connection Chaqum::Job Chaqum::Message Chaqum::Words);

use overload '""' => sub { $_[0]->{id} }, fallback => 1;

=head1 NAME

Chaqum::Repeat - a registered repeat, to remove it again

=head1 SYNOPSIS

    my $repeat = Chaqum::repeat('backup', { cron => '0 2 * * *' });
    ...
    $repeat->unrepeat;

=head1 DESCRIPTION

What L<Chaqum/repeat> returns. Its id (C<repeat:N>) is what the object
stringifies to.

=head1 METHODS

=head2 new

    my $repeat = Chaqum::Repeat->new('repeat:3');

=cut

sub new {
    my ($class, $id) = @_;
    croak 'Chaqum::Repeat->new needs a repeat id' unless defined $id && length $id;
    return bless { id => Chaqum::Words::to_bytes($id) }, $class;
}

=head2 id

The repeat id, such as C<repeat:3>.

=cut

sub id { $_[0]->{id} }

=head2 unrepeat

    $repeat->unrepeat;

Removes the repeat: no more firings (running ones go on). Same as
C<Chaqum::unrepeat($repeat)>.

=cut

sub unrepeat {
    my ($self) = @_;
    return Chaqum::unrepeat($self);
}

1;
