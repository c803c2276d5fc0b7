using Chaqum.Scheduling;

namespace Chaqum.Tests.Scheduling;

[TestFixture, CancelAfter(30_000)]
public class BarrierTests
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    [Test]
    public void Cpu_barrier_holds_until_the_cpu_is_quiet_then_paces_one_start_per_sample()
    {
        var h = new Harness();
        h.Load.Cpu(0.9);
        var jobs = Enumerable.Range(0, 3).Select(_ => h.Enqueue(group: "conv", limits: new GroupLimits { MaxCpu = 0.8 })).ToList();
        Assert.That(jobs.All(j => j.State == JobState.Queued), Is.True, "the first CPU figure needs two samples");
        var group = h.Scheduler.FindGroup("conv")!;
        Assert.That(group.HoldReason, Does.Contain("cpu"));

        h.Load.Cpu(0.95);
        h.Time.Advance(Period);
        Assert.That(jobs.All(j => j.State == JobState.Queued), Is.True, "95% busy is above 80%");
        Assert.That(group.HoldReason, Is.EqualTo("cpu 95% >= 80%"));

        h.Load.Cpu(0.2);
        h.Time.Advance(Period);
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(1), "one start per fresh sample");
        Assert.That(group.HoldReason, Does.Contain("fresh load sample"));

        h.Load.Cpu(0.2);
        h.Time.Advance(Period);
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(2));
        h.Load.Cpu(0.2);
        h.Time.Advance(Period);
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(3));
    }

    [Test]
    public void Sampling_happens_only_while_a_job_waits_on_a_barrier()
    {
        var h = new Harness();
        h.Enqueue(group: "free");
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(h.Load.Reads, Is.EqualTo(0), "no barrier, no sampling");

        h.Load.Cpu(0.1);
        var job = h.Enqueue(group: "g", limits: new GroupLimits { MinMemory = 1L << 30 });
        Assert.That(job.State, Is.EqualTo(JobState.Running), "memory is known from the first sample");
        int reads = h.Load.Reads;
        h.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(h.Load.Reads, Is.EqualTo(reads), "nobody waits: sampling stopped");
        Assert.That(h.Scheduler.Sampler.Running, Is.False);
    }

    [Test]
    public void Memory_load_and_pressure_barriers()
    {
        var h = new Harness();
        h.Load.MemAvailable = 1L << 30;
        h.Load.Load1 = 3.5;
        h.Load.Pressure = 40;
        var mem = h.Enqueue(group: "mem", limits: new GroupLimits { MinMemory = 2L << 30 });
        var load = h.Enqueue(group: "load", limits: new GroupLimits { MaxLoad = 2 });
        var psi = h.Enqueue(group: "psi", limits: new GroupLimits { MaxPressure = 10 });
        Assert.That(h.Scheduler.FindGroup("mem")!.HoldReason, Is.EqualTo("memory 1G available < 2G"));
        Assert.That(h.Scheduler.FindGroup("load")!.HoldReason, Is.EqualTo("load 3.5 >= 2"));
        Assert.That(h.Scheduler.FindGroup("psi")!.HoldReason, Is.EqualTo("cpu pressure 40% >= 10%"));
        Assert.That(new[] { mem, load, psi }.All(j => j.State == JobState.Queued), Is.True);

        h.Load.MemAvailable = 3L << 30;
        h.Time.Advance(Period);
        Assert.That(mem.State, Is.EqualTo(JobState.Running), "a group held by its barrier never holds up another group");
        Assert.That(load.State, Is.EqualTo(JobState.Queued));
        h.Load.Load1 = 0.5;
        h.Load.Pressure = 1;
        h.Time.Advance(Period);
        Assert.That(load.State, Is.EqualTo(JobState.Running));
        Assert.That(psi.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Pressure_barrier_is_ignored_where_the_kernel_has_no_psi()
    {
        var h = new Harness();
        h.Load.PressureSupported = false;
        var job = h.Enqueue(group: "psi", limits: new GroupLimits { MaxPressure = 10 });
        Assert.That(job.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Unreadable_figures_fail_closed_and_say_so()
    {
        var h = new Harness();
        h.Load.Broken = true;
        var job = h.Enqueue(group: "g", limits: new GroupLimits { MinMemory = 1 });
        h.Time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(job.State, Is.EqualTo(JobState.Queued));
        Assert.That(h.Scheduler.FindGroup("g")!.HoldReason, Does.Contain("Permission denied"));
        h.Load.Broken = false;
        h.Time.Advance(Period);
        Assert.That(job.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void A_held_barrier_is_released_by_a_group_update()
    {
        var h = new Harness();
        h.Load.MemAvailable = 1L << 30;
        var job = h.Enqueue(group: "g", limits: new GroupLimits { MinMemory = 1L << 40 });
        Assert.That(job.State, Is.EqualTo(JobState.Queued));
        h.Scheduler.UpdateGroup("g", new GroupLimits { MinMemory = 0 }); // 0 removes the barrier
        Assert.That(job.State, Is.EqualTo(JobState.Running));
    }

    [Test]
    public void Cap_and_barrier_together()
    {
        var h = new Harness();
        h.Load.MemAvailable = 4L << 30;
        var jobs = Enumerable.Range(0, 4).Select(_ => h.Enqueue(group: "g", limits: new GroupLimits { MaxProcs = 2, MinMemory = 1L << 30 })).ToList();
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(1));
        h.Time.Advance(Period);
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(2));
        h.Time.Advance(Period * 5);
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(2), "the cap holds whatever the load");
        h.Exit(jobs[0]);
        h.Time.Advance(Period);
        Assert.That(jobs.Count(j => j.State == JobState.Running), Is.EqualTo(2));
    }
}
