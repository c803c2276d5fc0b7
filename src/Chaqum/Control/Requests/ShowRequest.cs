using Chaqum.Control.Messages;
using Chaqum.History;
using Chaqum.Processes;
using Chaqum.Scheduling;

namespace Chaqum.Control.Requests;

/// <summary>show {id, lines} → everything known about a job: its view, command line, parent
/// chain, children, who waits on it, who depends on it, CPU and memory, last output lines.</summary>
public sealed class ShowRequest(ControlServices services) : IControlRequest
{
    public string Name => ControlVerbs.Show.Name;

    public void Handle(ControlCall call)
    {
        var args = call.ArgsOf(ControlVerbs.Show);
        var id = args.Id ?? throw new ControlException("show needs a job id");
        var job = services.Scheduler.Find(id) ?? throw new ControlException($"no job '{id}' known to the daemon (see chaqumctl history)");
        int lines = args.Lines ?? 10;

        var chain = new List<string>();
        for (var p = job.Parent ?? job.Owner; p is not null; p = p.Parent ?? p.Owner) chain.Add(p.Id);
        int? processes = null;
        double? cpu = null;
        long? rss = null, maxRss = null;
        if (job.State == JobState.Running)
        {
            var members = ProcStat.GroupMembers(job.Pid);
            processes = members.Count;
            cpu = members.Sum(p => ProcStat.CpuTicks(p) ?? 0) / ProcStat.TicksPerSecond;
            rss = members.Sum(p => ProcStat.RssBytes(p) ?? 0);
        }
        else if (job.State == JobState.Done)
        {
            cpu = job.Usage.UserCpu.TotalSeconds + job.Usage.SystemCpu.TotalSeconds;
            maxRss = job.Usage.MaxRssBytes;
        }
        var usual = services.History?.UsualFor(job.Script.Relative);
        call.Reply(ControlVerbs.Show, new ShowResult(new JobDetails(services.View(job))
        {
            Command = Chaqum.Words.ShellWords.Join(new[] { job.Script.Relative }.Concat(job.Args)),
            Path = job.Script.Absolute,
            Parents = chain,
            Children = job.Children.Select(c => new JobRef(c.Id, JobView.State(c))).ToList(),
            WaitedOnBy = job.Waiters.Select(w => w.Id).Distinct().ToList(),
            Dependents = job.Dependents.Select(d => d.Id).ToList(),
            TimeoutSeconds = job.Options.Timeout?.TotalSeconds,
            Retries = job.Options.Retries,
            Key = job.Options.Key,
            EndReason = job.EndReason,
            Processes = processes,
            CpuSeconds = cpu,
            RssBytes = rss,
            MaxRssBytes = maxRss,
            UsualRuns = usual?.Runs ?? 0,
            UsualP95Seconds = usual?.P95,
            Output = LogRequest.Lines(services.Output?.Tail(job.Id, lines) ?? new()),
        }));
    }
}
