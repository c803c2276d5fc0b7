using Chaqum.History;
using Chaqum.Scheduling;

namespace Chaqum.Persistence;

/// <summary>Turns scheduler events into history records: a run record when an attempt
/// ends (or a job ends without running), handed to the history writer and to whoever
/// listens to <see cref="Ran"/> (the live journal, which keeps it until the history has
/// it), and keeps the recent runtimes per script that ps compares against ("usual").</summary>
public sealed class JobHistory
{
    private readonly HistoryWriter _writer;
    private readonly string _stateDir;
    private readonly Dictionary<string, List<double>> _runtimes = new(StringComparer.Ordinal);

    public JobHistory(Scheduler scheduler, HistoryWriter writer, string stateDir)
    {
        _writer = writer;
        _stateDir = stateDir;
        scheduler.AttemptEnded += AttemptEnded;
        scheduler.JobFinished += Finished;
    }

    /// <summary>The job's identity and origin; start time and pid only if it ran.</summary>
    internal static JobHead Head(Job job, bool ran, int pid) => new()
    {
        Id = job.Id,
        Attempt = job.Attempt,
        Script = job.Script.Relative,
        Args = job.Args,
        Group = job.Group.IsDefault ? null : job.Group.Name,
        Parent = job.ParentId,
        EnqueuedAt = job.EnqueuedAt,
        StartedAt = ran ? job.StartedAt : null,
        Pid = ran ? pid : 0,
        Plan = job.Step?.Plan.Id,
    };

    /// <summary>Every run record, right after it went to the writer.</summary>
    public event Action<RunRecord>? Ran;

    private void Ended(RunRecord run)
    {
        _writer.Ended(run);
        Ran?.Invoke(run);
    }

    private void AttemptEnded(Job job, JobStatus status, Outcome outcome)
    {
        // Load the script's past runtimes before this run is queued for writing: loaded
        // later (at the first ps), the store would lack the runs still queued, and those
        // would never count; loaded after queueing, this run could count twice.
        var list = outcome == Outcome.Exited ? Runtimes(job.Script.Relative) : null;
        Ended(Record(job, status, outcome, ran: true));
        if (list is null) return;
        list.Insert(0, job.LastRuntime.TotalSeconds);
        if (list.Count > Usual.Window) list.RemoveAt(list.Count - 1);
    }

    private void Finished(Job job)
    {
        // A job that ended without running this time (cancelled, dependency failed, spawn
        // failed) has no attempt record yet.
        if (job.State == JobState.Cancelled) Ended(Record(job, job.Status, job.Outcome, ran: false));
    }

    private static RunRecord Record(Job job, JobStatus status, Outcome outcome, bool ran) => new(Head(job, ran, job.LastPid))
    {
        EndedAt = job.EndedAt ?? DateTimeOffset.Now,
        RuntimeSeconds = ran ? job.LastRuntime.TotalSeconds : null,
        ExitCode = status.ExitCode,
        Signal = status.Signal,
        Outcome = outcome.Word(),
        CpuUserSeconds = ran ? job.Usage.UserCpu.TotalSeconds : 0,
        CpuSystemSeconds = ran ? job.Usage.SystemCpu.TotalSeconds : 0,
        MaxRssBytes = ran ? job.Usage.MaxRssBytes : 0,
    };

    /// <summary>The script's usual runtime, from the history (read once, then kept current).</summary>
    public Usual? UsualFor(string script) => Usual.Of(Runtimes(script));

    /// <summary>Recent runtimes of the script, newest first: read from the store once (all
    /// earlier daemons' runs are on disk by then), then kept current by AttemptEnded.</summary>
    private List<double> Runtimes(string script)
    {
        if (!_runtimes.TryGetValue(script, out var list))
        {
            list = new List<double>();
            try
            {
                using var store = HistoryStore.Open(_stateDir, readOnly: true);
                if (store is not null) list = store.RecentRuntimes(script, Usual.Window);
            }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException) { }
            _runtimes[script] = list;
        }
        return list;
    }
}
