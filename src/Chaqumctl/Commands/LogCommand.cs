using System.CommandLine;
using System.Text.Json.Nodes;

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
            context.Call("log", new JsonObject
            {
                ["id"] = parsed.GetValue(id),
                ["follow"] = parsed.GetValue(follow),
                ["lines"] = parsed.GetValue(lines),
            }, e =>
            {
                if (e["line"] is not { } line) return;
                if (asJson) Console.Out.WriteLine(line.ToJsonString(Format.JsonLine));
                else PrintLine(line);
                Console.Out.Flush();
            });
            return Program.Ok;
        });
        return command;
    }

    public static void PrintLine(JsonNode line)
    {
        string stream = Format.Text(line["stream"]);
        string level = Format.Text(line["level"]);
        string marker = level is "INF" || (level is "WRN" && stream == "err") ? "" : $" {level}";
        Console.Out.WriteLine($"{Format.Clock(line["time"]?.GetValue<string>())} [{stream}]{marker} {Format.Text(line["text"])}");
    }
}
