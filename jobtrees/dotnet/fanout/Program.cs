// fanout WORD...: has every word shouted by a sh worker, two workers at a time, then
// reports each worker's status and the results they sent back as messages.
using Chaqum.Client;

string[] words = args.Length > 0 ? args : ["alpha", "beta", "gamma", "delta", "42"];

await using var chaqum = ChaqumJob.Connect();
ChaqumLog.Info($"{chaqum.Identity.Id}: shouting {words.Length} word(s), two at a time");

// The group caps how many workers run at once; the first mention creates it.
var options = new EnqueueOptions { Group = "shouters", MaxProcs = 2, Timeout = TimeSpan.FromMinutes(1) };
var jobs = new List<(string Word, JobHandle Job)>();
foreach (var word in words) jobs.Add((word, await chaqum.EnqueueAsync("shout", [word], options)));

var statuses = await chaqum.WaitAllAsync(jobs.Select(j => j.Job), TimeSpan.FromMinutes(5));
foreach (var (word, job) in jobs) Console.WriteLine($"{word}: {statuses[job.Id]}");

// Each worker that succeeded sent its result before it exited: the messages are waiting.
var results = new List<string>();
while (await chaqum.ReceiveAsync(TimeSpan.Zero) is { } message) results.Add(message.Text);
results.Sort(StringComparer.Ordinal);
foreach (var result in results) Console.WriteLine($"received: {result}");

int failed = statuses.Values.Count(status => !status.Succeeded);
if (failed > 0) ChaqumLog.Warning($"{failed} of {words.Length} workers failed");
Console.WriteLine($"done: {words.Length - failed} succeeded, {failed} failed");
