using System.CommandLine;
using System.Globalization;
using System.Text;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>plan submit FILE|- [--wait] | plan show ID [--json] | plan cancel ID | plan
/// list [--json]: JSON plans of steps in sequence and in parallel (docs/plans.md).</summary>
public static class PlanCommands
{
    public static Command Build(Context context)
    {
        var plan = new Command("plan", "Submit, show, cancel and list plans: JSON documents of steps run in sequence and in parallel (docs/plans.md)");
        plan.Add(Submit(context));
        plan.Add(Show(context));
        plan.Add(Cancel(context));
        plan.Add(List(context));
        return plan;
    }

    private static Command Submit(Context context)
    {
        var file = new Argument<string>("FILE") { Description = "The plan document, or - for standard input" };
        var wait = new Option<bool>("--wait", "-w") { Description = "Print each step's progress and exit 0 only if the plan succeeded (1 if it failed or was cancelled)" };
        var command = new Command("submit", "Submit a plan; prints its id (plan/N). A plan with a fault is refused whole, with the JSON path of the fault") { file, wait };
        command.SetAction(parsed =>
        {
            var document = Read(parsed.GetValue(file)!);
            if (!parsed.GetValue(wait))
            {
                var submitted = context.Call(ControlVerbs.PlanSubmit, new PlanSubmitArgs { Document = document });
                Console.Out.WriteLine(Format.Text(submitted.Id));
                return Program.Ok;
            }
            string? id = null;
            var final = context.Call(ControlVerbs.PlanRun, new PlanSubmitArgs { Document = document, Follow = true }, e =>
            {
                if (e.Step is not { } step) return;
                if (id is null)
                {
                    id = step.Plan;
                    Console.Out.WriteLine(Format.Text(id));
                }
                Console.Out.WriteLine($"{DateTime.Now:HH:mm:ss} {Format.Text(step.Job)} {step.State}{(step.Status is { } s ? $" ({s})" : "")}  {Format.Text(step.Path)}");
                Console.Out.Flush();
            });
            if (id is null) Console.Out.WriteLine(Format.Text(final.Id));
            Console.Out.WriteLine($"{Format.Text(final.Id)} {final.State} after {Format.Duration(final.RuntimeSeconds)}{(final.Reason is { } r ? ": " + Format.Text(r) : "")}");
            return final.State == "succeeded" ? Program.Ok : Program.Failed;
        });
        return command;
    }

    private static string Read(string file)
    {
        if (file == "-") return Console.In.ReadToEnd();
        try { return File.ReadAllText(file, Encoding.UTF8); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ChaqumctlException($"cannot read {file}: {Program.Reason(e)}");
        }
    }

    private static Command Show(Context context)
    {
        var id = new Argument<string>("ID") { Description = "The plan (plan/N)" };
        var json = new Option<bool>("--json") { Description = "Print JSON: the plan and its nodes in document order, each with its depth" };
        var command = new Command("show", "Draw a plan as a tree: each step's job, state, runtime and exit status") { id, json };
        command.SetAction(parsed =>
        {
            var view = context.Call(ControlVerbs.PlanShow, new PlanArgs { Id = parsed.GetValue(id) });
            if (parsed.GetValue(json)) { Format.Json(view, ControlJson.Indented.PlanView); return Program.Ok; }
            Draw(view);
            return Program.Ok;
        });
        return command;
    }

    /// <summary>The heading, then one row per node, its label indented under its group
    /// with tree lines.</summary>
    public static void Draw(PlanView view)
    {
        Console.Out.WriteLine(Heading(view));
        var nodes = view.Nodes;
        var lastAt = new List<bool>();   // per depth: whether the node open there is its group's last
        var rows = new List<IReadOnlyList<string>>();
        for (int i = 0; i < nodes.Count; i++)
        {
            var n = nodes[i];
            bool last = true;
            for (int k = i + 1; k < nodes.Count && nodes[k].Depth >= n.Depth; k++)
                if (nodes[k].Depth == n.Depth) { last = false; break; }
            while (lastAt.Count <= n.Depth) lastAt.Add(false);
            lastAt[n.Depth] = last;
            var prefix = new StringBuilder();
            for (int d = 1; d < n.Depth; d++) prefix.Append(lastAt[d] ? "   " : "│  ");
            if (n.Depth > 0) prefix.Append(last ? "└─ " : "├─ ");
            string label = n.Type == "execute" ? n.Label
                : $"{(n.Depth == 0 ? view.Id : n.Label)} {(n.Type == "parallel_group" ? "parallel" : "sequence")}{(n.Name is { } nm && n.Depth == 0 ? $" '{nm}'" : "")}";
            if (n.Role is { } role) label += $" [{role}]";
            rows.Add(new[]
            {
                prefix + label, n.Job ?? "", n.State, Format.Duration(n.RuntimeSeconds), n.Status ?? "",
            });
        }
        Format.Table(new[] { "PLAN", "JOB", "STATE", "RUNTIME", "STATUS" }, rows);
    }

    /// <summary>"plan/3 'nightly': running after 4s, allocating nodes for roles a, b, 0/6
    /// steps ended", the reason, and a line per role that has a node of its own.</summary>
    private static string Heading(PlanSummary p)
    {
        var allocating = p.Allocations.Where(a => a.State == "allocating").Select(a => Format.Text(a.Role)).ToList();
        var text = new StringBuilder(
            $"{Format.Text(p.Id)}{(p.Name is { } n ? $" '{Format.Text(n)}'" : "")}: {p.State} after {Format.Duration(p.RuntimeSeconds)}, " +
            (p.State == "running" && allocating.Count > 0 ? $"allocating nodes for role{(allocating.Count > 1 ? "s" : "")} {string.Join(", ", allocating)}, " : "") +
            $"{p.StepsEnded}/{p.Steps} steps ended{(p.StepsFailed > 0 ? $", {p.StepsFailed} failed" : "")}");
        if (p.Reason is { } r) text.Append($"\n  {Format.Text(r)}");
        foreach (var a in p.Allocations)
        {
            text.Append($"\n  role {Format.Text(a.Role)}: {a.State}");
            if (a.Node is { } node) text.Append($", node {Format.Text(node)}");
            if (a.SlurmJob is { } job) text.Append($", Slurm job {Format.Text(job)}");
            if (a.Reason is { } why && a.State != "failed") text.Append($" ({Format.Text(why)})");
        }
        return text.ToString();
    }

    private static Command Cancel(Context context)
    {
        var id = new Argument<string>("ID") { Description = "The plan (plan/N)" };
        var command = new Command("cancel", "Cancel a plan: queued steps are cancelled, running ones killed (TERM, then KILL after the grace period)") { id };
        command.SetAction(parsed =>
        {
            var plan = context.Call(ControlVerbs.PlanCancel, new PlanArgs { Id = parsed.GetValue(id) });
            Console.Out.WriteLine($"{Format.Text(plan.Id)} {plan.State}");
            return Program.Ok;
        });
        return command;
    }

    private static Command List(Context context)
    {
        var json = new Option<bool>("--json") { Description = "Print JSON" };
        var command = new Command("list", "List the running plans and those ended recently (older ones: chaqumctl history --plans)") { json };
        command.SetAction(parsed =>
        {
            var plans = context.Call(ControlVerbs.Plans).Plans;
            if (parsed.GetValue(json)) { Format.Json(new PlansResult(plans), ControlJson.Indented.PlansResult); return Program.Ok; }
            Format.Table(new[] { "ID", "NAME", "STATE", "SUBMITTED", "RUNTIME", "STEPS", "FAILED STEP" },
                plans.Select(p => (IReadOnlyList<string>)new[]
                {
                    p.Id, p.Name ?? "-", p.State, Format.When(p.SubmittedAt), Format.Duration(p.RuntimeSeconds),
                    $"{p.StepsEnded.ToString(CultureInfo.InvariantCulture)}/{p.Steps.ToString(CultureInfo.InvariantCulture)}",
                    p.FailedStep is { } f ? $"{f} ({p.FailedPath})" : "-",
                }));
            return Program.Ok;
        });
        return command;
    }
}
