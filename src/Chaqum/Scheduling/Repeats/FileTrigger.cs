using Chaqum.EventLoop;

namespace Chaqum.Scheduling.Repeats;

/// <summary>A directory a file trigger watches; recursive ones watch every directory below
/// it too, including those created later.</summary>
public sealed record WatchedPath(string Path, bool Recursive)
{
    public override string ToString() => Recursive ? Path + "/**" : Path;
}

/// <summary>The changed paths one firing of a file trigger hands its job: a file of
/// NUL-terminated absolute paths (CHAQUM_CHANGED), their count (CHAQUM_CHANGED_COUNT), and
/// whether changes were lost to a kernel queue overflow (CHAQUM_CHANGED_INCOMPLETE).</summary>
public sealed record ChangeBatch(string File, int Count, bool Incomplete);

/// <summary>
/// The state of a file-triggered repeat (repeat -w). Changes are collected, each path once,
/// until none has come for <see cref="Settle"/> (or, under a steady stream, until
/// <see cref="MaxDelay"/> after the first); then one firing gets them all. While a firing
/// is queued or running (and overlap is not allowed) changes keep being collected, and
/// exactly one more firing follows it. So a burst of ten thousand new files makes one or
/// two runs, not ten thousand.
/// </summary>
public sealed class FileTrigger
{
    /// <summary>Beyond this many distinct paths waiting, further ones are dropped and the
    /// batch is marked incomplete: the job must rescan, as after a queue overflow.</summary>
    public const int MaxPending = 1_000_000;

    public required IReadOnlyList<WatchedPath> Paths { get; init; }
    public required TimeSpan Settle { get; init; }

    /// <summary>A steady stream of changes must not postpone the run for ever.</summary>
    public TimeSpan MaxDelay => Settle * 10 > TimeSpan.FromMinutes(1) ? Settle * 10 : TimeSpan.FromMinutes(1);

    internal IFileWatch? Handle { get; set; }
    internal readonly List<string> Pending = new();
    internal readonly HashSet<string> PendingSet = new(StringComparer.Ordinal);
    internal bool Incomplete { get; set; }
    internal TimeSpan FirstChange { get; set; }
    internal TimeSpan LastChange { get; set; }
    internal ITimerHandle? SettleTimer { get; set; }
    /// <summary>An operator's trigger came while a firing ran: one more run follows it,
    /// even with no change.</summary>
    internal bool RunAfterCurrent { get; set; }
    internal readonly Dictionary<Job, ChangeBatch> Batches = new();

    /// <summary>Changes seen since registration (each event, before duplicates are merged).</summary>
    public long Changes { get; internal set; }
    public int PendingCount => Pending.Count;

    /// <summary>The batch a firing of this trigger was given, while it has not ended.</summary>
    public ChangeBatch? BatchOf(Job job) => Batches.GetValueOrDefault(job);

    internal void Add(string path)
    {
        if (PendingSet.Contains(path)) return;
        if (Pending.Count >= MaxPending) { Incomplete = true; return; }
        PendingSet.Add(path);
        Pending.Add(path);
    }

    internal void Clear()
    {
        Pending.Clear();
        PendingSet.Clear();
        Incomplete = false;
    }
}

/// <summary>What the scheduler needs from the file side (inotify in the daemon, a fake in
/// unit tests). Callbacks run on the event loop.</summary>
public interface IFileWatches
{
    /// <summary>Starts watching; throws <see cref="SchedulingException"/> with the reason
    /// when a path cannot be watched (missing, not a directory, out of watches).</summary>
    IFileWatch Watch(string repeatId, IReadOnlyList<WatchedPath> paths, IFileWatchListener listener);

    /// <summary>Writes a firing's changed paths where its job can read them.</summary>
    /// <exception cref="IOException">The file could not be written.</exception>
    ChangeBatch Write(string jobName, IReadOnlyList<string> paths, bool incomplete);

    /// <summary>The job that was given the batch has ended: its file goes.</summary>
    void Discard(ChangeBatch batch);
}

public interface IFileWatch
{
    void Close();
}

public interface IFileWatchListener
{
    /// <summary>A file was written and closed, or moved in (absolute path).</summary>
    void Changed(string path);
    /// <summary>The kernel dropped events: the list of changes is incomplete.</summary>
    void Overflowed();
    /// <summary>A file changed in that directory whose name is not UTF-8: it cannot be
    /// listed faithfully, so the list is marked incomplete (the job rescans).</summary>
    void Unlistable(string directory);
}
