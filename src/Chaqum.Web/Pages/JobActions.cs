using Chaqum.Control;
using Chaqum.Control.Messages;
using Chaqum.Web.Daemon;
using static Chaqum.Web.Pages.Html;

namespace Chaqum.Web.Pages;

/// <summary>POST /jobs/ID/kill|pause|resume|renice from the job page. A kill of a job
/// that other jobs wait on or depend on is not done at once: a page names them and asks
/// again (as chaqumctl kill does), and only the second post, with confirm=yes, kills.</summary>
public static class JobActions
{
    public static async Task<IResult> Handle(HttpContext context, DaemonLink daemon, string id, string action)
    {
        var form = await Forms.ReadAsync(context);
        if (form is null) return Forms.Refused(context);
        try
        {
            switch (action)
            {
                case "kill":
                    if (form["confirm"] != "yes")
                    {
                        var job = (await daemon.CallAsync(ControlVerbs.Show, new ShowArgs { Id = id, Lines = 0 })).Job;
                        var waiting = job.WaitedOnBy.Select(w => (w, "waits on it")).Concat(job.Dependents.Select(d => (d, "starts only after it succeeds"))).ToList();
                        if (waiting.Count > 0) return Confirm(context, id, waiting);
                    }
                    var result = await daemon.CallAsync(ControlVerbs.Kill, new KillArgs { Ids = [id] });
                    break;
                case "pause":
                case "resume":
                    await daemon.CallAsync(action == "pause" ? ControlVerbs.Pause : ControlVerbs.Resume, new PauseArgs { Target = id });
                    break;
                case "renice":
                    if (!int.TryParse(form["nice"], out int nice)) return await JobPage.Render(context, daemon, id, H($"<p class=\"error\">nice must be a number from -20 to 19</p>"));
                    await daemon.CallAsync(ControlVerbs.Renice, new ReniceArgs { Id = id, Nice = nice });
                    break;
            }
        }
        catch (DaemonDownException e) { return Layout.Page(context, id, H($"<p class=\"error\">{e.Message}</p>"), e.Message, status: 503); }
        catch (ControlFailedException e) { return await JobPage.Render(context, daemon, id, H($"<p class=\"error\">{action}: {e.Message}</p>")); }
        return Forms.Back(Links.Job(id));
    }

    private static IResult Confirm(HttpContext context, string id, List<(string Id, string Why)> waiting)
    {
        var list = Join(waiting.Select(w => H($"<li>{Layout.JobLink(w.Id)} {w.Why}</li>")));
        var body = H($"""
            <p>Other jobs wait for {Layout.JobLink(id)}:</p>
            <ul>{list}</ul>
            <p>Killing it ends their wait with its kill (or cancels them, for dependents).</p>
            <div class="actions">
            <form method="post" action="{Links.JobAction(id, "kill")}">{Layout.Token(context)}<input type="hidden" name="confirm" value="yes"><button class="danger" id="confirm-kill">Kill anyway</button></form>
            <a href="{Links.Job(id)}">Keep it</a>
            </div>
            """);
        return Layout.Page(context, $"Kill {id}?", body, live: "none");
    }
}
