namespace Chaqum.Web.Daemon;

/// <summary>Whether the daemon is there, for pages that do not need it (history, stats)
/// but say when it is away: one connect, closed at once.</summary>
public sealed class DaemonProbe(DaemonLink daemon)
{
    /// <summary>Null when a daemon answers; else the sentence for the banner.</summary>
    public string? Down
    {
        get
        {
            try
            {
                daemon.Connect().Dispose();
                return null;
            }
            catch (DaemonDownException e) { return e.Message; }
        }
    }
}
