using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

/// <summary>What the scheduler itself decides for a group whose jobs run on Slurm (the
/// executor is only carried to the launcher): barriers refused, -m still caps, a job that
/// never reached a node is a spawn failure that retries apply to. Fakes only; the real
/// cluster is in Cluster/SlurmExecutorTests.</summary>
[TestFixture, CancelAfter(60_000)]
public class SlurmGroupTests
{
    private static Executor Slurm(string? partition = null, params string[] extra) =>
        new(ExecutorKind.Slurm, partition, extra);

    [Test]
    public void Executor_parses_local_slurm_and_slurm_partition_and_refuses_the_rest()
    {
        Assert.That(Executor.Parse("local", out _), Is.SameAs(Executor.Local));
        Assert.That(Executor.Parse("slurm", out _)!.Name, Is.EqualTo("slurm"));
        Assert.That(Executor.Parse("slurm:gpu-a100", out _)!.Partition, Is.EqualTo("gpu-a100"));
        Assert.That(Executor.Parse("slurm:", out var empty), Is.Null);
        Assert.That(empty, Does.Contain("not a Slurm partition name"));
        Assert.That(Executor.Parse("slurm:a b", out _), Is.Null);
        Assert.That(Executor.Parse("kubernetes", out var other), Is.Null);
        Assert.That(other, Does.Contain("not an executor"));
        Assert.That(Slurm("p", "--mem=1G"), Is.EqualTo(Slurm("p", "--mem=1G")));
        Assert.That(Slurm("p", "--mem=1G"), Is.Not.EqualTo(Slurm("p", "--mem=2G")));
    }

    [Test]
    public void Barriers_are_refused_on_a_Slurm_group_and_Slurm_on_a_group_with_barriers()
    {
        var h = new Harness();
        h.Scheduler.UpdateGroup("remote", new GroupLimits { Executor = Slurm() });
        var e = Assert.Throws<SchedulingException>(() => h.Scheduler.UpdateGroup("remote", new GroupLimits { MaxLoad = 4 }));
        Assert.That(e!.Message, Does.Contain("runs on slurm: -c/-l/-M/-P measure this machine"));
        h.Scheduler.UpdateGroup("local", new GroupLimits { MaxCpu = 0.5 });
        Assert.Throws<SchedulingException>(() => h.Scheduler.UpdateGroup("local", new GroupLimits { Executor = Slurm() }));
        Assert.That(h.Scheduler.FindGroup("local")!.Executor.IsLocal, Is.True, "a refused change changes nothing");
    }

    [Test]
    public void X_alone_replaces_the_extra_arguments_and_x_local_with_them_is_refused()
    {
        var h = new Harness();
        h.Scheduler.UpdateGroup("g", new GroupLimits { Executor = Slurm("main", "--time=5") });
        h.Scheduler.UpdateGroup("g", new GroupLimits { ExtraArgs = new[] { "--mem=1G" } });
        Assert.That(h.Scheduler.FindGroup("g")!.Executor, Is.EqualTo(Slurm("main", "--mem=1G")));
        Assert.Throws<SchedulingException>(() => h.Scheduler.UpdateGroup("plain", new GroupLimits { ExtraArgs = new[] { "--mem=1G" } }));
    }

    [Test]
    public void M_caps_a_Slurm_group_and_a_Slurm_group_is_not_forgotten()
    {
        var h = new Harness();
        var jobs = Enumerable.Range(0, 3).Select(_ => h.Enqueue(group: "g", limits: new GroupLimits { MaxProcs = 1, Executor = Slurm() })).ToList();
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(1));
        foreach (var job in jobs) h.Exit(job);
        Assert.That(jobs.All(j => j.State == JobState.Done), Is.True);
        Assert.That(h.Scheduler.FindGroup("g")!.Executor.IsLocal, Is.False, "where its jobs run is a setting: kept");
    }

    [Test]
    public void A_job_that_never_reached_a_node_is_a_spawn_failure_and_is_retried()
    {
        var h = new Harness();
        h.Scheduler.UpdateGroup("g", new GroupLimits { Executor = Slurm() });
        var job = h.Enqueue(group: "g", options: new JobOptions { Retries = 1 });
        h.Scheduler.OnExited(job, JobStatus.NeverRan, default);
        Assert.That(job.State, Is.EqualTo(JobState.Retrying));
        h.Time.Advance(h.Scheduler.RetryDelay(1));
        Assert.That(job.State, Is.EqualTo(JobState.Running));
        h.Scheduler.OnExited(job, JobStatus.NeverRan, default);
        Assert.That((job.State, job.Outcome, job.Status.Wire), Is.EqualTo((JobState.Done, Outcome.SpawnFailed, "N")));
    }
}
