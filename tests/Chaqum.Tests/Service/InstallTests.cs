using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Chaqum.Tests.JobTrees;

namespace Chaqum.Tests.Service;

/// <summary>
/// install.sh into a temporary prefix (one Release build for the whole fixture), then
/// everything from there: a tree run by PREFIX/bin/chaqum, jobs finding the installed
/// client libraries, PREFIX/bin/chaqumctl talking to that daemon, the man pages, and
/// finally uninstall.sh leaving nothing of ours behind.
/// </summary>
[TestFixture, CancelAfter(120_000)]
public partial class InstallTests
{
    private string _root = "";
    private string _prefix = "";
    private string _installLog = "";

    private string Bin(string name) => Path.Combine(_prefix, "bin", name);

    [OneTimeSetUp]
    public void Install()
    {
        _root = Path.Combine(Path.GetTempPath(), "chaqum-install-test-" + Guid.NewGuid().ToString("N")[..12]);
        _prefix = Path.Combine(_root, "prefix");
        // Somebody else's files in the prefix: uninstall must leave them, and their directories.
        Directory.CreateDirectory(Path.Combine(_prefix, "bin"));
        Directory.CreateDirectory(Path.Combine(_prefix, "share", "man", "man1"));
        File.WriteAllText(Path.Combine(_prefix, "bin", "keep-me"), "not ours\n");
        File.WriteAllText(Path.Combine(_prefix, "share", "man", "man1", "keep-me.1"), ".TH KEEP-ME 1\n");

        var script = Path.Combine(Source.Root, "install.sh");
        using (BuildLock.Take())
        {
            var result = Exec.Run("sh", new[] { script, _prefix }, timeout: TimeSpan.FromMinutes(10));
            _installLog = result.ToString();
            TestContext.Progress.WriteLine(_installLog);
            Assert.That(result.Exit, Is.EqualTo(0), "install.sh failed:\n" + _installLog);
        }
    }

    [OneTimeTearDown]
    public void RemoveTemporaryPrefix()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Test, Order(1)]
    public void Install_puts_programs_clients_manual_and_units_under_the_prefix()
    {
        foreach (var name in new[] { "chaqum", "chaqumctl" })
        {
            var link = new FileInfo(Bin(name));
            Assert.That(link.LinkTarget, Is.EqualTo("../lib/chaqum/" + name), $"bin/{name} is a relative symlink");
            Assert.That(File.Exists(Path.Combine(_prefix, "lib", "chaqum", name)), Is.True, _installLog);
        }
        Assert.That(File.Exists(Path.Combine(_prefix, "lib", "chaqum", "clients", "sh", "chaqum.sh")), Is.True);
        Assert.That(Directory.Exists(Path.Combine(_prefix, "lib", "chaqum", "clients", "python", "chaqum")), Is.True);
        Assert.That(File.Exists(Path.Combine(_prefix, "lib", "chaqum", "clients", "perl", "Chaqum.pm")), Is.True);
        Assert.That(File.Exists(Path.Combine(_prefix, "lib", "chaqum", "uninstall.sh")), Is.True);
        Assert.That(File.Exists(Path.Combine(_prefix, "share", "doc", "chaqum", "operations.md")), Is.True);

        // The units start the chaqum of this prefix, not /usr/local's.
        foreach (var kind in new[] { "system", "user" })
        {
            var unit = File.ReadAllText(Path.Combine(_prefix, "lib", "systemd", kind, "chaqum@.service"));
            Assert.That(unit, Does.Contain($"\nExecStart={_prefix}/bin/chaqum "), kind);
            Assert.That(unit, Does.Contain("\nType=notify\n"), kind);
            Assert.That(unit, Does.Not.Contain("/usr/local/bin/chaqum"), kind);
        }

        // Every file installed is in the manifest, and nothing else is.
        var manifest = File.ReadAllLines(Path.Combine(_prefix, "lib", "chaqum", "install-manifest"));
        var listed = manifest.Where(l => l.StartsWith("f ") || l.StartsWith("l ")).Select(l => l[2..]).ToHashSet();
        var present = Directory.EnumerateFileSystemEntries(_prefix, "*", SearchOption.AllDirectories)
            .Where(p => !Directory.Exists(p) || new FileInfo(p).LinkTarget is not null)
            .Where(p => !Path.GetFileName(p).StartsWith("keep-me"))
            .ToHashSet();
        Assert.That(present, Is.EquivalentTo(listed));
    }

    [Test, Order(2)]
    public void The_hello_tree_runs_with_the_installed_chaqum()
    {
        using var tree = new TempTree();
        CopyTree(ExampleTrees.Directory("hello"), tree.Root);
        var result = Exec.Run(Bin("chaqum"), new[] { "--state-dir", tree.StateDir, "--grace", "2", tree.Root, "Alice", "Bob" },
            timeout: TimeSpan.FromSeconds(60));
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());
        Assert.That(result.Err, Does.Match(@"greet/\d+\[out\] Hello, Alice! \(from greet/\d+\)"), result.ToString());
        Assert.That(result.Err, Does.Match(@"greet/\d+\[out\] Hello, Bob! \(from greet/\d+\)"), result.ToString());
        Assert.That(result.Err, Does.Match(@"count/\d+\[out\] counted 2 greetings"), result.ToString());
        Assert.That(result.Err, Does.Match(@"init\[out\] counter finished: S count/\d+ 0"), result.ToString());
    }

    [Test, Order(3)]
    public void Jobs_find_the_installed_client_libraries()
    {
        using var tree = new TempTree();
        tree.Script("child", "echo \"child says $1\"\n");
        tree.Script("init", """
            echo "libdir=$CHAQUM_LIBDIR"
            . "$CHAQUM_LIBDIR/sh/chaqum.sh" || exit 3
            id=$(chaqum_enqueue -- child hi) || exit 4
            echo "waited: $(chaqum_wait -- "$id")"
            if command -v python3 >/dev/null; then
                python3 -c 'import chaqum, os; print("python=" + os.path.dirname(os.path.dirname(chaqum.__file__)))' || exit 5
            fi
            if command -v perl >/dev/null; then
                perl -MChaqum -e 'print "perl=", $INC{"Chaqum.pm"}, "\n"' || exit 6
            fi
            """);
        var result = Exec.Run(Bin("chaqum"), new[] { "--state-dir", tree.StateDir, "--grace", "2", tree.Root },
            timeout: TimeSpan.FromSeconds(60));
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());

        var clients = Path.Combine(_prefix, "lib", "chaqum", "clients");
        Assert.That(result.Err, Does.Contain($"init[out] libdir={clients}\n"), result.ToString());
        Assert.That(result.Err, Does.Match(@"child/\d+\[out\] child says hi"), result.ToString());
        Assert.That(result.Err, Does.Match(@"init\[out\] waited: child/\d+ 0"), result.ToString());
        Assert.That(result.Err, Does.Contain("init: exited: exit 0 "), result.ToString());
        if (Exec.OnPath("python3")) Assert.That(result.Err, Does.Contain($"init[out] python={clients}/python\n"), result.ToString());
        if (Exec.OnPath("perl")) Assert.That(result.Err, Does.Contain($"init[out] perl={clients}/perl/Chaqum.pm\n"), result.ToString());
    }

    [Test, Order(4)]
    public void The_installed_chaqumctl_talks_to_the_installed_daemon()
    {
        var help = Exec.Run(Bin("chaqumctl"), new[] { "--help" });
        Assert.That(help.Exit, Is.EqualTo(0), help.ToString());
        Assert.That(help.Out, Does.Contain("history").And.Contain("killlist"), help.ToString());

        using var tree = new TempTree();
        tree.Script("init", """
            i=0
            while [ ! -e "$CHAQUM_TREE/go" ] && [ $i -lt 36000 ]; do sleep 0.1; i=$((i + 1)); done
            echo released
            """);
        using var daemon = Exec.Start(Bin("chaqum"), new[] { "--state-dir", tree.StateDir, "--grace", "2", tree.Root });
        Exec.Result? ps = null;
        Poll.Until(() => (ps = Exec.Run(Bin("chaqumctl"), new[] { "-t", tree.Root, "--state-dir", tree.StateDir, "ps" })).Exit == 0
                && ps.Out.Contains("init"),
            () => $"chaqumctl ps to list init; last: {ps}\ndaemon: {daemon.Output}", TimeSpan.FromSeconds(60));
        Assert.That(ps!.Lines.Single(l => l.StartsWith("init ")), Does.Contain("running"), ps.ToString());

        File.WriteAllText(tree.PathOf("go"), "");
        Assert.That(daemon.WaitForExit(TimeSpan.FromSeconds(30)), Is.EqualTo(0), daemon.Output);
        Assert.That(daemon.Output, Does.Contain("init[out] released"));

        var history = Exec.Run(Bin("chaqumctl"), new[] { "--state-dir", tree.StateDir, "history", "--json" });
        Assert.That(history.Exit, Is.EqualTo(0), history.ToString());
        Assert.That(history.Out, Does.Contain("\"id\": \"init\"").Or.Contain("\"id\":\"init\""), history.ToString());
    }

    [Test, Order(5)]
    public void The_man_pages_render_without_warnings()
    {
        var pages = new[]
        {
            Path.Combine(_prefix, "share", "man", "man1", "chaqum.1"),
            Path.Combine(_prefix, "share", "man", "man1", "chaqumctl.1"),
            Path.Combine(_prefix, "share", "man", "man7", "chaqum-protocol.7"),
        };
        foreach (var page in pages)
        {
            Assert.That(File.Exists(page), Is.True, page);
            var name = Path.GetFileNameWithoutExtension(page).ToUpperInvariant();
            var section = Path.GetExtension(page)[1..];
            // Whatever renders it, the header names the page and its section.
            var header = File.ReadLines(page).First(l => !l.StartsWith(".\\\""));
            Assert.That(header, Does.StartWith($".TH {name} {section} "), page);

            var env = new Dictionary<string, string?> { ["MANWIDTH"] = "80", ["MANPAGER"] = "cat", ["PAGER"] = "cat", ["LANG"] = "C.UTF-8" };
            if (Exec.OnPath("man"))
            {
                var man = Exec.Run("man", new[] { "--warnings=w", "-l", page }, env);
                Assert.That(man.Exit, Is.EqualTo(0), man.ToString());
                Assert.That(man.Err, Is.Empty, $"man warns about {page}:\n{man.Err}");
                Assert.That(man.Out, Does.Contain("NAME").And.Contain("SEE ALSO"), man.ToString());
            }
            else if (Exec.OnPath("groff"))
            {
                var groff = Exec.Run("groff", new[] { "-man", "-Tutf8", "-ww", "-z", page }, env);
                Assert.That(groff.Exit, Is.EqualTo(0), groff.ToString());
                Assert.That(groff.Err, Is.Empty, $"groff warns about {page}:\n{groff.Err}");
            }
            else
            {
                // Neither installed: at least the sections every page must have are there.
                var text = File.ReadAllText(page);
                Assert.That(text, Does.Contain("\n.SH NAME\n").And.Contain("\n.SH DESCRIPTION\n").And.Contain("\n.SH SEE ALSO\n"), page);
            }
        }
    }

    [Test, Order(100)]
    public void Uninstall_removes_exactly_what_was_installed()
    {
        var result = Exec.Run("sh", new[] { Path.Combine(_prefix, "lib", "chaqum", "uninstall.sh"), _prefix });
        Assert.That(result.Exit, Is.EqualTo(0), result.ToString());

        var left = Directory.EnumerateFileSystemEntries(_prefix, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(_prefix, p)).OrderBy(p => p, StringComparer.Ordinal).ToList();
        // Only the other files, and the directories that existed before the install.
        Assert.That(left, Is.EqualTo(new[] { "bin", "bin/keep-me", "share", "share/man", "share/man/man1", "share/man/man1/keep-me.1" }),
            result.ToString());
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from))
        {
            var target = Path.Combine(to, Path.GetFileName(file));
            File.Copy(file, target, overwrite: true);
            File.SetUnixFileMode(target, File.GetUnixFileMode(file));
        }
    }

    /// <summary>The source checkout the tests were built from (where install.sh is).</summary>
    private static class Source
    {
        public static string Root
        {
            get
            {
                for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                    if (File.Exists(Path.Combine(dir.FullName, "install.sh")) && Directory.Exists(Path.Combine(dir.FullName, "src", "Chaqum")))
                        return dir.FullName;
                throw new DirectoryNotFoundException($"no install.sh above {AppContext.BaseDirectory}");
            }
        }
    }

    /// <summary>
    /// The build lock every dotnet build on this machine takes (flock /tmp/chaqum-build.lock):
    /// the install test builds too. If a process above us already holds it (the test run was
    /// started as "flock /tmp/chaqum-build.lock dotnet test"), taking it again would wait for
    /// ever on ourselves, so then we build under our ancestor's lock.
    /// </summary>
    private static partial class BuildLock
    {
        private const string Path_ = "/tmp/chaqum-build.lock";

        public static IDisposable? Take()
        {
            if (HeldByAncestor()) return null;
            int fd = open(Path_, 0x42 /* O_RDWR | O_CREAT */ | 0x80000 /* O_CLOEXEC */, 0x1b6 /* 0666 */);
            if (fd < 0) throw new IOException($"cannot open {Path_}: errno {Marshal.GetLastPInvokeError()}");
            if (flock(fd, 2 /* LOCK_EX */) != 0)
            {
                close(fd);
                throw new IOException($"cannot lock {Path_}: errno {Marshal.GetLastPInvokeError()}");
            }
            return new Held(fd);
        }

        private sealed class Held(int fd) : IDisposable
        {
            public void Dispose() => close(fd);
        }

        /// <summary>Does one of our ancestors have the lock file open? flock(1) keeps it open
        /// while it runs its command, and runs the command only once it holds the lock.</summary>
        private static bool HeldByAncestor()
        {
            for (int pid = ParentOf(Environment.ProcessId); pid > 1; pid = ParentOf(pid))
            {
                try
                {
                    foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                        if (new FileInfo(fd).LinkTarget == Path_) return true;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
            return false;
        }

        private static int ParentOf(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return int.Parse(fields[1]);
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or UnauthorizedAccessException)
            {
                return 0;
            }
        }

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
        private static partial int open(string path, int flags, int mode);

        [LibraryImport("libc", SetLastError = true)]
        private static partial int flock(int fd, int operation);

        [LibraryImport("libc", SetLastError = true)]
        private static partial int close(int fd);
    }

    /// <summary>Runs installed programs directly (not through "dotnet exec"), with an
    /// environment free of this test run's chaqum, systemd and MSBuild variables.</summary>
    private static class Exec
    {
        public sealed record Result(int Exit, string Out, string Err)
        {
            public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            public override string ToString() => $"exit {Exit}\nstdout:\n{Out}\nstderr:\n{Err}";
        }

        public static bool OnPath(string program) =>
            (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Any(dir => File.Exists(Path.Combine(dir, program)));

        private static ProcessStartInfo Info(string file, IEnumerable<string> args, IDictionary<string, string?>? env)
        {
            var info = new ProcessStartInfo(file)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            foreach (var a in args) info.ArgumentList.Add(a);
            foreach (var key in info.Environment.Keys.ToList())
            {
                if (key.StartsWith("CHAQUM_", StringComparison.Ordinal) || key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                    || key is "NOTIFY_SOCKET" or "WATCHDOG_USEC" or "WATCHDOG_PID" or "JOURNAL_STREAM" or "RUNTIME_DIRECTORY" or "STATE_DIRECTORY")
                    info.Environment.Remove(key);
            }
            if (env is not null)
                foreach (var (k, v) in env)
                {
                    if (v is null) info.Environment.Remove(k);
                    else info.Environment[k] = v;
                }
            return info;
        }

        public static Result Run(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
        {
            using var p = Process.Start(Info(file, args, env))!;
            p.StandardInput.Close();
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            var limit = Deadline.Scale(timeout ?? TimeSpan.FromSeconds(60));
            if (!p.WaitForExit(limit))
            {
                p.Kill(true);
                p.WaitForExit(5000);
                Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {limit.TotalSeconds}s:\n{stdout.Result}\n{stderr.Result}");
            }
            p.WaitForExit();
            return new Result(p.ExitCode, stdout.Result, stderr.Result);
        }

        /// <summary>A program left running; its output (both streams) is collected.</summary>
        public static Running Start(string file, IEnumerable<string> args) => new(Process.Start(Info(file, args, null))!);

        public sealed class Running : IDisposable
        {
            private readonly Process _process;
            private readonly StringBuilder _output = new();
            private readonly Task _out, _err;

            public Running(Process process)
            {
                _process = process;
                _process.StandardInput.Close();
                _out = Pump(_process.StandardOutput);
                _err = Pump(_process.StandardError);
            }

            private Task Pump(StreamReader reader) => Task.Run(async () =>
            {
                string? line;
                while ((line = await reader.ReadLineAsync()) is not null)
                    lock (_output) _output.Append(line).Append('\n');
            });

            public string Output
            {
                get { lock (_output) return _output.ToString(); }
            }

            public int WaitForExit(TimeSpan quiet)
            {
                var timeout = Deadline.Scale(quiet);
                if (!_process.WaitForExit(timeout)) Assert.Fail($"did not exit within {timeout.TotalSeconds}s:\n{Output}");
                Task.WaitAll(new[] { _out, _err }, TimeSpan.FromSeconds(5));
                return _process.ExitCode;
            }

            public void Dispose()
            {
                try
                {
                    if (!_process.HasExited)
                    {
                        _process.Kill(true);
                        _process.WaitForExit(5000);
                    }
                }
                catch (InvalidOperationException) { }
                _process.Dispose();
            }
        }
    }
}
