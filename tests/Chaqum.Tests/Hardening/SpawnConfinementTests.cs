using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// The script a job names is checked when it is enqueued, and checked again, by what is
/// exec'd, when it is spawned. A queued job (its group at its limit) or a repeat may wait
/// long; a script, or a directory on its path, swapped meanwhile for a symlink leading out
/// of the tree must not run what it now points to. The group here is held at its limit by
/// a blocker the test releases through a file, so the swap always falls between enqueue
/// and spawn.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public class SpawnConfinementTests
{
    [Test]
    public void A_script_swapped_for_an_outside_symlink_while_queued_is_refused_at_spawn()
    {
        using var tree = new TempTree();
        var outside = tree.Root + ".outside";
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(Path.Combine(outside, "sub"));
        foreach (var evil in new[] { "evil", "sub/job" })
        {
            var path = Path.Combine(outside, evil);
            File.WriteAllText(path, $"#!/bin/sh\necho ran >> {outside}/RAN\n");
            File.SetUnixFileMode(path, (UnixFileMode)0b111_101_101);
        }
        try
        {
            tree.Script("blocker", "while [ ! -e release ]; do sleep 0.05; done\n");
            tree.Script("victim", "echo inside\n");
            tree.Script("rvictim", "echo inside\n");
            tree.Script("sub/job", "echo inside\n");
            tree.Script("init", Sh.Script("""
                cmd 'enqueue -g g -m 1 -- blocker'; b=$(word 2)
                cmd 'enqueue -g g -- victim'; v=$(word 2)
                cmd 'enqueue -g g -- sub/job'; s=$(word 2)
                cmd 'repeat -i 1s -g g -- rvictim'; r=$(word 2)
                touch queued
                cmd "wait -- $b $v $s"
                while [ ! -e done ]; do sleep 0.05; done
                cmd "unrepeat -- $r"
                """));
            using var d = DaemonProcess.Start(tree);
            Poll.Until(() => tree.Exists("queued"), () => "the jobs to be queued; log:\n" + d.Log, TimeSpan.FromSeconds(60));

            // Swapped while they wait: two scripts, and a directory on the third one's path.
            foreach (var name in new[] { "victim", "rvictim" })
            {
                File.Delete(tree.PathOf(name));
                File.CreateSymbolicLink(tree.PathOf(name), Path.Combine(outside, "evil"));
            }
            Directory.Move(tree.PathOf("sub"), tree.PathOf("sub.old"));
            Directory.CreateSymbolicLink(tree.PathOf("sub"), Path.Combine(outside, "sub"));
            File.WriteAllText(tree.PathOf("release"), "");

            d.WaitForLine(@"rvictim/\d+: spawn failed: refused at spawn: 'rvictim' is now a symbolic link", TimeSpan.FromSeconds(60));
            File.WriteAllText(tree.PathOf("done"), "");
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), d.Log);

            Assert.That(File.Exists(Path.Combine(outside, "RAN")), Is.False, "nothing outside the tree ran:\n" + d.Log);
            Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S blocker/\d+ 0 victim/\d+ N sub/job/\d+ N$"), d.Log);
            Assert.That(d.Log, Does.Match(@"victim/\d+: spawn failed: refused at spawn: 'victim' is now a symbolic link"));
            Assert.That(d.Log, Does.Match(@"sub/job/\d+: spawn failed: refused at spawn: 'sub' on the path of 'sub/job' is no longer a directory"));
            Assert.That(d.Log, Does.Not.Contain("spawn failed: spawn failed"), "the outcome is said once");
        }
        finally
        {
            Directory.Delete(outside, true);
        }
    }

    /// <summary>Every kind of job runs through the descriptor that was checked: a binary
    /// gets exactly fds 0..4 and its real path as argv[0]; a "#!" script's interpreter
    /// reads the checked file through fd 5, whatever the interpreter.</summary>
    [Test]
    public void Binaries_and_scripts_of_every_interpreter_run_the_checked_file()
    {
        using var tree = new TempTree();
        var elf = tree.PathOf("bin/elf");
        Directory.CreateDirectory(tree.PathOf("bin"));
        File.Copy("/bin/dash", elf);
        File.SetUnixFileMode(elf, (UnixFileMode)0b111_101_101);
        tree.Script("dash", "#!/bin/dash\necho \"dash 0=$0 fd5=$(readlink /proc/$$/fd/5)\"\n");
        tree.Script("bash", "#!/bin/bash\necho \"bash 0=$0 fd5=$(readlink /proc/$$/fd/5)\"\n");
        tree.Script("py", "#!/usr/bin/env python3\nimport os, sys\nprint('py 0=' + sys.argv[0] + ' fd5=' + os.readlink('/proc/self/fd/5'))\n");
        tree.Script("pl", "#!/usr/bin/env perl\nprint 'pl 0=' . $0 . ' fd5=' . readlink('/proc/self/fd/5') . \"\\n\";\n");
        tree.Script("init", Sh.Script("""
            ids=
            for s in dash bash py pl; do cmd "enqueue -- $s"; ids="$ids $(word 2)"; done
            cmd "enqueue -- bin/elf -c 'if [ -e /proc/\$\$/fd/5 ]; then f=open; else f=closed; fi; echo \"elf 0=\$0 fd5=\$f exe=\$(readlink /proc/\$\$/exe)\"'"
            ids="$ids $(word 2)"
            cmd "wait -- $ids"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), d.Log);

        Assert.That(d.Output("init"), Has.Some.Match(@"^reply: S dash/\d+ 0 bash/\d+ 0 py/\d+ 0 pl/\d+ 0 bin/elf/\d+ 0$"), d.Log);
        foreach (var name in new[] { "dash", "bash", "py", "pl" })
            Assert.That(d.Output($@"{name}/\d+"), Is.EqualTo(new[] { $"{name} 0=/proc/self/fd/5 fd5={tree.PathOf(name)}" }), d.Log);
        Assert.That(d.Output(@"bin/elf/\d+"), Is.EqualTo(new[] { $"elf 0={elf} fd5=closed exe={elf}" }), d.Log);
    }
}
