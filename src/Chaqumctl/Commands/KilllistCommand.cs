using System.CommandLine;
using System.Diagnostics;
using Chaqum.Control.Messages;

namespace Chaqumctl.Commands;

/// <summary>
/// killlist [--yes] [--dry-run]: the morning review. Candidates are the running jobs that
/// take longer than usual. $VISUAL (or $EDITOR, or vi) opens on one line per candidate;
/// the jobs whose lines remain when the editor exits 0 are killed; a non-zero editor exit
/// kills nothing. --yes kills every candidate without an editor (for a scheduled job);
/// --dry-run only lists them. Run inside a job, the job itself is never a candidate.
/// </summary>
public static class KilllistCommand
{
    public static Command Build(Context context)
    {
        var yes = new Option<bool>("--yes", "-y") { Description = "Kill every candidate, no editor" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Only list the candidates" };
        var signal = new Option<string>("--signal", "-s") { Description = "Signal to send", DefaultValueFactory = _ => "TERM" };
        var command = new Command("killlist", "Review the jobs running longer than usual in $EDITOR; the lines you keep are killed") { yes, dryRun, signal };
        command.SetAction(parsed =>
        {
            var jobs = context.Call(ControlVerbs.Ps, new PsArgs()).Jobs;
            // A scheduled review runs as a job itself, and may take longer than its usual
            // fraction of a second: it must not kill itself before it has done its work.
            var self = context.OwnJobId;
            var candidates = jobs.Where(j => j.LongerThanUsual && j.Id != self).ToList();
            if (candidates.Count == 0)
            {
                Console.Out.WriteLine("no job runs longer than usual");
                return Program.Ok;
            }
            if (parsed.GetValue(dryRun))
            {
                foreach (var c in candidates) Console.Out.WriteLine(TerminalText.Escape(Line(c)));
                return Program.Ok;
            }
            List<string> chosen;
            if (parsed.GetValue(yes))
            {
                chosen = candidates.Select(c => c.Id).ToList();
            }
            else
            {
                var picked = Edit(candidates);
                if (picked is null)
                {
                    Console.Error.WriteLine("chaqumctl: the editor failed; nothing killed");
                    return Program.Failed;
                }
                var valid = candidates.Select(c => c.Id).ToHashSet();
                chosen = picked.Where(valid.Contains).Distinct().ToList();
            }
            if (chosen.Count == 0)
            {
                Console.Out.WriteLine("nothing killed");
                return Program.Ok;
            }
            KillCommand.Kill(context, chosen, parsed.GetValue(signal)!);
            return Program.Ok;
        });
        return command;
    }

    private static string Line(JobInfo job) =>
        $"{job.Id,-24} {job.Script,-16} running {Format.Duration(job.RuntimeSeconds),-8} usually {Format.Duration(job.UsualSeconds)}";

    /// <summary>The ids on the lines left in the file, or null if the editor failed.</summary>
    private static List<string>? Edit(List<JobInfo> candidates)
    {
        // A fresh private directory (mkdtemp, 0700): a predictable name in a shared /tmp
        // would let another user plant a symlink that we, perhaps root, write through.
        var dir = Directory.CreateTempSubdirectory("chaqumctl-killlist-");
        var file = Path.Combine(dir.FullName, "killlist.txt");
        var text = new List<string>
        {
            "# Jobs running longer than usual. The jobs whose lines remain when you save",
            "# and quit are killed (SIGTERM, then SIGKILL after the daemon's grace period).",
            "# Delete the lines of jobs that should live. Quit with an error (:cq in vi)",
            "# to kill nothing. Lines starting with # are ignored.",
        };
        text.AddRange(candidates.Select(c => TerminalText.Escape(Line(c))));
        File.WriteAllLines(file, text);
        try
        {
            var editor = Environment.GetEnvironmentVariable("VISUAL") is { Length: > 0 } v ? v
                : Environment.GetEnvironmentVariable("EDITOR") is { Length: > 0 } e ? e : "vi";
            // Through sh, so that EDITOR may carry arguments ("code --wait").
            var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(editor + " \"$1\"");
            info.ArgumentList.Add("sh");
            info.ArgumentList.Add(file);
            using var process = Process.Start(info)!;
            process.WaitForExit();
            if (process.ExitCode != 0) return null;
            return File.ReadAllLines(file)
                .Select(l => l.Trim())
                .Where(l => l.Length > 0 && !l.StartsWith('#'))
                .Select(l => l.Split(' ', 2)[0])
                .ToList();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
