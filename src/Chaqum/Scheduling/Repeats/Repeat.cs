using Chaqum.EventLoop;

namespace Chaqum.Scheduling.Repeats;

/// <summary>A registered repeat: enqueues its script every interval, on a cron schedule,
/// or when files change under watched directories (<see cref="Watch"/>). Its firings are
/// ordinary jobs of its group (no CHAQUM_PARENT).</summary>
public sealed class Repeat
{
    public required string Id { get; init; }
    public required ScriptPath Script { get; init; }
    public required string[] Args { get; init; }
    /// <summary>The job that registered it: its firings count as that job's descendants.</summary>
    public Job? Owner { get; init; }
    public string? GroupName { get; init; }
    public GroupLimits Limits { get; init; } = GroupLimits.Unchanged;
    public JobOptions Options { get; init; } = JobOptions.Default;
    public int Priority { get; init; }
    public bool AllowOverlap { get; init; }
    public TimeSpan? Every { get; init; }
    public CronTrigger? Cron { get; init; }
    /// <summary>A file trigger (repeat -w): fires on changes instead of on a clock.</summary>
    public FileTrigger? Watch { get; init; }
    /// <summary>The schedule as given, for operators.</summary>
    public required string Schedule { get; init; }

    /// <summary>Disabled by the operator: the schedule (or the watch) is kept, firings are
    /// skipped until enabled again.</summary>
    public bool Disabled { get; internal set; }

    internal ITimerHandle? Timer { get; set; }
    internal TimeSpan NextMono { get; set; }
    public DateTimeOffset? NextAt { get; internal set; }
    public DateTimeOffset? LastFiredAt { get; internal set; }
    public Job? LastJob { get; internal set; }
    public long Fired { get; internal set; }
    public long Skipped { get; internal set; }

    /// <summary>The last firing is queued or running, and the repeat does not allow
    /// overlapping firings: a new one must wait (watch) or be skipped (clock).</summary>
    public bool Busy => !AllowOverlap && LastJob is { } last && last.State.IsActive();
}
