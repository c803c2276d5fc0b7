using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>show ID [-n N] [--json]: everything known about one job.</summary>
public static class ShowCommand
{
    public static Command Build(Context context)
    {
        var id = new Argument<string>("ID") { Description = "The job" };
        var lines = new Option<int>("--lines", "-n") { Description = "How many of its last output lines", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("show", "Show a job: command, parents, children, who waits on it, CPU and memory, last output") { id, lines, json };
        command.SetAction(parsed =>
        {
            var job = context.Call(ControlVerbs.Show, new ShowArgs { Id = parsed.GetValue(id), Lines = parsed.GetValue(lines) }).Job;
            if (parsed.GetValue(json)) { Format.Json(job, ControlJson.Indented.JobDetails); return Program.Ok; }
            Print(job);
            return Program.Ok;
        });
        return command;
    }

    private static void Print(JobDetails job)
    {
        void Row(string label, string value) => Console.Out.WriteLine($"{label,-12} {TerminalText.Escape(value)}");
        static string List(IReadOnlyList<string> items) => items.Count > 0 ? string.Join(", ", items) : "-";

        Row("id", job.Id);
        Row("command", job.Command);
        if (job.PlanPath is { } plan) Row("plan", plan);
        Row("state", job.State + (job.Status is { } s ? $" (status {s}, {job.Outcome})" : "")
            + (job.Held ? " (until chaqumctl release)" : "") + (job.Urgent ? " (urgent)" : ""));
        if (job.DueAt is { } due) Row("due", Format.When(due));
        if (job.EndReason is { } reason) Row("ended", reason);
        Row("group", Format.Text(job.Group) + (job.Slot is { } slot ? $", slot {slot}" : ""));
        Row("pid", Format.Text(job.Pid) + (job.Processes is { } p ? $" ({p} processes in its group)" : ""));
        Row("attempt", $"{job.Attempt} (retries {job.Retries})");
        Row("priority", Format.Text(job.Priority));
        if (job.TimeoutSeconds is { } t) Row("timeout", Format.Duration(t));
        if (job.Key is { } k) Row("key", k);
        Row("enqueued", Format.When(job.EnqueuedAt));
        Row("started", Format.When(job.StartedAt));
        Row("runtime", $"{Format.Duration(job.RuntimeSeconds)} (usually {Format.Duration(job.UsualSeconds)} over {job.UsualRuns} runs)"
            + (job.LongerThanUsual ? "  LONGER than usual" : ""));
        if (job.CpuSeconds is { } cpu) Row("cpu", Format.Duration(cpu));
        if (job.RssBytes is { } rss) Row("memory", Format.Size(rss));
        if (job.MaxRssBytes is { } maxRss) Row("max memory", Format.Size(maxRss));
        Row("parents", List(job.Parents));
        Row("children", job.Children.Count > 0 ? string.Join(", ", job.Children.Select(c => $"{c.Id} ({c.State})")) : "-");
        Row("waited on by", List(job.WaitedOnBy));
        Row("dependents", List(job.Dependents));
        if (job.Repeat is { } r) Row("repeat", r);
        Console.Out.WriteLine("output:");
        foreach (var line in job.Output) LogCommand.PrintLine(line);
    }
}
