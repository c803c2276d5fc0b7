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
        if (!_groups.TryGetValue(name, out var group))
        {
            group = new Group(name);
            _groups[name] = group;
        }
        if (!limits.IsEmpty)
        {
            if (limits.MaxProcs is { } m) group.MaxProcs = m;
            if (limits.BreakAfter is { } b) group.BreakAfter = b;
            group.Barriers = group.Barriers.With(limits);
            _log.LogDebug("group {Group}: max {Max}, barriers {Barriers}", name, group.MaxProcs, group.Barriers);
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
        foreach (var group in _barrierWaiting.ToArray()) StartQueued(group);
    }

    private string? _lastLoadError;
    private bool _warnedNoPressure;

    public void PauseGroup(Group group, bool paused)
    {
        OwnedByLoop();
        group.Paused = paused;
        if (!paused)
        {
            // The operator has looked: the breaker counts afresh.
            group.ConsecutiveFailures = 0;
            group.PausedReason = null;
        }
        _log.LogInformation("group {Group}: {State}", group.Label, paused ? "paused" : "resumed");
        StartQueued(group);
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
        _log.LogError("group {Group}: paused: {Reason}; chaqumctl resume -g {Group} to go on", group.Label, group.PausedReason, group.Label);
    }

    /// <summary>Marks a running job as stopped (SIGSTOP) or continued by the operator.</summary>
    public void SetPaused(Job job, bool paused)
    {
        OwnedByLoop();
        job.Paused = paused;
        _log.LogInformation("{Job}: {State} by the operator", job.Id, paused ? "paused" : "resumed");
    }

    /// <summary>Moves a queued job within its group's order.</summary>
    public void Reprioritise(Job job, int priority)
    {
        OwnedByLoop();
        job.Group.Reprioritise(job, priority);
        StartQueued(job.Group);
    }
}
