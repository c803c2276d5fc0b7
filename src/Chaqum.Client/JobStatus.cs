using System.Globalization;

namespace Chaqum.Client;

/// <summary>
/// A job's status as <c>wait</c> and <c>killjobs</c> report it: an exit code, a signal,
/// never ran, still pending, or unknown. <c>default(JobStatus)</c> is <see cref="Unknown"/>.
/// <see cref="ToString"/> gives <c>exit N</c>, <c>signal N</c>, <c>never-ran</c>,
/// <c>pending</c> or <c>unknown</c>.
/// </summary>
public readonly record struct JobStatus
{
    private readonly int _value;

    private JobStatus(JobStatusKind kind, int value)
    {
        Kind = kind;
        _value = value;
    }

    public JobStatusKind Kind { get; }

    /// <summary>The exit code when the job exited, else null.</summary>
    public int? ExitCode => Kind == JobStatusKind.Exited ? _value : null;

    /// <summary>The signal number when the job died from a signal, else null.</summary>
    public int? Signal => Kind == JobStatusKind.Signaled ? _value : null;

    /// <summary>True when the job exited with code 0.</summary>
    public bool Succeeded => Kind == JobStatusKind.Exited && _value == 0;

    /// <summary>True when the job has ended (exit, signal or never ran).</summary>
    public bool HasEnded => Kind is JobStatusKind.Exited or JobStatusKind.Signaled or JobStatusKind.NeverRan;

    public static JobStatus Exited(int code) => new(JobStatusKind.Exited, code);
    public static JobStatus Signaled(int signal) => new(JobStatusKind.Signaled, signal);
    public static JobStatus NeverRan { get; } = new(JobStatusKind.NeverRan, 0);
    public static JobStatus Pending { get; } = new(JobStatusKind.Pending, 0);
    public static JobStatus Unknown { get; } = default;

    /// <summary>Reads a STATUS word of the protocol: <c>0</c>..<c>255</c>, <c>-SIG</c>,
    /// <c>N</c> or <c>T</c>.</summary>
    /// <exception cref="FormatException">Not a STATUS word.</exception>
    public static JobStatus Parse(string word)
    {
        switch (word)
        {
            case "N": return NeverRan;
            case "T": return Pending;
        }
        if (word.StartsWith('-')
            && int.TryParse(word.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int signal) && signal > 0)
            return Signaled(signal);
        if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int code) && code <= 255)
            return Exited(code);
        throw new FormatException($"'{word}' is not a job status");
    }

    /// <summary>The STATUS word of the protocol (<c>0</c>, <c>-15</c>, <c>N</c>, <c>T</c>); null for
    /// <see cref="Unknown"/>, which has none.</summary>
    public string? ToWire() => Kind switch
    {
        JobStatusKind.Exited => _value.ToString(CultureInfo.InvariantCulture),
        JobStatusKind.Signaled => "-" + _value.ToString(CultureInfo.InvariantCulture),
        JobStatusKind.NeverRan => "N",
        JobStatusKind.Pending => "T",
        _ => null,
    };

    public override string ToString() => Kind switch
    {
        JobStatusKind.Exited => $"exit {_value}",
        JobStatusKind.Signaled => $"signal {_value}",
        JobStatusKind.NeverRan => "never-ran",
        JobStatusKind.Pending => "pending",
        _ => "unknown",
    };
}
