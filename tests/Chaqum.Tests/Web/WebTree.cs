using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Chaqum.Tests.Control;

namespace Chaqum.Tests.Web;

/// <summary>A tree for the web tests, its daemon and a chaqum-web in front of it. Jobs
/// that must wait do so for a gate file the test writes (gate NAME: waits for
/// go.NAME); none waits for time.</summary>
public sealed class WebTree : IDisposable
{
    public TempTree Tree { get; } = new();
    public DaemonProcess Daemon { get; }
    public WebServer Web { get; }
    public HttpClient Http { get; }

    public WebTree(params string[] webArgs)
    {
        Tree.Script("gate", "echo \"waiting for $1\"\nwhile [ ! -e \"go.$1\" ]; do sleep 0.05; done\necho \"through $1\"\n");
        Tree.Script("ok", "echo ok \"$@\"\n");
        Tree.Script("fail", "echo failing >&2\nexit 3\n");
        Tree.Script("xss", "echo '<script>alert(1)</script><b>bold</b>'\n");
        // Prints a line, waits for its gate, prints another: the live-output tests.
        Tree.Script("talk", "echo \"first line\"\nwhile [ ! -e \"go.$1\" ]; do sleep 0.05; done\necho \"second line after the gate\"\nwhile [ ! -e \"end.$1\" ]; do sleep 0.05; done\n");
        Daemon = Ctl.Daemon(Tree, "");
        Web = new WebServer(Tree, webArgs);
        Http = Web.Client();
    }

    public void Open(string gate) => File.WriteAllText(Tree.PathOf("go." + gate), "");

    public string Enqueue(params string[] words)
    {
        var r = Ctl.Run(Tree, new[] { "enqueue" }.Concat(words).ToArray());
        Assert.That(r.Exit, Is.EqualTo(0), r.ToString());
        return r.Out.Trim();
    }

    public JsonNode Get(string path, int status = 200)
    {
        using var response = Http.GetAsync(path).Result;
        string body = response.Content.ReadAsStringAsync().Result;
        Assert.That((int)response.StatusCode, Is.EqualTo(status), $"GET {path}: {body}");
        return JsonNode.Parse(body)!;
    }

    public string State(string id) => Get("api/jobs/" + id)["state"]!.GetValue<string>();

    /// <summary>The job's state via the API, or "(gone)" once the daemon no longer holds it.</summary>
    public string StateOrGone(string id)
    {
        using var response = Http.GetAsync("api/jobs/" + id).Result;
        if ((int)response.StatusCode == 404) return "(gone)";
        return JsonNode.Parse(response.Content.ReadAsStringAsync().Result)!["state"]!.GetValue<string>();
    }

    public void Dispose()
    {
        Http.Dispose();
        Web.Dispose();
        File.WriteAllText(Tree.PathOf("stop"), "");
        Daemon.Dispose();
        ProcessCleanup.KillTreeProcesses(Tree.Root);
        Tree.Dispose();
    }
}
