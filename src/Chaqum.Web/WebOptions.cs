namespace Chaqum.Web;

/// <summary>
/// chaqum-web's command line:
///
///   chaqum-web -t TREE [--socket PATH] [--state-dir DIR] [--listen ADDR] [--token-file FILE]
///
/// ADDR is HOST:PORT (127.0.0.1:8080 by default) or unix:PATH. Anything but a loopback
/// address refuses to start without --token-file: the pages can kill processes.
/// </summary>
public sealed record WebOptions
{
    public string? Tree { get; init; }
    public string? Socket { get; init; }
    public string? StateDir { get; init; }
    public string Listen { get; init; } = "127.0.0.1:8080";
    public string? TokenFile { get; init; }

    public const string Usage = """
        usage: chaqum-web [-t TREE] [--socket PATH] [--state-dir DIR] [--listen ADDR] [--token-file FILE]

        The dashboard and HTTP API of one tree's chaqum daemon (docs/http.md).
          -t, --tree TREE     the tree whose daemon to serve (found as chaqumctl finds it)
          --socket PATH       the daemon's control socket, instead of finding it
          --state-dir DIR     the tree's state directory (history when no daemon runs)
          --listen ADDR       HOST:PORT (default 127.0.0.1:8080) or unix:PATH
          --token-file FILE   a bearer token for the API and the login form; required
                              to listen on anything but a loopback address or a unix socket
        """;

    /// <exception cref="UsageException">A bad command line.</exception>
    public static WebOptions Parse(string[] args)
    {
        var options = new WebOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Length) throw new UsageException($"{arg} needs a value");
                return args[++i];
            }
            options = arg switch
            {
                "-t" or "--tree" => options with { Tree = Value() },
                "--socket" => options with { Socket = Value() },
                "--state-dir" => options with { StateDir = Value() },
                "--listen" => options with { Listen = Value() },
                "--token-file" => options with { TokenFile = Value() },
                "-h" or "--help" => throw new HelpException(),
                _ => throw new UsageException($"unknown argument '{arg}'"),
            };
        }
        if (options.Tree is null && options.Socket is null)
            throw new UsageException("which daemon? give -t TREE or --socket PATH");
        return options;
    }
}

public sealed class UsageException(string message) : Exception(message);
public sealed class HelpException() : Exception("help");
