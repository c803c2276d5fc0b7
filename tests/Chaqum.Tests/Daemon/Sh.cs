namespace Chaqum.Tests.Daemon;

/// <summary>Snippets for job scripts that speak the raw protocol from POSIX sh.</summary>
public static class Sh
{
    /// <summary>cmd LINE: sends one command line on fd 3, reads the reply from fd 4 into
    /// $REPLY and prints it, so the test can read it from the daemon log.</summary>
    public const string Prelude = """
        #!/bin/sh
        cmd() { printf '%s\n' "$1" >&3; IFS= read -r REPLY <&4; printf 'reply: %s\n' "$REPLY"; }
        word() { _n=$1; set -- $REPLY; eval "printf '%s' \"\${$_n}\""; }

        """;

    public static string Script(string body) => Prelude + body.Replace("\r\n", "\n") + "\n";

    /// <summary>Runs a daemon whose init is <paramref name="body"/> (with the prelude) until
    /// it exits, which must be with 0; returns what init printed (its replies).</summary>
    public static List<string> InitOutput(TempTree tree, string body) => InitOutput(tree, body, null, out _);

    /// <summary>As above, with environment for the daemon (SLURM_CONF, say).</summary>
    public static List<string> InitOutput(TempTree tree, string body, IDictionary<string, string?>? env) => InitOutput(tree, body, env, out _);

    /// <summary>As above; log is the daemon's whole log.</summary>
    public static List<string> InitOutput(TempTree tree, string body, IDictionary<string, string?>? env, out string log)
    {
        tree.Script("init", Script(body));
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), env);
        Assert.That(d.WaitForExit(env is null ? null : TimeSpan.FromSeconds(180)), Is.EqualTo(0), d.Log);
        log = d.Log;
        return d.Output("init");
    }
}
