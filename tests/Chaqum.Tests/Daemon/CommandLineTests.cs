namespace Chaqum.Tests.Daemon;

[TestFixture, CancelAfter(120_000)]
public class CommandLineTests
{
    [Test]
    public void Help_describes_the_options_and_exits_zero()
    {
        using var d = DaemonProcess.Raw("--help");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        foreach (var option in new[] { "--entry", "--verbose", "--grace", "--log-file", "--state-dir", "TREE" })
            Assert.That(d.Log, Does.Contain(option));
    }

    [Test]
    public void Version_prints_a_version()
    {
        using var d = DaemonProcess.Raw("--version");
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Log, Does.Match(@"\d+\.\d+\.\d+"));
    }

    [Test]
    public void No_tree_at_all_names_TREE_and_is_a_usage_error()
    {
        using var d = DaemonProcess.Raw();
        Assert.That(d.WaitForExit(), Is.EqualTo(2));
        Assert.That(d.Log, Does.Contain("chaqum: no job tree given: chaqum [OPTION...] TREE [ARG...]"));
        Assert.That(d.Log, Does.Not.Contain("Required argument missing"));
    }

    [TestCase("--grace", "abc", "--grace: 'abc' is not a number of seconds")]
    [TestCase("--history-days", "x", "--history-days: 'x' is not a whole number of days")]
    public void A_value_of_the_wrong_kind_is_named_in_the_operators_words(string option, string value, string expected)
    {
        using var tree = new TempTree();
        using var d = DaemonProcess.Raw(option, value, tree.Root);
        Assert.That(d.WaitForExit(), Is.EqualTo(2));
        Assert.That(d.Log, Does.Contain("chaqum: " + expected));
        Assert.That(d.Log, Does.Not.Contain("System."), "no .NET type names");
    }

    [Test]
    public void Missing_tree_is_a_one_line_error()
    {
        using var d = DaemonProcess.Raw("/nonexistent/tree");
        Assert.That(d.WaitForExit(), Is.Not.EqualTo(0));
        Assert.That(d.Lines, Has.Count.EqualTo(1));
        Assert.That(d.Log, Does.Contain("/nonexistent/tree: no such directory"));
    }

    [Test]
    public void Tree_that_is_a_file_is_refused()
    {
        using var tree = new TempTree();
        var file = tree.File_("plain", "x");
        using var d = DaemonProcess.Raw(file);
        Assert.That(d.WaitForExit(), Is.Not.EqualTo(0));
        Assert.That(d.Log, Does.Contain("not a directory"));
    }

    [Test]
    public void Missing_entry_job_is_refused()
    {
        using var tree = new TempTree();
        using var d = DaemonProcess.Raw(tree.Root);
        Assert.That(d.WaitForExit(), Is.Not.EqualTo(0));
        Assert.That(d.Lines, Has.Count.EqualTo(1));
        Assert.That(d.Log, Does.Contain("entry job: no such script: 'init'"));
    }

    [Test]
    public void Non_executable_entry_job_is_refused()
    {
        using var tree = new TempTree();
        tree.File_("init", "#!/bin/sh\n");
        using var d = DaemonProcess.Raw(tree.Root);
        Assert.That(d.WaitForExit(), Is.Not.EqualTo(0));
        Assert.That(d.Log, Does.Contain("'init' is not executable"));
    }

    [Test]
    public void Missing_operand_is_a_usage_error()
    {
        using var d = DaemonProcess.Raw();
        Assert.That(d.WaitForExit(), Is.EqualTo(2));
        Assert.That(d.Log, Does.Contain("chaqum --help"));
    }

    [Test]
    public void Entry_option_and_arguments_after_the_tree_reach_the_entry_job()
    {
        using var tree = new TempTree();
        tree.Script("entry", "for a in \"$@\"; do printf 'arg=[%s]\\n' \"$a\"; done\n");
        using var d = DaemonProcess.Start(tree, new[] { "-x", "--grace", "two words", "" }, null, new[] { "-e", "entry" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("entry"), Is.EqualTo(new[] { "arg=[-x]", "arg=[--grace]", "arg=[two words]", "arg=[]" }));
    }

    [Test]
    public void Entry_job_that_cannot_be_executed_gives_a_non_zero_exit()
    {
        using var tree = new TempTree();
        tree.Script("init", "#!/nonexistent/interpreter\n");
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(1));
        Assert.That(d.Log, Does.Contain("No such file or directory"));
    }

    [Test]
    public void Log_file_receives_the_log_too()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo into-the-file\n");
        var logFile = Path.Combine(tree.StateDir + "-log", "chaqum.log");
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        try
        {
            using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "--log-file", logFile });
            Assert.That(d.WaitForExit(), Is.EqualTo(0));
            var written = Directory.GetFiles(Path.GetDirectoryName(logFile)!);
            Assert.That(written, Is.Not.Empty);
            Assert.That(File.ReadAllText(written[0]), Does.Contain("init[out] into-the-file"));
        }
        finally { Directory.Delete(Path.GetDirectoryName(logFile)!, true); }
    }

    [Test]
    public void Verbose_shows_debug_events_and_job_debug_lines()
    {
        using var tree = new TempTree();
        tree.Script("init", "printf 'D\\037debug line\\n' >&2\n");
        using (var quiet = DaemonProcess.Start(tree))
        {
            Assert.That(quiet.WaitForExit(), Is.EqualTo(0));
            Assert.That(quiet.Log, Does.Not.Contain("debug line"));
        }
        using var loud = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(loud.WaitForExit(), Is.EqualTo(0));
        Assert.That(loud.Log, Does.Contain("DBG init[err] debug line"));
    }

    [Test]
    public void A_flag_before_the_tree_does_not_take_the_tree_as_its_value()
    {
        using var tree = new TempTree();
        tree.Script("init", "echo \"args: $*\"\n");
        using var d = DaemonProcess.Start(tree, new[] { "first", "second" }, null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Does.Contain("args: first second"));
    }
}
