using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Chaqum.Tests.Web;

/// <summary>Who may use chaqum-web: the token beyond loopback (bearer for the API, the
/// login form for browsers), refusals to start, and what it says with no daemon.</summary>
[TestFixture, CancelAfter(240_000)]
public class AccessTests
{
    [Test]
    public void Listening_beyond_loopback_without_a_token_refuses_to_start()
    {
        using var tree = new TempTree();
        var (exit, log) = WebServer.Refusal("-t", tree.Root, "--listen", "0.0.0.0:0");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(log, Does.Contain("opens the daemon to a network: give --token-file FILE"));
        var (badExit, badLog) = WebServer.Refusal("-t", tree.Root, "--listen", "nonsense");
        Assert.That((badExit, badLog.Contains("give HOST:PORT")), Is.EqualTo((2, true)), badLog);
        File.WriteAllText(tree.PathOf("short"), "abc\n");
        var (shortExit, shortLog) = WebServer.Refusal("-t", tree.Root, "--listen", "0.0.0.0:0", "--token-file", tree.PathOf("short"));
        Assert.That((shortExit, shortLog.Contains("at least 16 characters")), Is.EqualTo((2, true)));
    }

    [Test]
    public void With_a_token_the_api_needs_the_bearer_and_browsers_the_login_form()
    {
        using var tree = new TempTree();
        const string token = "s3cret-token-for-the-test";
        File.WriteAllText(tree.PathOf("token"), token + "\n");
        tree.Script("ok", "echo ok\n");
        using var d = Chaqum.Tests.Control.Ctl.Daemon(tree, "");
        using var web = new WebServer(tree, "--listen", "0.0.0.0:0", "--token-file", tree.PathOf("token"));
        var url = Regex.Replace(web.BaseUrl, @"//[^:/]+:", "//127.0.0.1:");

        using var anonymous = new HttpClient { BaseAddress = new Uri(url + "/") };
        using var refused = anonymous.GetAsync("api/status").Result;
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(JsonNode.Parse(refused.Content.ReadAsStringAsync().Result)!["error"]!.GetValue<string>(), Does.Contain("Authorization: Bearer"));
        using (var wrong = new HttpClient { BaseAddress = new Uri(url + "/") })
        {
            wrong.DefaultRequestHeaders.Authorization = new("Bearer", "not-the-token-at-all");
            Assert.That(wrong.GetAsync("api/status").Result.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(wrong.PostAsync("jobs", new StringContent("""{"script":"ok"}""")).Result.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        }
        Assert.That(anonymous.GetAsync("metrics").Result.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        using var bearer = new HttpClient { BaseAddress = new Uri(url + "/") };
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.That(bearer.GetAsync("api/status").Result.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var posted = bearer.PostAsync("jobs", new StringContent("""{"script":"ok"}""")).Result;
        Assert.That(posted.StatusCode, Is.EqualTo(HttpStatusCode.OK), posted.Content.ReadAsStringAsync().Result);

        // A browser: sent to the login form; a wrong token is refused; the right one sets the cookie.
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = new Uri(url + "/") };
        using var home = browser.GetAsync("jobs?state=running").Result;
        Assert.That(home.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(home.Headers.Location!.ToString(), Is.EqualTo("/login?next=" + Uri.EscapeDataString("/jobs?state=running")));
        string LoginToken() => Regex.Match(browser.GetStringAsync("login").Result, "name=\"_token\" value=\"([^\"]+)\"").Groups[1].Value;
        Assert.That(browser.GetStringAsync("login").Result, Does.Not.Contain(tree.Root), "the login page tells nothing about the tree");
        using var bad = browser.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["_token"] = LoginToken(), ["token"] = "wrong", ["next"] = "/" })).Result;
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        using var good = browser.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["_token"] = LoginToken(), ["token"] = token, ["next"] = "/jobs?state=running" })).Result;
        Assert.That(good.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
        Assert.That(good.Headers.Location!.ToString(), Is.EqualTo("/jobs?state=running"));
        var setCookie = good.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("chaqum_session=", StringComparison.Ordinal));
        Assert.That(setCookie.ToLowerInvariant(), Does.Contain("httponly").And.Contain("samesite=strict"));
        using var page = browser.GetAsync("jobs?state=running").Result;
        Assert.That(page.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(page.Content.ReadAsStringAsync().Result, Does.Contain(">init</a>"));
        // An open redirect is not one.
        using var offsite = browser.PostAsync("login", new FormUrlEncodedContent(new Dictionary<string, string> { ["_token"] = LoginToken(), ["token"] = token, ["next"] = "//evil.example/" })).Result;
        Assert.That(offsite.Headers.Location!.ToString(), Is.EqualTo("/"));

        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }

    [Test]
    public void Without_a_daemon_pages_and_api_say_so_and_history_still_works()
    {
        using var tree = new TempTree();
        tree.Script("ok", "echo ok\n");
        // One run recorded, then the daemon is gone.
        tree.Script("init", "#!/bin/sh\nprintf 'enqueue -- ok\\n' >&3; read -r id <&4; printf 'wait -- %s\\n' \"${id#S }\" >&3; read -r r <&4\n");
        using (var d = DaemonProcess.Start(tree)) Assert.That(d.WaitForExit(), Is.EqualTo(0));
        using var web = new WebServer(tree);
        using var http = web.Client();
        using var status = http.GetAsync("api/status").Result;
        Assert.That(status.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        var body = JsonNode.Parse(status.Content.ReadAsStringAsync().Result)!;
        Assert.That(body["daemon_running"]!.GetValue<bool>(), Is.False);
        Assert.That(body["error"]!.GetValue<string>(), Does.StartWith("the daemon is not running"));
        using var jobs = http.GetAsync("api/jobs").Result;
        Assert.That(jobs.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        var runs = JsonNode.Parse(http.GetStringAsync("api/history").Result)!["runs"]!.AsArray();
        Assert.That(runs.Select(r => r!["script"]!.GetValue<string>()), Does.Contain("ok"));
        string overview = http.GetStringAsync("").Result;
        Assert.That(overview, Does.Contain("the daemon is not running"));
        string history = http.GetStringAsync("history").Result;
        Assert.That(history, Does.Contain("the daemon is not running").And.Contain("ok/"));
    }
}

/// <summary>chaqum-web on a unix socket: the API answers there, mode 0600.</summary>
[TestFixture, CancelAfter(120_000)]
public class UnixSocketTests
{
    [Test]
    public void Chaqum_web_serves_on_a_unix_socket_of_mode_0600()
    {
        using var tree = new TempTree();
        using var d = Chaqum.Tests.Control.Ctl.Daemon(tree, "");
        string socket = Path.Combine(tree.StateDir, "web.sock");
        Directory.CreateDirectory(tree.StateDir);
        using var web = new WebServer(tree, "--listen", "unix:" + socket);
        Assert.That(web.BaseUrl, Is.EqualTo("unix:" + socket));
        Poll.Until(() => File.Exists(socket) && (File.GetUnixFileMode(socket) & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0,
            "the socket to be there, mode 0600");
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancel) =>
            {
                var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
                await s.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socket), cancel);
                return new System.Net.Sockets.NetworkStream(s, ownsSocket: true);
            },
        };
        using var http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost/") };
        Assert.That(http.GetStringAsync("api/status").Result, Does.Contain("\"daemon_running\":true"));
        File.WriteAllText(tree.PathOf("stop"), "");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
    }
}
