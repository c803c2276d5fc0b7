using Chaqum.Scheduling;
using Chaqum.Words;

namespace Chaqum.Protocol.Commands;

/// <summary>group [-m MAXPROC] [-c MAXCPU] [-l MAXLOAD] [-M MINMEM] [-P MAXPRESSURE] [-B FAILURES]
/// [-x EXECUTOR] [-X 'ARGS'] -- GROUP → S
///
/// -x moves the group's jobs (those started from then on) to an executor: local, slurm
/// or slurm:PARTITION; -X gives the executor's extra arguments, split like protocol words
/// (srun options for Slurm), and replaces earlier ones. Moving a group to Slurm is
/// answered only once Slurm has been asked whether it can take jobs (sinfo), so that a
/// tree learns at once, not at its first job, that the cluster is not there.</summary>
public sealed class GroupCommand(CommandServices services) : ICommand
{
    public string Verb => "group";
    public string OptionSpec => "m:c:l:M:P:B:x:X:";

    public void Run(CommandCall call)
    {
        if (call.Operands.Count != 1) throw new ProtocolException("expected exactly one GROUP operand");
        string name = call.Operands[0];
        if (name.Length == 0) throw new ProtocolException("empty group name");
        var limits = JobOptionsParser.Limits(call.Options);

        IReadOnlyList<string>? extra = null;
        if (call.Options.Get('X') is { } text)
        {
            var words = new List<string>();
            if (!ShellWords.TrySplit(text, words, out string? error)) throw new ProtocolException($"-X: {error}");
            if (words.Any(w => w == "--")) throw new ProtocolException("-X: '--' would end srun's options before the job's command");
            extra = words;
        }
        Executor? executor = null;
        if (call.Options.Get('x') is { } x)
        {
            executor = Executor.Parse(x, out string? error) ?? throw new ProtocolException(error!);
            executor = executor with { ExtraArgs = extra ?? (services.Scheduler.FindGroup(name)?.Executor is { IsLocal: false } current && current.Kind == executor.Kind ? current.ExtraArgs : Array.Empty<string>()) };
            if (executor.IsLocal && extra is { Count: > 0 }) throw new ProtocolException("-X (extra executor arguments) needs -x slurm[:PARTITION]");
        }
        limits = limits with { Executor = executor, ExtraArgs = executor is null ? extra : null };
        var target = executor ?? services.Scheduler.FindGroup(name)?.Executor ?? Executor.Local;
        if (!target.IsLocal && limits.HasBarriers)
            throw new ProtocolException($"group {name} runs on {target.Name}: -c/-l/-M/-P measure this machine, not the cluster's nodes; " +
                "give Slurm's own options with -X (e.g. -X '--mem=4G --cpus-per-task=2')");

        var arguments = executor ?? (extra is not null && services.Scheduler.FindGroup(name)?.Executor is { IsLocal: false } current2
            ? current2 with { ExtraArgs = extra } : null);
        if (arguments is { IsLocal: false } && services.Executors?.RefuseArguments(arguments) is { } refusal)
            throw new ProtocolException(refusal);

        if (executor is { IsLocal: false } && services.Executors is { } check)
        {
            check.Check(executor, refusal =>
            {
                if (call.Answered) return;
                if (refusal is not null) { call.Refuse($"{Verb}: {refusal}"); return; }
                try
                {
                    services.Scheduler.UpdateGroup(name, limits);
                    call.Ok();
                }
                catch (SchedulingException e) { call.Refuse($"{Verb}: {e.Message}"); }
            });
            return;
        }
        services.Scheduler.UpdateGroup(name, limits);
        call.Ok();
    }
}
