namespace Chaqum.Tests.Hardening;

/// <summary>Watches a running daemon from the test: a control-socket hello every 100 ms
/// (each must be answered within 30 s: a hang detector, not a speed test) and its RSS and
/// descriptors. The figures are printed for docs/reliability.md.</summary>
public sealed class Watch : IDisposable
{
    private readonly HardDaemon _daemon;
    private readonly Thread _thread;
    private volatile bool _stop;
    private readonly List<double> _hellos = new();
    private Exception? _failure;

    public long PeakRssKiB { get; private set; }
    public int PeakFds { get; private set; }

    public Watch(HardDaemon daemon)
    {
        _daemon = daemon;
        _daemon.HelloWhenUp();
        _thread = new Thread(Run) { IsBackground = true, Name = "watch" };
        _thread.Start();
    }

    private void Run()
    {
        while (!_stop && !_daemon.HasExited)
        {
            try
            {
                var t = _daemon.Hello();
                lock (_hellos) _hellos.Add(t.TotalMilliseconds);
                PeakRssKiB = Math.Max(PeakRssKiB, _daemon.RssKiB());
                PeakFds = Math.Max(PeakFds, _daemon.FdCount());
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
            {
                // The daemon removes its socket as it exits: not a hang.
                for (int i = 0; i < 100 && !_daemon.HasExited; i++) Thread.Sleep(50);
                if (_stop || _daemon.HasExited) return;
                _failure = e;
                return;
            }
            Thread.Sleep(100);
        }
    }

    public double MaxHelloMs { get { lock (_hellos) return _hellos.Count == 0 ? 0 : _hellos.Max(); } }

    /// <summary>Stops watching; fails the test if a hello went unanswered.</summary>
    public string Finish(string what)
    {
        _stop = true;
        _thread.Join(Deadline.Seconds(35));
        if (_failure is not null) Assert.Fail($"{what}: the control socket stopped answering: {_failure.Message}");
        double[] sorted;
        lock (_hellos) sorted = _hellos.OrderBy(x => x).ToArray();
        string p50 = sorted.Length == 0 ? "-" : sorted[sorted.Length / 2].ToString("0.0");
        string report = $"{what}: {sorted.Length} hellos, median {p50} ms, max {MaxHelloMs:0.0} ms; " +
            $"peak RSS {PeakRssKiB / 1024} MiB, peak fds {PeakFds}";
        TestContext.Progress.WriteLine("FIGURES " + report);
        return report;
    }

    public void Dispose() => _stop = true;
}
