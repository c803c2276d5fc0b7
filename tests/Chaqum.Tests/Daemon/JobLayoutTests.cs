namespace Chaqum.Tests.Daemon;

/// <summary>How a job is started, as seen from inside the job.</summary>
[TestFixture, CancelAfter(120_000)]
public class JobLayoutTests
{
    private const string Inspect = """
        #!/usr/bin/env python3
        import os, stat, sys, fcntl
        def kind(fd):
            st = os.fstat(fd)
            return "fifo" if stat.S_ISFIFO(st.st_mode) else "chr" if stat.S_ISCHR(st.st_mode) else "other"
        open_fds = []
        for fd in range(0, 1024):
            try:
                os.fstat(fd)
                open_fds.append(fd)
            except OSError:
                pass
        print("fds", " ".join(map(str, open_fds)))
        print("fd0", os.readlink("/proc/self/fd/0"))
        print("fd5", os.readlink("/proc/self/fd/5"))
        print("kinds", kind(1), kind(2), kind(3), kind(4))
        print("distinct12", os.fstat(1).st_ino != os.fstat(2).st_ino)
        print("mode3", fcntl.fcntl(3, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY)
        print("mode4", fcntl.fcntl(4, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY)
        print("blocking", all(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK == 0 for fd in (0, 1, 3, 4)))
        print("pgrp", os.getpgrp() == os.getpid())
        print("cwd", os.getcwd())
        status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines() if ":\t" in line)
        for k in sorted(os.environ):
            if k.startswith("CHAQUM_"):
                print("env", k, os.environ[k])
        sys.stdout.flush()
        """;

    [Test]
    public void Entry_job_sees_exactly_the_promised_layout()
    {
        using var tree = new TempTree();
        // Python ignores SIGPIPE itself, so the signal state is read by sh first.
        tree.Script("inspect", Inspect);
        // Read with shell builtins only: a child (sed) would see the shell mid-fork.
        tree.Script("init", """
            while IFS= read -r line; do
              case $line in SigIgn:*) echo "sigign ${line#SigIgn:?}";; SigBlk:*) echo "sigblk ${line#SigBlk:?}";; esac
            done < /proc/self/status
            exec ./inspect "$@"
            """);
        using var d = DaemonProcess.Start(tree, new[] { "x" }, new Dictionary<string, string?> { ["CHAQUM_PARENT"] = "stale", ["KEEP_ME"] = "1" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var output = d.Output("init");
        // 5: the "#!" script the daemon started (init), which its interpreter opened as
        // /proc/self/fd/5 and which exec does not close (see Spawner).
        Assert.That(output, Does.Contain("fds 0 1 2 3 4 5"));
        Assert.That(output, Does.Contain("fd0 /dev/null"));
        Assert.That(output, Does.Contain("fd5 " + tree.PathOf("init")));
        Assert.That(output, Does.Contain("kinds fifo fifo fifo fifo"));
        Assert.That(output, Does.Contain("distinct12 True"));
        Assert.That(output, Does.Contain("mode3 True"));
        Assert.That(output, Does.Contain("mode4 True"));
        Assert.That(output, Does.Contain("blocking True"));
        Assert.That(output, Does.Contain("pgrp True"));
        Assert.That(output, Does.Contain("cwd " + tree.Root));
        Assert.That(output, Does.Contain("sigign 0000000000000000"));
        Assert.That(output, Does.Contain("sigblk 0000000000000000"));
        var env = output.Where(l => l.StartsWith("env ")).ToList();
        Assert.That(env, Does.Contain("env CHAQUM_IDENT init"));
        Assert.That(env, Does.Contain("env CHAQUM_ATTEMPT 1"));
        Assert.That(env, Does.Contain("env CHAQUM_TREE " + tree.Root));
        Assert.That(env.Any(l => l.StartsWith("env CHAQUM_PARENT")), Is.False, "the entry job has no parent, not even an inherited one");
        Assert.That(env.Any(l => l.StartsWith("env CHAQUM_GROUP") || l.StartsWith("env CHAQUM_SLOT")), Is.False);
    }

    [Test]
    public void Enqueued_job_gets_its_parent_and_the_daemons_environment()
    {
        using var tree = new TempTree();
        tree.Script("init", Sh.Script("cmd 'enqueue -- sub/child'\ncmd \"wait -- $(word 2)\""));
        tree.Script("sub/child", "echo \"ident=$CHAQUM_IDENT parent=$CHAQUM_PARENT keep=$KEEP_ME attempt=$CHAQUM_ATTEMPT\"\nls /proc/$$/fd | sort -n | tr '\\n' ' '; echo\n");
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), new Dictionary<string, string?> { ["KEEP_ME"] = "yes" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output(@"sub/child/\d+"), Has.Some.Match(@"^ident=sub/child/\d+ parent=init keep=yes attempt=1$"));
        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S sub/child/\d+ 0$"));
    }

    [Test]
    public void Job_ignoring_fds_3_and_4_is_a_perfectly_good_job()
    {
        using var tree = new TempTree();
        tree.Script("init", "exec 3>&- 4<&-\necho done\n");
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "done" }));
    }

    [Test]
    public void Symlink_inside_the_tree_runs_its_target()
    {
        using var tree = new TempTree();
        tree.Script("real", "echo \"I am $CHAQUM_IDENT\"\n");
        File.CreateSymbolicLink(tree.PathOf("alias"), "real");
        tree.Script("init", Sh.Script("cmd 'enqueue -- alias'\ncmd \"wait -- $(word 2)\""));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output(@"real/\d+"), Has.Some.Match(@"^I am real/\d+$"));
    }
}
