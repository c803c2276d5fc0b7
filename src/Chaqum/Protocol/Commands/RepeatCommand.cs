using System.Globalization;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>repeat (-c CRON [-z ZONE] | -i INTERVAL) [-o] [group and job options] -- SCRIPT [ARG...]
/// → S REPEATID. -c is both the cron option and the max-CPU group option: a value that is
/// a plain number is a CPU share, anything else a cron expression. -z names the time zone
/// the cron expression is read in (default: the daemon's).</summary>
public sealed class RepeatCommand(CommandServices services) : ICommand
{
    public string Verb => "repeat";
    public string OptionSpec => "c:i:og:m:l:M:P:t:p:k:r:z:";

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
        string? zoneText = o.Get('z');
        if (zoneText is not null && intervalText is not null)
            throw new ProtocolException("-z ZONE is the time zone of a cron schedule (-c CRON), not of an interval");

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
        TimeZoneInfo? zone = null;
        try
        {
            if (intervalText is not null) every = Interval.Parse(intervalText);
            else cron = CronExpression.Parse(cronText!);
            if (zoneText is not null) zone = CronZone.Find(zoneText);
        }
        catch (FormatException e)
        {
            throw new ProtocolException(e.Message);
        }

        var repeat = services.Scheduler.AddRepeat(new RepeatRequest(script, JobOptionsParser.Arguments(call), intervalText ?? cronText!)
        {
            Every = every,
            Cron = cron,
            Zone = zone,
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
