using Chaqum.Scheduling;

namespace Chaqum.Control;

/// <summary>What status reports beyond a count of the jobs held: processes started and
/// attempts ended by outcome since the daemon started (for /metrics counters, which
/// must not go down when ended jobs are forgotten). Updated on the loop.</summary>
public sealed class DaemonCounters
{
    private readonly Dictionary<string, long> _exits = new(StringComparer.Ordinal);

    public DaemonCounters(Scheduler scheduler)
    {
        scheduler.JobStarted += _ => Spawns++;
        scheduler.AttemptEnded += (_, _, outcome) => Count(outcome.Word());
        // A job that never ran has no attempt: it ends once, as cancelled or the like.
        scheduler.JobFinished += j => { if (j.StartedAt is null) Count(j.Outcome.Word()); };
    }

    public long Spawns { get; private set; }

    public IReadOnlyDictionary<string, long> Exits => new Dictionary<string, long>(_exits);

    private void Count(string outcome) => _exits[outcome] = _exits.GetValueOrDefault(outcome) + 1;
}
