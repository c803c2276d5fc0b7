using System.Globalization;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>repeat (-c CRON | -i INTERVAL) [-o] [group and job options] -- SCRIPT [ARG...]
/// → S REPEATID. -c is both the cron option and the max-CPU group option: a value that is
/// a plain number is a CPU share, anything else a cron expression.</summary>
public sealed class RepeatCommand(CommandServices services) : ICommand
{
    public string Verb => "repeat";
    public string OptionSpec => "c:i:og:m:l:M:P:t:p:k:r:";

    public void Run(CommandCall call)
    {
        var o = call.Options;
        string? cronText = null;
        var cpu = new List<string>();
        foreach (var value in o.All('c'))
        {
            if (double.TryParse(value, NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)) cpu.Add(value);
            else cronText = value;
        }
        string? intervalText = o.Get('i');
        if ((cronText is null) == (intervalText is null))
            throw new ProtocolException("give exactly one of -c CRON and -i INTERVAL");

        var script = JobOptionsParser.Script(services.Tree, call);
        string? group = JobOptionsParser.Group(o);
        var limits = JobOptionsParser.Limits(o, cpu);
        if (group is null && !limits.IsEmpty)
        {
            services.Log.LogWarning("{Job}: -m/-c/-l/-M/-P without -g GROUP are ignored", call.Caller.Id);
            limits = GroupLimits.Unchanged;
        }

        TimeSpan? every = null;
        ICronSchedule? cron = null;
        try
        {
            if (intervalText is not null) every = Interval.Parse(intervalText);
            else cron = CronExpression.Parse(cronText!);
        }
        catch (FormatException e)
        {
            throw new ProtocolException(e.Message);
        }

        var repeat = services.Scheduler.AddRepeat(new RepeatRequest(script, JobOptionsParser.Arguments(call), intervalText ?? cronText!)
        {
            Every = every,
            Cron = cron,
            Owner = call.Caller,
            GroupName = group,
            Limits = limits,
            Options = JobOptionsParser.Options(o),
            Priority = JobOptionsParser.Priority(o),
            AllowOverlap = o.Has('o'),
        });
        call.Ok(repeat.Id);
    }
}
