namespace Chaqum.Client;

// Jobs: enqueue, wait, kill, groups and repeats.
public sealed partial class ChaqumJob
{
    /// <summary>Enqueues SCRIPT (a path relative to the tree) with its arguments and returns
    /// the new job at once, before it starts (with <see cref="JobSchedulingOptions.Key"/>,
    /// possibly an existing job).</summary>
    /// <exception cref="ChaqumException">Refused: no such script, bad option value...</exception>
    public async Task<JobHandle> EnqueueAsync(string script, IEnumerable<string>? args = null,
        EnqueueOptions? options = null, CancellationToken cancel = default)
    {
        var line = new CommandLine("enqueue");
        options?.AddTo(line);
        line.Operands([script, .. args ?? []]);
        var reply = await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false);
        return new JobHandle(this, reply.Single("enqueue"));
    }

    /// <summary>Waits until all the jobs have ended or the timeout expires (null: for ever;
    /// zero: answer at once). Returns every id asked, in order, with its status:
    /// <see cref="JobStatus.Pending"/> for jobs not ended, <see cref="JobStatus.Unknown"/>
    /// for ids the daemon left out. A reported result is consumed: waiting again for an
    /// ended job gives Unknown.</summary>
    public Task<IReadOnlyDictionary<string, JobStatus>> WaitAllAsync(IEnumerable<string> jobIds,
        TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WaitAsync("-a", jobIds, timeout, cancel);

    /// <inheritdoc cref="WaitAllAsync(IEnumerable{string}, TimeSpan?, CancellationToken)"/>
    public Task<IReadOnlyDictionary<string, JobStatus>> WaitAllAsync(IEnumerable<JobHandle> jobs,
        TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WaitAsync("-a", jobs.Select(j => j.Id), timeout, cancel);

    /// <summary>As <see cref="WaitAllAsync(IEnumerable{string}, TimeSpan?, CancellationToken)"/>,
    /// but answers as soon as one of the jobs has ended.</summary>
    public Task<IReadOnlyDictionary<string, JobStatus>> WaitAnyAsync(IEnumerable<string> jobIds,
        TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WaitAsync("-f", jobIds, timeout, cancel);

    /// <inheritdoc cref="WaitAnyAsync(IEnumerable{string}, TimeSpan?, CancellationToken)"/>
    public Task<IReadOnlyDictionary<string, JobStatus>> WaitAnyAsync(IEnumerable<JobHandle> jobs,
        TimeSpan? timeout = null, CancellationToken cancel = default) =>
        WaitAsync("-f", jobs.Select(j => j.Id), timeout, cancel);

    private async Task<IReadOnlyDictionary<string, JobStatus>> WaitAsync(string mode, IEnumerable<string> jobIds,
        TimeSpan? timeout, CancellationToken cancel)
    {
        var ids = jobIds.ToList();
        var line = new CommandLine("wait");
        line.Flag(mode[1], true);
        line.Option('t', Bounded(timeout));
        line.Operands(ids);
        var reply = await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false);
        return Statuses("wait", ids, reply);
    }

    /// <summary>Kills the jobs: SIGNAL (default TERM; <c>"KILL"</c>, <c>"SIGHUP"</c>,
    /// <c>"9"</c>, <c>"RTMIN+1"</c>) to each one's process group, SIGKILL after the
    /// daemon's grace period; jobs not started yet are cancelled (never-ran). Then waits as
    /// <see cref="WaitAllAsync(IEnumerable{string}, TimeSpan?, CancellationToken)"/>, the
    /// timeout bounding only that wait. Only descendants of this job may be killed: any
    /// other id refuses the whole call and kills nothing.</summary>
    public async Task<IReadOnlyDictionary<string, JobStatus>> KillAsync(IEnumerable<string> jobIds,
        string? signal = null, TimeSpan? timeout = null, CancellationToken cancel = default)
    {
        var ids = jobIds.ToList();
        var line = new CommandLine("killjobs");
        line.Option('s', signal);
        line.Option('t', Bounded(timeout));
        line.Operands(ids);
        var reply = await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false);
        return Statuses("killjobs", ids, reply);
    }

    /// <inheritdoc cref="KillAsync(IEnumerable{string}, string?, TimeSpan?, CancellationToken)"/>
    public Task<IReadOnlyDictionary<string, JobStatus>> KillAsync(IEnumerable<JobHandle> jobs,
        string? signal = null, TimeSpan? timeout = null, CancellationToken cancel = default) =>
        KillAsync(jobs.Select(j => j.Id), signal, timeout, cancel);

    /// <summary>Creates GROUP if needed and applies the limits given (the latest values win;
    /// limits left null keep their values).</summary>
    public async Task ConfigureGroupAsync(string group, GroupLimits? limits = null, CancellationToken cancel = default)
    {
        var line = new CommandLine("group");
        // Only the limits, even when given a JobSchedulingOptions (which adds -g, -t...).
        limits?.AddLimitsTo(line);
        line.Operands([group]);
        await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false);
    }

    /// <summary>Enqueues SCRIPT every <paramref name="interval"/>, the first time one
    /// interval from now, until unrepeated.</summary>
    public Task<RepeatHandle> RepeatEveryAsync(TimeSpan interval, string script, IEnumerable<string>? args = null,
        RepeatOptions? options = null, CancellationToken cancel = default)
    {
        if (interval <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, "a repeat interval must be positive");
        if (options?.Zone is not null)
            throw new ArgumentException("a time zone (RepeatOptions.Zone) applies to cron repeats only", nameof(options));
        return RepeatAsync('i', CommandLine.Seconds(interval), script, args, options, cancel);
    }

    /// <summary>Enqueues SCRIPT at the times of a cron expression (5 fields, or 6 with
    /// leading seconds; <c>@hourly</c>, <c>@daily</c>...; <c>L</c>, <c>W</c>, <c>#</c>) in the
    /// daemon's time zone or <see cref="RepeatOptions.Zone"/>, until unrepeated.</summary>
    public Task<RepeatHandle> RepeatCronAsync(string cron, string script, IEnumerable<string>? args = null,
        RepeatOptions? options = null, CancellationToken cancel = default) =>
        RepeatAsync('c', cron, script, args, options, cancel);

    /// <summary>A file trigger: enqueues SCRIPT when files are written or moved into one of
    /// <paramref name="directories"/> (absolute, or relative to the tree), and with
    /// <paramref name="recursive"/> into any directory below them, new ones included; once
    /// no change has come for <see cref="RepeatOptions.Settle"/>. Changes during a firing
    /// make one more firing after it. The firing's job reads the paths with
    /// <see cref="ChangedPaths"/>.</summary>
    public Task<RepeatHandle> RepeatOnChangesAsync(IEnumerable<string> directories, string script, IEnumerable<string>? args = null,
        RepeatOptions? options = null, bool recursive = false, CancellationToken cancel = default)
    {
        var dirs = directories.ToList();
        if (dirs.Count == 0) throw new ArgumentException("a file trigger needs at least one directory", nameof(directories));
        if (options?.Zone is not null)
            throw new ArgumentException("a time zone (RepeatOptions.Zone) applies to cron repeats only", nameof(options));
        return RepeatAsync(recursive ? 'W' : 'w', dirs, script, args, options, cancel);
    }

    /// <summary>In a firing of a file trigger: the absolute paths that changed, in the order
    /// first seen (none when an operator fired it by hand); null in any other job.</summary>
    public static IReadOnlyList<string>? ChangedPaths()
    {
        var file = Environment.GetEnvironmentVariable("CHAQUM_CHANGED");
        if (string.IsNullOrEmpty(file)) return null;
        var text = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(file));
        return text.Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The daemon lost changes for this firing (the kernel's queue overflowed):
    /// <see cref="ChangedPaths"/> is incomplete, rescan.</summary>
    public static bool ChangesIncomplete => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CHAQUM_CHANGED_INCOMPLETE"));

    private Task<RepeatHandle> RepeatAsync(char kind, string when, string script, IEnumerable<string>? args,
        RepeatOptions? options, CancellationToken cancel)
    {
        if (options?.Settle is not null)
            throw new ArgumentException("RepeatOptions.Settle applies to file triggers only", nameof(options));
        return RepeatAsync(kind, [when], script, args, options, cancel);
    }

    private async Task<RepeatHandle> RepeatAsync(char kind, IEnumerable<string> values, string script, IEnumerable<string>? args,
        RepeatOptions? options, CancellationToken cancel)
    {
        var line = new CommandLine("repeat");
        foreach (var value in values) line.Option(kind, value);
        options?.AddTo(line);
        line.Operands([script, .. args ?? []]);
        var reply = await _connection.ExchangeAsync(line, cancel: cancel).ConfigureAwait(false);
        return new RepeatHandle(this, reply.Single("repeat"));
    }

    /// <summary>Removes repeats. If any id is unknown, nothing is removed and the call is
    /// refused.</summary>
    public async Task UnrepeatAsync(IEnumerable<string> repeatIds, CancellationToken cancel = default) =>
        await _connection.ExchangeAsync(new CommandLine("unrepeat").Operands(repeatIds), cancel: cancel).ConfigureAwait(false);

    /// <summary>Every id asked, in order and once, with its status; Unknown if left out.</summary>
    private static IReadOnlyDictionary<string, JobStatus> Statuses(string verb, List<string> ids, Reply reply)
    {
        var pairs = reply.Pairs(verb);
        var statuses = new OrderedDictionary<string, JobStatus>(StringComparer.Ordinal);
        foreach (var id in ids)
        {
            if (statuses.ContainsKey(id)) continue;
            try
            {
                statuses[id] = pairs.TryGetValue(id, out var word) ? JobStatus.Parse(word) : JobStatus.Unknown;
            }
            catch (FormatException e)
            {
                throw new ChaqumException($"{verb}: unreadable status in the daemon's reply: {e.Message}");
            }
        }
        return statuses;
    }

    /// <summary>A timeout for the wire: null (or infinite) means none.</summary>
    internal static TimeSpan? Bounded(TimeSpan? timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan) return null;
        if (timeout < TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "a timeout cannot be negative");
        return timeout;
    }
}
