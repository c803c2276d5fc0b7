namespace Chaqum.Tests.Control;

/// <summary>chaqumctl hold / release / pause --all and the scheduled state, with a real
/// daemon; every wait is for a file or an answer.</summary>
[TestFixture, CancelAfter(180_000)]
public class HoldTests
{
    private static string State(TempTree tree, string id) => Ctl.Job(tree, id)?["state"]?.GetValue<string>() ?? "(gone)";

    private static string Enqueue(TempTree tree, params string[] words)
    {
        var r = Ctl.Run(tree, new[] { "enqueue" }.Concat(words).ToArray());
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        return r.Out.Trim();
    }

    [Test]
    public void A_scheduled_job_shows_in_ps_and_show_with_its_due_time_and_kill_cancels_it()
    {
        using var tree = new TempTree();
        tree.Script("mark", "touch \"ran.$1\"\n");
        using var d = Ctl.Daemon(tree, "");
        string id = Enqueue(tree, "-d", "1h", "--", "mark", "later");
        var job = Ctl.Job(tree, id)!;
        Assert.That(job["state"]!.GetValue<string>(), Is.EqualTo("scheduled"));
        var due = DateTimeOffset.Parse(job["due_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(due, Is.GreaterThan(DateTimeOffset.Now.AddMinutes(50)));
        Assert.That(Ctl.Run(tree, "ps").Out, Does.Match(System.Text.RegularExpressions.Regex.Escape(id) + @"\s+scheduled\s+-\s+-\s+due "));
        var filtered = Ctl.Run(tree, "ps", "--state", "scheduled", "--json").Json.AsArray();
        Assert.That(filtered.Select(j => j!["id"]!.GetValue<string>()), Is.EqualTo(new[] { id }));
        Assert.That(Ctl.Run(tree, "show", id).Out, Does.Contain("state        scheduled").And.Contain("due "));

        string at = Enqueue(tree, "-A", "2099-01-01T00:00Z", "--", "mark", "far");
        Assert.That(State(tree, at), Is.EqualTo("scheduled"));

        var kill = Ctl.Run(tree, "kill", id);
        Assert.That(kill.Exit, Is.EqualTo(0), kill.ToString());
        Poll.Until(() => State(tree, id) is "cancelled" or "(gone)", "the scheduled job to be cancelled");
        Assert.That(tree.Exists("ran.later"), Is.False);
        d.WaitForLine(System.Text.RegularExpressions.Regex.Escape(id) + ": cancelled");
        File.WriteAllText(tree.PathOf("stop"), "");
        Ctl.Run(tree, "kill", at);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void A_held_job_waits_until_released_and_others_pass_it()
    {
        using var tree = new TempTree();
        tree.Script("blocker", "while [ ! -e go ]; do sleep 0.05; done\n");
        tree.Script("mark", "touch \"ran.$1\"\n");
        using var d = Ctl.Daemon(tree, "");
        string held = Enqueue(tree, "-H", "--", "mark", "held");
        Assert.That(State(tree, held), Is.EqualTo("held"));
        Assert.That(Ctl.Run(tree, "ps").Out, Does.Match(System.Text.RegularExpressions.Regex.Escape(held) + @"\s+held"));

        string blocker = Enqueue(tree, "-g", "g", "-m", "1", "--", "blocker");
        Poll.Until(() => State(tree, blocker) == "running", "the blocker to run");
        string a = Enqueue(tree, "-g", "g", "--", "mark", "a");
        string b = Enqueue(tree, "-g", "g", "--", "mark", "b");
        var hold = Ctl.Run(tree, "hold", a);
        Assert.That(hold.Exit, Is.EqualTo(0), hold.ToString());
        Assert.That(hold.Out.Trim(), Is.EqualTo($"{a}: held"));
        Assert.That(Ctl.Run(tree, "ps", "--state", "queued", "--json").Json.AsArray().Select(j => j!["id"]!.GetValue<string>()),
            Is.SupersetOf(new[] { a, b, held }), "queued finds the held queued jobs too");

        File.WriteAllText(tree.PathOf("go"), "");
        Poll.Until(() => tree.Exists("ran.b"), "b to pass the held a");
        Assert.That(tree.Exists("ran.a"), Is.False);
        Assert.That(tree.Exists("ran.held"), Is.False);
        Assert.That(State(tree, a), Is.EqualTo("held"));

        Assert.That(Ctl.Run(tree, "release", a).Exit, Is.EqualTo(0));
        Assert.That(Ctl.Run(tree, "release", held).Exit, Is.EqualTo(0));
        Poll.Until(() => tree.Exists("ran.a") && tree.Exists("ran.held"), "the released jobs to run");
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Hold_and_release_refuse_with_a_sentence()
    {
        using var tree = new TempTree();
        tree.Script("sleeper", "while [ ! -e stop ]; do sleep 0.05; done\n");
        using var d = Ctl.Daemon(tree, "");
        string running = Enqueue(tree, "--", "sleeper");
        Poll.Until(() => State(tree, running) == "running", "the sleeper to run");

        var r = Ctl.Run(tree, "hold", running);
        Assert.That(r.Exit, Is.EqualTo(1), r.ToString());
        Assert.That(r.Err, Does.Contain($"job {running} is running"));
        r = Ctl.Run(tree, "hold", "nosuch/1");
        Assert.That(r.Exit, Is.EqualTo(1));
        Assert.That(r.Err, Does.Contain("no job 'nosuch/1'"));
        r = Ctl.Run(tree, "release", running);
        Assert.That(r.Exit, Is.EqualTo(1));
        Assert.That(r.Err, Does.Contain("not held"));
        r = Ctl.Run(tree, "hold");
        Assert.That(r.Exit, Is.EqualTo(2), "usage error");
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Pause_all_holds_grouped_and_ungrouped_jobs_until_resume_all()
    {
        using var tree = new TempTree();
        tree.Script("mark", "touch \"ran.$1\"\n");
        using var d = Ctl.Daemon(tree, "");
        var pause = Ctl.Run(tree, "pause", "--all");
        Assert.That(pause.Exit, Is.EqualTo(0), pause.ToString());
        Assert.That(pause.Out.Trim(), Is.EqualTo("all groups: paused"));
        string plain = Enqueue(tree, "--", "mark", "plain");
        string grouped = Enqueue(tree, "-g", "fresh", "--", "mark", "grouped");
        Assert.That(State(tree, plain), Is.EqualTo("queued"));
        Assert.That(State(tree, grouped), Is.EqualTo("queued"));
        var groups = Ctl.Run(tree, "groups", "--json");
        Assert.That(groups.Out, Does.Contain("\"paused\": true"));

        Assert.That(Ctl.Run(tree, "resume", "--all").Exit, Is.EqualTo(0));
        Poll.Until(() => tree.Exists("ran.plain") && tree.Exists("ran.grouped"), "both to run after resume --all");

        // The ungrouped jobs alone, by the name ps shows them under.
        var ungrouped = Ctl.Run(tree, "pause", "-g", "-");
        Assert.That(ungrouped.Exit, Is.EqualTo(0), ungrouped.ToString());
        Assert.That(ungrouped.Out.Trim(), Is.EqualTo("group -: paused"));
        string again = Enqueue(tree, "--", "mark", "again");
        string other = Enqueue(tree, "-g", "other", "--", "mark", "other");
        Poll.Until(() => tree.Exists("ran.other"), "a named group to go on");
        Assert.That(State(tree, again), Is.EqualTo("queued"));
        Assert.That(Ctl.Run(tree, "resume", "-").Exit, Is.EqualTo(0));
        Poll.Until(() => tree.Exists("ran.again"), "the ungrouped job to run after resume");

        Assert.That(Ctl.Run(tree, "pause").Exit, Is.EqualTo(2), "neither a target nor --all");
        Assert.That(Ctl.Run(tree, "pause", "--all", "g").Exit, Is.EqualTo(2), "both");
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }
}
