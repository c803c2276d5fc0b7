using Chaqum.Scheduling;

namespace Chaqum.Tests.Unit;

[TestFixture, CancelAfter(30_000)]
public class JobStateTests
{
    [TestCase(JobState.Pending, JobState.Queued)]
    [TestCase(JobState.Pending, JobState.Cancelled)]
    [TestCase(JobState.Pending, JobState.Scheduled)]
    [TestCase(JobState.Scheduled, JobState.Queued)]
    [TestCase(JobState.Scheduled, JobState.Cancelled)]
    [TestCase(JobState.Queued, JobState.Starting)]
    [TestCase(JobState.Queued, JobState.Cancelled)]
    [TestCase(JobState.Starting, JobState.Running)]
    [TestCase(JobState.Starting, JobState.Queued)]
    [TestCase(JobState.Starting, JobState.Cancelled)]
    [TestCase(JobState.Running, JobState.Done)]
    [TestCase(JobState.Running, JobState.Retrying)]
    [TestCase(JobState.Retrying, JobState.Queued)]
    [TestCase(JobState.Retrying, JobState.Done)]
    public void Allowed_transitions(JobState from, JobState to)
    {
        Assert.That(JobStates.CanMove(from, to), Is.True);
    }

    [Test]
    public void Everything_else_is_forbidden()
    {
        int allowed = 0;
        foreach (var from in Enum.GetValues<JobState>())
        foreach (var to in Enum.GetValues<JobState>())
            if (JobStates.CanMove(from, to)) allowed++;
        Assert.That(allowed, Is.EqualTo(14));
        Assert.That(JobStates.CanMove(JobState.Scheduled, JobState.Starting), Is.False, "a due job joins its queue first");
        Assert.That(JobStates.CanMove(JobState.Done, JobState.Running), Is.False);
        Assert.That(JobStates.CanMove(JobState.Cancelled, JobState.Queued), Is.False);
        Assert.That(JobStates.CanMove(JobState.Queued, JobState.Running), Is.False, "must pass through Starting");
        Assert.That(JobStates.CanMove(JobState.Running, JobState.Cancelled), Is.False, "a run ends with a status");
    }

    [Test]
    public void Illegal_move_throws()
    {
        var job = new Job("x/1", 1, new ScriptPath("x", "/t/x"), Array.Empty<string>(), null, new Group(""), JobOptions.Default);
        Assert.That(job.State, Is.EqualTo(JobState.Pending));
        Assert.Throws<InvalidOperationException>(() => JobStates.Move(job, JobState.Running));
        JobStates.Move(job, JobState.Queued);
        Assert.That(job.State, Is.EqualTo(JobState.Queued));
    }

    [Test]
    public void Status_wire_forms()
    {
        Assert.That(JobStatus.Exited(0).Wire, Is.EqualTo("0"));
        Assert.That(JobStatus.Exited(255).Wire, Is.EqualTo("255"));
        Assert.That(JobStatus.Killed(15).Wire, Is.EqualTo("-15"));
        Assert.That(JobStatus.NeverRan.Wire, Is.EqualTo("N"));
    }
}
