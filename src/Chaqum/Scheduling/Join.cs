namespace Chaqum.Scheduling;

/// <summary>
/// A join point: "all of these jobs have succeeded", as one thing a job can wait for (as
/// it waits for a job with -a). A plan's sequence of two parallel groups of 100 would
/// otherwise need every step of the second to wait for every step of the first, 10 000
/// dependency edges per boundary; through a join it is 100 in and 100 out. A join is no
/// job: it runs nothing, has no id, takes no slot, and is not listed; it lives as long as
/// something refers to it. Touched on the loop thread only (made by
/// <see cref="Scheduler.JoinOf"/>).
/// </summary>
public sealed class Join
{
    internal Join(int inputs) => Pending = inputs;

    /// <summary>Inputs still running or waiting.</summary>
    internal int Pending { get; set; }

    /// <summary>Why it can never be passed: the first input that did not succeed, and how
    /// it ended ("convert/7 ended (exit 1)"). Null while it may still pass.</summary>
    public string? Failure { get; internal set; }

    /// <summary>Every input succeeded, or one did not (then <see cref="Failure"/> says which).</summary>
    public bool Settled => Failure is not null || Pending == 0;

    /// <summary>Jobs waiting for this join, until it settles.</summary>
    internal List<Job>? Waiting { get; set; }
}
