using System.Text.RegularExpressions;
using Chaqum.Logging;
using Chaqum.Scheduling;
using Chaqum.Tests.Scheduling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chaqum.Tests.Unit;

/// <summary>Per-job output files: both streams marked, a cap per job that keeps the newest
/// output, and the total retention (age, then size). Real files in a scratch directory;
/// the timers are fake, and file ages are set by hand.</summary>
[TestFixture, CancelAfter(30_000)]
public class JobOutputFilesTests
{
    private string _stateDir = null!;
    private FakeTime _time = null!;

    private string OutputDir => Path.Combine(_stateDir, "output");

    [SetUp]
    public void SetUp()
    {
        _stateDir = Path.Combine(Path.GetTempPath(), "chaqum-output-test-" + Guid.NewGuid().ToString("N")[..12]);
        _time = new FakeTime();
    }

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_stateDir)) Directory.Delete(_stateDir, true);
    }

    private JobOutputFiles Files(long cap = 1 << 20, long total = 1L << 30, double retentionDays = 30) =>
        new(_stateDir, cap, total, TimeSpan.FromDays(retentionDays), _time, NullLogger.Instance);

    private static Job NewJob(string id) =>
        new(id, 1, new ScriptPath(id.Split('/')[0], "/tree/" + id.Split('/')[0]), Array.Empty<string>(), null, new Chaqum.Scheduling.Group(""), JobOptions.Default);

    /// <summary>A file in the output directory, written long ago (or not).</summary>
    private string OldFile(string name, int bytes, TimeSpan age)
    {
        Directory.CreateDirectory(OutputDir);
        var path = Path.Combine(OutputDir, name);
        File.WriteAllText(path, new string('x', bytes));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    [Test]
    public void Both_streams_are_marked_with_time_stream_and_level()
    {
        using var files = Files();
        var job = NewJob("convert/5");
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "converting a.png");
        files.Line(job, OutputStream.Stderr, LogLevel.Warning, "a.png is large");
        files.Line(job, OutputStream.Stderr, LogLevel.Error, "disk full");

        var lines = files.Tail("convert/5", -1);
        Assert.That(lines.Select(l => (l.StreamWord, OutputLine.LevelWord(l.Level), l.Text)), Is.EqualTo(new[]
        {
            ("out", "INF", "converting a.png"),
            ("err", "WRN", "a.png is large"),
            ("err", "ERR", "disk full"),
        }));
        Assert.That(files.Tail("convert/5", 1).Single().Text, Is.EqualTo("disk full"));

        var raw = File.ReadAllLines(files.PathOf("convert/5"));
        Assert.That(raw[0], Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d out INF converting a\.png$"));
        Assert.That(raw[1], Does.EndWith(" err WRN a.png is large"));
    }

    [Test]
    public void Every_job_id_is_one_flat_file_name()
    {
        Assert.That(JobOutputFiles.FileName("convert/5"), Is.EqualTo("convert%2F5.log"));
        Assert.That(JobOutputFiles.FileName("sub/dir/job/7"), Is.EqualTo("sub%2Fdir%2Fjob%2F7.log"));
        Assert.That(JobOutputFiles.FileName("odd%2F/1"), Is.EqualTo("odd%252F%2F1.log"), "'%' is escaped first, so names never collide");
        Assert.That(JobOutputFiles.FileName("init"), Is.EqualTo("init.log"));
        using var files = Files();
        Assert.That(files.PathOf("convert/5"), Is.EqualTo(Path.Combine(OutputDir, "convert%2F5.log")));
    }

    [Test]
    public void The_cap_keeps_the_newest_output_in_two_halves()
    {
        const long cap = 4096;
        using var files = Files(cap);
        var job = NewJob("chatty/1");
        for (int i = 1; i <= 1000; i++)
            files.Line(job, i % 2 == 0 ? OutputStream.Stderr : OutputStream.Stdout, LogLevel.Information, $"line {i:D4} " + new string('.', 20));

        var lines = files.Tail("chatty/1", -1);
        var path = files.PathOf("chatty/1");
        long current = new FileInfo(path).Length, previous = new FileInfo(path + ".1").Length;
        Assert.That(current, Is.LessThanOrEqualTo(cap / 2));
        Assert.That(previous, Is.LessThanOrEqualTo(cap / 2));
        Assert.That(current + previous, Is.GreaterThan(cap / 2), "more than one half is kept");
        Assert.That(Directory.GetFiles(OutputDir), Has.Length.EqualTo(2), "only FILE and FILE.1");

        var numbers = lines.Select(l => int.Parse(Regex.Match(l.Text, @"line (\d+)").Groups[1].Value)).ToList();
        Assert.That(numbers.Last(), Is.EqualTo(1000), "the newest line is kept");
        Assert.That(numbers.First(), Is.GreaterThan(1), "the oldest lines are gone");
        Assert.That(numbers, Is.EqualTo(Enumerable.Range(numbers.First(), numbers.Count)), "what is kept is one unbroken stretch, in order");
        Assert.That(lines.Last().StreamWord, Is.EqualTo("err"));
    }

    [Test]
    public void Batches_of_lines_are_cut_into_halves_exactly_as_single_lines_are()
    {
        // Lines of many lengths, some needing escapes, some with a level prefix, read in
        // batches of many sizes; each half must end where the next line would not fit.
        const long cap = 8192;
        using var files = Files(cap);
        var job = NewJob("batched/1");
        var random = new Random(7);
        var written = new List<string>();   // every line as its file will show it
        var batch = new System.Text.StringBuilder();
        int number = 0;
        var time = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
        while (number < 3000)
        {
            batch.Clear();
            for (int k = random.Next(1, 60); k > 0; k--, number++)
            {
                string text = $"line {number:D5} " + new string('.', random.Next(0, 120));
                string? raw = null;
                if (number % 97 == 0) raw = text + "\u001b[1m";          // escaped in the file
                if (number % 89 == 0) raw = "\u001f3" + text;             // level prefix: ERR
                batch.Append(raw ?? text).Append('\n');
                written.Add(number % 89 == 0 ? $"err ERR {text}" : number % 97 == 0 ? $"err WRN {text}\\x1b[1m" : $"err WRN {text}");
            }
            var data = System.Text.Encoding.UTF8.GetBytes(batch.ToString());
            var lines = new OutputLines();
            lines.Start(data, time);
            bool clean = OutputLines.AllClean(data);
            for (int start = 0; start < data.Length;)
            {
                int lf = Array.IndexOf(data, (byte)'\n', start);
                lines.Add(start, lf - start, OutputStream.Stderr, OutputReader.MaxLine, clean);
                start = lf + 1;
            }
            files.Lines(job, OutputStream.Stderr, lines);
        }
        files.Flush("batched/1");

        // The model: each line is "TIME " + what `written` holds + LF; a half takes lines
        // until the next would pass cap/2.
        int stamp = "2026-11-30T12:00:00.000+00:00 ".Length;
        var halves = new List<List<string>> { new() };
        long used = 0;
        foreach (var line in written)
        {
            int length = stamp + System.Text.Encoding.UTF8.GetByteCount(line) + 1;
            if (used + length > cap / 2) { halves.Add(new()); used = 0; }
            halves[^1].Add(line);
            used += length;
        }
        string Strip(string l) => l[stamp..];
        var path = files.PathOf("batched/1");
        Assert.That(File.ReadAllLines(path + ".1").Select(Strip), Is.EqualTo(halves[^2]), "FILE.1 is the previous half");
        Assert.That(File.ReadAllLines(path).Select(Strip), Is.EqualTo(halves[^1]), "FILE is the current half");
    }

    [Test]
    public void A_job_file_written_again_by_a_new_daemon_is_appended_to_within_the_cap()
    {
        const long cap = 2048;
        var job = NewJob("init");
        using (var first = Files(cap))
        {
            first.Line(job, OutputStream.Stdout, LogLevel.Information, "first run");
            first.Closed(job, OutputStream.Stdout);
            first.Closed(job, OutputStream.Stderr);
        }
        using var second = Files(cap);
        second.Line(job, OutputStream.Stdout, LogLevel.Information, "second run");
        Assert.That(second.Tail("init", -1).Select(l => l.Text), Is.EqualTo(new[] { "first run", "second run" }));
        for (int i = 0; i < 200; i++) second.Line(job, OutputStream.Stdout, LogLevel.Information, new string('y', 40));
        second.Flush("init");
        Assert.That(new FileInfo(second.PathOf("init")).Length, Is.LessThanOrEqualTo(cap / 2));
        Assert.That(second.Tail("init", -1).Select(l => l.Text), Has.None.EqualTo("first run"));
    }

    [Test]
    public void A_cap_of_zero_keeps_no_file_but_followers_still_get_every_line()
    {
        using var files = Files(cap: 0);
        var job = NewJob("quiet/2");
        var seen = new List<string>();
        var follow = files.Follow("quiet/2", l => seen.Add($"{l.StreamWord} {l.Text}"));
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "one");
        files.Line(job, OutputStream.Stderr, LogLevel.Warning, "two");
        follow.Dispose();
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "three");

        Assert.That(seen, Is.EqualTo(new[] { "out one", "err two" }), "nothing after the follower left");
        Assert.That(File.Exists(files.PathOf("quiet/2")), Is.False);
        Assert.That(files.Tail("quiet/2", -1), Is.Empty);
    }

    [Test]
    public void A_follower_that_is_full_is_told_how_many_lines_it_missed_and_gets_none_of_them()
    {
        using var files = Files(cap: 0);
        var job = NewJob("flood/3");
        var seen = new List<string>();
        long missed = 0;
        bool full = false;
        using var follow = files.Follow("flood/3", l => seen.Add(l.Text), () => full, n => missed += n);

        files.Line(job, OutputStream.Stdout, LogLevel.Information, "before");
        full = true;
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "while full");
        var data = System.Text.Encoding.UTF8.GetBytes("a\nb\nc\n");
        var lines = new OutputLines();
        lines.Start(data, DateTimeOffset.Now);
        for (int start = 0; start < data.Length; start += 2) lines.Add(start, 1, OutputStream.Stdout, OutputReader.MaxLine, true);
        files.Lines(job, OutputStream.Stdout, lines);
        full = false;
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "after");

        Assert.That(seen, Is.EqualTo(new[] { "before", "after" }));
        Assert.That(missed, Is.EqualTo(4), "one single line and a batch of three");
    }

    [Test]
    public void A_full_backlog_counts_skipped_items_and_hands_the_count_to_the_next_one()
    {
        var backlog = new Chaqum.Control.Backlog<string>(capacity: 100);
        Assert.That(backlog.Full(10), Is.False, "empty");
        backlog.Add("old", 95, droppable: true);
        Assert.That(backlog.Full(10), Is.True);
        backlog.Skip(7);
        backlog.Add("answer");
        Assert.That(backlog.TryTake(out var first, out long before), Is.True);
        Assert.That((first, before), Is.EqualTo(("old", 0L)));
        Assert.That(backlog.TryTake(out var second, out before), Is.True);
        Assert.That((second, before), Is.EqualTo(("answer", 7L)), "the next item carries the count");
        Assert.That(backlog.Dropped, Is.EqualTo(7));
    }

    [Test]
    public void Prune_removes_the_output_of_jobs_that_ended_before_the_retention()
    {
        var old = OldFile("old%2F1.log", 100, TimeSpan.FromDays(40));
        var oldHalf = OldFile("old%2F1.log.1", 100, TimeSpan.FromDays(41));
        var recent = OldFile("recent%2F2.log", 100, TimeSpan.FromDays(29));
        using var files = Files(retentionDays: 30);
        files.Prune();
        Assert.That(File.Exists(old), Is.False);
        Assert.That(File.Exists(oldHalf), Is.False);
        Assert.That(File.Exists(recent), Is.True);
    }

    [Test]
    public void Prune_removes_the_oldest_files_while_the_total_is_over_its_cap()
    {
        var paths = Enumerable.Range(1, 5)
            .Select(i => OldFile($"job%2F{i}.log", 1000, TimeSpan.FromHours(10 - i)))
            .ToList();
        using var files = Files(total: 3000);
        files.Prune();
        Assert.That(paths.Select(File.Exists), Is.EqualTo(new[] { false, false, true, true, true }),
            "the two oldest go; the three newest fit in 3000 bytes");
    }

    [Test]
    public void Prune_spares_the_files_of_jobs_still_writing()
    {
        using var files = Files(total: 10, retentionDays: 1);
        var job = NewJob("busy/3");
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "still going");
        files.Flush("busy/3");
        File.SetLastWriteTimeUtc(files.PathOf("busy/3"), DateTime.UtcNow - TimeSpan.FromDays(5));
        var other = OldFile("done%2F4.log", 100, TimeSpan.FromDays(5));

        files.Prune();
        Assert.That(File.Exists(files.PathOf("busy/3")), Is.True, "a running job's file is never removed");
        Assert.That(File.Exists(other), Is.False);

        files.Closed(job, OutputStream.Stdout);
        files.Closed(job, OutputStream.Stderr);
        files.Prune();
        Assert.That(File.Exists(files.PathOf("busy/3")), Is.False, "once its output has closed, it is old like any other");
    }

    [Test]
    public void The_retention_is_applied_again_within_the_hour_after_a_job_ends()
    {
        using var files = Files(retentionDays: 30);
        var old = OldFile("old%2F1.log", 100, TimeSpan.FromDays(31));
        var job = NewJob("short/5");
        files.Line(job, OutputStream.Stdout, LogLevel.Information, "done");
        files.Closed(job, OutputStream.Stdout);
        files.Closed(job, OutputStream.Stderr);
        Assert.That(File.Exists(old), Is.True, "not at once: pruning lists the whole directory");

        _time.Advance(JobOutputFiles.PruneEvery);
        Assert.That(File.Exists(old), Is.False);
        Assert.That(File.Exists(files.PathOf("short/5")), Is.True);
    }
}
