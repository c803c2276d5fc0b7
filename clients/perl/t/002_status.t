# Chaqum::Status tells apart exit codes, signals, never-ran, pending and unknown.
use strict;
use warnings;

use Test::More;

use Chaqum::Status;

my @cases = (
    # wire   kind         string        code   signal ended success
    ['0',    'exit',      'exit 0',     0,     undef, 1,    1],
    ['3',    'exit',      'exit 3',     3,     undef, 1,    ''],
    ['255',  'exit',      'exit 255',   255,   undef, 1,    ''],
    ['-15',  'signal',    'signal 15',  undef, 15,    1,    ''],
    ['-9',   'signal',    'signal 9',   undef, 9,     1,    ''],
    ['N',    'never-ran', 'never-ran',  undef, undef, 1,    ''],
    ['T',    'pending',   'pending',    undef, undef, '',   ''],
    [undef,  'unknown',   'unknown',    undef, undef, '',   ''],
);

for my $case (@cases) {
    my ($wire, $kind, $string, $code, $signal, $ended, $success) = @$case;
    my $status = Chaqum::Status->new($wire);
    my $name = defined $wire ? "wire $wire" : 'no wire';
    is $status->wire, $wire, "$name: wire";
    is $status->kind, $kind, "$name: kind";
    is "$status", $string, "$name: stringifies";
    is $status->as_string, $string, "$name: as_string";
    is $status->code, $code, "$name: code";
    is $status->signal, $signal, "$name: signal";
    is !!$status->ended, !!$ended, "$name: ended";
    is !!$status->success, !!$success, "$name: success";
    is !!$status->exited, $kind eq 'exit', "$name: exited";
    is !!$status->never_ran, $kind eq 'never-ran', "$name: never_ran";
    is !!$status->pending, $kind eq 'pending', "$name: pending";
    is !!$status->unknown, $kind eq 'unknown', "$name: unknown";
    ok $status, "$name: an object is always true";
}

ok +Chaqum::Status->new('7') eq 'exit 7', 'compares as a string with eq';

done_testing;
