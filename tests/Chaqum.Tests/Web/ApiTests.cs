using Chaqum.Tests.Control;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Chaqum.Tests.Web;

/// <summary>The HTTP API with HttpClient against a real daemon and a real chaqum-web:
/// every route, its errors, the jobsch routes.</summary>
[TestFixture, CancelAfter(240_000)]
public class ApiTests
{
    private WebTree _w = null!;

    [OneTimeSetUp] public void Start() => _w = new WebTree();
    [OneTimeTearDown] public void Stop() => _w.Dispose();

    private HttpResponseMessage Send(HttpMethod method, string path, string? body = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        return _w.Http.SendAsync(request).Result;
    }

    private static JsonNode Json(HttpResponseMessage r) => JsonNode.Parse(r.Content.ReadAsStringAsync().Result)!;

    private static void IsError(HttpResponseMessage r, int status, string sentence)
    {
        string body = r.Content.ReadAsStringAsync().Result;
        Assert.That((int)r.StatusCode, Is.EqualTo(status), body);
        Assert.That(r.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"), body);
        Assert.That(JsonNode.Parse(body)!["error"]!.GetValue<string>(), Does.Contain(sentence));
    }

    [Test]
    public void Status_says_the_daemon_runs_with_its_jobs_and_groups()
    {
        var s = _w.Get("api/status");
        Assert.That(s["daemon_running"]!.GetValue<bool>(), Is.True);
        Assert.That(s["status"]!["version"]!.GetValue<string>(), Is.Not.Empty);
        Assert.That(s["status"]!["uptime_seconds"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(0));
        Assert.That(s["status"]!["jobs"]!["running"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(1));
        Assert.That(s["groups"]!.AsArray(), Is.Not.Null);
    }

    [Test]
    public void Post_api_jobs_enqueues_with_options_and_answers_201_with_the_id_then_show_and_log_work()
    {
        using var r = Send(HttpMethod.Post, "api/jobs", """{"script":"ok","args":["a b","<c>"],"group":"apigroup","max_procs":2,"priority":4,"timeout":600,"retries":1,"key":"k1"}""");
        Assert.That((int)r.StatusCode, Is.EqualTo(201), r.Content.ReadAsStringAsync().Result);
        string id = Json(r)["job_id"]!.GetValue<string>();
        Assert.That(id, Does.StartWith("ok/"));
        Assert.That(r.Headers.Location!.ToString(), Is.EqualTo("/api/jobs/" + id.Replace("/", "/")));
        Poll.Until(() => _w.Get("api/history?id=" + id)["runs"]!.AsArray().Count == 1, "the job's run in the history");
        var run = _w.Get("api/history?id=" + id)["runs"]![0]!;
        Assert.That(run["group"]!.GetValue<string>(), Is.EqualTo("apigroup"));
        Assert.That(run["args"]!.AsArray().Select(a => a!.GetValue<string>()), Is.EqualTo(new[] { "a b", "<c>" }));
        var log = _w.Get("api/jobs/" + id + "/log");
        Assert.That(log["lines"]!.AsArray().Select(l => l!["text"]!.GetValue<string>()), Is.EqualTo(new[] { "ok a b <c>" }));
    }

    [Test]
    public void Post_api_jobs_refuses_bad_bodies_and_scripts_outside_the_tree_with_a_sentence()
    {
        IsError(Send(HttpMethod.Post, "api/jobs", """{"args":["x"]}"""), 400, "a job needs a \"script\"");
        IsError(Send(HttpMethod.Post, "api/jobs", "not json"), 400, "not the JSON expected");
        IsError(Send(HttpMethod.Post, "api/jobs", """{"script":"../../etc/passwd"}"""), 400, "outside the job tree");
        IsError(Send(HttpMethod.Post, "api/jobs", """{"script":"/bin/sh"}"""), 400, "/bin/sh");
        IsError(Send(HttpMethod.Post, "api/jobs", """{"script":"ok","timeout":"soon"}"""), 400, "timeout");
        IsError(Send(HttpMethod.Post, "api/jobs", """{"script":"ok","max_cpu":[1]}"""), 400, "max_cpu");
        IsError(Send(HttpMethod.Post, "api/jobs", """{"plan":{"type":"sequence_group","work":[{"type":"execute","command":["/bin/sh"]}]}}"""), 400, "$.work[0].command");
        Assert.That(_w.Tree.Exists("passwd"), Is.False);
    }

    [Test]
    public void Get_api_jobs_pages_and_filters_on_the_daemon_side()
    {
        for (int i = 0; i < 7; i++) _w.Enqueue("-H", "-g", "paged", "--", "ok", "p" + i);
        var page = _w.Get("api/jobs?group=paged&state=held&offset=2&limit=3");
        Assert.That(page["total"]!.GetValue<int>(), Is.EqualTo(7));
        Assert.That((page["offset"]!.GetValue<int>(), page["limit"]!.GetValue<int>()), Is.EqualTo((2, 3)));
        Assert.That(page["jobs"]!.AsArray().Select(j => j!["args"]![0]!.GetValue<string>()), Is.EqualTo(new[] { "p2", "p3", "p4" }));
        Assert.That(_w.Get("api/jobs?script=ok&group=paged")["total"]!.GetValue<int>(), Is.EqualTo(7));
        IsError(Send(HttpMethod.Get, "api/jobs?sort=name"), 400, "unknown sort 'name'");
        IsError(Send(HttpMethod.Get, "api/jobs?offset=-1"), 400, "offset");
        IsError(Send(HttpMethod.Get, "api/jobs?limit=many"), 400, "limit");
        var all = _w.Get("api/jobs?group=paged&limit=1000")["jobs"]!.AsArray().Select(j => j!["id"]!.GetValue<string>()).ToList();
        foreach (var id in all) Assert.That((int)Send(HttpMethod.Delete, "api/jobs/" + id).StatusCode, Is.EqualTo(200));
    }

    [Test]
    public void Get_and_delete_of_an_unknown_job_are_404_with_a_sentence()
    {
        IsError(Send(HttpMethod.Get, "api/jobs/nosuch/9"), 404, "no job 'nosuch/9'");
        IsError(Send(HttpMethod.Delete, "api/jobs/nosuch/9"), 404, "no job 'nosuch/9'");
        IsError(Send(HttpMethod.Get, "api/jobs/nosuch/9/log"), 404, "no job 'nosuch/9'");
        IsError(Send(HttpMethod.Get, "api/jobs/nosuch/9/log?follow=1"), 404, "no job 'nosuch/9'");
    }

    [Test]
    public void Delete_api_jobs_kills_a_running_job_and_its_end_shows_in_the_history()
    {
        string id = _w.Enqueue("--", "gate", "api-delete");
        Poll.Until(() => _w.State(id) == "running", "the job to run");
        using var r = Send(HttpMethod.Delete, "api/jobs/" + id);
        Assert.That((int)r.StatusCode, Is.EqualTo(200));
        var killed = Json(r);
        Assert.That((killed["job_id"]!.GetValue<string>(), killed["was"]!.GetValue<string>(), killed["signal"]!.GetValue<string>()), Is.EqualTo((id, "running", "SIGTERM")));
        Poll.Until(() => _w.Get("api/history?id=" + id)["runs"]!.AsArray().Count == 1, "the killed run in the history");
        Assert.That(_w.Get("api/history?id=" + id)["runs"]![0]!["outcome"]!.GetValue<string>(), Is.EqualTo("killed"));
    }

    [Test]
    public void Log_follow_streams_json_lines_as_the_job_prints_until_it_ends()
    {
        string id = _w.Enqueue("--", "talk", "api-follow");
        Poll.Until(() => _w.State(id) == "running", "the job to run");
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/jobs/" + id + "/log?follow=1");
        using var response = _w.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).Result;
        Assert.That((int)response.StatusCode, Is.EqualTo(200));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/x-ndjson"));
        using var reader = new StreamReader(response.Content.ReadAsStreamAsync().Result);
        Assert.That(JsonNode.Parse(reader.ReadLine()!)!["line"]!["text"]!.GetValue<string>(), Is.EqualTo("first line"));
        _w.Open("api-follow");
        Assert.That(JsonNode.Parse(reader.ReadLine()!)!["line"]!["text"]!.GetValue<string>(), Is.EqualTo("second line after the gate"));
        File.WriteAllText(_w.Tree.PathOf("end.api-follow"), "");
        var end = JsonNode.Parse(reader.ReadLine()!)!["end"]!;
        Assert.That((end["state"]!.GetValue<string>(), end["status"]!.GetValue<string>()), Is.EqualTo(("done", "0")));
        Assert.That(reader.ReadLine(), Is.Null);
    }

    [Test]
    public void Jobsch_post_and_delete_jobs_exactly()
    {
        // curl -d sends application/x-www-form-urlencoded: jobsch clients do.
        using var posted = Send(HttpMethod.Post, "jobs", """{"script":"gate","args":["jobsch"]}""", "application/x-www-form-urlencoded");
        Assert.That((int)posted.StatusCode, Is.EqualTo(200), posted.Content.ReadAsStringAsync().Result);
        var answer = Json(posted).AsObject();
        Assert.That(answer.Select(p => p.Key), Is.EqualTo(new[] { "job_id" }));
        string id = answer["job_id"]!.GetValue<string>();
        Poll.Until(() => _w.State(id) == "running", "the jobsch job to run");

        using var deleted = Send(HttpMethod.Delete, "jobs", $$"""{"job_id":"{{id}}"}""");
        Assert.That((int)deleted.StatusCode, Is.EqualTo(200), deleted.Content.ReadAsStringAsync().Result);
        Poll.Until(() => _w.StateOrGone(id) is "done" or "(gone)", "the jobsch job to end");

        IsError(Send(HttpMethod.Delete, "jobs", """{"job_id":"nosuch/1"}"""), 400, "no job 'nosuch/1'");
        IsError(Send(HttpMethod.Delete, "jobs", """{}"""), 400, "job_id");
        IsError(Send(HttpMethod.Post, "jobs", """{"script":"nosuch"}"""), 400, "no such script");
    }

    /// <summary>jobsch posts a plan document as the job: it is submitted as a plan, its id
    /// is the job_id, and DELETE /jobs with that id cancels the plan (issue 13, item 2).</summary>
    [Test]
    public void Jobsch_post_of_a_plan_answers_its_id_and_delete_cancels_it()
    {
        const string plan = """{"type":"sequence_group","work":[{"type":"execute","command":["gate","jobsch-plan"]},{"type":"execute","command":"ok after"}]}""";
        using var posted = Send(HttpMethod.Post, "jobs", plan, "application/x-www-form-urlencoded");
        Assert.That((int)posted.StatusCode, Is.EqualTo(200), posted.Content.ReadAsStringAsync().Result);
        string id = Json(posted)["job_id"]!.GetValue<string>();
        Assert.That(id, Does.Match(@"^plan/\d+$"));
        Poll.Until(() => Ctl.Run(_w.Tree, "ps", "--json").Json.AsArray()
            .Any(j => j!["plan"]?.GetValue<string>() == id && j["state"]!.GetValue<string>() == "running"), "the plan's first step to run");

        using var deleted = Send(HttpMethod.Delete, "jobs", $$"""{"job_id":"{{id}}"}""");
        Assert.That((int)deleted.StatusCode, Is.EqualTo(200), deleted.Content.ReadAsStringAsync().Result);
        var shown = Poll.Until(() => Ctl.Run(_w.Tree, "plan", "show", id, "--json") is { Exit: 0 } r && r.Json["state"]?.GetValue<string>() == "cancelled" ? r : null,
            "the plan to end cancelled");
        Assert.That(shown.Json["state"]!.GetValue<string>(), Is.EqualTo("cancelled"));
        IsError(Send(HttpMethod.Delete, "jobs", """{"job_id":"plan/999999"}"""), 400, "plan/999999");
        IsError(Send(HttpMethod.Post, "jobs", """{"type":"teleport","work":[]}"""), 400, "$.type");
    }

    [Test]
    public void Groups_pause_and_resume_and_groups_and_repeats_list()
    {
        _w.Enqueue("-H", "-g", "pausable", "--", "ok");
        using (var r = Send(HttpMethod.Post, "api/groups/pausable/pause"))
        {
            Assert.That((int)r.StatusCode, Is.EqualTo(200));
            Assert.That(Json(r)["paused"]!.GetValue<bool>(), Is.True);
        }
        var group = _w.Get("api/groups")["groups"]!.AsArray().Single(g => g!["name"]?.GetValue<string>() == "pausable")!;
        Assert.That(group["paused"]!.GetValue<bool>(), Is.True);
        using (var r = Send(HttpMethod.Post, "api/groups/pausable/resume"))
            Assert.That(Json(r)["paused"]!.GetValue<bool>(), Is.False);
        IsError(Send(HttpMethod.Post, "api/groups/nosuchgroup/pause"), 404, "nosuchgroup");
        Assert.That(_w.Get("api/repeats")["repeats"]!.AsArray(), Is.Empty);
        foreach (var j in _w.Get("api/jobs?group=pausable")["jobs"]!.AsArray()) Send(HttpMethod.Delete, "api/jobs/" + j!["id"]!.GetValue<string>());
    }

    [Test]
    public void History_and_stats_read_the_database()
    {
        string id = _w.Enqueue("--", "fail");
        Poll.Until(() => _w.Get("api/history?id=" + id)["runs"]!.AsArray().Count == 1, "the failed run");
        Assert.That(_w.Get("api/history?failed=true&script=fail")["runs"]!.AsArray().Select(r => r!["outcome"]!.GetValue<string>()), Has.All.EqualTo("failed"));
        var stats = _w.Get("api/stats")["scripts"]!.AsArray().Single(s => s!["script"]!.GetValue<string>() == "fail")!;
        Assert.That(stats["failures"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(1));
        IsError(Send(HttpMethod.Get, "api/history?since=yesterdayish"), 400, "since 'yesterdayish'");
    }

    [Test]
    public void The_openapi_document_and_the_metrics_are_served()
    {
        var doc = _w.Get("openapi/v1.json");
        var paths = doc["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.That(paths, Is.SupersetOf(new[] { "/api/status", "/api/jobs", "/jobs", "/api/groups", "/api/repeats", "/api/history", "/api/stats" }));
        string metrics = _w.Http.GetStringAsync("metrics").Result;
        Assert.That(metrics, Does.Contain("chaqum_daemon_up 1"));
        Assert.That(metrics, Does.Match(@"chaqum_jobs\{state=""running""\} \d"));
        Assert.That(metrics, Does.Contain("chaqum_spawns_total"));
        Assert.That(metrics, Does.Contain("chaqum_daemon_rss_bytes"));
        Assert.That(metrics, Does.Contain("chaqum_daemon_loop_lag_seconds"));
    }

    [Test]
    public void Cross_site_writes_foreign_hosts_and_tokenless_forms_are_refused()
    {
        var cross = new HttpRequestMessage(HttpMethod.Post, "jobs") { Content = new StringContent("""{"script":"ok"}""") };
        cross.Headers.Add("Origin", "http://evil.example");
        IsError(_w.Http.SendAsync(cross).Result, 403, "cross-site request refused");
        var fetchSite = new HttpRequestMessage(HttpMethod.Delete, "jobs") { Content = new StringContent("""{"job_id":"x/1"}""") };
        fetchSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        IsError(_w.Http.SendAsync(fetchSite).Result, 403, "cross-site request refused");
        var rebound = new HttpRequestMessage(HttpMethod.Get, "api/status");
        rebound.Headers.Host = "evil.example";
        IsError(_w.Http.SendAsync(rebound).Result, 421, "host 'evil.example' is not served");
        // A form without its antiforgery token changes nothing.
        string id = _w.Enqueue("-H", "--", "ok", "keep");
        using var form = Send(HttpMethod.Post, "jobs/" + id + "/kill", "confirm=yes", "application/x-www-form-urlencoded");
        Assert.That((int)form.StatusCode, Is.EqualTo(400));
        Assert.That(_w.State(id), Is.EqualTo("held"));
        using var page = _w.Http.GetAsync("jobs/" + id).Result;
        Send(HttpMethod.Delete, "api/jobs/" + id);
        Assert.That(page.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("script-src 'self'").And.Contain("default-src 'none'"));
        // A job's page has forms (kill, pause...): antiforgery finds the caching it wants and
        // has nothing to override, so an operator's log gets no warning per page view.
        Assert.That(page.Headers.CacheControl?.NoStore, Is.True);
        Assert.That(page.Headers.CacheControl?.NoCache, Is.True);
        Assert.That(page.Content.ReadAsStringAsync().Result, Does.Contain("name=\"_token\""), "a page with a form");
        Assert.That(_w.Web.Log, Does.Not.Contain("have been overridden"));
    }
}
