using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// Security checks: no spelling reaches a script outside the tree; a job kills only its
/// descendants; nothing the daemon creates is writable by others, whatever its umask;
/// secrets in the environment stay out of the logs, output files and history. (Basic
/// refusals are in RefusalTests, other uids on the control socket in ChaqumctlTests.)
/// </summary>
[TestFixture, CancelAfter(180_000)]
public class SecurityTests
{
    /// <summary>A tree next to a directory "outside" whose script leaves a marker if it
    /// ever runs; links from inside point out in every way.</summary>
    private static string OutsideTree(TempTree tree)
    {
        var outside = tree.Root + ".outside";
        Directory.CreateDirectory(outside);
        File.WriteAllText(Path.Combine(outside, "evil"), $"#!/bin/sh\ntouch {outside}/RAN\n");
        File.SetUnixFileMode(Path.Combine(outside, "evil"), (UnixFileMode)0b111_101_101);
        tree.Script("job", "exit 0\n");
        Directory.CreateDirectory(tree.PathOf("sub"));
        File.CreateSymbolicLink(tree.PathOf("link-out"), Path.Combine(outside, "evil"));
        File.CreateSymbolicLink(tree.PathOf("rel-link-out"), "../" + Path.GetFileName(outside) + "/evil");
        File.CreateSymbolicLink(tree.PathOf("dir-out"), outside);
        File.CreateSymbolicLink(tree.PathOf("sub/up"), "../..");
        File.CreateSymbolicLink(tree.PathOf("loop"), "loop");
        File.CreateSymbolicLink(tree.PathOf("chain"), "link-out");
        return outside;
    }

    [Test]
    public void No_spelling_reaches_a_script_outside_the_tree()
    {
        using var tree = new TempTree();
        var outside = OutsideTree(tree);
        var name = Path.GetFileName(outside);
        var spellings = new[]
        {
            $"../{name}/evil", $"{outside}/evil", $"{tree.Root}/../{name}/evil", "/" + outside + "/evil",
            $"/proc/self/root{outside}/evil", "link-out", "rel-link-out", "chain", "dir-out/evil", "dir-out/../" + name + "/evil",
            $"sub/up/{name}/evil", "sub/../../" + name + "/evil", "./../" + name + "/evil", "loop",
            string.Concat(Enumerable.Repeat("sub/../", 700)) + $"../{name}/evil",   // longer than PATH_MAX
            new string('a', 300), $"job/../../{name}/evil", tree.Root, tree.Root + "/", ".", "..", "/",
        };
        var lines = new List<string>();
        foreach (var s in spellings)
        {
            var q = Chaqum.Words.ShellWords.Quote(s);
            lines.Add($"cmd {Sh("enqueue -- " + q)}");
            lines.Add($"cmd {Sh("repeat -i 1s -- " + q)}");
        }
        // A NUL cuts a C string short: "job<NUL>/../x" must not become "job".
        lines.Add("cmd " + Sh("enqueue -- $'job\\0/../../" + name + "/evil'"));
        lines.Add("printf 'enqueue -- job\\000/x\\n' >&3; IFS= read -r REPLY <&4; echo \"reply: $REPLY\"");
        lines.Add("cmd 'enqueue -- job'");
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script(string.Join("\n", lines) + "\ncmd \"wait -- $(word 2)\"\n"));
        try
        {
            using var d = DaemonProcess.Start(tree);
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            var replies = d.Output("init");
            Assert.That(replies, Has.Count.EqualTo(spellings.Length * 2 + 4));
            Assert.That(replies.Take(spellings.Length * 2 + 2), Has.All.StartWith("reply: E "), string.Join("\n", replies));
            Assert.That(replies[^2], Does.Match(@"^reply: S job/\d+$"), "an ordinary script still runs");
            Assert.That(File.Exists(Path.Combine(outside, "RAN")), Is.False, "the outside script never ran");
        }
        finally
        {
            Directory.Delete(outside, true);
        }
    }

    private static string Sh(string s) => "'" + s.Replace("'", "'\\''") + "'";

    [Test]
    public void A_job_kills_only_its_descendants()
    {
        // parent enqueues child, which enqueues grandchild and registers a repeat, then
        // ends. The parent may still kill the grandchild and the repeat's firing (enqueued,
        // through the repeat, by its descendant); its sibling may kill neither, nor its
        // parent, nor itself; a list with one job that is not permitted kills nothing.
        using var tree = new TempTree();
        tree.Script("sleeper", "sleep 60\n");
        tree.Script("firing", "echo \"$CHAQUM_IDENT\" > firing.tmp && mv firing.tmp firing.txt\nsleep 60\n");
        tree.Script("child", Chaqum.Tests.Daemon.Sh.Script("""
            cmd 'enqueue -- sleeper'; echo "$(word 2)" > grandchild.txt
            cmd 'repeat -i 0.2 -- firing'; echo "$(word 2)" > repeat.txt
            """));
        tree.Script("sibling", Chaqum.Tests.Daemon.Sh.Script("""
            cmd "killjobs -- $1"
            cmd "killjobs -- $2"
            cmd "killjobs -- $CHAQUM_PARENT"
            cmd "killjobs -- $CHAQUM_IDENT"
            """));
        tree.Script("parent", Chaqum.Tests.Daemon.Sh.Script("""
            cmd 'enqueue -- child'; c=$(word 2)
            cmd "wait -- $c"
            while [ ! -e firing.txt ]; do sleep 0.05; done
            g=$(cat grandchild.txt); f=$(cat firing.txt); r=$(cat repeat.txt)
            cmd 'enqueue -- sleeper'; mine=$(word 2)
            cmd "enqueue -- sibling $g $f"; s=$(word 2)
            cmd "wait -- $s"
            cmd "killjobs -- $mine $CHAQUM_PARENT"
            cmd "wait -t 0 -- $mine"
            cmd "unrepeat -- $r"
            cmd "killjobs -- $g $f $mine"
            """));
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script("""
            cmd 'enqueue -- parent'; p=$(word 2)
            cmd "wait -- $p"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        var sibling = d.Output(@"sibling/\d+");
        Assert.That(sibling[0], Does.Match(@"^reply: E killjobs: not permitted: sleeper/\d+ is not a descendant of sibling/\d+$"), "the cousin");
        Assert.That(sibling[1], Does.Match(@"^reply: E killjobs: not permitted: firing/\d+ is not a descendant"), "another job's repeat firing");
        Assert.That(sibling[2], Does.Match(@"^reply: E killjobs: not permitted: parent/\d+ is not a descendant"), "its parent");
        Assert.That(sibling[3], Does.Match(@"^reply: E killjobs: not permitted: sibling/\d+ is not a descendant"), "itself");
        var parent = d.Output(@"parent/\d+");
        Assert.That(parent, Has.Some.Match(@"^reply: E killjobs: not permitted: init is not a descendant of parent/\d+$"));
        Assert.That(parent, Has.Some.Match(@"^reply: S sleeper/\d+ T$"), "the refused list killed nothing");
        Assert.That(parent.Last(), Does.Match(@"^reply: S sleeper/\d+ -15 firing/\d+ -15 sleeper/\d+ -15$"),
            "a grandchild whose parent has ended, a firing of a descendant's repeat, a child");
    }

    [Test]
    public void Nothing_the_daemon_creates_is_writable_by_others_even_with_umask_0()
    {
        using var tree = new TempTree();
        tree.Script("job", "echo some output\necho more >&2\n");
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script("""
            i=0; while [ $i -lt 3 ]; do cmd 'enqueue -- job'; cmd "wait -- $(word 2)"; i=$((i+1)); done
            echo ready
            while [ ! -e stop ]; do sleep 0.05; done
            """));
        var runDir = tree.Root + ".run";
        var logDir = tree.Root + ".logs";
        Directory.CreateDirectory(logDir);
        try
        {
            using var d = HardDaemon.Start(tree, new[] { "--log-file", Path.Combine(logDir, "chaqum.log") },
                prefix: new[] { "sh", "-c", "umask 000; exec \"$@\"", "sh" }, socketPath: Path.Combine(runDir, "ctl.sock"));
            d.WaitForLine(@"init\[out\] ready");
            // The history is written off the loop, in batches: wait for it, not for a moment.
            Poll.Until(() => File.Exists(Path.Combine(tree.StateDir, "history.sqlite")), "the history to be written");
            // Everything exists now: state, history, output files, socket and its directory,
            // log file (its directory is ours).
            var created = new[] { tree.StateDir, logDir, runDir }
                .SelectMany(dir => Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.AllDirectories).Prepend(dir))
                .Where(p => p != logDir)
                .ToList();
            Assert.That(created, Has.Some.EndsWith("history.sqlite"));
            Assert.That(created, Has.Some.Contains("output/job%2F"));
            Assert.That(created, Has.Some.EqualTo(d.SocketPath));
            var writable = created.Where(p => (File.GetUnixFileMode(p) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
                .Select(p => $"{p} {Convert.ToString((int)File.GetUnixFileMode(p), 8)}").ToList();
            Assert.That(writable, Is.Empty, "created group- or world-writable");
            File.WriteAllText(tree.PathOf("stop"), "");
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
        }
        finally
        {
            Directory.Delete(logDir, true);
            if (Directory.Exists(runDir)) Directory.Delete(runDir, true);
        }
    }

    [Test]
    public void Secrets_in_the_environment_stay_out_of_logs_output_files_and_history()
    {
        const string secret = "hunter2-s3cr3t-9f8e7d";
        using var tree = new TempTree();
        tree.Script("job", "echo \"job sees a secret of ${#SECRET_TOKEN} characters\"\nexit 3\n");
        tree.Script("slow", "sleep 30\n");
        File.WriteAllText(tree.PathOf("badinterp"), "#!/nonexistent/interpreter\n");
        File.SetUnixFileMode(tree.PathOf("badinterp"), (UnixFileMode)0b111_101_101);
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script("""
            cmd 'enqueue -r 1 -- job'; j=$(word 2)
            cmd 'enqueue -- badinterp'
            cmd 'enqueue -t 0.3 -- slow'; s=$(word 2)
            cmd 'repeat -i 0.2 -- job'; r=$(word 2)
            cmd "wait -- $j $s"
            cmd "unrepeat -- $r"
            """));
        var logFile = tree.Root + ".log-file";
        try
        {
            // -vv: everything the daemon and the host would ever log.
            using var d = HardDaemon.Start(tree, new[] { "-v", "-v", "--log-file", logFile },
                env: new Dictionary<string, string?> { ["SECRET_TOKEN"] = secret });
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
            Assert.That(d.Log, Does.Contain("job sees a secret of 21 characters"), "the job had it");
            var places = new[] { d.LogPath, logFile }
                .Concat(Directory.EnumerateFiles(tree.StateDir, "*", SearchOption.AllDirectories));
            foreach (var place in places)
                Assert.That(File.ReadAllBytes(place).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(secret)), Is.EqualTo(-1),
                    $"the secret is in {place}");
        }
        finally
        {
            File.Delete(logFile);
        }
    }
}
