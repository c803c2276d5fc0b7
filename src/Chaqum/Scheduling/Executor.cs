namespace Chaqum.Scheduling;

/// <summary>
/// Where a group's jobs run, as `group -x` chose it: on this machine (local, the default)
/// or as Slurm jobs in a partition (slurm, slurm:PARTITION), with extra arguments for
/// the executor (`group -X 'ARGS'`: srun options such as --time or --gres). The scheduler
/// only carries this choice to the launcher; how a job is started, signalled and named
/// on the cluster is the process side's business (Processes/Slurm).
/// </summary>
public sealed record Executor(ExecutorKind Kind, string? Partition, IReadOnlyList<string> ExtraArgs)
{
    public static readonly Executor Local = new(ExecutorKind.Local, null, Array.Empty<string>());

    public bool IsLocal => Kind == ExecutorKind.Local;

    /// <summary>"local", "slurm" or "slurm:PARTITION": what -x takes and ps/show display.</summary>
    public string Name => Kind == ExecutorKind.Local ? "local" : Partition is null ? "slurm" : $"slurm:{Partition}";

    /// <summary>Parses -x; null with a reason when it is not one of the forms above.</summary>
    public static Executor? Parse(string text, out string? error)
    {
        error = null;
        if (text == "local") return Local;
        if (text == "slurm") return new Executor(ExecutorKind.Slurm, null, Array.Empty<string>());
        if (text.StartsWith("slurm:", StringComparison.Ordinal))
        {
            string partition = text["slurm:".Length..];
            // Slurm's own partition names: letters, digits and a few marks; nothing that an
            // srun option parser or a shell would read differently.
            if (partition.Length > 0 && partition.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
                return new Executor(ExecutorKind.Slurm, partition, Array.Empty<string>());
            error = $"-x: '{partition}' is not a Slurm partition name (letters, digits, '_', '-', '.')";
            return null;
        }
        error = $"-x: '{text}' is not an executor (local, slurm or slurm:PARTITION)";
        return null;
    }

    public bool Equals(Executor? other) =>
        other is not null && Kind == other.Kind && Partition == other.Partition && ExtraArgs.SequenceEqual(other.ExtraArgs);

    public override int GetHashCode() => HashCode.Combine(Kind, Partition, ExtraArgs.Count);
}

public enum ExecutorKind
{
    Local,
    Slurm,
}
