namespace Chaqum.Scheduling;

/// <summary>How a job ended: an exit code, a terminating signal, or neither (it never ran
/// to an exit). On the wire: "0".."255", "-SIG", "N"; "T" means not ended yet.</summary>
public readonly record struct JobStatus(int? ExitCode, int? Signal)
{
    public static readonly JobStatus NeverRan = new(null, null);

    public static JobStatus Exited(int code) => new(code, null);
    public static JobStatus Killed(int signal) => new(null, signal);

    public bool Succeeded => ExitCode == 0;

    public string Wire => ExitCode is { } code ? code.ToString()
        : Signal is { } sig ? "-" + sig
        : "N";

    public override string ToString() => ExitCode is { } code ? $"exit {code}"
        : Signal is { } sig ? $"signal {Native.Signals.Name(sig)}"
        : "not run";
}

/// <summary>Why a job ended, for logs and history.</summary>
public enum Outcome
{
    None,
    Exited,
    Failed,
    Killed,
    TimedOut,
    Cancelled,
    DependencyFailed,
    SpawnFailed,
    Lost,
}

public static class Outcomes
{
    public static string Word(this Outcome outcome) => outcome switch
    {
        Outcome.Exited => "exited",
        Outcome.Failed => "failed",
        Outcome.Killed => "killed",
        Outcome.TimedOut => "timed_out",
        Outcome.Cancelled => "cancelled",
        Outcome.DependencyFailed => "dependency_failed",
        Outcome.SpawnFailed => "spawn_failed",
        Outcome.Lost => "lost",
        _ => "none",
    };
}

/// <summary>CPU and memory a job used (from wait4's rusage).</summary>
public readonly record struct ResourceUsage(TimeSpan UserCpu, TimeSpan SystemCpu, long MaxRssBytes);
