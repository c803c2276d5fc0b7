using OpenQA.Selenium;

namespace Chaqum.Tests.Web;

/// <summary>The dashboard in a real browser (Debian's headless Chromium): what an operator
/// sees and clicks. Every wait is for an element or a text to appear; a screenshot of
/// each page is kept as an attachment of the test that shows it.</summary>
[TestFixture, CancelAfter(300_000)]
public class BrowserTests
{
    private WebTree _w = null!;
    private Browser _b = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _w = new WebTree();
        _b = new Browser();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _b?.Dispose();
        _w?.Dispose();
    }

    private string Url(string path) => _w.Web.BaseUrl + path;
    private static string JobPath(string id) => "/jobs/" + id;

    [Test]
    public void The_overview_shows_a_running_job()
    {
        string id = _w.Enqueue("-g", "overview", "--", "gate", "overview");
        Poll.Until(() => _w.State(id) == "running", "the job to run");
        _b.Go(Url("/"));
        var link = _b.Wait(By.LinkText(id));
        Assert.That(link.GetAttribute("href"), Does.EndWith(JobPath(id)));
        Assert.That(_b.Text(By.TagName("main")), Does.Contain("overview").And.Contain("Running now"));
        _b.Screenshot("overview");
        _w.Open("overview");
    }

    [Test]
    public void The_job_page_follows_its_output_live_while_the_job_prints()
    {
        string id = _w.Enqueue("--", "talk", "live");
        Poll.Until(() => _w.State(id) == "running", "the job to run");
        _b.Go(Url(JobPath(id)));
        _b.Wait(By.Id("output"), e => e.Text.Contains("first line"), "the first line on the page");
        // A mark in this page: if the second line came by reloading, the mark would be gone.
        _b.Driver.ExecuteScript("window.chaqumMark = 'same page';");
        Assert.That(_b.Text(By.Id("output")), Does.Not.Contain("second line"));
        _w.Open("live");
        _b.Wait(By.Id("output"), e => e.Text.Contains("second line after the gate"), "the second line to arrive live");
        Assert.That(_b.Driver.ExecuteScript("return window.chaqumMark;"), Is.EqualTo("same page"));
        _b.Screenshot("job-live-output");
        File.WriteAllText(_w.Tree.PathOf("end.live"), "");
        _b.Wait(By.Id("job-state"), e => e.Text.Contains("done"), "the page to show the job done");
    }

    [Test]
    public void Kill_from_the_job_page_ends_the_job_and_it_appears_in_history()
    {
        string id = _w.Enqueue("--", "gate", "killme");
        Poll.Until(() => _w.State(id) == "running", "the job to run");
        _b.Go(Url(JobPath(id)));
        _b.Wait(By.XPath("//button[text()='Kill']")).Click();
        _b.Wait(By.Id("job-state"), e => e.Text.Contains("done"), "the job page to show the job ended");
        Poll.Until(() => _w.Get("api/history?id=" + id)["runs"]!.AsArray().Count == 1, "the killed run in the history");
        _b.Go(Url("/history?id=" + Uri.EscapeDataString(id)));
        var row = _b.Wait(By.CssSelector("tr.o-killed"));
        Assert.That(row.Text, Does.Contain(id).And.Contain("killed"));
        _b.Screenshot("history-killed");
    }

    [Test]
    public void Kill_asks_first_when_another_job_waits_on_the_target()
    {
        string target = _w.Enqueue("--", "gate", "waited");
        Poll.Until(() => _w.State(target) == "running", "the target to run");
        _w.Tree.Script("waiter", $"#!/bin/sh\nprintf 'wait -- %s\\n' '{target}' >&3; read -r r <&4; echo \"$r\"\n");
        string waiter = _w.Enqueue("--", "waiter");
        Poll.Until(() => _w.Get("api/jobs/" + target)["waited_on_by"]!.AsArray().Count == 1, "the waiter to wait");
        _b.Go(Url(JobPath(target)));
        _b.Wait(By.XPath("//button[text()='Kill']")).Click();
        var confirm = _b.Wait(By.Id("confirm-kill"));
        Assert.That(_b.Text(By.TagName("main")), Does.Contain(waiter).And.Contain("waits on it"));
        Assert.That(_w.State(target), Is.EqualTo("running"), "nothing is killed before the confirmation");
        _b.Screenshot("kill-confirm");
        confirm.Click();
        _b.Wait(By.Id("job-state"), e => e.Text.Contains("done"), "the target to end");
        Poll.Until(() => _w.StateOrGone(waiter) is "done" or "(gone)", "the waiter to get its answer");
    }

    [Test]
    public void The_kill_list_kills_exactly_the_checked_jobs()
    {
        // lap runs fast without arguments (its usual runtime), and holds with "hold NAME".
        _w.Tree.Script("lap", "[ \"$1\" = hold ] || exit 0\nwhile [ ! -e \"go.$2\" ]; do sleep 0.05; done\n");
        for (int i = 0; i < 3; i++) Assert.That(Chaqum.Tests.Control.Ctl.Run(_w.Tree, "run", "--", "lap").Exit, Is.EqualTo(0));
        var ids = new[] { "a", "b", "c" }.Select(n => _w.Enqueue("--", "lap", "hold", "kl-" + n)).ToArray();
        Poll.Until(() => _w.Get("api/jobs?longer=true")["total"]!.GetValue<int>() == 3, "the three holding laps to run longer than usual");
        _b.Go(Url("/killlist"));
        foreach (var id in new[] { ids[0], ids[2] }) _b.Wait(By.CssSelector($"input[type=checkbox][value='{id}']")).Click();
        _b.Screenshot("killlist");
        _b.Driver.FindElement(By.Id("kill-checked")).Click();
        var result = _b.Wait(By.Id("killed"));
        Assert.That(result.Text, Does.Contain(ids[0] + ": sent SIGTERM").And.Contain(ids[2] + ": sent SIGTERM").And.Not.Contain(ids[1]));
        _b.Screenshot("killlist-result");
        Poll.Until(() => _w.StateOrGone(ids[0]) is "done" or "(gone)" && _w.StateOrGone(ids[2]) is "done" or "(gone)", "the checked jobs to end");
        Assert.That(_w.State(ids[1]), Is.EqualTo("running"), "the unchecked job lives");
        _w.Open("kl-b");
    }

    [Test]
    public void Output_that_looks_like_markup_is_shown_as_text()
    {
        string id = _w.Enqueue("--", "xss");
        // Ended and forgotten by the daemon: its page comes from the history.
        Poll.Until(() => _w.Get("api/history?id=" + id)["runs"]!.AsArray().Count == 1, "the job's run in the history");
        _b.Go(Url(JobPath(id)));
        var output = _b.Wait(By.Id("output"), e => e.Text.Contains("alert"), "the output");
        Assert.That(output.Text, Does.Contain("<script>alert(1)</script><b>bold</b>"));
        Assert.That(output.FindElements(By.TagName("b")), Is.Empty);
        Assert.That(output.FindElements(By.TagName("script")), Is.Empty);
        Assert.Throws<NoAlertPresentException>(() => _b.Driver.SwitchTo().Alert());
        _b.Screenshot("job-xss-as-text");
    }

    [Test]
    public void Jobs_history_stats_and_snapshots_pages_render()
    {
        // Runs of varied length, some failing: something to plot.
        _w.Tree.Script("vary", "i=0; while [ $i -lt \"$1\" ]; do i=$((i+1)); done\n[ \"$2\" = fail ] && exit 1\nexit 0\n");
        _w.Tree.Script("many", "#!/bin/sh\nids=''\nfor n in 100 2000 500 8000 300 4000 1200 9000 700 3000 200 6000; do\n"
            + " f=ok; [ $n = 4000 ] || [ $n = 700 ] && f=fail\n printf 'enqueue -- vary %s %s\\n' $n $f >&3; read -r r <&4; ids=\"$ids ${r#S }\"\ndone\n"
            + "printf 'wait --%s\\n' \"$ids\" >&3; read -r r <&4\n");
        Assert.That(Chaqum.Tests.Control.Ctl.Run(_w.Tree, "run", "--", "many").Exit, Is.EqualTo(0));
        for (int i = 0; i < 30; i++) _w.Enqueue("-H", "-g", "pile", "--", "ok", "queued" + i);

        _b.Go(Url("/jobs?group=pile&state=held"));
        Assert.That(_b.Wait(By.ClassName("pager")).Text, Does.Contain("30 jobs"));
        _b.Screenshot("jobs");
        _b.Go(Url("/history?script=vary"));
        Assert.That(_b.Driver.FindElements(By.CssSelector("figure.plot svg")).Count, Is.EqualTo(2));
        Assert.That(_b.Driver.FindElements(By.CssSelector("svg circle.ok")).Count, Is.EqualTo(10));
        _b.Screenshot("history-plots");
        _b.Go(Url("/stats"));
        Assert.That(_b.Wait(By.LinkText("vary")), Is.Not.Null);
        _b.Screenshot("stats");

        _b.Go(Url("/snapshots"));
        _b.Wait(By.XPath("//button[text()='Take a snapshot now']")).Click();
        _b.Wait(By.XPath("//td[text()='1']"));
        string gone = _w.Get("api/jobs?group=pile&limit=1")["jobs"]![0]!["id"]!.GetValue<string>();
        Assert.That((int)_w.Http.DeleteAsync("api/jobs/" + gone).Result.StatusCode, Is.EqualTo(200));
        _b.Wait(By.XPath("//button[text()='Take a snapshot now']")).Click();
        var diff = _b.Wait(By.ClassName("diff"));
        Assert.That(diff.Text, Does.Contain(gone));
        _b.Screenshot("snapshots-diff");
        foreach (var j in _w.Get("api/jobs?group=pile&limit=1000")["jobs"]!.AsArray()) _w.Http.DeleteAsync("api/jobs/" + j!["id"]!.GetValue<string>()).Wait();
    }
}
