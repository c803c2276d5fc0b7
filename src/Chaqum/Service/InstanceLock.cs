namespace Chaqum.Service;

/// <summary>
/// One daemon per tree: a <see cref="HeldLock"/> on STATE/lock for the daemon's life,
/// taken before anything else in the state directory is touched. Its pid is written
/// first, so that `kill -HUP $(cat STATE/lock)` works; when even that cannot be written
/// (a full disk), <see cref="PidNotWritten"/> says why, for the log.
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private readonly HeldLock _lock;

    private InstanceLock(HeldLock held, string? pidNotWritten)
    {
        _lock = held;
        PidNotWritten = pidNotWritten;
    }

    /// <summary>Why the pid is not in the lock file, or null.</summary>
    public string? PidNotWritten { get; }

    public string Path => _lock.Path;

    /// <summary>Takes the lock, or throws <see cref="TreeBusyException"/> naming the holder.</summary>
    public static InstanceLock Take(string stateDir, string tree)
    {
        var path = System.IO.Path.Combine(stateDir, "lock");
        var held = HeldLock.TryTake(path, out int holder) ?? throw new TreeBusyException(tree, holder, path);
        return new InstanceLock(held, held.WritePid());
    }

    public void Dispose() => _lock.Dispose();
}

/// <summary>Another daemon already manages this tree.</summary>
public sealed class TreeBusyException(string tree, int pid, string lockPath)
    : Exception(pid > 0
        ? $"tree {tree} is already managed by pid {pid} (lock {lockPath})"
        : $"tree {tree} is already managed by another daemon (lock {lockPath})")
{
    public int Pid { get; } = pid;
}
