using System.Globalization;

namespace Chaqum.Client;

/// <summary>
/// Who the current job is, from the environment the daemon gives every job
/// (<c>CHAQUM_IDENT</c>, <c>CHAQUM_PARENT</c>, <c>CHAQUM_TREE</c>, <c>CHAQUM_GROUP</c>,
/// <c>CHAQUM_SLOT</c>, <c>CHAQUM_ATTEMPT</c>).
/// </summary>
/// <param name="Id">The job's id (<c>init</c>, <c>convert/12</c>); null outside a job.</param>
/// <param name="Parent">The id of the job that enqueued it; null for the entry job and repeat firings.</param>
/// <param name="Tree">The tree's absolute path.</param>
/// <param name="Group">Its group, if it has one.</param>
/// <param name="Slot">Its slot 0..m-1 in a group limited to m running jobs, else null.</param>
/// <param name="Attempt">1 for the first run, 2, 3... for retries.</param>
public sealed record JobIdentity(string? Id, string? Parent, string? Tree, string? Group, int? Slot, int Attempt)
{
    /// <summary>The identity of the current process, read from its environment now.</summary>
    public static JobIdentity Current => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>An identity from any variable lookup (a test's dictionary, say).</summary>
    public static JobIdentity FromEnvironment(Func<string, string?> variable)
    {
        string? Text(string name) => variable(name) is { Length: > 0 } v ? v : null;
        int? Number(string name) =>
            int.TryParse(Text(name), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
        return new JobIdentity(
            Text("CHAQUM_IDENT"),
            Text("CHAQUM_PARENT"),
            Text("CHAQUM_TREE"),
            Text("CHAQUM_GROUP"),
            Number("CHAQUM_SLOT"),
            Number("CHAQUM_ATTEMPT") ?? 1);
    }
}
