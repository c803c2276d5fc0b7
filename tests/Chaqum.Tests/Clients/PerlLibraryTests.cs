using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Chaqum.Tests.Clients;

/// <summary>
/// The Perl client library (clients/perl/Chaqum.pm): its own unit tests under prove, and
/// the behaviours the conformance corpus does not pin down, through the real daemon. The
/// jobs find the library by the PERL5LIB the daemon sets, as real trees do.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public class PerlLibraryTests
{
    /// <summary>The repository root: the directory holding clients/perl/Chaqum.pm.</summary>
    private static string Repository
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "clients", "perl", "Chaqum.pm"))) return dir.FullName;
            throw new DirectoryNotFoundException("clients/perl/Chaqum.pm not found");
        }
    }

    private static string Hex(string text) => Convert.ToHexString(Encoding.UTF8.GetBytes(text)).ToLowerInvariant();

    [Test]
    public void The_unit_tests_pass_under_prove()
    {
        var info = new ProcessStartInfo("prove")
        {
            WorkingDirectory = Repository,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-I", "clients/perl", "clients/perl/t" }) info.ArgumentList.Add(a);
        using var prove = Process.Start(info)!;
        var stdout = prove.StandardOutput.ReadToEndAsync();
        var stderr = prove.StandardError.ReadToEndAsync();
        if (!prove.WaitForExit(Deadline.Seconds(90)))
        {
            prove.Kill(true);
            Assert.Fail("prove did not finish within 90 s");
        }
        var output = stdout.Result + stderr.Result;
        Assert.That(prove.ExitCode, Is.EqualTo(0), output);
        Assert.That(stdout.Result, Does.Contain("Result: PASS"), output);
    }

    [Test]
    public void Arguments_reach_the_job_as_UTF8_whatever_kind_of_Perl_string_they_were()
    {
        using var tree = new TempTree();
        tree.Script("hexargs", """
            #!/usr/bin/perl
            print unpack('H*', $_) || '-', "\n" for @ARGV;
            """);
        // @ARGV (bytes) handed on unchanged, a "use utf8" literal, Latin-1 characters
        // without the UTF8 flag, a control character, an empty word.
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings; use utf8;
            use Chaqum;
            my $job = Chaqum::enqueue('hexargs', @ARGV, 'ünï €', "\x{e9}t\x{e9}", "a\tb", '');
            print 'status ', $job->wait, "\n";
            """);
        using var d = DaemonProcess.Start(tree, "Bob O'Brien", "naïve café", "$HOME \"x\" `id`");
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output(@"hexargs/\d+"), Is.EqualTo(new[]
        {
            Hex("Bob O'Brien"), Hex("naïve café"), Hex("$HOME \"x\" `id`"),
            Hex("ünï €"), Hex("été"), Hex("a\tb"), "-",
        }), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "status exit 0" }));
    }

    [Test]
    public void An_uncaught_refusal_ends_the_job_with_the_reason_at_the_line_of_the_call()
    {
        using var tree = new TempTree();
        tree.Script("init", """
            #!/usr/bin/perl
            use Chaqum;
            Chaqum::enqueue('nosuch');
            print "not reached\n";
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        // Perl names the file it was given: a script is exec'd through the descriptor the
        // spawn checked, /proc/self/fd/5 (docs/protocol.md, "How a job is started").
        Assert.That(d.Output("init", "err"), Has.Some.Match(@"^enqueue: no such script: 'nosuch' at /proc/self/fd/5 line 3\.$"), d.Log);
        Assert.That(d.Output("init"), Is.Empty);
        Assert.That(d.Log, Does.Match(@"init: failed: exit \d+"));
    }

    [Test]
    public void Large_and_empty_messages_survive_a_round_trip_byte_for_byte()
    {
        using var tree = new TempTree();
        tree.Script("echo", """
            #!/usr/bin/perl
            use Chaqum;
            while (defined(my $bytes = Chaqum::receive(timeout => 30))) {
                Chaqum::parent->send_bytes($bytes);
                last if $bytes eq 'last';
            }
            """);
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings;
            use Chaqum;
            my $echo = Chaqum::enqueue('echo');
            my $big = join '', map { chr($_ % 251) . chr(255 - $_ % 256) } 0 .. 600_000;
            for my $bytes ($big, '', "\n", "\x00" x 3, 'last') {
                $echo->send_bytes($bytes);
                my $back = Chaqum::receive(timeout => 30);
                print length($bytes), (defined $back && $back eq $bytes ? ' ok' : ' DIFFERENT'), "\n";
            }
            print 'echo ', $echo->wait, "\n";
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "1200002 ok", "0 ok", "1 ok", "3 ok", "4 ok", "echo exit 0" }), d.Log);
    }

    [Test]
    public void A_job_object_remembers_its_result_which_the_daemon_reports_only_once()
    {
        using var tree = new TempTree();
        tree.Script("three", "exit 3\n");
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings;
            use Chaqum;
            my $job = Chaqum::enqueue('three');
            print 'first ', $job->wait, "\n";
            print 'again ', $job->wait, "\n";
            print 'another object ', Chaqum::job($job->id)->wait(timeout => 0), "\n";
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "first exit 3", "again exit 3", "another object unknown" }), d.Log);
    }

    [Test]
    public void Delivery_is_reported_as_received_or_dropped_when_the_receiver_ends()
    {
        using var tree = new TempTree();
        // "once" starts only when init lets "gate" end, so both messages are surely
        // queued for it before it runs: it takes the first and ends, the second is dropped.
        tree.Script("gate", """
            #!/usr/bin/perl
            use Chaqum;
            defined Chaqum::receive(timeout => 30) or exit 1;
            """);
        tree.Script("once", """
            #!/usr/bin/perl
            use Chaqum;
            print 'once got ', Chaqum::receive_text(timeout => 30), "\n";
            """);
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings;
            use Chaqum;
            my $gate = Chaqum::enqueue('gate');
            my $once = Chaqum::enqueue('once', { after => $gate });
            my @messages = map { $once->send_text("message $_") } 1, 2;
            $gate->send_text('go');
            my @received = Chaqum::wait_received(@messages, { timeout => 30 });
            print "received @received\n";
            print 'once ', $once->wait, "\n";
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "received 1 0", "once exit 0" }), d.Log);
        Assert.That(d.Output(@"once/\d+"), Is.EqualTo(new[] { "once got message 1" }), d.Log);
    }

    [Test]
    public void A_job_may_kill_its_grandchild()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "exec sleep 60\n");
        tree.Script("middle", """
            #!/usr/bin/perl
            use Chaqum;
            my $sleeper = Chaqum::enqueue('sleeper');
            Chaqum::parent->send_text($sleeper->id);
            $sleeper->wait;
            """);
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings;
            use Chaqum;
            my $middle = Chaqum::enqueue('middle');
            my $grandchild = Chaqum::job(Chaqum::receive_text(timeout => 30));
            print 'killed ', $grandchild->kill(timeout => 30), "\n";
            print 'middle ', $middle->wait, "\n";
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "killed signal 15", "middle exit 0" }), d.Log);
    }

    [Test]
    public void Fds_3_and_4_stay_usable_by_a_program_the_Perl_job_execs()
    {
        using var tree = new TempTree();
        tree.Script("exiter", "exit 0\n");
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings;
            use Chaqum;
            print 'perl ', Chaqum::enqueue('exiter')->wait, "\n";
            exec 'sh', '-c', 'printf "enqueue -- exiter\n" >&3; IFS= read -r r <&4; echo "sh got $r"';
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        var init = d.Output("init");
        Assert.That(init, Has.Count.EqualTo(2), d.Log);
        Assert.That(init[0], Is.EqualTo("perl exit 0"));
        Assert.That(init[1], Does.Match(@"^sh got S exiter/\d+$"));
    }

    [Test]
    public void Log_levels_apply_to_every_line_of_a_message()
    {
        using var tree = new TempTree();
        tree.Script("init", """
            #!/usr/bin/perl
            use strict; use warnings; use utf8;
            use Chaqum;
            Chaqum::error("first line\nsecond line");
            Chaqum::warning('ünïcödé ', 42);
            print STDERR "plain stderr\n";
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Lines, Has.Some.Match(@" ERR init\[err\] first line$"), d.Log);
        Assert.That(d.Lines, Has.Some.Match(@" ERR init\[err\] second line$"), d.Log);
        Assert.That(d.Lines, Has.Some.Match(@" WRN init\[err\] ünïcödé 42$"), d.Log);
        Assert.That(d.Lines, Has.Some.Match(@" WRN init\[err\] plain stderr$"), d.Log);
        Assert.That(d.Log, Does.Not.Contain("\\x1f"), "the level prefix is never shown");
    }
}
