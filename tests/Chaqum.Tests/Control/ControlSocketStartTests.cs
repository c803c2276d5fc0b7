using System.Diagnostics;
using System.Net.Sockets;
using Chaqum.Tests.Daemon;
using Chaqum.Tests.Hardening;

namespace Chaqum.Tests.Control;

/// <summary>
/// The control socket's path appears only once the daemon accepts on it. Whoever waits for
/// the file (chaqumctl after a start, a unit's ExecStartPost, these tests) must be able to
/// connect at once; a socket bound but not yet listening refuses, and a starting daemon
/// then looks dead. The CI once caught exactly that window (a hardening test's first hello
/// was refused). The window was microseconds wide, so this test would see it only now and
/// then; what closes it is the order in ControlServer (bind a temporary name, listen,
/// rename), and this test pins the behaviour that order gives.
/// </summary>
[TestFixture, CancelAfter(180_000)]
public class ControlSocketStartTests
{
    [Test]
    public void The_socket_accepts_as_soon_as_its_path_exists()
    {
        for (int round = 0; round < 8; round++)
        {
            using var tree = new TempTree();
            tree.Script("init", "while [ ! -e stop ]; do sleep 0.05; done\n");
            using var d = HardDaemon.Start(tree);
            var sw = Stopwatch.StartNew();
            // Spin rather than sleep: the window this guards against is microseconds wide.
            while (!File.Exists(d.SocketPath))
            {
                Assert.That(sw.Elapsed, Is.LessThan(Deadline.Seconds(60)), "the control socket never appeared:\n" + d.Log);
                Assert.That(d.HasExited, Is.False, "the daemon exited:\n" + d.Log);
                Thread.Yield();
            }
            try
            {
                d.Hello();
            }
            catch (SocketException e)
            {
                Assert.Fail($"round {round}: the socket existed but refused: {e.SocketErrorCode}");
            }
            Assert.That(File.GetUnixFileMode(d.SocketPath), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
            var dir = Path.GetDirectoryName(d.SocketPath)!;
            var leftovers = Directory.GetFiles(dir, Path.GetFileName(d.SocketPath) + ".*~");
            Assert.That(leftovers, Is.Empty, "the temporary bind name was renamed away");
            File.WriteAllText(tree.PathOf("stop"), "");
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0));
            Assert.That(File.Exists(d.SocketPath), Is.False, "the socket is removed on exit");
        }
    }
}
