using System.Diagnostics;
using Chaqum.Tests.Daemon;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// An operator's mistake must not destroy anything: a --control path that names a file,
/// a device, a directory or a symlink is refused and left as it was; two daemons given
/// the same --control path cannot both start (one wins, the other says why); a state
/// directory that has become read-only by the stop is logged, not a crash.
/// </summary>
[TestFixture, CancelAfter(300_000)]
public class OperatorMistakeTests
{
    [Test]
    public void A_control_path_that_is_not_a_socket_is_refused_and_left_alone()
    {
        using var tree = new TempTree();
        tree.Script("init", "exit 0\n");
        var dir = tree.Root + ".ctl";
        Directory.CreateDirectory(dir);
        try
        {
            var file = Path.Combine(dir, "file");
            File.WriteAllText(file, "precious\n");
            var device = Path.Combine(dir, "null");
            Tmpfs.Run("mknod", device, "c", "1", "3"); // a /dev/null of our own
            var subdir = Path.Combine(dir, "subdir");
            Directory.CreateDirectory(subdir);
            var link = Path.Combine(dir, "link");
            File.CreateSymbolicLink(link, file);

            foreach (var path in new[] { file, device, subdir, link })
            {
                using var d = HardDaemon.Start(tree, socketPath: path);
                Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(1), $"{path}: refused\n{d.Log}");
                Assert.That(d.Log, Does.Contain($"control socket {path}: the path exists and is not a socket; refusing to replace it"));
                Assert.That(Path.Exists(path), Is.True, $"{path} is still there");
                Assert.That(Directory.GetFiles(dir, "*~"), Is.Empty, "no temporary socket left behind");
            }
            Assert.That(File.ReadAllText(file), Is.EqualTo("precious\n"));
            Assert.That(Kind(device), Is.EqualTo("character special file"), "the device is still a device");
            Assert.That(Directory.Exists(subdir), Is.True);
            Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(file));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string Kind(string path)
    {
        var info = new ProcessStartInfo("stat", new[] { "-c", "%F", path }) { RedirectStandardOutput = true };
        using var p = Process.Start(info)!;
        var kind = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return kind;
    }

    [Test]
    public void A_stale_socket_is_replaced()
    {
        using var tree = new TempTree();
        tree.Script("init", "while [ ! -e stop ]; do sleep 0.05; done\n");
        var socket = tree.Root + ".sock";
        // A socket nobody listens on, as a daemon killed with -9 leaves it.
        using (var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, 0))
            s.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
        using var d = HardDaemon.Start(tree, socketPath: socket);
        Poll.Until(() => d.Log.Contains("chaqum ") || d.HasExited, "the daemon to start");
        d.Hello();
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), d.Log);
        Assert.That(File.Exists(socket), Is.False, "removed at exit");
        Assert.That(File.Exists(socket + ".lock"), Is.True, "the lock file stays (removing it would race)");
    }

    /// <summary>Pairs of daemons, each pair with two trees and state directories but one
    /// --control path, started together: in every round exactly one serves the socket and
    /// the other exits non-zero saying why.</summary>
    [Test]
    public void Two_daemons_racing_for_one_control_path_one_wins_and_the_other_says_why()
    {
        for (int round = 0; round < 6; round++)
        {
            using var a = new TempTree();
            using var b = new TempTree();
            foreach (var t in new[] { a, b })
                t.Script("init", "while [ ! -e stop ]; do sleep 0.05; done\n");
            var socket = a.Root + ".shared.sock";
            using var da = HardDaemon.Start(a, socketPath: socket);
            using var db = HardDaemon.Start(b, socketPath: socket);

            Poll.Until(() => da.HasExited || db.HasExited, () => $"round {round}: one of the two to give up; logs:\n{da.Log}\n---\n{db.Log}",
                TimeSpan.FromSeconds(90));
            var (loser, winner, winnerTree) = da.HasExited ? (da, db, b) : (db, da, a);
            Assert.That(loser.WaitForExit(TimeSpan.FromSeconds(10)), Is.EqualTo(1), loser.Log);
            Assert.That(loser.Log, Does.Contain($"control socket {socket} is in use by another daemon (pid {winner.Pid}, lock {socket}.lock)"));
            Assert.That(winner.HasExited, Is.False, $"round {round}: the winner runs:\n{winner.Log}");
            Poll.Until(() => winner.Log.Contains("chaqum "), "the winner's start");
            winner.Hello();

            File.WriteAllText(winnerTree.PathOf("stop"), "");
            Assert.That(winner.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), winner.Log);
            File.Delete(socket + ".lock");
        }
    }

    [Test]
    public void A_read_only_state_directory_at_stop_is_logged_and_the_exit_status_stays_0()
    {
        // Without CAP_DAC_OVERRIDE (as a daemon not running as root), so that mode 0555
        // stops the daemon from removing its files.
        using var tree = new TempTree();
        tree.Script("init", "while [ ! -e stop ]; do sleep 0.05; done\n");
        using var d = HardDaemon.Start(tree, prefix: FaultTests.NoDacOverride);
        try
        {
            d.HelloWhenUp();
            File.SetUnixFileMode(tree.StateDir, (UnixFileMode)0b101_101_101);
            File.WriteAllText(tree.PathOf("stop"), "");
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(60)), Is.EqualTo(0), d.Log);
            Assert.That(d.Log, Does.Match(@"at exit: closing the control-socket pointer failed: .*denied"));
            Assert.That(d.Log, Does.Not.Contain("Unhandled exception"));
            Assert.That(File.Exists(d.SocketPath), Is.False, "the other steps still ran: the socket is gone");
        }
        finally
        {
            File.SetUnixFileMode(tree.StateDir, (UnixFileMode)0b111_000_000);
        }
    }
}
