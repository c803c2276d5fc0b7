using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Chaqum.History;
using Chaqum.Tests.Control;
using Chaqum.Tests.Daemon;
using Chaqum.Tests.Support;

namespace Chaqum.Tests.Service;

/// <summary>The daemon as a systemd service: notify messages, journal output, one daemon
/// per tree, the subreaper, SIGHUP, --user.</summary>
[TestFixture, CancelAfter(120_000)]
public class ServiceTests
{
    [Test]
    public void Notify_socket_gets_ready_status_watchdog_and_stopping()
    {
        using var tree = new TempTree();
        tree.Script("job", "sleep 0.3\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- job'; cmd 'enqueue -- job'
            while [ ! -e pinged ]; do sleep 0.05; done
            cmd 'wait --'
            """));
        var socketPath = tree.Root + ".notify";
        using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        socket.ReceiveTimeout = 200;
        var messages = new List<string>();
        var env = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = socketPath, ["WATCHDOG_USEC"] = "400000" };
        using (var d = DaemonProcess.Start(tree, Array.Empty<string>(), env))
        {
            var buffer = new byte[4096];
            var token = TestContext.CurrentContext.CancellationToken;
            while ((!d.HasExited || socket.Available > 0) && !token.IsCancellationRequested)
            {
                try { messages.Add(Encoding.UTF8.GetString(buffer, 0, socket.Receive(buffer))); }
                catch (SocketException) { }
                // init runs until two watchdog pings came, however slowly the machine goes.
                if (messages.Count(m => m == "WATCHDOG=1") >= 2 && !tree.Exists("pinged")) File.WriteAllText(tree.PathOf("pinged"), "");
            }
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
        }
        File.Delete(socketPath);

        Assert.That(messages, Is.Not.Empty);
        Assert.That(messages[0], Does.StartWith("READY=1\n").And.Contain("STATUS=").And.Contain("MAINPID="));
        Assert.That(messages.Count(m => m == "WATCHDOG=1"), Is.GreaterThanOrEqualTo(2), string.Join(" | ", messages));
        // The counts may already be in READY's own STATUS line (both jobs started before it
        // was sent, on a slow machine) or in a later message: a line of any message will do.
        Assert.That(messages.Any(m => m.Split('\n').Any(l => l.StartsWith("STATUS=") && l.Contains("running"))),
            string.Join(" | ", messages));
        int stopping = messages.FindIndex(m => m.StartsWith("STOPPING=1"));
        Assert.That(stopping, Is.GreaterThan(0), string.Join(" | ", messages));
        Assert.That(messages.Skip(stopping + 1).Where(m => m.StartsWith("STATUS=")), Is.Empty, "no status after stopping");
    }

    [Test]
    public void Jobs_do_not_inherit_the_notify_socket()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo \"notify=${NOTIFY_SOCKET-unset} journal=${JOURNAL_STREAM-unset}\"\n");
        var env = new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = "/nonexistent/notify", ["JOURNAL_STREAM"] = "1:1" };
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), env);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "notify=unset journal=unset" }));
    }

    [Test]
    public void When_stderr_is_the_journal_lines_carry_priorities_and_no_timestamp()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo plain; printf 'E\\037broken\\n' >&2; printf 'W\\037careful\\n'\n");
        var log = tree.Root + ".journal";
        // The same file as stderr, named by device and inode as systemd does.
        var (exit, _) = Shell($"exec 2>'{log}'; JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec dotnet exec '{DaemonProcess.DaemonDll}' --state-dir '{tree.StateDir}' '{tree.Root}'");
        var lines = File.ReadAllLines(log);
        File.Delete(log);
        Assert.That(exit, Is.EqualTo(0), string.Join("\n", lines));
        Assert.That(lines, Does.Contain("<6>init[out] plain"));
        Assert.That(lines, Does.Contain("<3>init[err] broken"));
        Assert.That(lines, Does.Contain("<4>init[out] careful"));
        Assert.That(lines, Has.All.Match(@"^<[0-7]>"), "every line has a priority and no timestamp");
    }

    [Test]
    public void A_journal_stream_that_is_not_stderr_changes_nothing()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo plain\n");
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), new Dictionary<string, string?> { ["JOURNAL_STREAM"] = "1:1" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "plain" }));
    }

    [Test]
    public void A_second_daemon_on_the_same_tree_is_refused_naming_the_first()
    {
        using var tree = new TempTree();
        tree.Script("init", "touch \"$CHAQUM_TREE/started\"; sleep 3600\n");
        using var first = DaemonProcess.Start(tree);
        Poll.Until(() => tree.Exists("started"), "the first daemon's init runs");
        using var second = DaemonProcess.Start(tree);
        Assert.That(second.WaitForExit(TimeSpan.FromSeconds(20)), Is.EqualTo(1));
        Assert.That(second.Log, Does.Contain($"is already managed by pid {first.Pid}"));
        Assert.That(first.HasExited, Is.False, "the first daemon is untouched");
        Assert.That(File.ReadAllText(Path.Combine(tree.StateDir, "lock")).Trim(), Is.EqualTo(first.Pid.ToString()));
    }

    [Test]
    public void Double_forked_processes_are_reaped_and_killed_at_the_end()
    {
        using var tree = new TempTree();
        // setsid puts the sleep in a session of its own: out of the job's process group,
        // and reparented to the daemon (the subreaper) once the job exits.
        tree.Script("job", "setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > \"$CHAQUM_TREE/escaped.pid\"\n");
        tree.Script("init", Sh.Script("cmd 'enqueue -- job'; cmd 'wait --'"));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        int escaped = int.Parse(tree.Read("escaped.pid").Trim());
        Poll.Until(() => !ProcessIsAlive(escaped), "the escaped sleep is gone");
        Assert.That(d.Log, Does.Contain($"killing pid {escaped}, left behind by a job"));
    }

    [Test]
    public void Sighup_reopens_the_log_file()
    {
        using var tree = new TempTree();
        tree.Script("init", """
            echo before
            while [ ! -e "$CHAQUM_TREE/go" ]; do sleep 0.05; done
            echo after
            """);
        var dir = tree.Root + ".logs";
        Directory.CreateDirectory(dir);
        var logFile = Path.Combine(dir, "chaqum.log");
        try
        {
            using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--log-file", logFile });
            Poll.Until(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("init[out] before"), "the first line in the log file");
            File.Move(logFile, logFile + ".1"); // what logrotate does
            d.Signal(1); // SIGHUP
            Poll.Until(() => File.Exists(logFile) && File.ReadAllText(logFile).Contains("SIGHUP: reopened"), "a fresh log file");
            File.WriteAllText(tree.PathOf("go"), "");
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            Assert.That(File.ReadAllText(logFile), Does.Contain("init[out] after"));
            Assert.That(File.ReadAllText(logFile + ".1"), Does.Not.Contain("init[out] after"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Test, UsesNobody]
    public void User_option_runs_everything_as_that_user()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo \"uid=$(id -u) gid=$(id -g) groups=$(id -G) home=$HOME\"\n");
        if (Mono.Unix.Native.Syscall.geteuid() != 0)
        {
            // Only root can change user: anyone else is told so, clearly.
            using var refused = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--user", "nobody" });
            Assert.That(refused.WaitForExit(), Is.EqualTo(1));
            Assert.That(refused.Log, Does.Contain("only root can change user"));
            return;
        }
        // nobody must be able to read the tree and create its state.
        File.SetUnixFileMode(tree.Root, (UnixFileMode)0b111_101_101);
        var stateParent = tree.Root + ".nobody";
        Directory.CreateDirectory(stateParent);
        Mono.Unix.Native.Syscall.chown(stateParent, 65534, 65534);
        var stateDir = Path.Combine(stateParent, "state");
        try
        {
            var (exit, output) = Shell($"exec dotnet exec '{DaemonProcess.DaemonDll}' --user nobody --state-dir '{stateDir}' '{tree.Root}' 2>&1");
            Assert.That(exit, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("init[out] uid=65534 gid=65534 groups=65534 home="));
            Assert.That(output, Does.Not.Contain("running as root"));
            foreach (var path in Directory.EnumerateFileSystemEntries(stateDir, "*", SearchOption.AllDirectories).Append(stateDir))
            {
                Assert.That(Mono.Unix.Native.Syscall.stat(path, out var st), Is.EqualTo(0));
                Assert.That(st.st_uid, Is.EqualTo(65534u), $"{path} belongs to nobody");
            }
        }
        finally
        {
            ProcessCleanup.KillTreeProcesses(tree.Root);
            Directory.Delete(stateParent, true);
        }
    }

    [Test]
    public void Chaqumctl_finds_a_service_instance_by_its_tree()
    {
        using var tree = new TempTree();
        using var other = new TempTree();
        tree.Script("mine", "while [ ! -e stop ]; do sleep 0.05; done\n");
        other.Script("init", "while [ ! -e stop ]; do sleep 0.05; done\n");
        // As systemd lays it out: RuntimeDirectory=chaqum/NAME, one socket per instance.
        var runtime = tree.Root + ".xdg";
        var env = new Dictionary<string, string?> { ["XDG_RUNTIME_DIR"] = runtime };
        try
        {
            using var a = DaemonProcess.Start(other, Array.Empty<string>(), null, new[] { "--control", Path.Combine(runtime, "chaqum", "a", "chaqum.sock") });
            using var b = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-e", "mine", "--control", Path.Combine(runtime, "chaqum", "b", "chaqum.sock") });
            Poll.Until(() => File.Exists(Path.Combine(runtime, "chaqum", "a", "chaqum.sock")) && File.Exists(Path.Combine(runtime, "chaqum", "b", "chaqum.sock")), "both sockets");
            var ps = Ctl.Exec(new[] { "-t", tree.Root, "ps", "--json" }, env);
            Assert.That(ps.Exit, Is.EqualTo(0), ps.ToString());
            Assert.That(ps.Json.AsArray().Select(j => (string)j!["id"]!), Is.EqualTo(new[] { "mine" }), "the daemon of -t TREE, not the other");
            File.WriteAllText(tree.PathOf("stop"), "");
            File.WriteAllText(other.PathOf("stop"), "");
            Assert.That(a.WaitForExit(), Is.EqualTo(0));
            Assert.That(b.WaitForExit(), Is.EqualTo(0));
        }
        finally { Directory.Delete(runtime, true); }
    }

    internal static bool ProcessIsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
    }

    internal static (int Exit, string Output) Shell(string script, int timeoutSeconds = 60)
    {
        var info = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.Environment.Remove("CHAQUM_TREE");
        using var p = Process.Start(info)!;
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(Deadline.Seconds(timeoutSeconds)))
        {
            p.Kill(true);
            Assert.Fail($"timed out: {script}");
        }
        return (p.ExitCode, output.Result);
    }
}
