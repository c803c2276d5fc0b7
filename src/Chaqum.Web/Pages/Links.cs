namespace Chaqum.Web.Pages;

/// <summary>URLs of the dashboard's pages. A job id has slashes (convert/5; a script in a
/// subdirectory, more): each segment is escaped, the slashes kept, so /jobs/convert/5 is
/// the job's page and what follows the id names an action (/jobs/convert/5/kill).</summary>
public static class Links
{
    public static string Job(string id) => "/jobs/" + Segments(id);
    public static string JobAction(string id, string action) => Job(id) + "/" + action;
    public static string Script(string script) => "/history?script=" + Uri.EscapeDataString(script);
    public static string Query(string path, params (string Name, string? Value)[] parameters)
    {
        var given = parameters.Where(p => !string.IsNullOrEmpty(p.Value)).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return given.Count == 0 ? path : path + "?" + string.Join("&", given);
    }

    private static string Segments(string id) => string.Join("/", id.Split('/').Select(Uri.EscapeDataString));

    /// <summary>A route's catch-all rest ("convert/5/kill") split into the job id and the
    /// action word, if its last segment is one of the words given.</summary>
    public static (string Id, string? Action) Split(string rest, params string[] actions)
    {
        int slash = rest.LastIndexOf('/');
        if (slash > 0 && actions.Contains(rest[(slash + 1)..], StringComparer.Ordinal)) return (rest[..slash], rest[(slash + 1)..]);
        return (rest, null);
    }
}
