using Chaqum.History;
using Chaqum.Scheduling;
using Chaqum.Persistence;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chaqum.Tests.Unit;

/// <summary>The live journal on its own: what it is read back as, and its rewrite, which
/// keeps it in proportion to the live jobs without losing one. Real files in a scratch
/// directory; the jobs are made by hand (the daemon's tests kill it for real).</summary>
[TestFixture, CancelAfter(60_000)]
public class LiveJournalTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Path.Combine(Path.GetTempPath(), "chaqum-journal-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, true);

    private static Job NewJob(int n, params string[] args) =>
        new($"work/{n}", n, new ScriptPath("work", "/tree/work"), args, null, new Group(""), JobOptions.Default)
        {
            EnqueuedAt = DateTimeOffset.UnixEpoch.AddSeconds(1_764_500_000 + n),
        };

    [Test]
    public void What_is_written_is_read_back_live_or_finished()
    {
        var live = new List<Job>();
        using (var journal = new LiveJournal(_dir, () => live, NullLogger.Instance))
        {
            journal.Begin();
            var a = NewJob(1, "a b", "ü\n\t\"");
            var b = NewJob(2);
            live.AddRange(new[] { a, b });
            journal.Enqueued(a);
            journal.Enqueued(b);
            journal.Finished(b);
            live.Remove(b);
            var records = LiveJournal.Read(_dir).Jobs;
            Assert.That(records.Select(r => (r.Job.Id, r.Finished)), Is.EquivalentTo(new[] { ("work/1", false), ("work/2", true) }));
            var first = records.Single(r => r.Job.Id == "work/1").Job;
            Assert.That(first.Args, Is.EqualTo(new[] { "a b", "ü\n\t\"" }));
            Assert.That(first.Script, Is.EqualTo("work"));
            Assert.That(first.EnqueuedAt, Is.EqualTo(a.EnqueuedAt));
            live.Clear(); // a clean stop: nothing live, the file goes
        }
        Assert.That(File.Exists(Path.Combine(_dir, LiveJournal.FileName)), Is.False);
    }

    [Test]
    public void The_rewrite_keeps_every_live_job_and_the_file_stays_small()
    {
        // 50 jobs live throughout (every rewrite must carry them), and 60 000 through, 100
        // of them live at any time: 10+ MB of events, many rewrites. Each finished job's
        // run goes to the journal too; the history "writes" them 200 behind, and every run
        // it has not written yet must survive every rewrite.
        var longLived = Enumerable.Range(1, 50).Select(n => NewJob(n, "long")).ToList();
        var churn = new List<Job>();
        IEnumerable<Job> Live() => longLived.Concat(churn);
        long ran = 0;
        var journal = new LiveJournal(_dir, Live, NullLogger.Instance, writtenRuns: () => Math.Max(0, ran - 200));
        journal.Begin();
        foreach (var job in longLived) journal.Enqueued(job);
        var runs = new List<string>();
        for (int n = 1000; n < 61_000; n++)
        {
            var job = NewJob(n, "x");
            churn.Add(job);
            journal.Enqueued(job);
            if (churn.Count > 100)
            {
                var done = churn[0];
                churn.RemoveAt(0);
                ran++;
                runs.Add(done.Id);
                journal.Ran(new RunRecord { Id = done.Id, Attempt = 1, Script = "work", Args = done.Args, EnqueuedAt = done.EnqueuedAt, Outcome = "exited" });
                journal.Finished(done);
            }
        }
        var live = Live().ToList();
        long size = new FileInfo(Path.Combine(_dir, LiveJournal.FileName)).Length;
        var contents = LiveJournal.Read(_dir);
        var records = contents.Jobs;
        Assert.That(contents.Runs.Select(r => r.Id), Is.SupersetOf(runs.TakeLast(200)), "every run the history lacks is kept");
        Assert.That(contents.Runs, Has.Count.LessThan(10_000), "and not every run ever");
        Assert.That(journal.UnwrittenRuns, Is.EqualTo(200));
        Assert.That(records.Where(r => !r.Finished).Select(r => r.Job.Id), Is.EquivalentTo(live.Select(j => j.Id)),
            "every live job, and no other, is live in the journal");
        Assert.That(size, Is.LessThan(3L << 20), "rewritten, not grown without end");
        Assert.That(records.Count(r => r.Finished), Is.InRange(0, 10_000), "finished jobs since the last rewrite only");
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName), Is.EqualTo(new[] { LiveJournal.FileName }), "no temporary file left");
        longLived.Clear();
        churn.Clear();
        journal.Dispose();
    }

    [Test]
    public void A_Slurm_job_s_executor_node_and_id_and_its_group_s_executor_are_read_back()
    {
        var group = new Group("remote") { Executor = new Executor(ExecutorKind.Slurm, "main", new[] { "--time=5", "--mem=1G" }) };
        var job = new Job("work/3", 3, new ScriptPath("work", "/tree/work"), Array.Empty<string>(), null, group, JobOptions.Default)
        {
            EnqueuedAt = DateTimeOffset.UnixEpoch.AddSeconds(1_764_500_003),
            Attempt = 1,
        };
        var live = new List<Job> { job };
        using var journal = new LiveJournal(_dir, () => live, NullLogger.Instance, groups: () => new[] { group });
        journal.Begin();
        job.Placement = new Placement("slurm:main", null, null, "chaqum:/tree:work/3");
        journal.Started(job);
        Assert.That(LiveJournal.Read(_dir).Jobs.Single().Job.Executor, Is.EqualTo("slurm:main"), "known before the node is");
        job.Placement = new Placement("slurm:main", "n2", "42", "chaqum:/tree:work/3");
        journal.Started(job); // what Placed writes, for a running job
        var contents = LiveJournal.Read(_dir);
        var r = contents.Jobs.Single().Job;
        Assert.That((r.Executor, r.Node, r.ExternalId), Is.EqualTo(("slurm:main", "n2", "42")));
        Assert.That(contents.Groups.Single().Limits.Executor, Is.EqualTo(group.Executor));
        live.Clear();
    }

    [Test]
    public void What_a_restart_needs_is_read_back_and_a_change_to_a_waiting_job_wins()
    {
        // Held, Urgent and DueAt are plain data here (their behaviour is enqueue -H/-U/-d's).
        var group = new Group("img") { MaxProcs = 2, Paused = true };
        var dep = NewJob(1);
        var job = new Job("work/2", 2, new ScriptPath("work", "/tree/work"), new[] { "x" }, null, group,
            new JobOptions { Timeout = TimeSpan.FromSeconds(90), Retries = 3, Key = "k", Forget = true, Requeue = true })
        {
            EnqueuedAt = DateTimeOffset.UnixEpoch.AddSeconds(1_764_500_002),
            FormerParentId = "spawner/1",
            Priority = 4,
            Attempt = 1,
            DueAt = DateTimeOffset.UnixEpoch.AddSeconds(1_764_600_000),
            Held = true,
            Urgent = true,
            WaitsOn = new[] { dep },
        };
        var live = new List<Job> { dep, job };
        using var journal = new LiveJournal(_dir, () => live, NullLogger.Instance, groups: () => new[] { group });
        journal.Begin(); // the whole state: the group, then both jobs
        job.Priority = 7;
        journal.Changed(job);
        var contents = LiveJournal.Read(_dir);
        var g = contents.Groups.Single();
        Assert.That((g.Name, g.Limits.MaxProcs, g.Paused), Is.EqualTo(("img", (int?)2, true)));
        var r = contents.Jobs.Single(j => j.Job.Id == "work/2").Job;
        Assert.That((r.Number, r.Priority, r.Attempt, r.Group, r.Parent), Is.EqualTo(((long?)2, 7, 1, "img", "spawner/1")));
        Assert.That((r.Timeout, r.Retries, r.Key, r.Forget, r.Requeue), Is.EqualTo(((TimeSpan?)TimeSpan.FromSeconds(90), 3, "k", true, true)));
        Assert.That((r.DueAt, r.Held, r.Urgent), Is.EqualTo((job.DueAt, true, true)));
        Assert.That(r.Dependencies, Is.EqualTo(new[] { "work/1" }));
        Assert.That(contents.Clean, Is.False, "only an orderly stop marks it");
        live.Clear();
    }
    [Test]
    public void A_plan_role_s_allocation_is_read_back_as_its_last_line_says_and_a_rewrite_keeps_those_still_held()
    {
        var root = new Chaqum.Plans.GroupNode { Parallel = true };
        var plan = new Chaqum.Plans.Plan("plan/3", root, Array.Empty<Chaqum.Plans.StepNode>()) { SubmittedAt = DateTimeOffset.UnixEpoch.AddSeconds(1_764_500_000) };
        var slurm = new Executor(ExecutorKind.Slurm, null, Array.Empty<string>());
        var a = new Chaqum.Plans.RoleAllocation(plan.Id, "convert", "chaqum:/tree:plan/3:convert", slurm);
        var b = new Chaqum.Plans.RoleAllocation(plan.Id, "report", "chaqum:/tree:plan/3:report", slurm);
        var c = new Chaqum.Plans.RoleAllocation(plan.Id, "gone", "chaqum:/tree:plan/3:gone", slurm);
        plan.Allocations = new[] { a, b, c };
        var plans = new List<Chaqum.Plans.Plan> { plan };
        using var journal = new LiveJournal(_dir, () => new List<Job>(), NullLogger.Instance) { LivePlans = () => plans };
        journal.Begin();
        journal.PlanSubmitted(plan);
        foreach (var x in plan.Allocations) journal.AllocationChanged(plan, x);
        a.SlurmJobId = "57";
        a.State = Chaqum.Plans.AllocationState.Granted;
        journal.AllocationChanged(plan, a);
        c.State = Chaqum.Plans.AllocationState.Withdrawn;
        journal.AllocationChanged(plan, c); // nothing left of it: not written again
        var read = LiveJournal.Read(_dir).Allocations;
        Assert.That(read.Select(l => (l.PlanId, l.Role, l.SlurmJobId)), Is.EquivalentTo(new[]
        {
            ("plan/3", "convert", (string?)"57"), ("plan/3", "report", (string?)null), ("plan/3", "gone", (string?)null),
        }));

        // Begin again (what a rewrite writes): the plan, and the allocations still held or asked for.
        using var again = new LiveJournal(_dir, () => new List<Job>(), NullLogger.Instance) { LivePlans = () => plans };
        again.Begin();
        var contents = LiveJournal.Read(_dir);
        Assert.That(contents.Plans.Single().Id, Is.EqualTo("plan/3"));
        Assert.That(contents.Allocations.Select(l => (l.Role, l.SlurmJobId)), Is.EquivalentTo(new[] { ("convert", (string?)"57"), ("report", (string?)null) }));
        journal.PlanEnded(plan);
        plans.Clear();
    }
}
