package Chaqum::Error;

use strict;
use warnings;

use Carp ();

our $VERSION = '1.000';
our @CARP_NOT = qw(Chaqum Chaqum::Connection Chaqum::Job Chaqum::Message Chaqum::Repeat Chaqum::Words);

# Prints like a croak message ("reason at FILE line N.\n"), so an uncaught refusal
# reads naturally, while ->reason gives the daemon's words exactly.
use overload '""' => sub { $_[0]->{message} }, fallback => 1;

=head1 NAME

Chaqum::Error - a command the chaqum daemon refused

=head1 SYNOPSIS

    use Chaqum;

    my $job = eval { Chaqum::enqueue('nosuch') };
    if (my $e = $@) {
        die $e unless ref $e && $e->isa('Chaqum::Error');
        print "refused: ", $e->reason, "\n";   # enqueue: no such script: 'nosuch'
    }

=head1 DESCRIPTION

When the daemon answers a command with C<E reason>, the L<Chaqum> function that
sent it dies with one of these. As a string it is the reason followed by
C<at FILE line N.>, pointing at your call, like a C<croak>. The connection
stays usable: the daemon keeps the stream in sync after a refusal.

Mistakes found before anything is sent (an unknown option name, a call outside
a chaqum job) are plain C<croak> strings, not objects of this class.

=head1 METHODS

=head2 throw

    Chaqum::Error->throw(reason => $reason, command => $line);

Dies with a new error. Used by L<Chaqum::Connection>.

=cut

sub throw {
    my ($class, %fields) = @_;
    my $self = bless {%fields}, $class;
    $self->{message} = Carp::shortmess($self->{reason});
    die $self;
}

=head2 reason

The daemon's reason, exactly as it sent it (UTF-8 bytes), e.g.
C<enqueue: no such script: 'nosuch'>.

=head2 command

The command line that was refused (without its line feed).

=head2 message

The reason with the location of the call, as the error stringifies.

=cut

sub reason  { $_[0]->{reason} }
sub command { $_[0]->{command} }
sub message { $_[0]->{message} }

1;
