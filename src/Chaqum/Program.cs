using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Runtime.InteropServices;
using Chaqum;
using Chaqum.Logging;
using Chaqum.Protocol;
using Chaqum.Scheduling;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Extensions.Logging;



/// <summary>chaqum [OPTIONS] TREE [ARG...]: runs one daemon for one job tree.</summary>
public static partial class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0";

    public static async Task<int> Main(string[] args)
    {
        var cli = new DaemonCommandLine();
        var (ownArgs, entryArgs) = cli.SplitAtTree(args);
        var parsed = cli.Root.Parse(ownArgs);
        if (parsed.Errors.Count > 0 || parsed.Action is not null)
        {
            if (parsed.Errors.Count == 0) return parsed.Invoke(); // --help, --version
            foreach (var message in cli.Explain(parsed)) Console.Error.WriteLine($"chaqum: {message}");
            Console.Error.WriteLine("Try 'chaqum --help' for more information.");
            return 2;
        }

        DaemonOptions options;
        JobTree tree;
        ScriptPath entry;
        try
        {
            options = cli.Options(parsed, entryArgs);
            // Become the user first: the tree must be readable as that user, and every
            // file we create from here on must belong to them.
            if (options.User is { } user) Chaqum.Service.UserSwitch.To(user);
            tree = JobTree.Open(options.TreePath);
            try { entry = tree.Resolve(options.Entry); }
            catch (ProtocolException e) { throw new ArgumentException($"entry job: {e.Message} in {tree.Root}"); }
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"chaqum: {e.Message}");
            return 1;
        }

        bool journal = DaemonLog.StderrIsJournal();
        var (serilog, logFile) = DaemonLog.Create(options.Verbosity, options.LogFile, journal);
        using var _serilog = serilog;
        using var _logFile = logFile;
        using var loggers = new SerilogLoggerFactory(serilog);
        if (Chaqum.Service.UserSwitch.IsRoot && options.User is null)
            serilog.Warning("running as root without --user: every job runs as root");
        Daemon daemon;
        try
        {
            daemon = new Daemon(options, tree, entry, loggers, JobOutputStderr.For(serilog, journal, options.Verbosity, logFile));
        }
        catch (Chaqum.Service.TreeBusyException e)
        {
            Console.Error.WriteLine($"chaqum: {e.Message}");
            return 1;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"chaqum: {e.Message}");
            return 1;
        }
        using var _daemon = daemon;

        // SIGTERM/SIGINT: orderly stop (a second one kills at once). We handle them
        // ourselves and cancel the default action, so the runtime does not just exit.
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true;
            daemon.Stop();
        }
        // SIGHUP: reopen --log-file (after logrotate moved it); without one, nothing to do.
        using var hup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            if (logFile is null) { serilog.Information("SIGHUP: no --log-file to reopen"); return; }
            if (logFile.Reopen() is { } error) serilog.Error("SIGHUP: cannot reopen {Path}: {Error}; still writing to the old file", logFile.Path, error);
            else serilog.Information("SIGHUP: reopened {Path}", logFile.Path);
        });

        // The entry job starts before the host is built: building it resolves the host's
        // services, which NativeAOT does with its runtime type loader (a third of start-up's
        // CPU, by perf), and init need not wait for that to get its first answer. The host
        // carries the lifetime from here on (JobManagerService).
        daemon.Start();

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { Args = Array.Empty<string>() });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Trace);
        builder.Logging.AddSerilog(serilog);
        builder.Services.AddSingleton(daemon);
        builder.Services.AddHostedService<JobManagerService>();
        // Signals are ours (above): the default ConsoleLifetime would also stop the host
        // on SIGTERM, and that second stop request would SIGKILL every job at once.
        builder.Services.AddSingleton<IHostLifetime, SignalsAreOurs>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.Grace + TimeSpan.FromSeconds(30));
        using var host = builder.Build();

        await host.RunAsync();
        return daemon.ExitCode;
    }
}

/// <summary>A host lifetime that leaves SIGTERM/SIGINT to Program's own handlers.</summary>
public sealed class SignalsAreOurs : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The daemon as a hosted service: started before the host (Program), it stops
/// the host when it has nothing left to do, and the host's stop stops it.</summary>
public sealed class JobManagerService(Daemon daemon, IHostApplicationLifetime lifetime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        daemon.Completion.ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The host stops after the daemon finished on its own (or after our signal handler
        // asked it to): another stop request would only be logged as a "second" one.
        if (!daemon.Completion.IsCompleted && !daemon.StopRequested) daemon.Stop();
        await daemon.Completion.WaitAsync(cancellationToken);
    }
}

/// <summary>The daemon's command line (System.CommandLine). Options come before TREE;
/// everything after TREE goes to the entry job untouched, even words starting with '-'.</summary>
public sealed class DaemonCommandLine
{
    public readonly Option<string> Entry = new("--entry", "-e")
    {
        Description = "Name of the entry job script, relative to the tree",
        DefaultValueFactory = _ => "init",
        HelpName = "NAME",
    };

    public readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "More log output: -v shows debug events, -vv everything",
    };

    public readonly Option<double> Grace = new("--grace")
    {
        Description = "Seconds between SIGTERM and SIGKILL when jobs are killed",
        DefaultValueFactory = _ => 10,
        CustomParser = Seconds,
        HelpName = "SECONDS",
    };

    public readonly Option<string?> LogFile = new("--log-file")
    {
        Description = "Also log to this file; SIGHUP reopens it (for logrotate)",
        HelpName = "PATH",
    };

    public readonly Option<string?> StateDir = new("--state-dir")
    {
        Description = "Directory for durable state (default: $STATE_DIRECTORY, else $XDG_STATE_HOME/chaqum/KEY, else ~/.local/state/chaqum/KEY)",
        HelpName = "DIR",
    };

    public readonly Option<bool> NoResume = new("--no-resume")
    {
        Description = "Start empty: the jobs the last run kept for this start (queued at its stop, or at its crash) " +
            "are recorded as dropped in the history instead of being run",
    };

    public readonly Option<string?> Control = new("--control")
    {
        Description = "Path of the control socket (default: $RUNTIME_DIRECTORY/chaqum.sock, else $XDG_RUNTIME_DIR/chaqum/KEY.sock, else /tmp/chaqum-UID/KEY.sock)",
        HelpName = "PATH",
    };

    public readonly Option<int> HistoryDays = new("--history-days")
    {
        Description = "Keep the history of runs and job output files this many days",
        DefaultValueFactory = _ => 30,
        CustomParser = Days,
        HelpName = "DAYS",
    };

    public readonly Option<string> OutputCap = new("--output-cap")
    {
        Description = "Output kept per job for chaqumctl log (the newest is kept; 0 keeps none)",
        DefaultValueFactory = _ => "1M",
        HelpName = "SIZE",
    };

    public readonly Option<string> OutputTotal = new("--output-total")
    {
        Description = "Total size of kept job output; the oldest files go first",
        DefaultValueFactory = _ => "1G",
        HelpName = "SIZE",
    };

    public readonly Option<string?> Web = new("--web")
    {
        Description = "Also serve the dashboard and HTTP API: start chaqum-web on ADDR (127.0.0.1:8080, unix:PATH) as a supervised child",
        HelpName = "ADDR",
    };

    public readonly Option<string?> WebTokenFile = new("--web-token-file")
    {
        Description = "chaqum-web's --token-file (needed to listen beyond loopback)",
        HelpName = "FILE",
    };

    public readonly Option<string?> User = new("--user")
    {
        Description = "When started as root: run as USER (and GROUP, else USER's group) from the start; " +
            "the state, the control socket and every job belong to that user",
        HelpName = "USER[:GROUP]",
    };

    public readonly Argument<string> Tree = new("TREE") { Description = "The job tree: a directory of executable job scripts" };

    public readonly Argument<string[]> Args = new("ARG")
    {
        Description = "Arguments for the entry job",
        Arity = ArgumentArity.ZeroOrMore,
    };

    public RootCommand Root { get; }

    public DaemonCommandLine()
    {
        Root = new RootCommand("chaqum: the job manager for chaotic job queues. Runs the tree's entry job and " +
            "every job it enqueues, answering their commands on fds 3 and 4, until nothing is left to do.")
        {
            Entry, Verbose, Grace, LogFile, StateDir, NoResume, Control, HistoryDays, OutputCap, OutputTotal, User, Web, WebTokenFile, Tree, Args,
        };
    }

    /// <summary>The parse errors as sentences for an operator: System.CommandLine's own
    /// words name the command instead of the missing TREE.</summary>
    public IEnumerable<string> Explain(ParseResult parsed)
    {
        if (parsed.GetResult(Tree) is not { Tokens.Count: > 0 })
            yield return "no job tree given: chaqum [OPTION...] TREE [ARG...]";
        foreach (var error in parsed.Errors)
            if (error.SymbolResult is not ArgumentResult { Argument: var a } || a != Tree)
                if (!error.Message.StartsWith("Required argument missing", StringComparison.Ordinal))
                    yield return error.Message;
    }

    // Our own words for a value of the wrong type, instead of "as expected type 'System.Double'".
    private static double Seconds(ArgumentResult result)
    {
        string word = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (double.TryParse(word, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)) return value;
        result.AddError($"--grace: '{word}' is not a number of seconds");
        return 0;
    }

    private static int Days(ArgumentResult result)
    {
        string word = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
        if (int.TryParse(word, NumberStyles.None, CultureInfo.InvariantCulture, out int value)) return value;
        result.AddError($"--history-days: '{word}' is not a whole number of days" +
            (word.Length > 0 && word.All(char.IsAsciiDigit) ? " (at most " + int.MaxValue + ")" : ""));
        return 0;
    }

    /// <summary>Splits the arguments after TREE off, so the parser never sees them.</summary>
    public (string[] Own, string[] Entry) SplitAtTree(string[] args)
    {
        var valued = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in Root.Options)
        {
            // Flags (bool options) take no separate word even though their arity allows one.
            if (option.Arity.MaximumNumberOfValues == 0 || option.ValueType == typeof(bool)) continue;
            valued.Add(option.Name);
            foreach (var alias in option.Aliases) valued.Add(alias);
        }
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a == "--")
                return i + 1 < args.Length ? (args[..(i + 2)], args[(i + 2)..]) : (args, Array.Empty<string>());
            if (a.Length > 1 && a[0] == '-')
            {
                if (valued.Contains(a)) i++; // its value is the next word
                continue;
            }
            return (args[..(i + 1)], args[(i + 1)..]);
        }
        return (args, Array.Empty<string>());
    }

    public DaemonOptions Options(ParseResult parsed, string[] entryArgs)
    {
        double grace = parsed.GetValue(Grace);
        if (double.IsNaN(grace) || grace < 0 || grace > 86400)
            throw new ArgumentException($"--grace: {grace.ToString(CultureInfo.InvariantCulture)} is not between 0 and 86400 seconds");
        int verbosity = parsed.Tokens.Count(t => t.Value is "-v" or "--verbose");
        int days = parsed.GetValue(HistoryDays);
        // Retention is a date that many days back: beyond a century, the calendar runs out
        // before the arithmetic does.
        if (days < 1 || days > 36500) throw new ArgumentException($"--history-days: {days} is not between 1 and 36500 days");
        long Size(Option<string> option)
        {
            try { return Values.Size(parsed.GetValue(option)!, option.Name); }
            catch (ProtocolException e) { throw new ArgumentException(e.Message); }
        }
        return new DaemonOptions
        {
            TreePath = parsed.GetValue(Tree)!,
            Entry = parsed.GetValue(Entry) ?? "init",
            Arguments = (parsed.GetValue(Args) ?? Array.Empty<string>()).Concat(entryArgs).ToArray(),
            Verbosity = verbosity,
            Grace = TimeSpan.FromSeconds(grace),
            LogFile = parsed.GetValue(LogFile),
            StateDir = parsed.GetValue(StateDir),
            ControlSocket = parsed.GetValue(Control),
            HistoryDays = days,
            OutputCapPerJob = Size(OutputCap),
            OutputTotalCap = Size(OutputTotal),
            User = parsed.GetValue(User),
            NoResume = parsed.GetValue(NoResume),
            Web = parsed.GetValue(Web),
            WebTokenFile = parsed.GetValue(WebTokenFile),
        };
    }
}
