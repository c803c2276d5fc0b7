using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// Jobs that do not stay where they were put: a job that leaves its process group (its
/// child makes a group of its own, and the job moves into it), and an escaped chain (a
/// setsid'd child that ignores SIGTERM, with a child of its own). Timeouts, killjobs and
/// the daemon's stop must reach them all, and nothing survives the daemon. Each runs with
/// a cgroup per job and, with CHAQUM_CGROUPS=off, the way without cgroups (descendants
/// through /proc children lists, the subreaper, the CHAQUM_IDENT mark).
/// </summary>
[TestFixture, CancelAfter(180_000), NonParallelizable]
public class SupervisionTests
{
    /// <summary>escaper: forks a child that makes its own process group (and writes its pid
    /// to child.pid), moves itself into that group, writes "escaped", then sleeps.</summary>
    private static void EscaperTree(TempTree tree)
    {
        tree.Script("escaper", """
            #!/usr/bin/perl
            use strict; use warnings; use POSIX ();
            my $dir = $ENV{CHAQUM_TREE};
            my $child = fork() // die "fork: $!";
            if ($child == 0) {
                POSIX::setpgid(0, 0) or die "setpgid: $!";
                exec "sleep", "300";
            }
            select(undef, undef, undef, 0.01) until getpgrp($child) == $child;
            POSIX::setpgid(0, $child) or die "setpgid(0, $child): $!";
            open my $f, ">", "$dir/child.pid.tmp" or die; print $f "$child\n"; close $f;
            rename "$dir/child.pid.tmp", "$dir/child.pid";
            open $f, ">", "$dir/escaped" or die; close $f;
            exec "sleep", "300";
            """);
    }

    private static Dictionary<string, string?> Mode(bool cgroups) => new() { ["CHAQUM_CGROUPS"] = cgroups ? null : "off" };

    /// <summary>The daemon on an escaper tree whose init runs initBody.</summary>
    private static HardDaemon EscaperDaemon(TempTree tree, bool cgroups, string initBody)
    {
        EscaperTree(tree);
        tree.Script("init", Sh.Script(initBody));
        return HardDaemon.Start(tree, env: Mode(cgroups));
    }

    [Test]
    public void A_job_that_left_its_process_group_is_killed_by_killjobs_and_by_its_timeout([Values] bool cgroups)
    {
        using var tree = new TempTree();
        using var d = EscaperDaemon(tree, cgroups, """
            cmd 'enqueue -- escaper'; a=$(word 2)
            while [ ! -e escaped ]; do sleep 0.05; done
            cmd "killjobs -t 60 -- $a"
            rm escaped
            cmd 'enqueue -t 1 -- escaper'; b=$(word 2)
            cmd "wait -t 60 -- $b"
            """);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(120)), Is.EqualTo(0), "the daemon exits once its jobs are gone");
        var replies = d.Output("init").Where(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^reply: S escaper/\d+ ")).ToList();
        Assert.That(replies, Has.Count.EqualTo(2), d.Log);
        Assert.That(replies[0], Does.Match(@"^reply: S escaper/\d+ -15$"), "killjobs ended it with SIGTERM");
        Assert.That(replies[1], Does.Match(@"^reply: S escaper/\d+ -15$"), "its timeout ended it with SIGTERM");
        Assert.That(ProcessCleanup.Living(tree.Root), Is.Empty, "nothing of the escapers is left");
    }

    [Test]
    public void A_job_that_left_its_process_group_is_killed_when_the_daemon_stops([Values] bool cgroups)
    {
        using var tree = new TempTree();
        using var d = EscaperDaemon(tree, cgroups, """
            cmd 'enqueue -- escaper'; a=$(word 2)
            cmd "wait -- $a"
            """);
        Poll.Until(() => tree.Exists("escaped"), () => "the escaper to leave its group; log:\n" + d.Tail(30));
        int child = int.Parse(tree.Read("child.pid").Trim());
        d.Signal(15);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), "one SIGTERM stops the daemon");
        Assert.That(ProcessCleanup.Alive(child), Is.False, "the escaper's child is gone");
        Assert.That(ProcessCleanup.Living(tree.Root), Is.Empty, "nothing of the escaper is left");
    }

    [Test]
    public void Nothing_of_an_escaped_chain_survives_the_daemon([Values] bool cgroups)
    {
        // chain: a setsid'd child that ignores SIGTERM and has a child of its own (which
        // ignores it too); the job itself waits to be stopped.
        using var tree = new TempTree();
        tree.Script("chain", """
            #!/bin/sh
            setsid sh -c 'trap "" TERM; echo $$ > child.pid; sleep 300 & echo $! > grandchild.tmp; mv grandchild.tmp grandchild.pid; wait' </dev/null >/dev/null 2>&1 &
            while [ ! -e grandchild.pid ]; do sleep 0.05; done
            exec sleep 300
            """);
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- chain'; a=$(word 2)
            cmd "wait -- $a"
            """));
        using var d = HardDaemon.Start(tree, options: new[] { "--grace", "1" }, env: Mode(cgroups));
        Poll.Until(() => tree.Exists("grandchild.pid"), () => "the chain to be set up; log:\n" + d.Tail(30));
        int grandchild = int.Parse(tree.Read("grandchild.pid").Trim());
        int child = int.Parse(tree.Read("child.pid").Trim());
        d.Signal(15);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0));
        Assert.That(ProcessCleanup.Alive(child), Is.False, "the setsid'd child is gone");
        Assert.That(ProcessCleanup.Alive(grandchild), Is.False, "its child is gone: nothing survives the daemon");
        Assert.That(ProcessCleanup.Living(tree.Root), Is.Empty);
    }
}
