package Chaqum::Job;

use strict;
use warnings;

use Carp qw(croak);

use Chaqum ();
use Chaqum::Words ();

our $VERSION = '1.000';
our @CARP_NOT = qw(Chaqum Chaqum::Connection Chaqum::Message Chaqum::Repeat Chaqum::Words);

# A job stands for its id wherever a string is wanted ("$job", hash keys, sending
# it in a message), and compares equal to it with eq.
use overload '""' => sub { $_[0]->{id} }, fallback => 1;

=head1 NAME

Chaqum::Job - a job of the tree: wait for it, kill it, send it messages

=head1 SYNOPSIS

    use Chaqum;

    my $job = Chaqum::enqueue('convert', $file, { group => 'convert', max_procs => 2 });
    print "started $job\n";                      # started convert/17
    $job->send_text("high quality\n");
    my $status = $job->wait(timeout => 600);
    $job->kill if $status->pending;

    my $parent = Chaqum::parent;                 # also a Chaqum::Job
    $parent->send_json({ file => $file, ok => 1 }) if $parent;

=head1 DESCRIPTION

L<Chaqum/enqueue> returns one of these; L<Chaqum/parent> and L</new> make them
for existing ids. The object remembers the last status the daemon reported for
it, and once that status is final (the job exited, was killed or never ran) it
answers later waits and kills from memory: the daemon reports a result only
once.

=head1 METHODS

=head2 new

    my $job = Chaqum::Job->new('convert/17');

A job object for an id (for example one received in a message). Also
C<Chaqum::job($id)>.

=cut

sub new {
    my ($class, $id) = @_;
    croak 'Chaqum::Job->new needs a job id' unless defined $id && length $id;
    return bless { id => Chaqum::Words::to_bytes($id), status => undef }, $class;
}

=head2 id

The job id, such as C<convert/17> or C<init> (UTF-8 bytes). The object
stringifies to it.

=cut

sub id { $_[0]->{id} }

=head2 status

The last L<Chaqum::Status> the daemon reported for this job, or C<undef> if it
was never waited for or killed. Asks nothing.

=cut

sub status { $_[0]->{status} }

=head2 wait

    my $status = $job->wait;                       # until it ends
    my $status = $job->wait(timeout => 600);       # at most 10 minutes

Waits until the job has ended, or at most C<timeout> seconds (fractions
allowed, C<0> just looks). Returns a L<Chaqum::Status>: C<pending> if the time
ran out, C<unknown> if the daemon no longer knows the job. Same as
C<Chaqum::wait_jobs($job, \%options)>.

=cut

sub wait {
    my ($self, @options) = @_;
    my ($status) = Chaqum::wait_jobs($self, Chaqum::_named('wait', @options));
    return $status;
}

=head2 kill

    my $status = $job->kill;                            # SIGTERM
    my $status = $job->kill(signal => 'KILL', timeout => 5);

Kills the job: the signal (a name with or without C<SIG>, or a number; default
TERM) goes to its whole process group, and the daemon follows up with SIGKILL
after its grace period. A job that has not started yet is cancelled
(C<never-ran>). Then waits for it to end, at most C<timeout> seconds, and
returns its L<Chaqum::Status>. A job may only kill jobs it enqueued, directly or
indirectly; anything else is refused (a L<Chaqum::Error>). Same as
C<Chaqum::kill_jobs($job, \%options)>.

=cut

sub kill {
    my ($self, @options) = @_;
    my ($status) = Chaqum::kill_jobs($self, Chaqum::_named('kill', @options));
    return $status;
}

=head2 send_bytes

    my $message = $job->send_bytes($bytes);

Sends the job a message of raw bytes; returns a L<Chaqum::Message>. See
L<Chaqum/send_bytes>.

=head2 send_text

    my $message = $job->send_text($text);

Sends text, encoded as UTF-8. See L<Chaqum/send_text>.

=head2 send_json

    my $message = $job->send_json($data);

Sends a Perl data structure as JSON. See L<Chaqum/send_json>.

=cut

sub send_bytes { my ($self, $bytes) = @_; return Chaqum::send_bytes($self, $bytes) }
sub send_text  { my ($self, $text)  = @_; return Chaqum::send_text($self, $text) }
sub send_json  { my ($self, $data)  = @_; return Chaqum::send_json($self, $data) }

1;
