using System.Globalization;

namespace Chaqum.Tests.Support;

/// <summary>
/// Every deadline a test waits for, scaled by one knob: CHAQUM_TEST_TIMEOUT_SCALE (a
/// factor, default 1; 3 gives every wait three times as long). A deadline only bounds a
/// wait for a gate the test controls (a file, a log line, an exit), so a larger one makes a
/// busy machine pass and a hang fail later, never a correct run fail. The NUnit CancelAfter
/// of each test is scaled too (<see cref="ScaledCancelAfterAttribute"/>).
/// </summary>
public static class Deadline
{
    public const string Variable = "CHAQUM_TEST_TIMEOUT_SCALE";

    public static readonly double Factor = Read();

    /// <summary>The deadline for this much time on a quiet machine.</summary>
    public static TimeSpan Scale(TimeSpan quiet) => quiet * Factor;

    public static TimeSpan Seconds(double quiet) => Scale(TimeSpan.FromSeconds(quiet));

    public static TimeSpan Minutes(double quiet) => Scale(TimeSpan.FromMinutes(quiet));

    private static double Read()
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(text)) return 1;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double factor) || factor <= 0)
            throw new InvalidOperationException($"{Variable}='{text}' is not a positive number");
        return factor;
    }
}
