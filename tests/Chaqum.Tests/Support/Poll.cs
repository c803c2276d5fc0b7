namespace Chaqum.Tests.Support;

/// <summary>Bounded waiting: poll a condition until it holds or the deadline passes. No
/// bare sleeps as synchronisation; every wait also ends when the test is cancelled. Every
/// timeout given here is a quiet machine's, scaled by <see cref="Deadline"/>.</summary>
public static class Poll
{
    /// <summary>The deadline of a wait that names none (already scaled). Generous: it
    /// bounds a wait for a gate, so only a hang ever reaches it.</summary>
    public static readonly TimeSpan Default = Deadline.Seconds(60);

    public static void Until(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Until(condition, () => what, timeout);

    /// <summary>As Until, with a description computed only on failure (e.g. a log so far).</summary>
    public static void Until(Func<bool> condition, Func<string> what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout is { } quiet ? Deadline.Scale(quiet) : Default);
        var token = TestContext.CurrentContext.CancellationToken;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what()}");
            if (token.IsCancellationRequested) Assert.Fail($"test cancelled while waiting for {what()}");
            Thread.Sleep(20);
        }
    }

    public static T Until<T>(Func<T?> value, string what, TimeSpan? timeout = null) where T : class
    {
        T? result = null;
        Until(() => (result = value()) is not null, what, timeout);
        return result!;
    }
}
