using Chaqum.Scheduling.Barriers;
using Microsoft.Extensions.Logging;

namespace Chaqum.Scheduling;

/// <summary>Groups, process caps, slots and load barriers.</summary>
public sealed partial class Scheduler
{
    private readonly Dictionary<string, Group> _groups = new();
    private readonly Group _defaultGroup;
    private readonly LoadSampler _sampler;
    /// <summary>Groups whose head is held only by a barrier: they need load samples.</summary>
    private readonly HashSet<Group> _barrierWaiting = new();

    public IEnumerable<Group> Groups => _groups.Values;
    public Group DefaultGroup => _defaultGroup;
    public LoadSampler Sampler => _sampler;

    public Group? FindGroup(string name) => _groups.GetValueOrDefault(name);

    /// <summary>Creates the group on first mention and applies any limits given (the
    /// latest values win). A raised limit may let queued jobs start at once.</summary>
    public Group UpdateGroup(string name, GroupLimits limits)
    {
        OwnedByLoop();
        var group = GroupFor(name, limits);
        StartQueued(group);
        return group;
    }

    private Group GroupFor(string? name, GroupLimits limits)
    {
        if (string.IsNullOrEmpty(name))
        {
            if (!limits.IsEmpty) throw new SchedulingException("group limits need a group (-g GROUP)");
            return _defaultGroup;
        }
        if (name == UngroupedName) throw new SchedulingException($"group name '{UngroupedName}' stands for the ungrouped jobs; choose another");
        if (!_groups.TryGetValue(name, out var group))
        {
            // After pause --all, a group made anew is paused as every other one is.
            group = new Group(name) { Paused = _allPaused };
            _groups[name] = group;
        }
        if (!limits.IsEmpty)
        {
            int max = group.MaxProcs, breakAfter = group.BreakAfter;
            var barriers = group.Barriers;
            var executor = limits.Executor ?? (limits.ExtraArgs is { } extra ? group.Executor with { ExtraArgs = extra } : group.Executor);
            // Barriers sample this machine's CPU, load, memory and pressure: they say nothing
            // about the nodes a Slurm group's jobs run on, where Slurm itself allocates.
            if (!executor.IsLocal && (limits.HasBarriers || !group.Barriers.With(limits).IsEmpty))
                throw new SchedulingException($"group {name} runs on {executor.Name}: -c/-l/-M/-P measure this machine, " +
                    "not the cluster's nodes; give Slurm's own options with -X (e.g. -X '--mem=4G --cpus-per-task=2')");
            if (executor.IsLocal && executor.ExtraArgs.Count > 0)
                throw new SchedulingException($"group {name} runs locally: -X (extra executor arguments) needs -x slurm[:PARTITION]");
            if (limits.MaxProcs is { } m) group.MaxProcs = m;
            if (limits.BreakAfter is { } b) group.BreakAfter = b;
            group.Barriers = group.Barriers.With(limits);
            var before = group.Executor;
            group.Executor = executor;
            if (before != executor) _log.LogInformation("group {Group}: jobs started from now on run on {Executor}{Extra}", name, executor.Name,
                executor.ExtraArgs.Count > 0 ? " with " + string.Join(' ', executor.ExtraArgs.Select(Chaqum.Words.ShellWords.Quote)) : "");
            _log.LogDebug("group {Group}: max {Max}, barriers {Barriers}", name, group.MaxProcs, group.Barriers);
            // Trees that give -m with every enqueue change nothing after the first.
            if (max != group.MaxProcs || breakAfter != group.BreakAfter || barriers != group.Barriers || before != executor) GroupChanged?.Invoke(group);
        }
        return group;
    }

    private void ForgetIfUnused(Group group)
    {
        if (!group.Forgettable || !_groups.TryGetValue(group.Name, out var known) || !ReferenceEquals(known, group)) return;
        _groups.Remove(group.Name);
        _barrierWaiting.Remove(group);
    }

    /// <summary>Starts queued jobs of a group while its cap, its barriers and its pause
    /// allow. A group held by its barrier never holds up another group.</summary>
    private void StartQueued(Group group)
    {
        while (!Stopping && group.Head is { } job)
        {
            if (group.Paused) { group.HoldReason = "paused"; break; }
            if (!group.HasCapacity) { group.HoldReason = $"limit of {group.MaxProcs} running reached"; break; }
            if (group.SpawnBackoff is not null) { group.HoldReason = "spawn failed; retrying"; break; }
            if (!group.Barriers.IsEmpty)
            {
                if (group.GatedAtSample == _sampler.Samples)
                {
                    group.HoldReason = "pacing: waiting for a fresh load sample";
                    break;
                }
                if (group.Barriers.Hold(_sampler.Fresh) is { } reason) { group.HoldReason = reason; break; }
                if (!job.Urgent && UrgentWaitsOnLoad(group) is { } urgent)
                {
                    group.HoldReason = $"urgent job {urgent.Id} waits for the load to drop";
                    break;
                }
                group.GatedAtSample = _sampler.Samples;
                Start(job);
                continue;
            }
            Start(job);
        }
        if (group.Head is null) group.HoldReason = null;

        bool waitsOnBarrier = !Stopping && group.Head is not null && !group.Paused && group.HasCapacity
            && !group.Barriers.IsEmpty && group.SpawnBackoff is null;
        if (waitsOnBarrier) _barrierWaiting.Add(group);
        else _barrierWaiting.Remove(group);

        // Last, because the first sample is taken at once and starts what the waiting groups allow.
        if (_barrierWaiting.Count > 0) _sampler.Demand();
        else if (_sampler.Running) _sampler.Release();
    }

    private void OnLoadSample(LoadFigures figures)
    {
        if (figures.Error is { } error && _lastLoadError != error)
            _log.LogWarning("load figures unreadable, barriers hold: {Error}", error);
        _lastLoadError = figures.Error;
        if (!figures.PressureSupported && !_warnedNoPressure && _barrierWaiting.Any(g => g.Barriers.MaxPressure is not null))
        {
            _warnedNoPressure = true;
            _log.LogWarning("this kernel offers no /proc/pressure/cpu: -P barriers are ignored");
        }
        // Urgent heads first: the load a sample allows goes to them before anyone else.
        foreach (var group in UrgentFirst(_barrierWaiting)) StartQueued(group);
    }

    /// <summary>
    /// -U across groups: load is the one thing groups share, so while an urgent job waits
    /// for its group's load barrier, no other group's ordinary job starts on a load barrier
    /// (it would only take the load the urgent one waits for). Groups without barriers,
    /// and groups held by their own cap or pause, are not concerned: there the urgent job
    /// simply heads its own queue.
    /// </summary>
    private Job? UrgentWaitsOnLoad(Group except)
    {
        foreach (var g in _barrierWaiting)
            if (!ReferenceEquals(g, except) && g.Head is { Urgent: true } head) return head;
        return null;
    }

    private static Group[] UrgentFirst(IEnumerable<Group> groups) =>
        groups.OrderBy(g => g.Head is { Urgent: true } ? 0 : 1).ToArray();

    private string? _lastLoadError;
    private bool _warnedNoPressure;

    /// <param name="reason">Why the group paused itself: its failure breaker's reason,
    /// restored at a restart (null for the operator's pause).</param>
    public void PauseGroup(Group group, bool paused, string? reason = null)
    {
        OwnedByLoop();
        SetGroupPaused(group, paused, reason);
        _log.LogInformation("group {Group}: {State}", group.Label, paused ? "paused" : "resumed");
        StartQueued(group);
    }

    private void SetGroupPaused(Group group, bool paused, string? reason = null)
    {
        group.Paused = paused;
        if (paused && reason is not null) group.PausedReason = reason;
        if (!paused)
        {
            // The operator has looked: the breaker counts afresh.
            group.ConsecutiveFailures = 0;
            group.PausedReason = null;
        }
        GroupChanged?.Invoke(group);
    }

    /// <summary>The name pause and resume take for the ungrouped jobs (ps shows it as
    /// their group); no group may be called so.</summary>
    public const string UngroupedName = "-";

    private bool _allPaused;

    /// <summary>pause --all / resume --all: every group, the ungrouped jobs' included, and
    /// (while paused) every group made anew.</summary>
    public void PauseAll(bool paused)
    {
        OwnedByLoop();
        _allPaused = paused;
        _log.LogInformation("all groups: {State}", paused ? "paused" : "resumed");
        var groups = new[] { _defaultGroup }.Concat(_groups.Values).ToArray();
        foreach (var group in groups) SetGroupPaused(group, paused);
        foreach (var group in UrgentFirst(groups)) StartQueued(group);
    }

    /// <summary>The failure breaker (-B): a success resets the count; N failed runs in a
    /// row (exit status, signal, timeout) pause the group, so a broken script is not fed
    /// job after job. Kills by the operator, by killjobs or by a shutdown are no failures
    /// of the script's.</summary>
    private void CountForBreaker(Group group, Job job, JobStatus status)
    {
        if (group.BreakAfter <= 0) return;
        if (status.Succeeded)
        {
            group.ConsecutiveFailures = 0;
            return;
        }
        if (job.KillSource is KillSource.Operator or KillSource.Command or KillSource.Shutdown) return;
        if (++group.ConsecutiveFailures < group.BreakAfter || group.Paused) return;
        group.Paused = true;
        group.PausedReason = $"{group.ConsecutiveFailures} consecutive failures, last: {job.Id} {(job.KillSource == KillSource.Timeout ? "timed out" : status.ToString())}";
        GroupChanged?.Invoke(group);   // a restart keeps the group paused, and why
        _log.LogError("group {Group}: paused: {Reason}; chaqumctl resume -g {Group} to go on", group.Label, group.PausedReason, group.Label);
    }

    /// <summary>Marks a running job as stopped (SIGSTOP) or continued by the operator.</summary>
    public void SetPaused(Job job, bool paused)
    {
        OwnedByLoop();
        job.Paused = paused;
        _log.LogInformation("{Job}: {State} by the operator", job.Id, paused ? "paused" : "resumed");
        JobNoted?.Invoke(job, paused ? "paused" : "resumed", null);
    }

    /// <summary>Moves a queued job within its group's order.</summary>
    public void Reprioritise(Job job, int priority)
    {
        OwnedByLoop();
        job.Group.Reprioritise(job, priority);
        JobChanged?.Invoke(job);
        StartQueued(job.Group);
    }
}
