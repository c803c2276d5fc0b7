using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>ps [-a] [-g GROUP] [--json]: the jobs, how long they run, how long they usually do.</summary>
public static class PsCommand
{
    public static Command Build(Context context)
    {
        var all = new Option<bool>("--all", "-a") { Description = "Also jobs that have ended but whose result the daemon still holds" };
        var group = new Option<string?>("--group", "-g") { Description = "Only jobs of this group", HelpName = "GROUP" };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var command = new Command("ps", "List jobs: state, group, pid, start, runtime, usual runtime, and LONGER when a run takes longer than usual")
        {
            all, group, json,
        };
        command.SetAction(parsed =>
        {
            var jobs = context.Call(ControlVerbs.Ps, new PsArgs { All = parsed.GetValue(all), Group = parsed.GetValue(group) }).Jobs;
            if (parsed.GetValue(json)) { Format.Json(jobs, ControlJson.Indented.IReadOnlyListJobInfo); return Program.Ok; }
            Print(jobs);
            return Program.Ok;
        });
        return command;
    }

    public static void Print(IEnumerable<JobInfo> jobs)
    {
        Format.Table(new[] { "ID", "STATE", "GROUP", "PID", "STARTED", "RUNTIME", "USUAL", "" },
            jobs.Select(j => (IReadOnlyList<string>)new[]
            {
                j.Id,
                j.State,
                Format.Text(j.Group),
                Format.Text(j.Pid),
                Format.When(j.StartedAt),
                Format.Duration(j.RuntimeSeconds),
                Format.Duration(j.UsualSeconds),
                j.LongerThanUsual ? "LONGER" : "",
            }));
    }
}
