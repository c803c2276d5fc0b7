using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>ps [-a] [-g GROUP] [-s STATE] [--json]: the jobs, how long they run, how long they usually do.</summary>
public static class PsCommand
{
    public static Command Build(Context context)
    {
        var all = new Option<bool>("--all", "-a") { Description = "Also jobs that have ended but whose result the daemon still holds" };
        var group = new Option<string?>("--group", "-g") { Description = "Only jobs of this group ('-' for the ungrouped jobs)", HelpName = "GROUP" };
        var state = new Option<string?>("--state", "-s") { Description = "Only jobs in this state: pending, scheduled, held, queued, running, paused, retrying... (queued includes held queued jobs)", HelpName = "STATE" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("ps", "List jobs: state, group, pid, start, runtime, usual runtime, and LONGER when a run takes longer than usual")
        {
            all, group, state, json,
        };
        command.SetAction(parsed =>
        {
            var jobs = context.Call(ControlVerbs.Ps, new PsArgs { All = parsed.GetValue(all), Group = parsed.GetValue(group), State = parsed.GetValue(state) }).Jobs;
            if (parsed.GetValue(json)) { Format.Json(jobs, ControlJson.Indented.IReadOnlyListJobInfo); return Program.Ok; }
            Print(jobs);
            return Program.Ok;
        });
        return command;
    }

    public static void Print(IEnumerable<JobInfo> jobs)
    {
        var list = jobs as IReadOnlyList<JobInfo> ?? jobs.ToList();
        // Plan steps say where in their plan they are; the column is there only when some are.
        bool plans = list.Any(j => j.PlanPath is not null);
        var header = new List<string> { "ID", "STATE", "GROUP", "PID", "STARTED", "RUNTIME", "USUAL" };
        if (plans) header.Add("PLAN");
        header.Add("");
        Format.Table(header, list.Select(j =>
        {
            var row = new List<string>
            {
                j.Id,
                j.State,
                Format.Text(j.Group),
                Format.Text(j.Pid),
                Started(j),
                Format.Duration(j.RuntimeSeconds),
                Format.Duration(j.UsualSeconds),
            };
            if (plans) row.Add(j.PlanPath ?? "-");
            row.Add(j.LongerThanUsual ? "LONGER" : j.Urgent && j.StartedAt is null ? "URGENT" : "");
            return (IReadOnlyList<string>)row;
        }));
    }

    /// <summary>When it started; for a job waiting for its due time, "due" and that time.</summary>
    private static string Started(JobInfo j) =>
        j.StartedAt is null && j.DueAt is not null && j.State is "scheduled" or "held" ? "due " + Format.When(j.DueAt) : Format.When(j.StartedAt);
}
