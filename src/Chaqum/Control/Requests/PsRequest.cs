using Chaqum.Control.Messages;
using Chaqum.History;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>ps {all, group, state, script, longer, sort, offset, limit} → the jobs queued,
/// pending, running or retrying (with all: also the ended ones whose result the daemon
/// still holds), oldest first or longest running first, and how many matched (total).
///
/// Filtering, sorting and paging happen here, on the jobs themselves, before any view is
/// made: a page of 50 out of 100 000 queued jobs builds 50 views and sends 50 objects, so
/// the dashboard's jobs page stays fast whatever the queue holds.</summary>
public sealed class PsRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Ps.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Ps);
        if (args.Offset is < 0) throw new ControlException("ps: offset must not be negative");
        if (args.Limit is < 0) throw new ControlException("ps: limit must not be negative");
        if (args.Sort is not (null or "id" or "runtime")) throw new ControlException($"ps: unknown sort '{args.Sort}' (id or runtime)");

        var usual = new Dictionary<string, Usual?>(StringComparer.Ordinal);
        Usual? UsualOf(Job j)
        {
            var script = j.Script.Relative;
            if (!usual.TryGetValue(script, out var u)) usual[script] = u = services.History?.UsualFor(script);
            return u;
        }
        var now = services.Clock.Now;
        double? Runtime(Job j) => j.State switch
        {
            JobState.Running => (now - j.StartedMono).TotalSeconds,
            JobState.Done or JobState.Retrying => j.LastRuntime.TotalSeconds,
            _ => null,
        };

        var jobs = services.Scheduler.Jobs
            .Where(j => args.All || j.State.IsActive())
            .Where(j => args.Group is null || j.Group.Name == args.Group || (args.Group == Scheduler.UngroupedName && j.Group.IsDefault))
            .Where(j => args.Script is null || j.Script.Relative == args.Script)
            // The word ps shows ("held") or the state beneath it ("queued" finds held ones too).
            .Where(j => args.State is null || JobView.State(j) == args.State || j.State.Word() == args.State)
            .Where(j => !args.Longer || (j.State == JobState.Running && UsualOf(j) is { } u && Runtime(j) is { } r && u.IsLonger(r)));
        var ordered = args.Sort == "runtime"
            ? jobs.OrderByDescending(j => Runtime(j) ?? double.NegativeInfinity).ThenBy(j => j.Number)
            : jobs.OrderBy(j => j.Number);

        var matching = ordered.ToList();
        IEnumerable<Job> page = matching;
        if (args.Offset is { } offset) page = page.Skip(offset);
        if (args.Limit is { } limit) page = page.Take(limit);
        var list = JobView.ListOf(page, services);
        int total = matching.Count;
        // { "jobs": [...], "total": N } as JobsResult, written as it is made.
        call.ReplyStreamed(w =>
        {
            w.WriteStartObject();
            w.WritePropertyName("jobs");
            list(w);
            w.WriteNumber("total", total);
            w.WriteEndObject();
        });
    }
}
