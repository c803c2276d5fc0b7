namespace Chaqum.Client;

/// <summary>A submitted plan (<c>plan/N</c>).</summary>
public sealed class PlanHandle
{
    internal PlanHandle(ChaqumJob chaqum, string id)
    {
        Chaqum = chaqum;
        Id = id;
    }

    public ChaqumJob Chaqum { get; }

    /// <summary>The plan id (<c>plan/N</c>).</summary>
    public string Id { get; }

    /// <summary>Waits until the plan has ended or the timeout expires (null: for ever) and
    /// returns its state; <see cref="PlanState.Running"/> if it still runs.</summary>
    public Task<PlanState> WaitAsync(TimeSpan? timeout = null, CancellationToken cancel = default) =>
        Chaqum.WaitPlanAsync(Id, timeout, cancel);

    public override string ToString() => Id;
}
