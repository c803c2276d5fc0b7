using System.Globalization;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Repeats;
using Microsoft.Extensions.Logging;

namespace Chaqum.Protocol.Commands;

/// <summary>repeat (-c CRON [-z ZONE] | -i INTERVAL | -w DIR... [--settle SECONDS]) [-o]
/// [group and job options] -- SCRIPT [ARG...] → S REPEATID. -c is both the cron option and
/// the max-CPU group option: a value that is a plain number is a CPU share, anything else a
/// cron expression. -z names the time zone the cron expression is read in (default: the
/// daemon's). -w DIR fires on files written or moved into DIR, -W DIR also below it
/// (recursive); both may be repeated and mixed. DIR is absolute or relative to the tree.</summary>
public sealed class RepeatCommand(CommandServices services) : ICommand
{
    public string Verb => "repeat";
    public string OptionSpec => "c:i:og:m:l:M:P:B:t:p:k:r:z:w:W:";
    public IReadOnlyList<string> LongOptions { get; } = ["settle:"];

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
        var watch = WatchedPaths(o);
        if ((cronText is null ? 0 : 1) + (intervalText is null ? 0 : 1) + (watch.Count > 0 ? 1 : 0) != 1)
            throw new ProtocolException("give exactly one of -c CRON, -i INTERVAL and -w/-W DIR");
        string? zoneText = o.Get('z');
        if (zoneText is not null && cronText is null)
            throw new ProtocolException("-z ZONE is the time zone of a cron schedule (-c CRON), not of an interval or a file trigger");
        var settle = RepeatRequest.DefaultSettle;
        if (o.GetLong("settle") is { } settleText)
        {
            if (watch.Count == 0) throw new ProtocolException("--settle applies to file triggers (-w DIR) only");
            settle = Values.Seconds(settleText, "--settle");
        }

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
            else if (cronText is not null) cron = CronExpression.Parse(cronText);
            if (zoneText is not null) zone = CronZone.Find(zoneText);
        }
        catch (FormatException e)
        {
            throw new ProtocolException(e.Message);
        }

        string schedule = intervalText ?? cronText ?? string.Join(" ", watch);
        var repeat = services.Scheduler.AddRepeat(new RepeatRequest(script, JobOptionsParser.Arguments(call), schedule)
        {
            Watch = watch.Count > 0 ? watch : null,
            Settle = settle,
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

    /// <summary>-w and -W, in the order given; relative ones from the tree root. The data
    /// watched may live outside the tree: it is not code.</summary>
    private List<WatchedPath> WatchedPaths(ParsedOptions o)
    {
        var paths = new List<WatchedPath>();
        foreach (var (letter, recursive) in new[] { ('w', false), ('W', true) })
            foreach (var text in o.All(letter))
            {
                if (text.Length == 0) throw new ProtocolException($"-{letter}: empty path");
                var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(text, services.Tree.Root));
                if (full.Length == 0) full = "/";
                paths.Add(new WatchedPath(full, recursive));
            }
        return paths;
    }
}
