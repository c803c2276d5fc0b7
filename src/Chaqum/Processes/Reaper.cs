using System.Runtime.InteropServices;
using Chaqum.Native;
using Microsoft.Extensions.Logging;

namespace Chaqum.Processes;

/// <summary>
/// Collects exited children. SIGCHLD (through .NET's PosixSignalRegistration, which runs
/// on a runtime thread) only rings the event loop; the reaping itself, wait4(-1, WNOHANG)
/// until nothing is left, runs on the loop thread, so exits are handled in order with
/// everything else. waiting on -1 is safe because nothing in the daemon uses
/// System.Diagnostics.Process. Children we do not know (orphans re-parented to us as
/// subreaper) are reaped and logged.
/// </summary>
public sealed class Reaper : IDisposable
{
    public delegate void ExitHandler(int status, Wait.RUsage usage);

    private readonly EventLoop.EpollLoop _loop;
    private readonly ILogger _log;
    private readonly Dictionary<int, ExitHandler> _children = new();
    private readonly PosixSignalRegistration _registration;
    private readonly Action _reapAll;
    private int _pending;

    public Reaper(EventLoop.EpollLoop loop, ILogger log)
    {
        _loop = loop;
        _log = log;
        _reapAll = ReapAll;
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => Ring());
    }

    /// <summary>Watches a child just spawned (on the loop thread, before any reaping).</summary>
    public void Track(int pid, ExitHandler onExit) => _children[pid] = onExit;

    /// <summary>Asks the loop to reap soon; coalesces a storm of SIGCHLDs into one pass.</summary>
    public void Ring()
    {
        if (Interlocked.Exchange(ref _pending, 1) == 0) _loop.Post(_reapAll);
    }

    private void ReapAll()
    {
        Volatile.Write(ref _pending, 0);
        while (true)
        {
            int pid = Wait.ReapAny(out int status, out var usage, out int errno);
            if (pid <= 0) return; // 0: children remain but none has exited; -1: ECHILD
            if (_children.Remove(pid, out var handler))
                handler(status, usage);
            else
                _log.LogDebug("reaped orphan pid {Pid} ({Status})", pid, Describe(status));
        }
    }

    public static string Describe(int status) =>
        Wait.Exited(status) ? $"exit {Wait.ExitCode(status)}" : $"signal {Signals.Name(Wait.TermSignal(status))}";

    public void Dispose() => _registration.Dispose();
}
