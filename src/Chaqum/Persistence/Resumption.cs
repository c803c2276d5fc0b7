using Chaqum.History;
using Chaqum.Protocol;
using Chaqum.Scheduling;
using Microsoft.Extensions.Logging;

namespace Chaqum.Persistence;

/// <summary>
/// Enqueues the jobs the last run kept (or that a crash interrupted before they started)
/// again, on the event loop, before the entry job starts: with their ids and numbers,
/// their group's settings, options, priority and attempts made, in number order, so that
/// each group's first-come-first-served order holds and a dependency is back before
/// the jobs that wait for it. The rules (docs/operations.md, "Restarts and upgrades"):
/// - a parent that is not back (it ran, or it was init): the job keeps its parent's id
///   for CHAQUM_PARENT and the history, and its result goes unclaimed;
/// - a dependency that is not back: what the history last recorded for it decides,
///   as for any job that ended (exit 0: done; anything else or nothing: the job is
///   cancelled, dependency failed, with a log line saying why).
/// </summary>
public sealed class Resumption(Scheduler scheduler, JobTree tree, string stateDir, ILogger log)
{
    private readonly Dictionary<string, ScriptPath> _scripts = new(StringComparer.Ordinal);
    private HistoryStore? _history;
    private bool _historyOpened;

    /// <summary>Returns how many jobs came back, and how many of them had run before
    /// (-R jobs that were running, jobs between retries): they run again.</summary>
    public (int Count, int Again) Run(Recovery.Result last)
    {
        foreach (var group in last.Groups) Restore(group);
        int count = 0, again = 0;
        try
        {
            foreach (var record in last.Resumable)
            {
                if (Enqueue(record) is null) continue;
                count++;
                if (record.Attempt > 0) again++;
            }
        }
        finally
        {
            _history?.Dispose();
        }
        return (count, again);
    }

    private void Restore(LiveJournal.GroupRecord g)
    {
        var group = g.Name.Length == 0 ? scheduler.DefaultGroup
            : g.Limits.IsEmpty ? scheduler.UpdateGroup(g.Name, GroupLimits.Unchanged)
            : scheduler.UpdateGroup(g.Name, g.Limits);
        if (g.Paused) scheduler.PauseGroup(group, true, g.PausedReason);
    }

    private Job? Enqueue(LiveRecord r)
    {
        var parent = r.Parent is { } p ? scheduler.Find(p) : null;
        if (parent is not null && !parent.State.IsActive()) parent = null;
        foreach (var dep in r.Dependencies)
            if (!scheduler.Knows(dep)) Remember(r.Id, dep);
        // Most jobs have none: they share the one default instance (memory per queued job).
        var options = r.Timeout is null && r.Retries == 0 && r.Key is null && !r.Forget && !r.Requeue ? JobOptions.Default : new JobOptions
        {
            Timeout = r.Timeout,
            Retries = r.Retries,
            Key = r.Key,
            Forget = r.Forget,
            Requeue = r.Requeue,
        };
        try
        {
            return scheduler.Enqueue(new EnqueueRequest(Script(r), r.Args)
            {
                Id = r.Id,
                Number = r.Number,
                AttemptsMade = r.Attempt,
                Parent = parent,
                FormerParent = parent is null ? r.Parent : null,
                GroupName = r.Group,
                Options = options,
                Priority = r.Priority,
                Dependencies = r.Dependencies,
                DueAt = r.DueAt,
                Held = r.Held,
                Urgent = r.Urgent,
            });
        }
        catch (SchedulingException e)
        {
            log.LogError("{Job}: cannot be taken back from the last run ({Error}); not run", r.Id, e.Message);
            return null;
        }
    }

    /// <summary>The script, resolved once per name. One that is gone or no longer a job
    /// (an upgrade removed it) is kept by name: its start then fails, recorded and logged
    /// like any other spawn failure.</summary>
    private ScriptPath Script(LiveRecord r)
    {
        if (_scripts.TryGetValue(r.Script, out var known)) return known;
        ScriptPath script;
        try { script = tree.Resolve(r.Script); }
        catch (ProtocolException e)
        {
            log.LogWarning("jobs of the last run for {Script}: {Error}; they will fail to start", r.Script, e.Message);
            script = new ScriptPath(r.Script, Path.Combine(tree.Root, r.Script));
        }
        _scripts[r.Script] = script;
        return script;
    }

    /// <summary>A dependency that did not come back: how the history says it ended.</summary>
    private void Remember(string job, string dependency)
    {
        if (!_historyOpened)
        {
            _historyOpened = true;
            try { _history = HistoryStore.Open(stateDir, readOnly: true); }
            catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException or IOException) { }
        }
        var last = _history?.Query(new HistoryQuery { Id = dependency, Limit = 1 }).LastOrDefault();
        var status = last is null ? JobStatus.NeverRan : new JobStatus(last.ExitCode, last.Signal);
        scheduler.RememberEnded(dependency, status);
        if (!status.Succeeded)
            log.LogWarning("{Job}: its dependency {Dependency} did not come back after the restart ({What})", job, dependency,
                last is null ? "not in the history" : $"history: {last.Outcome}, {status}");
    }
}
