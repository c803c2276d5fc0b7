# Every call writes the right command line and understands the daemon's replies. The
# daemon is faked with a pipe pair (t/lib/FakeDaemon.pm): no daemon needed.
use strict;
use warnings;
use File::Temp ();
use utf8;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Chaqum;
use FakeDaemon;

# A mistake in a test could leave a read waiting for ever: fail instead.
alarm 60;

my $daemon = FakeDaemon->new;

subtest 'enqueue: script and arguments after --, the job id from the reply' => sub {
    $daemon->reply('S convert/12');
    my $job = Chaqum::enqueue('convert', 'my file.png', "two\nlines", '');
    is $daemon->written, qq{enqueue -- convert 'my file.png' \$'two\\nlines' ''\n};
    isa_ok $job, 'Chaqum::Job';
    is $job->id, 'convert/12';
    is "$job", 'convert/12', 'stringifies to its id';
    is $job->status, undef, 'no status before a wait';
};

subtest 'enqueue: every option, in the daemon letters' => sub {
    $daemon->reply('S work/3');
    my $before = Chaqum::job('prep/1');
    Chaqum::enqueue('work', 'x', {
        forget => 1, group => 'convert', max_procs => 2, max_cpu => 80, max_load => 4.5,
        min_mem => '2G', max_pressure => 20, timeout => 0.5, priority => -3, key => 'daily run',
        after => [$before, 'prep/2'], retries => 3,
    });
    is $daemon->written,
        "enqueue -F -g convert -m 2 -c 80 -l 4.5 -M 2G -P 20 -t 0.5 -p -3 -k 'daily run' -a prep/1 -a prep/2 -r 3 -- work x\n";

    $daemon->reply('S work/4');
    Chaqum::enqueue('work', { after => Chaqum::job('prep/1'), forget => 0, timeout => 1e-05 });
    is $daemon->written, "enqueue -t 0.00001 -a prep/1 -- work\n", 'false flags are left out, small numbers stay decimal';
};

subtest 'enqueue: delays, times, holds, urgent and requeue' => sub {
    $daemon->reply('S work/5');
    Chaqum::enqueue('work', { delay => '10m', held => 1, urgent => 1, requeue => 1 });
    is $daemon->written, "enqueue -d 10m -H -U -R -- work\n";
    $daemon->reply('S work/6');
    Chaqum::enqueue('work', { delay => 90 });
    is $daemon->written, "enqueue -d 90 -- work\n";
    $daemon->reply('S work/7');
    Chaqum::enqueue('work', { at => '2026-12-24T18:00+01:00', held => 0 });
    is $daemon->written, "enqueue -A 2026-12-24T18:00+01:00 -- work\n";
    ok !eval { Chaqum::enqueue('work', { delay => 1, at => '02:00' }); 1 }, 'delay and at together';
    like $@, qr/delay and at exclude each other/;
};

subtest 'enqueue: Unicode arguments travel as UTF-8' => sub {
    $daemon->reply('S args/5');
    Chaqum::enqueue('args', 'ünïcödé €');
    my $line = $daemon->written;
    ok !utf8::is_utf8($line), 'bytes on the wire';
    is $line, "enqueue -- args '\xc3\xbcn\xc3\xafc\xc3\xb6d\xc3\xa9 \xe2\x82\xac'\n";
};

subtest 'mistakes are caught before anything is sent' => sub {
    ok !eval { Chaqum::enqueue('work', { grop => 'x' }); 1 }, 'unknown option';
    like $@, qr/unknown option 'grop'/;
    like $@, qr/at \S+003_commands\.t line \d+/, 'reported at the call';
    ok !eval { Chaqum::enqueue(); 1 }, 'no script';
    ok !eval { Chaqum::wait_jobs('a/1', { timeuot => 1 }); 1 }, 'unknown wait option';
    ok !eval { Chaqum::receive(timeout => 1, 'odd'); 1 }, 'odd key/value list';
    is $daemon->written, '', 'nothing written';
};

subtest 'a refusal dies with the daemon reason and the stream goes on' => sub {
    $daemon->reply(q{E enqueue: no such script: 'nosuch'});
    ok !eval { Chaqum::enqueue('nosuch'); 1 }, 'dies';
    my $error = $@;
    isa_ok $error, 'Chaqum::Error';
    is $error->reason, q{enqueue: no such script: 'nosuch'}, 'reason';
    is $error->command, 'enqueue -- nosuch', 'command';
    like "$error", qr/\Aenqueue: no such script: 'nosuch' at \S+003_commands\.t line \d+\.?\n\z/, 'prints like croak';
    $daemon->written;

    $daemon->reply('S exiter/6');
    is Chaqum::enqueue('exiter')->id, 'exiter/6', 'the next call works';
    $daemon->written;
};

subtest 'wait_jobs: statuses in the order asked, unknown for left-out ids' => sub {
    my @jobs = map { Chaqum::job($_) } qw(a/1 b/2 c/3 d/4 e/5);
    $daemon->reply('S a/1 0 b/2 -15 c/3 N e/5 T');
    my @statuses = Chaqum::wait_jobs(@jobs, 'a/1');
    is $daemon->written, "wait -a -- a/1 b/2 c/3 d/4 e/5\n", 'each id once';
    is_deeply [map {"$_"} @statuses], ['exit 0', 'signal 15', 'never-ran', 'unknown', 'pending', 'exit 0'],
        'an id given twice gets the same answer';
    is $jobs[1]->status->signal, 15, 'the job object remembers';
};

subtest 'wait_jobs: first and timeout' => sub {
    my @jobs = map { Chaqum::job($_) } qw(s/1 x/2);
    $daemon->reply('S s/1 T x/2 4');
    my @statuses = Chaqum::wait_jobs(@jobs, { first => 1, timeout => 2.5 });
    is $daemon->written, "wait -f -t 2.5 -- s/1 x/2\n";
    is_deeply [map {"$_"} @statuses], ['pending', 'exit 4'];

    $daemon->reply('S s/1 T');
    @statuses = Chaqum::wait_jobs(@jobs, { first => 1 });
    is $daemon->written, "wait -f -t 0 -- s/1\n", 'with one known to have ended, only look at the others';
    is_deeply [map {"$_"} @statuses], ['pending', 'exit 4'];
};

subtest 'a final status is remembered: later waits ask nothing' => sub {
    my $job = Chaqum::job('exiter/7');
    $daemon->reply('S exiter/7 7');
    is $job->wait, 'exit 7';
    is $daemon->written, "wait -a -- exiter/7\n";
    is $job->wait(timeout => 5), 'exit 7', 'again';
    is $job->kill, 'exit 7', 'killing an ended job';
    is $daemon->written, '', 'nothing sent';

    my $pending = Chaqum::job('sleeper/8');
    $daemon->reply('S sleeper/8 T');
    is $pending->wait(timeout => 0.2), 'pending';
    is $daemon->written, "wait -a -t 0.2 -- sleeper/8\n";
    $daemon->reply('S sleeper/8 T');
    $pending->wait({ timeout => 0.2 });
    is $daemon->written, "wait -a -t 0.2 -- sleeper/8\n", 'pending is asked again (options as a hash too)';
};

subtest 'scalar wait_jobs gives the first status; no jobs asks nothing' => sub {
    $daemon->reply('S j/9 3');
    my $status = Chaqum::wait_jobs('j/9');
    is "$status", 'exit 3';
    is_deeply [Chaqum::wait_jobs()], [];
    is $daemon->written, "wait -a -- j/9\n";
};

subtest 'kill_jobs and the kill method' => sub {
    $daemon->reply('S s/10 -15 s/11 N');
    my @statuses = Chaqum::kill_jobs('s/10', 's/11');
    is $daemon->written, "killjobs -- s/10 s/11\n";
    is_deeply [map {"$_"} @statuses], ['signal 15', 'never-ran'];

    $daemon->reply('S s/12 -9');
    is Chaqum::job('s/12')->kill(signal => 'KILL', timeout => 5), 'signal 9';
    is $daemon->written, "killjobs -t 5 -s KILL -- s/12\n";

    $daemon->reply('E killjobs: not permitted: init is not a descendant of init');
    ok !eval { Chaqum::kill_jobs('init'); 1 };
    is $@->reason, 'killjobs: not permitted: init is not a descendant of init';
    $daemon->written;
};

subtest 'repeat, unrepeat, group' => sub {
    $daemon->reply('S repeat:1');
    my $repeat = Chaqum::repeat('counter', 'file', { interval => 0.2 });
    is $daemon->written, "repeat -i 0.2 -- counter file\n";
    isa_ok $repeat, 'Chaqum::Repeat';
    is "$repeat", 'repeat:1';

    $daemon->reply('S repeat:2');
    Chaqum::repeat('report', {
        cron => '0 2 * * *', overlap => 1, group => 'nightly', max_cpu => 50, max_procs => 1,
        timeout => 60, priority => 2, key => 'report', retries => 1,
    });
    is $daemon->written, "repeat -c '0 2 * * *' -o -g nightly -m 1 -c 50 -t 60 -p 2 -k report -r 1 -- report\n";

    $daemon->reply('S repeat:9');
    Chaqum::repeat('backup', { cron => '30 2 * * *', zone => 'Europe/Berlin', overlap => 1 });
    is $daemon->written, "repeat -c '30 2 * * *' -z Europe/Berlin -o -- backup\n", 'a cron repeat in a time zone';

    ok !eval { Chaqum::repeat('x', { interval => 1, after => 'a/1' }); 1 }, 'no after for repeats';
    ok !eval { Chaqum::repeat('x', { interval => 1, group => 'g', max_cpu => '80%' }); 1 },
        'a max_cpu that is not a number would be taken for a cron expression';
    like $@, qr/max_cpu must be a number/;

    $daemon->reply('S');
    ok $repeat->unrepeat;
    $daemon->reply('S');
    ok Chaqum::unrepeat('repeat:2', 'repeat:3');
    is $daemon->written, "unrepeat -- repeat:1\nunrepeat -- repeat:2 repeat:3\n";

    $daemon->reply('E unrepeat: unknown repeat id repeat:999');
    ok !eval { Chaqum::unrepeat('repeat:999'); 1 };
    is $@->reason, 'unrepeat: unknown repeat id repeat:999';
    $daemon->written;

    $daemon->reply('S', 'S');
    Chaqum::group('convert', max_procs => 2, max_cpu => 0.8, max_load => 3, min_mem => '512M', max_pressure => 10);
    Chaqum::group('my group', { max_procs => 0 });
    is $daemon->written, "group -m 2 -c 0.8 -l 3 -M 512M -P 10 -- convert\ngroup -m 0 -- 'my group'\n";
    ok !eval { Chaqum::group('g', timeout => 1); 1 }, 'a group has no timeout';

    $daemon->reply('S repeat:4', 'S repeat:5', 'S');
    Chaqum::repeat('scan', 'x', { watch => 'inbox', settle => 0.25, group => 'g', break_after => 3 });
    Chaqum::repeat('scan', { watch => ['a', 'b c'], watch_tree => '/srv/data' });
    Chaqum::group('g', break_after => 0);
    is $daemon->written, "repeat -w inbox --settle 0.25 -g g -B 3 -- scan x\n"
        . "repeat -w a -w 'b c' -W /srv/data -- scan\n"
        . "group -B 0 -- g\n", 'file triggers and the failure breaker';
};

subtest 'changed paths of a file trigger' => sub {
    local $ENV{CHAQUM_CHANGED};
    is_deeply [Chaqum::changed_paths()], [], 'none outside a firing';
    my ($fh, $name) = File::Temp::tempfile(UNLINK => 1);
    binmode $fh;
    print {$fh} "/in/a\0/in/new\nline\0";
    close $fh;
    $ENV{CHAQUM_CHANGED} = $name;
    is_deeply [Chaqum::changed_paths()], ['/in/a', "/in/new\nline"];
    local $ENV{CHAQUM_CHANGED_INCOMPLETE} = 1;
    ok Chaqum::changes_incomplete();
};

subtest 'sending messages: bytes, text, JSON' => sub {
    my $bytes = "\x00\x01\x0a\xff\x7f\x0d\x0a\x20";
    $daemon->reply('S msg:1');
    my $message = Chaqum::send_bytes('echo/1', $bytes);
    is $daemon->written, "sendmsg -- echo/1 8\n$bytes\n", 'length, bytes, line feed';
    isa_ok $message, 'Chaqum::Message';
    is $message->id, 'msg:1';

    $daemon->reply('S msg:2');
    Chaqum::job('echo/1')->send_text("héllo €\nend");
    is $daemon->written, "sendmsg -- echo/1 14\nh\xc3\xa9llo \xe2\x82\xac\nend\n", 'text as UTF-8';

    $daemon->reply('S msg:3');
    my $latin1 = "\xe9";
    utf8::upgrade($latin1);
    Chaqum::send_bytes('echo/1', $latin1);
    is $daemon->written, "sendmsg -- echo/1 1\n\xe9\n", 'an upgraded byte string is still bytes';

    ok !eval { Chaqum::send_bytes('echo/1', "\x{20ac}"); 1 }, 'wide characters are not bytes';
    like $@, qr/send_text/;
    is $daemon->written, '', 'nothing sent';

    $daemon->reply('S msg:4');
    Chaqum::job('echo/1')->send_json({ s => 'ü', n => 1, l => [JSON::PP::true(), undef] });
    is $daemon->written, qq{sendmsg -- echo/1 32\n{"l":[true,null],"n":1,"s":"\xc3\xbc"}\n}, 'JSON, keys sorted';

    $daemon->reply('S msg:5');
    Chaqum::send_bytes('echo/1', '');
    is $daemon->written, "sendmsg -- echo/1 0\n\n", 'an empty message';

    $daemon->reply(q{E sendmsg: unknown job id 'gone/1'});
    ok !eval { Chaqum::send_text('gone/1', 'x'); 1 };
    is $@->reason, q{sendmsg: unknown job id 'gone/1'};
    $daemon->written;
};

subtest 'receiving messages' => sub {
    my $bytes = "\x00\x01\x0a\xff\x7f\x0d\x0a\x20";
    $daemon->reply('S 8')->reply_bytes("$bytes\n");
    is Chaqum::receive(timeout => 10), $bytes, 'bytes unchanged';
    is $daemon->written, "recvmsg -t 10\n";

    $daemon->reply('T');
    is Chaqum::receive(timeout => 0.2), undef, 'timeout: undef';
    $daemon->reply('T');
    is_deeply [Chaqum::receive(timeout => 0.2)], [], 'timeout: empty list';
    is $daemon->written, "recvmsg -t 0.2\nrecvmsg -t 0.2\n";

    $daemon->reply('S 0', '');
    is Chaqum::receive, '', 'an empty message is not a timeout';
    is $daemon->written, "recvmsg\n", 'no timeout: wait for ever';

    $daemon->reply('S 10')->reply_bytes("h\xc3\xa9llo \xe2\x82\xac\n");
    my $text = Chaqum::receive_text;
    is $text, 'héllo €', 'text decoded';
    ok utf8::is_utf8($text), 'a character string';

    $daemon->reply('S 4', 'null');
    my @got = Chaqum::receive_json(timeout => 1);
    is_deeply \@got, [undef], 'JSON null is one undef';
    $daemon->reply('T');
    is_deeply [Chaqum::receive_json(timeout => 1)], [], 'timeout is the empty list';
    $daemon->reply('S 18', '{"a":[1,"\u00fc"]}');
    is_deeply scalar Chaqum::receive_json, { a => [1, 'ü'] }, 'JSON decoded';

    # Two messages back to back, each with its own header.
    $daemon->reply('S 2')->reply_bytes("a\n\n")->reply('S 1', 'b');
    is Chaqum::receive, "a\n";
    is Chaqum::receive, 'b';
    $daemon->written;
};

subtest 'wait_received' => sub {
    $daemon->reply('S msg:1 R msg:2 T');
    my @received = Chaqum::wait_received('msg:1', 'msg:2', 'msg:3', { timeout => 10 });
    is $daemon->written, "waitrecv -t 10 -- msg:1 msg:2 msg:3\n";
    is_deeply \@received, [1, 0, undef];

    my $message = Chaqum::Message->new('msg:4');
    $daemon->reply('S msg:4 R');
    ok $message->wait_received(timeout => 1), 'received';
    ok $message->wait_received, 'remembered';
    is $daemon->written, "waitrecv -t 1 -- msg:4\n", 'asked once';
};

subtest 'plans: a data structure as JSON, text, a file; framed like sendmsg' => sub {
    my $data = {
        type => 'sequence_group', work => [
            { type => 'execute', command => ['greet', 'wörld'], timeout => 60 },
            { type => 'parallel_group', role => 'convert', work => [
                { type => 'execute', command => 'convert a.png' },
            ] },
        ],
    };
    my $json = qq|{"type":"sequence_group","work":[{"command":["greet","w\xc3\xb6rld"],"timeout":60,"type":"execute"},|
        . qq|{"role":"convert","type":"parallel_group","work":[{"command":"convert a.png","type":"execute"}]}]}|;
    $daemon->reply('S plan/3');
    my $plan = Chaqum::submit_plan($data);
    is $daemon->written, 'plan -- ' . length($json) . "\n$json\n", 'JSON, keys sorted, UTF-8, length in bytes';
    isa_ok $plan, 'Chaqum::Plan';
    is "$plan", 'plan/3', 'stringifies to its id';
    is $plan->id, 'plan/3';

    $daemon->reply('S plan/4');
    Chaqum::submit_plan('{"type": "execute", "command": "greet wörld"}');
    is $daemon->written, qq{plan -- 46\n{"type": "execute", "command": "greet w\xc3\xb6rld"}\n}, 'text as UTF-8';

    my ($fh, $name) = File::Temp::tempfile(UNLINK => 1);
    binmode $fh;
    print {$fh} qq{{"type": "execute",\n "command": ["greet"]}\n};
    close $fh;
    $daemon->reply('S plan/5');
    is Chaqum::submit_plan_file($name)->id, 'plan/5';
    is $daemon->written, qq{plan -- 43\n{"type": "execute",\n "command": ["greet"]}\n\n}, 'a file: its bytes';

    ok !eval { Chaqum::submit_plan_file("$name.missing"); 1 }, 'a missing file';
    like $@, qr/submit_plan_file: .*\.missing/;
    ok !eval { Chaqum::submit_plan(undef); 1 }, 'no plan';
    ok !eval { Chaqum::submit_plan(\'x'); 1 }, 'a scalar reference is no plan';
    is $daemon->written, '', 'nothing sent for them';

    $daemon->reply(q{E plan: $.work[0].type: unknown type 'teleport'});
    ok !eval { Chaqum::submit_plan({ type => 'sequence_group', work => [{ type => 'teleport' }] }); 1 }, 'a bad plan dies';
    isa_ok $@, 'Chaqum::Error';
    is $@->reason, q{plan: $.work[0].type: unknown type 'teleport'}, 'with the daemon reason';
    $daemon->written;
    $daemon->reply('S plan/6');
    is Chaqum::submit_plan('{}')->id, 'plan/6', 'the next call works';
    $daemon->written;
};

subtest 'wait_plan: states, running on timeout, an ended plan remembered' => sub {
    $daemon->reply('S plan/3 T', 'S plan/3 succeeded');
    my $plan = Chaqum::Plan->new('plan/3');
    is $plan->wait(timeout => 0.2), 'running', 'T is running';
    is $plan->state, undef, 'running is not remembered';
    is Chaqum::wait_plan($plan), 'succeeded';
    is $plan->state, 'succeeded';
    is $plan->wait(timeout => 5), 'succeeded', 'again';
    is $daemon->written, "waitplan -t 0.2 -- plan/3\nwaitplan -- plan/3\n", 'asked until it ended, then no more';

    $daemon->reply('S plan/4 failed', 'S plan/5 cancelled');
    is Chaqum::wait_plan('plan/4', { timeout => 1 }), 'failed', 'an id, options as a hash';
    is Chaqum::wait_plan('plan/5', timeout => 0), 'cancelled';
    is $daemon->written, "waitplan -t 1 -- plan/4\nwaitplan -t 0 -- plan/5\n";

    $daemon->reply(q{E waitplan: unknown plan 'plan/99'});
    ok !eval { Chaqum::wait_plan('plan/99'); 1 };
    is $@->reason, q{waitplan: unknown plan 'plan/99'};
    $daemon->reply('S plan/3 maybe');
    ok !eval { Chaqum::wait_plan('plan/3'); 1 }, 'a state it does not know croaks';
    like $@, qr/unexpected reply .* waitplan/;
    ok !eval { Chaqum::wait_plan('plan/3', timeuot => 1); 1 }, 'unknown option';
    $daemon->written;
};

subtest 'a reply the library cannot understand croaks' => sub {
    $daemon->reply('X what');
    ok !eval { Chaqum::enqueue('x'); 1 };
    like $@, qr/unexpected reply from the chaqum daemon: 'X what'/;
    $daemon->written;
};

subtest 'a daemon that goes away is an error, not a hang' => sub {
    $daemon->hang_up;
    ok !eval { Chaqum::enqueue('x'); 1 };
    like $@, qr/closed the reply pipe \(fd 4\)/;
};

done_testing;
