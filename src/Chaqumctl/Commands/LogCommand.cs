using System.CommandLine;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>log ID [-f] [-n N] [--json]: a job's output, both streams marked.</summary>
public static class LogCommand
{
    public static Command Build(Context context)
    {
        var id = new Argument<string>("ID") { Description = "The job" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new output until the job ends" };
        var lines = new Option<int>("--lines", "-n") { Description = "Only the last N lines of what it wrote so far", DefaultValueFactory = _ => -1 };
        var json = new Option<bool>("--json") { Description = "One JSON object per line" };
        var command = new Command("log", "Print a job's output (stdout marked [out], stderr [err]); -f follows it") { id, follow, lines, json };
        command.SetAction(parsed =>
        {
            bool asJson = parsed.GetValue(json);
            context.Call(ControlVerbs.Log, new LogArgs { Id = parsed.GetValue(id), Follow = parsed.GetValue(follow), Lines = parsed.GetValue(lines) }, e =>
            {
                if (e.Line is { } line)
                {
                    if (asJson) Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(line, ControlJson.Line.LogLine));
                    else PrintLine(line);
                }
                else if (e.Skipped is { } skipped)
                {
                    if (asJson) Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(e, ControlJson.Line.ControlEvent));
                    else Console.Out.WriteLine(SkippedMarker(skipped));
                }
                Console.Out.Flush();
            });
            return Program.Ok;
        });
        return command;
    }

    /// <summary>Where lines are missing because this reader fell behind the job and the
    /// daemon dropped the oldest it held for us.</summary>
    public static string SkippedMarker(long skipped) =>
        $"[chaqumctl: {skipped} line{(skipped == 1 ? "" : "s")} skipped here: this reader fell behind the job's output]";

    public static void PrintLine(LogLine line)
    {
        string marker = line.Level is "INF" || (line.Level is "WRN" && line.Stream == "err") ? "" : $" {line.Level}";
        Console.Out.WriteLine(TerminalText.Escape($"{Format.Clock(line.Time)} [{line.Stream}]{marker} {line.Text}"));
    }
}
