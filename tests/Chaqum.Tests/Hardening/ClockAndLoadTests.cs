using Chaqum.Native;
using Chaqum.Scheduling;
using Chaqum.Scheduling.Barriers;
using Chaqum.Scheduling.Repeats;
using Chaqum.Tests.Scheduling;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chaqum.Tests.Hardening;

/// <summary>
/// Faults of the world around the daemon, with a fake clock: the wall clock jumping
/// forwards and backwards leaves timeouts and interval repeats alone and fires no burst of
/// cron repeats (RepeatTests covers a cron jump by itself); /proc figures that cannot be
/// read, through the real reader on a fake /proc, hold barriers closed and say why, and
/// release them once readable (BarrierTests covers the same with a fake reader).
/// </summary>
[TestFixture, CancelAfter(30_000)]
public class ClockAndLoadTests
{
    [Test]
    public void Wall_clock_jumps_leave_timeouts_and_intervals_alone_and_fire_no_cron_burst()
    {
        var h = new Harness();
        h.Time.WallNow = new DateTimeOffset(2026, 11, 22, 12, 0, 30, TimeSpan.Zero);
        var job = h.Enqueue(options: new JobOptions { Timeout = TimeSpan.FromSeconds(10) });
        var every5s = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("tick"), Array.Empty<string>(), "5s")
        {
            Every = TimeSpan.FromSeconds(5), Owner = h.Init, AllowOverlap = true,
        });
        var everyMinute = h.Scheduler.AddRepeat(new RepeatRequest(Harness.Script("cron"), Array.Empty<string>(), "* * * * *")
        {
            Cron = CronExpression.Parse("* * * * *"), Owner = h.Init, AllowOverlap = true,
        });

        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Time.SetWallClock(h.Time.WallNow.AddDays(3));        // forwards: three days
        h.Time.Advance(TimeSpan.FromSeconds(3));
        h.Time.SetWallClock(h.Time.WallNow.AddDays(-5));       // backwards: five days
        h.Time.Advance(TimeSpan.FromSeconds(3.9));
        Assert.That(h.Launcher.Signals.Where(s => s.Job == job), Is.Empty, "9.9 s of the job's run: no timeout yet, jumps or not");
        Assert.That(every5s.Fired, Is.EqualTo(1), "the interval repeat fired at 5 s, on the monotonic clock");

        h.Time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.That(h.Launcher.Signals.Where(s => s.Job == job).Select(s => s.Signal), Is.EqualTo(new[] { Signals.SIGTERM }),
            "timed out at 10 s exactly");
        Assert.That(every5s.Fired, Is.EqualTo(2));
        Assert.That(everyMinute.Fired, Is.EqualTo(0), "no minute boundary was crossed after a jump; nothing missed is replayed");

        h.Time.Advance(TimeSpan.FromMinutes(3));
        Assert.That(everyMinute.Fired, Is.EqualTo(3), "once a minute from the new present, no burst");
        Assert.That(every5s.Fired, Is.EqualTo(2 + 36));
    }

    [Test]
    public void Unreadable_proc_figures_hold_barriers_closed_and_say_so_until_readable()
    {
        var proc = Path.Combine(Path.GetTempPath(), "chaqum-proc-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(proc);
        try
        {
            // stat missing, loadavg a directory, meminfo without MemAvailable.
            Directory.CreateDirectory(Path.Combine(proc, "loadavg"));
            File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal: 1000 kB\n");
            using var load = new ProcLoadSource(proc);
            var reading = load.Read();
            Assert.That((reading.CpuOk, reading.LoadOk, reading.MemOk), Is.EqualTo((false, false, false)));

            var time = new FakeTime();
            var scheduler = new Scheduler(new SchedulerSettings { Grace = TimeSpan.FromSeconds(10) }, time, time, load,
                new FakeLauncher(), new Counter(), NullLogger.Instance);
            var init = scheduler.EnqueueEntry(Harness.Script("init"), Array.Empty<string>());
            Job Enqueue(GroupLimits limits, string group) => scheduler.Enqueue(new EnqueueRequest(Harness.Script("work"), Array.Empty<string>())
            {
                Parent = init, GroupName = group, Limits = limits, Options = JobOptions.Default,
            });
            var byMemory = Enqueue(new GroupLimits { MinMemory = 1 }, "mem");
            var byLoad = Enqueue(new GroupLimits { MaxLoad = 100 }, "load");
            var byCpu = Enqueue(new GroupLimits { MaxCpu = 0.99 }, "cpu");
            var free = Enqueue(GroupLimits.Unchanged, "free");
            time.Advance(TimeSpan.FromSeconds(5));
            Assert.That(new[] { byMemory.State, byLoad.State, byCpu.State }, Is.All.EqualTo(JobState.Queued), "every barrier fails closed");
            Assert.That(free.State, Is.EqualTo(JobState.Running), "a group without barriers is not held up");
            Assert.That(scheduler.FindGroup("mem")!.HoldReason, Does.Contain(proc));

            // The figures come back: the barriers open on the next samples.
            Directory.Delete(Path.Combine(proc, "loadavg"));
            File.WriteAllText(Path.Combine(proc, "loadavg"), "0.50 0.40 0.30 1/100 1234\n");
            File.WriteAllText(Path.Combine(proc, "meminfo"), "MemTotal: 1000 kB\nMemAvailable: 900 kB\n");
            File.WriteAllText(Path.Combine(proc, "stat"), "cpu  100 0 100 800 0 0 0 0 0 0\n");
            time.Advance(TimeSpan.FromSeconds(1));
            File.WriteAllText(Path.Combine(proc, "stat"), "cpu  110 0 110 880 0 0 0 0 0 0\n");
            time.Advance(TimeSpan.FromSeconds(3));
            Assert.That(new[] { byMemory.State, byLoad.State, byCpu.State }, Is.All.EqualTo(JobState.Running));
        }
        finally
        {
            Directory.Delete(proc, true);
        }
    }
}
