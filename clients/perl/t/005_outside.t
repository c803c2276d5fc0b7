# Outside a chaqum job (fds 3 and 4 closed) the module loads, identity and logging work,
# and calls to the daemon fail at once with a message naming fds 3 and 4.
use strict;
use warnings;

use Test::More;

use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempdir);

my $lib = File::Spec->rel2abs(dirname(dirname(__FILE__)));
my $dir = tempdir(CLEANUP => 1);

# Runs a Perl snippet with fds 3 and 4 closed and no CHAQUM_* variables; returns
# (exit status, stdout, stderr).
sub outside {
    my ($code) = @_;
    my $script = "$dir/snippet.pl";
    open my $fh, '>', $script or die "$script: $!";
    print {$fh} $code;
    close $fh;
    local %ENV = %ENV;
    delete $ENV{$_} for grep { /\ACHAQUM_/ } keys %ENV;
    local $ENV{OUTDIR} = $dir;
    my $status = system('sh', '-c', 'exec 3>&- 4>&- "$@" >"$OUTDIR/out" 2>"$OUTDIR/err" </dev/null',
        'sh', $^X, "-I$lib", $script);
    return ($status >> 8, slurp("$dir/out"), slurp("$dir/err"));
}

sub slurp {
    my ($name) = @_;
    open my $fh, '<', $name or return '';
    local $/;
    return scalar <$fh>;
}

subtest 'use Chaqum loads; identity and logging need no daemon' => sub {
    my ($status, $out, $err) = outside(<<'EOF_PERL');
use strict; use warnings;
use Chaqum;
print defined Chaqum::ident ? 'ident set' : 'no ident', "\n";
print Chaqum::parent // 'no parent', "\n";
print 'attempt ', Chaqum::attempt, "\n";
Chaqum::info('still fine');
EOF_PERL
    is $status, 0, 'exits 0';
    is $out, "no ident\nno parent\nattempt 1\n";
    is $err, "I\x1fstill fine\n";
};

subtest 'a call to the daemon croaks instead of hanging' => sub {
    alarm 30;
    my ($status, $out, $err) = outside(<<'EOF_PERL');
use strict; use warnings;
use Chaqum;
Chaqum::enqueue('exiter', 0);
print "not reached\n";
EOF_PERL
    alarm 0;
    isnt $status, 0, 'non-zero exit';
    is $out, '', 'nothing after the call';
    like $err, qr/fds 3 and 4/, 'the message names fds 3 and 4';
    like $err, qr/at \S+snippet\.pl line 3\./, 'at the line of the call';
};

done_testing;
