using Chaqum.Client;

namespace Chaqum.Conformance;

/// <summary>
/// init SCENARIO: runs one scenario of tests/conformance/README.md with the .NET client and
/// prints its lines on stdout. "echo-peer" is the echo-dotnet peer. Extra modes, not part
/// of the corpus, serve DotnetClientTests.
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "";
        try
        {
            await using var chaqum = ChaqumJob.Connect();
            var scenarios = new Scenarios(chaqum);
            return mode switch
            {
                "echo-peer" => await EchoAsync(chaqum),
                _ when scenarios.Find(mode) is { } scenario => await scenario(),
                _ => Usage(mode),
            };
        }
        catch (ChaqumException e)
        {
            // Outside a job, Connect says so: "... fds 3 and 4 must be ...".
            Console.Error.WriteLine($"ConformanceJob {mode}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Receives one message (600 s) and sends its bytes back to the parent.</summary>
    private static async Task<int> EchoAsync(ChaqumJob chaqum)
    {
        var message = await chaqum.ReceiveAsync(TimeSpan.FromSeconds(600));
        if (message is null)
        {
            ChaqumLog.Error("echo-dotnet: no message within 600 s");
            return 1;
        }
        if (chaqum.Identity.Parent is not { } parent)
        {
            ChaqumLog.Error("echo-dotnet: no parent to echo to");
            return 1;
        }
        await chaqum.SendAsync(parent, message.Data);
        return 0;
    }

    private static int Usage(string mode)
    {
        Console.Error.WriteLine($"ConformanceJob: unknown scenario '{mode}'");
        return 2;
    }
}
