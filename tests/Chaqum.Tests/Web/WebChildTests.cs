using System.Text.RegularExpressions;
using Chaqum.Tests.Control;

namespace Chaqum.Tests.Web;

/// <summary>chaqum --web ADDR TREE: chaqum-web as the daemon's supervised child.</summary>
[TestFixture, CancelAfter(240_000)]
public class WebChildTests
{
    [Test]
    public void The_daemon_starts_chaqum_web_restarts_it_when_it_dies_and_stops_it_with_itself()
    {
        using var tree = new TempTree();
        tree.Script("init", Chaqum.Tests.Daemon.Sh.Script("while [ ! -e stop ]; do sleep 0.05; done\n"));
        using var d = DaemonProcess.Start(tree, new string[0], null, ["--web", "127.0.0.1:0"]);
        var serving = new Regex(@"serving .* on (http://\S+)");
        string first = serving.Match(d.WaitForLine(serving.ToString())).Groups[1].Value;
        int pid = int.Parse(Regex.Match(d.WaitForLine(@"web: chaqum-web started, pid \d+"), @"pid (\d+)").Groups[1].Value);
        using (var http = new HttpClient())
            Assert.That(http.GetStringAsync(first + "/api/status").Result, Does.Contain("\"daemon_running\":true"));
        // Not a job: ps does not list it.
        Assert.That(Ctl.Run(tree, "ps", "--json").Out, Does.Not.Contain("chaqum-web"));

        Chaqum.Tests.Support.Native.kill(pid, 9);
        d.WaitForLine(@"web: chaqum-web exited \(signal SIGKILL\); starting it again");
        Poll.Until(() => d.Lines.Count(l => serving.IsMatch(l)) == 2, () => "chaqum-web to serve again:\n" + d.Log);
        string second = serving.Match(d.Lines.Last(l => serving.IsMatch(l))).Groups[1].Value;
        int again = int.Parse(Regex.Match(d.Lines.Last(l => Regex.IsMatch(l, @"web: chaqum-web started, pid \d+")), @"pid (\d+)").Groups[1].Value);
        using (var http = new HttpClient())
            Assert.That(http.GetStringAsync(second + "/api/status").Result, Does.Contain("\"daemon_running\":true"));

        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(Directory.Exists("/proc/" + again), Is.False, "chaqum-web is stopped with the daemon");
        Assert.That(d.Log, Does.Not.Contain("left behind by a job"));
    }
}
