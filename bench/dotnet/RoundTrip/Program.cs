// RoundTrip M: M round trips of "wait --" through the .NET client library
// (ChaqumJob.WaitAllAsync with no jobs, which the daemon answers at once).
using System.Diagnostics;
using Chaqum.Client;

int m = int.Parse(args[0]);
await using var chaqum = ChaqumJob.Connect();
var none = Array.Empty<string>();
await chaqum.WaitAllAsync(none); // the first call opens the connection: not timed
var clock = Stopwatch.StartNew();
for (int i = 0; i < m; i++) await chaqum.WaitAllAsync(none);
long ns = (long)(clock.Elapsed.TotalMilliseconds * 1e6);
File.AppendAllText(Environment.GetEnvironmentVariable("BENCH_RESULTS")!, $"dotnet_roundtrips {m} {ns}\n");
