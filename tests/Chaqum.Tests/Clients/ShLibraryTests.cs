using System.Diagnostics;
using System.Text;
using Chaqum.Tests.Conformance;

namespace Chaqum.Tests.Clients;

/// <summary>
/// The POSIX sh client library (clients/sh/chaqum.sh): its own unit tests, then the
/// library against the real daemon, sourced into dash and into bash.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public class ShLibraryTests
{
    public static readonly string[] Shells = { "/bin/dash", "/bin/bash" };

    /// <summary>The clients/ directory the build copies next to the daemon (what
    /// CHAQUM_LIBDIR names for every job of the tests).</summary>
    private static string Clients => Path.Combine(AppContext.BaseDirectory, "clients");

    private static (int Status, string Stdout, string Stderr) Run(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        using var p = Process.Start(info)!;
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(Deadline.Seconds(60)))
        {
            p.Kill(true);
            Assert.Fail($"{info.FileName} did not finish within 60 s; stdout so far: {stdout}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>TEXT as a single-quoted sh word: any bytes but ' are literal in it.</summary>
    private static string ShLiteral(string text) => "'" + text.Replace("'", "'\\''") + "'";

    private static string Hex(string arg) =>
        arg.Length == 0 ? "-" : Convert.ToHexString(Encoding.UTF8.GetBytes(arg)).ToLowerInvariant();

    [Test]
    public void The_unit_tests_pass_under_dash_and_bash()
    {
        var run = Path.Combine(Clients, "sh", "tests", "run");
        Assert.That(File.Exists(run), Is.True, $"{run} is missing");
        var (status, stdout, stderr) = Run(new ProcessStartInfo("/bin/sh") { ArgumentList = { run } });
        Assert.That(status, Is.EqualTo(0), $"{stdout}\n{stderr}");
        Assert.That(stdout, Does.Contain("# dash: passed").And.Contain("# bash: passed"));
        Assert.That(stdout, Does.Not.Contain("not ok"));
    }

    private static readonly string[] Torture =
    {
        "plain", "", " ", "a b", "'", "''", "it's", "\"", "say \"hi\"", "back\\slash", "\\", "trailing\\",
        "$HOME $(id) `id` ${x}", "$'not an escape'", "new\nline", "\n", "ends with newline\n", "tab\there",
        "cr\r lf", "bell\a esc\u001b del\u007f soh\u0001", "ünïcödé € 日本", "-g", "--", "-", "*?[]{};|&<>()!#~",
        "  leading and trailing  ", "a=b", "%@+=:,./_-", "'\"'\"'", "\\x41\\n",
    };

    [TestCaseSource(nameof(Shells))]
    public void Any_argument_reaches_the_job_unchanged(string shell)
    {
        using var tree = ConformanceTests.BuildTree("sh");
        var words = string.Join(" ", Torture.Select(ShLiteral));
        tree.Script("init", $"""
            #!{shell}
            . "$CHAQUM_LIBDIR/sh/chaqum.sh"
            chaqum_enqueue -- args out.txt {words} > /dev/null || exit 1
            chaqum_wait -- "$chaqum_result" || exit 1
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        var lines = tree.Read("out.txt").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.EqualTo(Torture.Select(Hex).ToArray()), d.Log);
    }

    [TestCaseSource(nameof(Shells))]
    public void Ids_the_daemon_has_to_quote_are_read_back(string shell)
    {
        using var tree = new TempTree();
        tree.Script("my job's", "exit 4\n");
        tree.Script("tab\there", "exit 5\n");
        tree.Script("init", $$"""
            #!{{shell}}
            . "$CHAQUM_LIBDIR/sh/chaqum.sh"
            chaqum_enqueue -- "my job's" > /dev/null || exit 1
            a=$chaqum_result
            chaqum_enqueue -- "$(printf 'tab\there')" > /dev/null || exit 1
            b=$chaqum_result
            chaqum_wait -- "$a" "$b" > /dev/null
            echo "wait $?"
            chaqum_status "$a" > /dev/null; echo "[${a%/*}] $chaqum_result"
            chaqum_status "$b" > /dev/null; echo "[${b%/*}] $chaqum_result"
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "wait 1", "[my job's] 4", "[tab\there] 5" }), d.Log);
    }

    [TestCaseSource(nameof(Shells))]
    public void Return_codes_tell_success_failure_error_and_not_yet(string shell)
    {
        using var tree = ConformanceTests.BuildTree("sh");
        tree.Script("init", $$"""
            #!{{shell}}
            . "$CHAQUM_LIBDIR/sh/chaqum.sh"
            enq() { chaqum_enqueue "$@" > /dev/null || exit 1; id=$chaqum_result; }
            enq -- exiter 0; chaqum_wait -- "$id" > /dev/null; echo "exit 0: $?"
            enq -- exiter 3; chaqum_wait -- "$id" > /dev/null; echo "exit 3: $?"
            enq -- broken; chaqum_wait -- "$id" > /dev/null; echo "never ran: $?"
            enq -- sleeper; s=$id
            chaqum_wait -t 0.2 -- "$s" > /dev/null; echo "pending: $?"
            chaqum_kill -- "$s" > /dev/null; echo "kill: $?"
            chaqum_status "$s"
            chaqum_wait -- "$s" > /dev/null; echo "reported already: $?"
            chaqum_enqueue -- nosuch > /dev/null; echo "refused: $? [$chaqum_error]"
            chaqum_wait -t abc -- "$s" > /dev/null; echo "bad option: $?"
            chaqum_recvmsg -t 0.1 > /dev/null; echo "recv timeout: $?"
            chaqum_unrepeat -- repeat:999; echo "unrepeat unknown: $?"
            chaqum_wait -- > /dev/null; echo "ping: $?"
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "exit 0: 0", "exit 3: 1", "never ran: 1", "pending: 3", "kill: 0", "-15", "reported already: 1",
            "refused: 2 [enqueue: no such script: 'nosuch']", "bad option: 2", "recv timeout: 3",
            "unrepeat unknown: 2", "ping: 0",
        }), d.Log);
        Assert.That(d.Output("init", "err"), Has.Some.EqualTo("chaqum: enqueue: no such script: 'nosuch'"));
    }

    [TestCaseSource(nameof(Shells))]
    public void Messages_keep_their_bytes_whatever_the_locale(string shell)
    {
        using var tree = new TempTree();
        tree.Script("init", $$"""
            #!{{shell}}
            # In a UTF-8 locale bash counts characters: the library must send bytes.
            LC_ALL=C.UTF-8; export LC_ALL
            . "$CHAQUM_LIBDIR/sh/chaqum.sh"
            text="héllo wörld 日本 'q' \"d\" \$x
            end"
            chaqum_sendmsg -- "$CHAQUM_IDENT" "$text" > /dev/null || exit 1
            got=$(chaqum_recvmsg -t 10) || exit 1
            [ "$got" = "$text" ] && echo "text ok"

            printf '\000\001\012\377\177\015\012\040' > bytes
            chaqum_sendmsg -f bytes -- "$CHAQUM_IDENT" > /dev/null || exit 1
            m=$chaqum_result
            chaqum_waitrecv -t 0 -- "$m" > /dev/null; echo "waitrecv before: $?"
            chaqum_recvmsg -t 10 > echoed || exit 1
            echo "length $chaqum_result"
            cmp -s bytes echoed && echo "bytes ok"
            chaqum_waitrecv -t 10 -- "$m"; echo "waitrecv after: $?"
            chaqum_sendmsg -- "$CHAQUM_IDENT" "" > /dev/null && chaqum_recvmsg -t 10 > /dev/null
            echo "empty: $chaqum_result"
            chaqum_wait -- && echo "in sync"
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        var init = d.Output("init");
        Assert.That(init, Has.Count.EqualTo(8), d.Log);
        Assert.That(init[4], Does.Match(@"^msg:\d+ R$"), d.Log);
        Assert.That(init.Where((_, i) => i != 4), Is.EqualTo(new[]
        {
            "text ok", "waitrecv before: 3", "length 8", "bytes ok", "waitrecv after: 0", "empty: 0", "in sync",
        }), d.Log);
    }

    [TestCaseSource(nameof(Shells))]
    public void Log_lines_get_their_levels(string shell)
    {
        using var tree = new TempTree();
        tree.Script("init", $$"""
            #!{{shell}}
            . "$CHAQUM_LIBDIR/sh/chaqum.sh"
            chaqum_log_critical "sky falling"
            chaqum_log_error "an error"
            chaqum_log_warn "first
            second"
            chaqum_log_info info
            chaqum_log_debug debug
            """);
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0), d.Log);
        foreach (var expected in new[]
                 {
                     "FTL init[err] sky falling", "ERR init[err] an error", "WRN init[err] first",
                     "WRN init[err] second", "INF init[err] info", "DBG init[err] debug",
                 })
            Assert.That(d.Lines.Any(l => l.EndsWith(" " + expected)), Is.True, $"no log line '{expected}'. Log:\n{d.Log}");
    }

    [TestCaseSource(nameof(Shells))]
    public void Outside_a_job_it_fails_and_says_so(string shell)
    {
        var info = new ProcessStartInfo(shell)
        {
            ArgumentList = { "-c", ". \"$CHAQUM_LIBDIR/sh/chaqum.sh\"; chaqum_wait -- x/1" },
        };
        info.Environment["CHAQUM_LIBDIR"] = Clients;
        foreach (var k in info.Environment.Keys.Where(k => k.StartsWith("CHAQUM_") && k != "CHAQUM_LIBDIR").ToList())
            info.Environment.Remove(k);
        var (status, _, stderr) = Run(info);
        Assert.That(status, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("fds 3 and 4"));

        // A job's identity but closed fds (.NET gives a child only 0-2).
        info.Environment["CHAQUM_IDENT"] = "init";
        (status, _, stderr) = Run(info);
        Assert.That(status, Is.EqualTo(2));
        Assert.That(stderr, Does.Contain("fds 3 and 4"));
    }
}
