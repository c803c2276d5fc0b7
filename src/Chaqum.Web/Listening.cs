using System.Net;

namespace Chaqum.Web;

/// <summary>Where chaqum-web listens, and whether that is safe without a token: a
/// loopback address or a unix socket (whose file mode decides who may connect) is; any
/// other address opens the daemon to a network.</summary>
public sealed record Listening(IPEndPoint? Ip, string? UnixPath)
{
    public bool IsLocal => UnixPath is not null || IPAddress.IsLoopback(Ip!.Address);

    /// <exception cref="UsageException">Not HOST:PORT or unix:PATH.</exception>
    public static Listening Parse(string address)
    {
        if (address.StartsWith("unix:", StringComparison.Ordinal))
        {
            string path = address["unix:".Length..];
            if (path.Length == 0) throw new UsageException("--listen unix: needs a path");
            return new Listening(null, Path.GetFullPath(path));
        }
        if (address.StartsWith("localhost:", StringComparison.Ordinal)) address = "127.0.0.1:" + address["localhost:".Length..];
        if (!IPEndPoint.TryParse(address, out var endpoint) || endpoint.Port == 0 && !address.EndsWith(":0", StringComparison.Ordinal) || !address.Contains(':'))
            throw new UsageException($"--listen {address}: give HOST:PORT (127.0.0.1:8080) or unix:PATH");
        return new Listening(endpoint, null);
    }

    public override string ToString() => UnixPath is not null ? "unix:" + UnixPath : $"http://{Ip}/";
}
