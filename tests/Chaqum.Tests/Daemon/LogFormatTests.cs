using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Chaqum.Logging;
using Chaqum.Scheduling;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Chaqum.Tests.Daemon;

/// <summary>The daemon writes job output into its log without Serilog (JobOutputStderr,
/// for speed), so it must write exactly what Serilog would: the same lines, rendered
/// through JobOutputLog and the console template, are compared with what a real daemon
/// wrote for a job printing them.</summary>
[TestFixture, CancelAfter(60_000)]
public class LogFormatTests
{
    private static readonly byte[][] Lines =
    {
        "plain line"u8.ToArray(),
        "crlf line\r"u8.ToArray(),
        "E\u001Ferror line"u8.ToArray(),
        "W\u001Fwarning line"u8.ToArray(),
        "C\u001Fcritical line"u8.ToArray(),
        "I\u001Finfo line"u8.ToArray(),
        "D\u001Fdebug line"u8.ToArray(),
        "X\u001F not a level"u8.ToArray(),
        "tab\there"u8.ToArray(),
        "control \u0001 and \u007f"u8.ToArray(),
        "utf-8 é ü 日本 \u2028 separator"u8.ToArray(),
        new byte[] { (byte)'b', (byte)'a', (byte)'d', (byte)' ', 0xff, 0xfe, (byte)' ', 0xc3 },
        Array.Empty<byte>(),
        Encoding.ASCII.GetBytes(new string('z', 40_000)),
    };

    [Test]
    public void Job_lines_are_logged_as_Serilog_would_log_them()
    {
        using var tree = new TempTree();
        var data = Lines.SelectMany(l => l.Append((byte)'\n')).ToArray();
        File.WriteAllBytes(tree.PathOf("data"), data);
        tree.Script("init", "cat \"$CHAQUM_TREE/data\"\ncat \"$CHAQUM_TREE/data\" >&2\n");
        using var d = DaemonProcess.Start(tree, Array.Empty<string>(), null, new[] { "-v" });
        Assert.That(d.WaitForExit(), Is.EqualTo(0));

        foreach (var stream in new[] { OutputStream.Stdout, OutputStream.Stderr })
        {
            string marker = stream == OutputStream.Stdout ? " init[out] " : " init[err] ";
            var logged = d.Lines.Where(l => l.Contains(marker)).Select(WithoutTime).ToList();
            Assert.That(logged, Is.EqualTo(Reference(stream)), d.Log);
        }
    }

    /// <summary>What JobOutputLog makes of the lines through Serilog's console template.</summary>
    private static List<string> Reference(OutputStream stream)
    {
        var sink = new Collect();
        using var serilog = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(sink).CreateLogger();
        var output = new JobOutputLog(serilog);
        var job = new Job("init", 1, new ScriptPath("init", "/tree/init"), Array.Empty<string>(), null, new Chaqum.Scheduling.Group(""), JobOptions.Default);
        foreach (var raw in Lines)
        {
            // As OutputReader cuts them: pieces of at most MaxLine bytes.
            for (int at = 0; at < Math.Max(raw.Length, 1); at += OutputReader.MaxLine)
            {
                ReadOnlySpan<byte> line = raw.AsSpan(at, Math.Min(OutputReader.MaxLine, raw.Length - at));
                if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
                var level = LevelPrefix.Parse(ref line, stream);
                output.Line(job, stream, level, OutputText.Decode(line));
            }
        }
        return sink.Lines.Select(WithoutTime).ToList();
    }

    private static string WithoutTime(string line) => Regex.Replace(line, @"^\d\d:\d\d:\d\d\.\d{3} ", "");

    private sealed class Collect : ILogEventSink
    {
        private readonly MessageTemplateTextFormatter _format = new(DaemonLog.ConsoleTemplate, CultureInfo.InvariantCulture);
        public List<string> Lines { get; } = new();

        public void Emit(LogEvent logEvent)
        {
            var text = new StringWriter();
            _format.Format(logEvent, text);
            Lines.AddRange(text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
