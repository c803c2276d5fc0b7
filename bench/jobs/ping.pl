#!/usr/bin/perl
# ping.pl M: M round trips of "wait --" through the Perl client library. wait_jobs()
# with no jobs asks nothing, so this goes one level down, to the connection object
# every call of the library goes through.
use strict;
use warnings;
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
use Chaqum;

my $m = shift;
my $connection = Chaqum::_connection();
$connection->command('wait', '--');    # the first call opens fds 3 and 4: not timed
my $start = clock_gettime(CLOCK_MONOTONIC);
$connection->command('wait', '--') for 1 .. $m;
my $elapsed = clock_gettime(CLOCK_MONOTONIC) - $start;
open my $results, '>>', $ENV{BENCH_RESULTS} or die "$ENV{BENCH_RESULTS}: $!";
printf $results "perl_roundtrips %d %d\n", $m, $elapsed * 1e9;
close $results;
