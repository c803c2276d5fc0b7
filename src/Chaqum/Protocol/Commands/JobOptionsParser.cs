using Chaqum.Scheduling;

namespace Chaqum.Protocol.Commands;

/// <summary>The option letters shared by enqueue, repeat and group.</summary>
public static class JobOptionsParser
{
    /// <summary>The options of enqueue, from a job (fds 3/4) or an operator (control socket).</summary>
    public const string EnqueueSpec = "Fg:m:c:l:M:P:B:t:p:k:a:r:d:A:HUR";

    /// <summary>The enqueue request the options ask for: group, limits, job options,
    /// priority, dependencies, and when (-d / -A), held (-H), urgent (-U).</summary>
    public static EnqueueRequest Enqueue(ScriptPath script, string[] args, ParsedOptions o, GroupLimits limits, Scheduler scheduler) =>
        new(script, args)
        {
            GroupName = Group(o),
            Limits = limits,
            Options = Options(o),
            Priority = Priority(o),
            Dependencies = o.All('a'),
            DueAt = Due(o, scheduler.Clock.WallNow, scheduler.Settings.Zone),
            Held = o.Has('H'),
            Urgent = o.Has('U'),
        };

    /// <summary>-d DELAY (from now) or -A TIME: when the job becomes due; null for at once.</summary>
    public static DateTimeOffset? Due(ParsedOptions o, DateTimeOffset now, TimeZoneInfo zone)
    {
        string? delay = o.Get('d'), at = o.Get('A');
        if (delay is not null && at is not null) throw new ProtocolException("-d (delay) and -A (at a time) exclude each other");
        try
        {
            if (delay is not null) return DueTime.After(delay, now);
            if (at is not null) return DueTime.At(at, now, zone);
        }
        catch (FormatException e)
        {
            throw new ProtocolException(delay is not null ? $"-d (delay): {e.Message}" : e.Message);
        }
        return null;
    }

    /// <summary>Group limits from -m -c -l -M -P -B (values already classified for -c).</summary>
    public static GroupLimits Limits(ParsedOptions o, IEnumerable<string>? cpuValues = null)
    {
        double? cpu = null;
        foreach (var v in cpuValues ?? o.All('c')) cpu = Values.CpuShare(v);
        return new GroupLimits
        {
            MaxProcs = o.Get('m') is { } m ? Values.NonNegativeInt(m, "-m (max processes)") : null,
            MaxCpu = cpu,
            MaxLoad = o.Get('l') is { } l ? Values.NonNegative(l, "-l (max load)") : null,
            MinMemory = o.Get('M') is { } mem ? Values.Size(mem, "-M (min memory)") : null,
            MaxPressure = o.Get('P') is { } p ? Pressure(p) : null,
            BreakAfter = o.Get('B') is { } b ? Values.NonNegativeInt(b, "-B (failures before the group pauses)") : null,
        };
    }

    private static double Pressure(string text)
    {
        double v = Values.NonNegative(text, "-P (max CPU pressure)");
        if (v > 100) throw new ProtocolException($"-P (max CPU pressure): {text} is above 100%");
        return v;
    }

    /// <summary>Per-job options from -t -r -k -F -R.</summary>
    public static JobOptions Options(ParsedOptions o)
    {
        TimeSpan? timeout = null;
        if (o.Get('t') is { } t)
        {
            var span = Values.Seconds(t, "-t (timeout)");
            if (span > TimeSpan.Zero) timeout = span;
        }
        string? key = o.Get('k');
        if (key is { Length: 0 }) throw new ProtocolException("-k (key): empty key");
        var options = new JobOptions
        {
            Timeout = timeout,
            Retries = o.Get('r') is { } r ? Values.NonNegativeInt(r, "-r (retries)") : 0,
            Key = key,
            Forget = o.Has('F'),
            Requeue = o.Has('R'),
        };
        // Most jobs have none: let them share one instance (memory per queued job).
        return options == JobOptions.Default ? JobOptions.Default : options;
    }

    public static int Priority(ParsedOptions o) => o.Get('p') is { } p ? Values.Int(p, "-p (priority)") : 0;

    public static string? Group(ParsedOptions o)
    {
        var g = o.Get('g');
        if (g is { Length: 0 }) throw new ProtocolException("-g (group): empty group name");
        return g;
    }

    /// <summary>The script operand, resolved inside the tree.</summary>
    public static ScriptPath Script(JobTree tree, CommandCall call)
    {
        if (call.Operands.Count == 0) throw new ProtocolException("missing SCRIPT operand");
        return tree.Resolve(call.Operands[0]);
    }

    public static string[] Arguments(CommandCall call) => call.Operands.Skip(1).ToArray();
}
