package Chaqum;

# The Perl client of the chaqum job protocol (docs/protocol.md): a job writes one
# command line to fd 3 and reads one reply line from fd 4. Core modules only.

use strict;
use warnings;

use Carp qw(croak);
use Encode ();
use Exporter qw(import);
use IO::Handle ();
use Errno ();
use JSON::PP ();
use POSIX ();
use Scalar::Util qw(blessed looks_like_number);

use Chaqum::Connection;
use Chaqum::Error;
use Chaqum::Job;
use Chaqum::Message;
use Chaqum::Plan;
use Chaqum::Repeat;
use Chaqum::Status;
use Chaqum::Words ();

our $VERSION = '1.000';

our @CARP_NOT = qw(Chaqum::Connection Chaqum::Job Chaqum::Message Chaqum::Plan Chaqum::Repeat Chaqum::Words);

my @JOBS     = qw(enqueue job wait_jobs kill_jobs);
my @REPEATS  = qw(repeat unrepeat group);
my @MESSAGES = qw(send_bytes send_text send_json receive receive_text receive_json wait_received);
my @PLANS    = qw(submit_plan submit_plan_file wait_plan);
my @LOG      = qw(critical error warning info debug);
my @IDENTITY = qw(ident parent tree job_group slot attempt changed_paths changes_incomplete);

our @EXPORT_OK = (@JOBS, @REPEATS, @MESSAGES, @PLANS, @LOG, @IDENTITY);
our %EXPORT_TAGS = (
    all      => \@EXPORT_OK,
    jobs     => [@JOBS, @REPEATS],
    messages => \@MESSAGES,
    plans    => \@PLANS,
    log      => \@LOG,
    identity => \@IDENTITY,
);

# Job output is read line by line by the daemon and logged as it comes; block
# buffering would hold stdout back until exit (and lose it if the job is killed),
# and put it out of order with stderr.
STDOUT->autoflush(1);

=head1 NAME

Chaqum - write chaqum jobs in Perl

=head1 SYNOPSIS

    #!/usr/bin/perl
    use strict;
    use warnings;
    use Chaqum;

    # Start a job, limit its group to two at a time, wait up to ten minutes.
    my $job = Chaqum::enqueue('convert', $file, { group => 'convert', max_procs => 2 });
    my $status = $job->wait(timeout => 600);
    Chaqum::warning("convert $file: $status") unless $status->success;

    # Many jobs, one wait.
    my @jobs = map { Chaqum::enqueue('thumb', $_) } @images;
    my @statuses = Chaqum::wait_jobs(@jobs);

    # Messages: raw bytes, text or JSON.
    my $worker = Chaqum::enqueue('worker');
    $worker->send_json({ item => 42 });
    my $answer = Chaqum::receive_json(timeout => 30);

    # Who am I?
    printf "%s (attempt %d), enqueued by %s\n",
        Chaqum::ident, Chaqum::attempt, Chaqum::parent // 'nobody';

=head1 DESCRIPTION

A job of a chaqum tree talks to the daemon through two pipes: it writes one
command line to fd 3 and reads the reply from fd 4. This module speaks that
protocol (F<docs/protocol.md>) with plain functions, and returns small objects
for what they create: L<Chaqum::Job>, L<Chaqum::Message>, L<Chaqum::Repeat>,
L<Chaqum::Plan>, and L<Chaqum::Status> for how a job ended.

Jobs find the module without any setup: the daemon appends the library's
directory to C<PERL5LIB>. It uses core modules only.

Loading it never touches fds 3 and 4; the first call that talks to the daemon
opens them. Outside a chaqum job (fds 3 and 4 not the daemon's pipes), that
call croaks with a message saying so, instead of writing into an unrelated
file or waiting for ever. The identity and logging functions work anywhere.

Loading the module turns on autoflush for C<STDOUT>, so that what a job prints
reaches the log at once and in order.

=head2 Calling conventions

Functions that take a list (a script and its arguments, several jobs) take
their options as a hash reference at the end:

    Chaqum::enqueue('convert', 'in.png', 'out.jpg', { group => 'convert', timeout => 60 });
    Chaqum::wait_jobs(@jobs, { timeout => 10 });

Functions and methods without a list take them as key/value pairs (a hash
reference works too):

    Chaqum::group('convert', max_procs => 2);
    $job->wait(timeout => 600);
    Chaqum::receive(timeout => 5);

An unknown option name croaks, so a typo does not pass unnoticed. Seconds
(C<timeout>) may have fractions.

Nothing is exported by default; call the functions with their full names as
above, or import them: C<use Chaqum qw(enqueue wait_jobs);>, or by tag:
C<:jobs>, C<:messages>, C<:plans>, C<:log>, C<:identity>, C<:all>.

=head2 Text and bytes

The wire carries UTF-8. Arguments, script names, group names, keys, texts
and log messages may be given as any kind of Perl string; the library sends
UTF-8 (see L<Chaqum::Words/to_bytes>):

=over 4

=item *

character strings with the UTF8 flag (C<use utf8> literals, anything
decoded) are encoded;

=item *

strings that are valid UTF-8 already, such as C<@ARGV>, C<%ENV> or file
contents read without an C<:encoding> layer, are sent unchanged, so an
argument a job received can be handed on as it is;

=item *

other strings are taken to be characters 0..255 (C<"\x{e9}">) and encoded.

=back

(The one string this guesses wrong is a character string without the flag
that happens to look like UTF-8, such as C<"\x{c3}\x{a9}"> meant as two
characters. Call C<utf8::upgrade> on such a string first.)

What comes back (job ids, statuses, reasons, the identity values) is UTF-8
bytes, ready to print to a handle without layers and to send back. Message
bodies are bytes: L</send_bytes> and L</receive> move them unchanged, while
L</send_text>, L</receive_text> and the JSON functions encode and decode.

=head2 Errors

A command the daemon refuses (C<E reason>) dies with a L<Chaqum::Error>, which
prints like a C<croak> and whose C<reason> method gives the daemon's words.
The connection stays usable. Mistakes caught before sending (unknown options,
no fds 3 and 4) croak with a plain message.

=head2 Interruptions and forks

Commands are answered one at a time, in order. If a call is interrupted while
it waits for its reply (a C<die> from a signal handler, say an C<alarm> around
a long wait), the late reply is read and dropped before the next command; that
next command may therefore first wait until the daemon has answered the
interrupted one. A message whose C<receive> was interrupted after the daemon
sent it is lost.

A forked child opens its own connection on the job's pipes when it first
talks to the daemon; parent and child must not talk to the daemon at the
same time, as they share the pipes.

=head1 JOBS

=head2 enqueue

    my $job = Chaqum::enqueue($script, @args);
    my $job = Chaqum::enqueue($script, @args, \%options);

Creates a job running C<$script> (a path relative to the tree) with
C<@args>, and returns its L<Chaqum::Job> at once, before it runs. Options:

    forget       => 1           keep no result once it ended (nobody will wait for it)
    group        => 'convert'   put it in this group (created on first mention)
    max_procs    => 2           group limit: at most this many of the group run at once
    max_cpu      => 80          group limit: start only while CPU busy share is below
                                this (a fraction like 0.8, or percent above 1)
    max_load     => 4           group limit: start only while the 1-minute load is below
    min_mem      => '2G'        group limit: start only while this much memory is available
    max_pressure => 20          group limit: start only while CPU pressure (some avg10,
                                percent) is below
    timeout      => 3600        kill it if it runs longer than this many seconds
    priority     => 5           higher starts first within its group (default 0)
    key          => 'daily'     while a job with this key is queued or running, return
                                that job instead of creating another
    after        => $job        start only after this job (or these: an array reference
                                of jobs or ids) ended with exit 0; if one fails, this
                                job never runs
    retries      => 3           run again, up to this many times, while it fails
    delay        => '10m'       start no sooner than this from now (seconds, or text
                                like '90s', '1h30m'); until then the job is scheduled
    at           => '02:00'     start no sooner than then: HH:MM or HH:MM:SS (the next
                                time the daemon's clock shows it) or ISO 8601
                                ('2026-12-24T18:00', '2026-12-24T18:00+01:00')
    held         => 1           do not start until an operator releases it
                                (chaqumctl release ID)
    urgent       => 1           ahead of every job waiting in its group, whatever
                                their priority
    requeue      => 1           if running when the daemon stops in order, run again
                                after the restart

Group limits update the group for everyone (the latest values win); without
C<group> the daemon ignores them. A value of 0 removes a limit.

=cut

# The options the daemon knows, in the order they are written, with their letter
# and how their value travels.
my @JOB_OPTIONS = (
    [forget       => '-F', 'flag'],
    [group        => '-g', 'word'],
    [max_procs    => '-m', 'number'],
    [max_cpu      => '-c', 'share'],
    [max_load     => '-l', 'number'],
    [min_mem      => '-M', 'word'],
    [max_pressure => '-P', 'number'],
    [timeout      => '-t', 'number'],
    [priority     => '-p', 'number'],
    [key          => '-k', 'word'],
    [after        => '-a', 'jobs'],
    [retries      => '-r', 'number'],
);
# Only enqueue has these: when, and how, a single job waits.
my @ENQUEUE_OPTIONS = (
    @JOB_OPTIONS,
    [delay   => '-d', 'number'],
    [at      => '-A', 'word'],
    [held    => '-H', 'flag'],
    [urgent  => '-U', 'flag'],
    [requeue => '-R', 'flag'],
);
# The failure breaker is a group setting: for group and repeat (with a group).
my @BREAKER = ([break_after => '-B', 'number']);
my @GROUP_LIMITS  = ((grep { $_->[0] =~ /\Amax_|\Amin_/ } @JOB_OPTIONS), @BREAKER);
my @REPEAT_OPTIONS = (
    [interval   => '-i', 'number'],
    [cron       => '-c', 'word'],
    [zone       => '-z', 'word'],
    [watch      => '-w', 'list'],
    [watch_tree => '-W', 'list'],
    [settle     => '--settle', 'number'],
    [overlap    => '-o', 'flag'],
    (grep { $_->[0] !~ /\A(?:forget|after)\z/ } @JOB_OPTIONS),
    @BREAKER,
);

sub enqueue {
    my ($options, $script, @args) = _trailing_options(@_);
    croak 'Chaqum::enqueue: which script?' unless defined $script && length $script;
    croak 'Chaqum::enqueue: delay and at exclude each other'
        if defined $options->{delay} && defined $options->{at};
    my @words = ('enqueue', _option_words('enqueue', $options, @ENQUEUE_OPTIONS), '--', $script, @args);
    my (undef, $id) = _connection()->command(@words);
    return Chaqum::Job->new($id);
}

=head2 job

    my $job = Chaqum::job('convert/17');

A L<Chaqum::Job> for a job id you got elsewhere (a message, a file).

=cut

sub job {
    my ($id) = @_;
    return Chaqum::Job->new($id);
}

=head2 wait_jobs

    my @statuses = Chaqum::wait_jobs(@jobs);
    my @statuses = Chaqum::wait_jobs(@jobs, { timeout => 60 });
    my @statuses = Chaqum::wait_jobs(@jobs, { first => 1 });
    my $status   = Chaqum::wait_jobs($job);

Waits until all the jobs (L<Chaqum::Job> objects or ids) have ended, or with
C<< first => 1 >> until one of them has, but at most C<timeout> seconds if
given (C<0> just looks). Returns one L<Chaqum::Status> per job, in the order
given: C<pending> for those still queued or running, C<unknown> for ids the
daemon does not know. In scalar context, returns the first job's status.

The daemon reports a job's result once; the job objects remember final
statuses, so waiting again on the same object gives the same answer. (A
second object for the same id, or a plain id, gets C<unknown>.)

=cut

sub wait_jobs {
    my ($options, @jobs) = _trailing_options(@_);
    _check_names('wait_jobs', $options, qw(first timeout));
    @jobs = map { _job_object($_) } @jobs;
    my @open = grep { !($_->{status} && $_->{status}->ended) } @jobs;
    if (@open) {
        my $timeout = $options->{timeout};
        # "First" is already satisfied by a job known to have ended: just look at the others.
        $timeout = 0 if $options->{first} && @open < @jobs;
        my @words = ('wait', ($options->{first} ? '-f' : '-a'), _seconds_option($timeout));
        _ask_statuses(\@words, \@open);
    }
    my @statuses = map { $_->{status} } @jobs;
    return wantarray ? @statuses : $statuses[0];
}

=head2 kill_jobs

    my @statuses = Chaqum::kill_jobs(@jobs);
    my @statuses = Chaqum::kill_jobs(@jobs, { signal => 'KILL', timeout => 5 });

Kills the jobs and waits for them to end (at most C<timeout> seconds). The
signal (default C<TERM>; a name with or without C<SIG>, like C<INT> or
C<SIGUSR1>, or a number) goes to each job's whole process group; the daemon
sends SIGKILL after its grace period if a job is still running. Jobs that have
not started are cancelled (C<never-ran>). Returns statuses like L</wait_jobs>.

A job may kill only jobs it enqueued, directly or indirectly (and the firings
of repeats it registered). If any job given is not one of those, nothing is
killed and the call dies with a L<Chaqum::Error>.

=cut

sub kill_jobs {
    my ($options, @jobs) = _trailing_options(@_);
    _check_names('kill_jobs', $options, qw(signal timeout));
    @jobs = map { _job_object($_) } @jobs;
    my @open = grep { !($_->{status} && $_->{status}->ended) } @jobs;
    if (@open) {
        my @words = ('killjobs', _seconds_option($options->{timeout}));
        push @words, '-s', $options->{signal} if defined $options->{signal};
        _ask_statuses(\@words, \@open);
    }
    my @statuses = map { $_->{status} } @jobs;
    return wantarray ? @statuses : $statuses[0];
}

# Sends a wait or killjobs for the jobs and records each job's status in its object.
sub _ask_statuses {
    my ($words, $jobs) = @_;
    my %seen;
    my @ids = grep { !$seen{$_}++ } map { $_->id } @$jobs;
    my (undef, @reply) = _connection()->command(@$words, '--', @ids);
    my %status;
    while (my ($id, $status) = splice @reply, 0, 2) {
        $status{$id} = $status;
    }
    $_->{status} = Chaqum::Status->new($status{$_->id}) for @$jobs;
    return;
}

=head1 REPEATS AND GROUPS

=head2 repeat

    my $repeat = Chaqum::repeat('cleanup', { interval => '15m' });
    my $repeat = Chaqum::repeat('report', 'daily', { cron => '0 2 * * *', group => 'nightly' });
    my $repeat = Chaqum::repeat('backup', { cron => '30 2 * * *', zone => 'Europe/Berlin' });

Enqueues C<$script> with C<@args> again and again, and returns a
L<Chaqum::Repeat>. Give exactly one of:

    interval => '1h30m'     every interval, the first time one interval from now:
                            90s, 15m, 1h30m, 2d, 1w, 250ms, 0.5s, or plain seconds
    cron     => '*/5 * * * *'   at the times of a cron expression (5 fields, or 6 with
                            leading seconds; @hourly, @daily, ...; L, W and #)

    watch    => $dir        when files are written or moved into a directory (or
    watch    => [$a, $b]    several): a file trigger; watch_tree => $dir also
                            watches every directory below (new ones included)

A cron expression is read in the daemon's time zone, or in C<zone>, an IANA
name such as C<Europe/Berlin> (cron only: the daemon refuses a zone with an
interval, and a zone it does not know). A file trigger fires once no change has
come for C<settle> seconds (default 0.5); changes during a firing make one more
firing after it; its job reads the paths with L</changed_paths>.
C<break_after> pauses the group after that many failed runs in a row. Add any of C<overlap> (start a firing even while the previous one still runs;
by default it is skipped), C<group> and the group limits, C<timeout>,
C<priority>, C<key> and C<retries>, as for L</enqueue>. A daemon keeps running
while it has repeats; remove them with L</unrepeat>.

=cut

sub repeat {
    my ($options, $script, @args) = _trailing_options(@_);
    croak 'Chaqum::repeat: which script?' unless defined $script && length $script;
    my @words = ('repeat', _option_words('repeat', $options, @REPEAT_OPTIONS), '--', $script, @args);
    my (undef, $id) = _connection()->command(@words);
    return Chaqum::Repeat->new($id);
}

=head2 unrepeat

    Chaqum::unrepeat(@repeats);

Removes repeats (L<Chaqum::Repeat> objects or ids). If any of them is unknown,
none is removed and the call dies with a L<Chaqum::Error>.

=cut

sub unrepeat {
    my (@repeats) = @_;
    _connection()->command('unrepeat', '--', @repeats);
    return 1;
}

=head2 group

    Chaqum::group('convert', max_procs => 2, min_mem => '1G');

Creates the group if needed and sets the limits given (the same names as for
L</enqueue>: C<max_procs>, C<max_cpu>, C<max_load>, C<min_mem>,
C<max_pressure>; 0 removes a limit). Limits not given stay as they were.
C<< break_after => N >> pauses the group after N failed runs in a row (non-zero
exit, signal, timeout) until an operator resumes it; 0 turns that off.

=cut

sub group {
    my ($name, @limits) = @_;
    croak 'Chaqum::group: which group?' unless defined $name && length $name;
    my $options = _named('group', @limits);
    _connection()->command('group', _option_words('group', $options, @GROUP_LIMITS), '--', $name);
    return 1;
}

=head1 MESSAGES

Any job may send a message to any job of the tree that has not ended yet
(queued ones included: they find it when they run). Each job receives the
messages addressed to it oldest first.

=head2 send_bytes

    my $message = Chaqum::send_bytes($job, $bytes);

Sends C<$bytes> (any bytes: NUL, newlines, not UTF-8) to C<$job> (a
L<Chaqum::Job> or id) and returns a L<Chaqum::Message>. A string with
characters above 255 croaks: encode it, or use L</send_text>.

=cut

sub send_bytes {
    my ($to, $bytes) = @_;
    croak 'Chaqum::send_bytes: to which job?' unless defined $to && length $to;
    croak 'Chaqum::send_bytes: no message given' unless defined $bytes;
    my $body = "$bytes";
    utf8::downgrade($body, 1)
        or croak 'Chaqum::send_bytes: the message has characters above 255; encode it or use send_text';
    my (undef, $id) = _connection()->command_with_body($body, 'sendmsg', '--', $to, length $body);
    return Chaqum::Message->new($id);
}

=head2 send_text

    my $message = Chaqum::send_text($job, $text);

Sends text as UTF-8, encoding it as described in L</Text and bytes>.

=cut

sub send_text {
    my ($to, $text) = @_;
    croak 'Chaqum::send_text: no text given' unless defined $text;
    return send_bytes($to, Chaqum::Words::to_bytes($text));
}

=head2 send_json

    my $message = Chaqum::send_json($job, { file => $file, sizes => [1, 2] });

Sends a Perl data structure (or a plain scalar) as JSON, UTF-8 encoded, keys
sorted.

=cut

sub send_json {
    my ($to, $data) = @_;
    return send_bytes($to, _json()->encode($data));
}

=head2 receive

    my $bytes = Chaqum::receive;                   # waits for ever
    my $bytes = Chaqum::receive(timeout => 10);
    defined $bytes or die "no message within 10 s\n";

Takes the oldest message addressed to this job, waiting for one at most
C<timeout> seconds (for ever without it; C<0> just looks), and returns its
bytes unchanged. On timeout, returns C<undef> (the empty list in list
context).

=cut

sub receive {
    my $options = _named('receive', @_);
    _check_names('receive', $options, qw(timeout));
    my ($kind, $body) = _connection()->command('recvmsg', _seconds_option($options->{timeout}));
    return if $kind eq 'T';
    return $body;
}

=head2 receive_text

    my $text = Chaqum::receive_text(timeout => 10);

As L</receive>, decoding the bytes from UTF-8 into a character string (bytes
that are not UTF-8 become U+FFFD).

=cut

sub receive_text {
    my @got = receive(@_);
    return unless @got;
    return Encode::decode('UTF-8', $got[0]);
}

=head2 receive_json

    if (my ($data) = Chaqum::receive_json(timeout => 10)) { ... }

As L</receive>, decoding the message as JSON. Since C<null> decodes to
C<undef>, tell a timeout apart in list context: it returns the empty list.
Croaks if the message is not JSON.

=cut

sub receive_json {
    my @got = receive(@_);
    return unless @got;
    return _json()->decode($got[0]);
}

=head2 wait_received

    my @received = Chaqum::wait_received(@messages);
    my @received = Chaqum::wait_received(@messages, { timeout => 10 });

Waits until every message (L<Chaqum::Message> objects or ids) has been
received by its job, at most C<timeout> seconds. Returns, per message in the
order given: 1 if it has been received, 0 if not (the time ran out, or its job
ended without receiving it), C<undef> if the daemon no longer knows it. In
scalar context, the answer for the first message.

=cut

sub wait_received {
    my ($options, @messages) = _trailing_options(@_);
    _check_names('wait_received', $options, qw(timeout));
    @messages = map { blessed($_) && $_->isa('Chaqum::Message') ? $_ : Chaqum::Message->new($_) } @messages;
    my @open = grep { !$_->{received} } @messages;
    if (@open) {
        my %seen;
        my @ids = grep { !$seen{$_}++ } map { $_->id } @open;
        my (undef, @reply) = _connection()->command('waitrecv', _seconds_option($options->{timeout}), '--', @ids);
        my %state;
        while (my ($id, $state) = splice @reply, 0, 2) {
            $state{$id} = $state;
        }
        for my $message (@open) {
            my $state = $state{$message->id};
            $message->{received} = defined $state ? ($state eq 'R' ? 1 : 0) : undef;
        }
    }
    my @received = map { $_->{received} } @messages;
    return wantarray ? @received : $received[0];
}

=head1 PLANS

A plan is a JSON document of steps run in sequence or in parallel
(C<sequence_group>, C<parallel_group>, C<execute>; see F<docs/protocol.md>),
submitted as one unit. Its steps are ordinary jobs of the tree.

=head2 submit_plan

    my $plan = Chaqum::submit_plan({
        type => 'sequence_group', work => [
            { type => 'execute', command => ['fetch', $day], timeout => 600 },
            { type => 'parallel_group', role => 'convert',
              work => [map { { type => 'execute', command => ['convert', $_] } } @files] },
        ],
    });
    my $plan = Chaqum::submit_plan($json_text);

Submits a plan and returns its L<Chaqum::Plan> at once. A hash or array
reference is sent as JSON (UTF-8, keys sorted, as L</send_json> does); a plain
string is taken to be the JSON text already and sent as UTF-8 (see
L</Text and bytes>). A bad plan is refused whole, before any step runs: the
call dies with a L<Chaqum::Error> whose reason names the JSON path of the
fault.

=cut

sub submit_plan {
    my ($plan) = @_;
    croak 'Chaqum::submit_plan: no plan given' unless defined $plan;
    my $body;
    if (ref $plan eq 'HASH' || ref $plan eq 'ARRAY') {
        $body = _json()->encode($plan);
    }
    elsif (!ref $plan) {
        $body = Chaqum::Words::to_bytes($plan);
    }
    else {
        croak 'Chaqum::submit_plan: a plan is a hash reference or JSON text, not ' . ref $plan;
    }
    return _submit_plan_bytes($body);
}

=head2 submit_plan_file

    my $plan = Chaqum::submit_plan_file('plans/nightly.json');

Submits the plan kept in a file: its bytes are sent as they are.

=cut

sub submit_plan_file {
    my ($path) = @_;
    croak 'Chaqum::submit_plan_file: which file?' unless defined $path && length $path;
    open my $fh, '<:raw', $path or croak "Chaqum::submit_plan_file: $path: $!";
    my $body = do { local $/; <$fh> };
    close $fh;
    return _submit_plan_bytes(defined $body ? $body : '');
}

sub _submit_plan_bytes {
    my ($body) = @_;
    my (undef, $id) = _connection()->command_with_body($body, 'plan', '--', length $body);
    return Chaqum::Plan->new($id);
}

=head2 wait_plan

    my $state = Chaqum::wait_plan($plan);                 # until it has ended
    my $state = Chaqum::wait_plan($plan, timeout => 60);

Waits until the plan (a L<Chaqum::Plan> or an id) has ended, at most
C<timeout> seconds (for ever without it; C<0> just looks), and returns its
state: C<succeeded>, C<failed> or C<cancelled>; or C<running> if the timeout
passed first (as L</wait_jobs> answers C<pending>). An id the daemon does not
know dies with a L<Chaqum::Error>. A L<Chaqum::Plan> object remembers the state
of an ended plan, so waiting on it again asks nothing.

=cut

my %PLAN_STATE = (succeeded => 'succeeded', failed => 'failed', cancelled => 'cancelled', T => 'running');

sub wait_plan {
    my ($plan, @options) = @_;
    croak 'Chaqum::wait_plan: which plan?' unless defined $plan && length $plan;
    my $options = _named('wait_plan', @options);
    _check_names('wait_plan', $options, qw(timeout));
    $plan = Chaqum::Plan->new($plan) unless blessed($plan) && $plan->isa('Chaqum::Plan');
    return $plan->{state} if defined $plan->{state};
    my (undef, @reply) = _connection()->command('waitplan', _seconds_option($options->{timeout}), '--', $plan->id);
    my $state = @reply == 2 ? $PLAN_STATE{ $reply[1] } : undef;
    croak "Chaqum: unexpected reply from the chaqum daemon to waitplan: 'S @reply'" unless defined $state;
    $plan->{state} = $state unless $state eq 'running';
    return $state;
}

=head1 LOGGING

=head2 critical, error, warning, info, debug

    Chaqum::info("converted $file");
    Chaqum::warning('disk ', $disk, ' almost full');

Writes the message (its parts joined like C<print> does) to stderr with the
level prefix the daemon understands (C<C>, C<E>, C<W>, C<I> or C<D> and the
ASCII unit separator), so it is logged at that level. Each line of a
multi-line message gets the prefix. Character strings are written as UTF-8.
Plain C<print> to stdout is logged at info level, to stderr at warning level.

The lines go straight to fd 2, as bytes, whatever layers C<STDERR> has.

=cut

sub critical { _log('C', @_) }
sub error    { _log('E', @_) }
sub warning  { _log('W', @_) }
sub info     { _log('I', @_) }
sub debug    { _log('D', @_) }

sub _log {
    my ($level, @parts) = @_;
    my $text = Chaqum::Words::to_bytes(join '', map { defined $_ ? $_ : '' } @parts);
    $text =~ s/\n\z//;
    my @lines = length $text ? split(/\n/, $text, -1) : ('');
    my $data = join '', map { "$level\x1f$_\n" } @lines;
    # Straight to fd 2, wherever it goes now: no layers of STDERR (an :encoding layer
    # would encode the bytes twice), but after what STDERR still buffers.
    STDERR->flush;
    my $offset = 0;
    while ($offset < length $data) {
        my $written = POSIX::write(2, substr($data, $offset), length($data) - $offset);
        if (!defined $written) {
            next if $! == Errno::EINTR;
            return;    # nowhere to log to: nothing better to do
        }
        $offset += $written;
    }
    return;
}

=head1 IDENTITY

What the daemon told this job in its environment. Outside a chaqum job these
return C<undef> (except L</attempt>).

=head2 ident

The job's own id: C<init> for the entry job, C<SCRIPT/N> for the others.

=head2 parent

The L<Chaqum::Job> that enqueued this one, or C<undef> for the entry job and
the firings of repeats. Handy to answer: C<< Chaqum::parent->send_text($result) >>.

=head2 tree

The tree's absolute path (the job runs in it).

=head2 job_group

The job's group, or C<undef> if it has none.

=head2 slot

The job's slot 0..m-1 in a group limited to m running jobs (to map jobs to
GPUs, disks or licences), or C<undef>.

=head2 attempt

1 for the first run, 2, 3, ... for retries.

=head2 changed_paths

    my @paths = Chaqum::changed_paths();

In a firing of a file trigger (L</repeat> with C<watch>): the absolute paths
that changed, in the order first seen (none when an operator fired it by
hand); the empty list in any other job. They are byte strings, as the file
system names them.

=head2 changes_incomplete

True when the daemon lost changes for this firing (the kernel's event queue
overflowed): the list is incomplete, rescan the directories.

=cut

sub changed_paths {
    my $file = $ENV{CHAQUM_CHANGED};
    return () unless defined $file && length $file;
    open my $fh, '<:raw', $file or croak "Chaqum::changed_paths: $file: $!";
    local $/ = "\0";
    my @paths = <$fh>;
    close $fh;
    chomp @paths;
    return @paths;
}

sub changes_incomplete { return $ENV{CHAQUM_CHANGED_INCOMPLETE} ? 1 : 0 }

# Empty prototypes, so that "Chaqum::parent // 'none'" parses as the caller means.
sub ident()     { $ENV{CHAQUM_IDENT} }
sub parent()    { defined $ENV{CHAQUM_PARENT} && length $ENV{CHAQUM_PARENT} ? Chaqum::Job->new($ENV{CHAQUM_PARENT}) : undef }
sub tree()      { $ENV{CHAQUM_TREE} }
sub job_group() { $ENV{CHAQUM_GROUP} }
sub slot()      { $ENV{CHAQUM_SLOT} }
sub attempt()   { defined $ENV{CHAQUM_ATTEMPT} ? $ENV{CHAQUM_ATTEMPT} : 1 }

# --- internals ---------------------------------------------------------------

# The connection to the daemon, opened on first use. Tests may set it.
our $CONNECTION;

sub _connection {
    undef $CONNECTION if $CONNECTION && $CONNECTION->{pid} != $$;
    return $CONNECTION ||= Chaqum::Connection->open_job_pipes;
}

my $json;
sub _json {
    return $json ||= JSON::PP->new->utf8->canonical->allow_nonref;
}

# Splits a trailing hash reference of options off an argument list.
sub _trailing_options {
    my @args = @_;
    my $options = @args && ref $args[-1] eq 'HASH' ? pop @args : {};
    return ($options, @args);
}

# Options given as key/value pairs or as one hash reference.
sub _named {
    my ($what, @args) = @_;
    return {%{ $args[0] }} if @args == 1 && ref $args[0] eq 'HASH';
    croak "Chaqum::$what: options must be key/value pairs" if @args % 2;
    return {@args};
}

sub _check_names {
    my ($what, $options, @known) = @_;
    my %known = map { $_ => 1 } @known;
    my @unknown = sort grep { !$known{$_} } keys %$options;
    croak "Chaqum::$what: unknown option '$unknown[0]' (known: @known)" if @unknown;
    return;
}

# The command line words for the options given, in the daemon's letters.
sub _option_words {
    my ($what, $options, @spec) = @_;
    _check_names($what, $options, map { $_->[0] } @spec);
    my @words;
    for my $option (@spec) {
        my ($name, $letter, $kind) = @$option;
        my $value = $options->{$name};
        next unless defined $value;
        if ($kind eq 'flag') {
            push @words, $letter if $value;
        }
        elsif ($kind eq 'jobs' || $kind eq 'list') {
            push @words, map { ($letter, $_) } ref $value eq 'ARRAY' ? @$value : $value;
        }
        elsif ($kind eq 'number') {
            push @words, $letter, _number($value);
        }
        elsif ($kind eq 'share') {
            # On repeat, -c is also the cron option: only a plain number means a CPU share.
            croak "Chaqum::$what: max_cpu must be a number (0.8 or 80 for 80%), not '$value'"
                unless looks_like_number($value);
            push @words, $letter, _number($value);
        }
        else {
            push @words, $letter, $value;
        }
    }
    return @words;
}

sub _seconds_option {
    my ($seconds) = @_;
    return defined $seconds ? ('-t', _number($seconds)) : ();
}

# Numbers as the daemon reads them: plain decimals, never 1e-05 (Perl's way of
# printing small floats). Anything else goes as it is, for the daemon to judge.
sub _number {
    my ($value) = @_;
    return $value if !looks_like_number($value) || "$value" =~ /\A-?[0-9]+(?:\.[0-9]+)?\z/;
    return $value if $value != $value || $value * 0 != 0;    # NaN, infinity: let the daemon say no
    (my $decimal = sprintf '%.6f', $value) =~ s/\.?0+\z//;
    return $decimal;
}

sub _job_object {
    my ($job) = @_;
    return blessed($job) && $job->isa('Chaqum::Job') ? $job : Chaqum::Job->new($job);
}

1;

__END__

=head1 SEE ALSO

F<clients/perl/README.md> for a guide with examples, F<docs/protocol.md> for
the protocol, L<Chaqum::Job>, L<Chaqum::Status>, L<Chaqum::Message>,
L<Chaqum::Repeat>, L<Chaqum::Plan>, L<Chaqum::Error>.

=cut
