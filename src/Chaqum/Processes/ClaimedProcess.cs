using Chaqum.Native;

namespace Chaqum.Processes;

/// <summary>
/// A process we made sure is ours, held by a pidfd, so that every later signal reaches
/// that process and no other: a pid read from /proc, from a journal or from a process
/// group may be handed to an unrelated process as soon as ours has exited and been
/// reaped. Claiming opens the pidfd first and checks identity after (start time, and
/// whatever else the caller asks), then that the pidfd's process still lives: if it does,
/// the pid was not reused in between, and what was checked was it.
/// </summary>
public sealed class ClaimedProcess : IDisposable
{
    private int _fd;

    private ClaimedProcess(int pid, int fd, long startTicks)
    {
        Pid = pid;
        _fd = fd;
        StartTicks = startTicks;
    }

    public int Pid { get; }
    public long StartTicks { get; }

    /// <summary>Claims pid if it runs, is not a zombie, started at startTicks (when
    /// given) and passes isOurs (when given). Null otherwise.</summary>
    public static ClaimedProcess? Claim(int pid, long? startTicks = null, Func<int, bool>? isOurs = null)
    {
        int fd = PidFds.Open(pid, out _);
        if (fd < 0) return null;
        var ticks = ProcStat.StartTicks(pid);
        bool ours = ticks is { } t && (startTicks is null || t == startTicks)
            && ProcStat.State(pid) is { } s && s != 'Z'
            && (isOurs is null || isOurs(pid))
            && PidFds.Signal(fd, 0);
        if (ours) return new ClaimedProcess(pid, fd, ticks!.Value);
        PidFds.Close(fd);
        return null;
    }

    /// <summary>False once the process has exited (or is a zombie).</summary>
    public bool Alive => _fd >= 0 && PidFds.Signal(_fd, 0) && ProcStat.State(Pid) is { } s && s != 'Z';

    public bool Signal(int signal) => _fd >= 0 && PidFds.Signal(_fd, signal);

    public void Dispose()
    {
        if (_fd >= 0) PidFds.Close(_fd);
        _fd = -1;
    }
}
