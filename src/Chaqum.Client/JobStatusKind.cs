namespace Chaqum.Client;

/// <summary>What a <see cref="JobStatus"/> says about a job.</summary>
public enum JobStatusKind
{
    /// <summary>The daemon left the job out of its reply: the id was never issued, or its
    /// result was already reported (or forgotten with <c>-F</c>).</summary>
    Unknown = 0,
    /// <summary>The job exited with an exit code (0..255).</summary>
    Exited,
    /// <summary>The job died from a signal.</summary>
    Signaled,
    /// <summary>The job ended without running to an exit: cancelled before it started, a
    /// dependency failed, or it could not be spawned (<c>N</c> on the wire).</summary>
    NeverRan,
    /// <summary>The job is still queued, waiting for dependencies, running or between
    /// retries (<c>T</c> on the wire).</summary>
    Pending,
}
