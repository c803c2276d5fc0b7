using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Chaqum.History;

/// <summary>
/// The SQLite history of a tree (STATE_DIR/history.sqlite, WAL mode): one row per run in
/// `runs`. (What is queued or running right now is the daemon's live journal, not here.)
/// The daemon writes through one connection from its history thread; chaqumctl reads
/// concurrently, even while the daemon writes.
/// </summary>
public sealed class HistoryStore : IDisposable
{
    public const string FileName = "history.sqlite";
    private readonly SqliteConnection _db;

    private HistoryStore(SqliteConnection db) => _db = db;

    public static string PathIn(string stateDir) => System.IO.Path.Combine(stateDir, FileName);

    /// <summary>Opens (and creates, unless read-only) the store in a state directory.
    /// Read-only on a missing file gives null: there is no history yet.</summary>
    public static HistoryStore? Open(string stateDir, bool readOnly = false)
    {
        var path = PathIn(stateDir);
        if (readOnly && !File.Exists(path)) return null;
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 5,
        };
        var db = new SqliteConnection(builder.ToString());
        db.Open();
        var store = new HistoryStore(db);
        if (!readOnly) store.CreateSchema();
        return store;
    }

    private void CreateSchema()
    {
        Execute("PRAGMA journal_mode=WAL");
        Execute("PRAGMA synchronous=NORMAL");
        Execute("""
            CREATE TABLE IF NOT EXISTS runs (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL, attempt INTEGER NOT NULL, script TEXT NOT NULL, args TEXT NOT NULL,
                grp TEXT, parent TEXT, enqueued_at REAL, started_at REAL, ended_at REAL, runtime REAL,
                exit_code INTEGER, signal INTEGER, outcome TEXT NOT NULL,
                cpu_user REAL, cpu_system REAL, max_rss INTEGER, pid INTEGER)
            """);
        // Columns added since the first version: where a run ran (docs/cluster.md).
        foreach (var column in new[] { "executor", "node", "external_id" })
            if (!HasColumn("runs", column)) Execute($"ALTER TABLE runs ADD COLUMN {column} TEXT");
        Execute("CREATE INDEX IF NOT EXISTS runs_script ON runs(script, ended_at)");
        Execute("CREATE INDEX IF NOT EXISTS runs_ended ON runs(ended_at)");
        Execute("CREATE INDEX IF NOT EXISTS runs_id ON runs(id)");
        // Earlier versions kept the live jobs here too; the live journal is their one record now.
        Execute("DROP TABLE IF EXISTS live");
    }

    private bool HasColumn(string table, string column)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = $"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $c";
        cmd.Parameters.AddWithValue("$c", column);
        return cmd.ExecuteScalar() is not null;
    }

    private void Execute(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Appends runs in one transaction.</summary>
    public void Write(IReadOnlyList<RunRecord> runs)
    {
        if (runs.Count == 0) return;
        using var tx = _db.BeginTransaction();
        using var insert = _db.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO runs (id, attempt, script, args, grp, parent, enqueued_at, started_at, ended_at, runtime,
                              exit_code, signal, outcome, cpu_user, cpu_system, max_rss, pid, executor, node, external_id)
            VALUES ($id, $attempt, $script, $args, $grp, $parent, $enq, $start, $end, $runtime,
                    $exit, $signal, $outcome, $cpuu, $cpus, $rss, $pid, $executor, $node, $xid)
            """;
        var p = Parameters(insert, "$id", "$attempt", "$script", "$args", "$grp", "$parent", "$enq", "$start", "$end",
            "$runtime", "$exit", "$signal", "$outcome", "$cpuu", "$cpus", "$rss", "$pid", "$executor", "$node", "$xid");
        foreach (var r in runs)
        {
            SetHead(p, r);
            p[8].Value = r.EndedAt is { } e ? Seconds(e) : DBNull.Value;
            p[9].Value = (object?)r.RuntimeSeconds ?? DBNull.Value;
            p[10].Value = (object?)r.ExitCode ?? DBNull.Value;
            p[11].Value = (object?)r.Signal ?? DBNull.Value;
            p[12].Value = r.Outcome;
            p[13].Value = r.CpuUserSeconds;
            p[14].Value = r.CpuSystemSeconds;
            p[15].Value = r.MaxRssBytes;
            p[16].Value = r.Pid;
            p[17].Value = (object?)r.Executor ?? DBNull.Value;
            p[18].Value = (object?)r.Node ?? DBNull.Value;
            p[19].Value = (object?)r.ExternalId ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }
        tx.Commit();
    }

    /// <summary>The <see cref="JobRecord"/> fields into the first eight parameters ($id,
    /// $attempt, $script, $args, $grp, $parent, $enq, $start), as <see cref="Head"/> reads them.</summary>
    private static void SetHead(SqliteParameter[] p, JobRecord r)
    {
        p[0].Value = r.Id;
        p[1].Value = r.Attempt;
        p[2].Value = r.Script;
        p[3].Value = JsonSerializer.Serialize(r.Args, HistoryJson.Default.StringArray);
        p[4].Value = (object?)r.Group ?? DBNull.Value;
        p[5].Value = (object?)r.Parent ?? DBNull.Value;
        p[6].Value = Seconds(r.EnqueuedAt);
        p[7].Value = r.StartedAt is { } s ? Seconds(s) : DBNull.Value;
    }

    private static SqliteParameter[] Parameters(SqliteCommand cmd, params string[] names) =>
        names.Select(n => cmd.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();

    /// <summary>The <see cref="JobRecord"/> fields of a row whose first eight columns are
    /// id, attempt, script, args, grp, parent, enqueued_at, started_at (the pid is where
    /// the table has it).</summary>
    private static JobHead Head(SqliteDataReader r, int pid) => new()
    {
        Id = r.GetString(0),
        Attempt = r.GetInt32(1),
        Script = r.GetString(2),
        Args = JsonSerializer.Deserialize(r.GetString(3), HistoryJson.Default.StringArray) ?? Array.Empty<string>(),
        Group = r.IsDBNull(4) ? null : r.GetString(4),
        Parent = r.IsDBNull(5) ? null : r.GetString(5),
        EnqueuedAt = Time(r.GetDouble(6)),
        StartedAt = r.IsDBNull(7) ? null : Time(r.GetDouble(7)),
        Pid = r.IsDBNull(pid) ? 0 : r.GetInt32(pid),
    };

    /// <summary>Whether the run of this job's attempt is recorded. The entry job's id
    /// ("init") repeats in every daemon run, so the time it was enqueued tells its runs
    /// apart (to the millisecond, as the live journal keeps it).</summary>
    public bool HasRun(string id, int attempt, DateTimeOffset enqueuedAt)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT 1 FROM runs WHERE id = $id AND attempt = $a AND abs(enqueued_at - $t) < 0.002 LIMIT 1";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$a", attempt);
        cmd.Parameters.AddWithValue("$t", Seconds(enqueuedAt));
        return cmd.ExecuteScalar() is not null;
    }

    /// <summary>Runs matching the query, oldest first (the newest `Limit` of them).</summary>
    public List<RunRecord> Query(HistoryQuery q)
    {
        using var cmd = _db.CreateCommand();
        var where = new List<string>();
        if (q.Script is not null) { where.Add("script = $script"); cmd.Parameters.AddWithValue("$script", q.Script); }
        if (q.Id is not null) { where.Add("id = $id"); cmd.Parameters.AddWithValue("$id", q.Id); }
        if (q.Since is { } since) { where.Add("COALESCE(ended_at, started_at, enqueued_at) >= $since"); cmd.Parameters.AddWithValue("$since", Seconds(since)); }
        if (q.FailedOnly) where.Add("outcome <> 'exited'");
        if (q.LostOnly) where.Add("outcome = 'lost'");
        cmd.CommandText = $"""
            SELECT * FROM (
              SELECT id, attempt, script, args, grp, parent, enqueued_at, started_at, ended_at, runtime,
                     exit_code, signal, outcome, cpu_user, cpu_system, max_rss, pid, seq, executor, node, external_id
              FROM runs {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
              ORDER BY seq DESC LIMIT $limit) ORDER BY seq
            """;
        cmd.Parameters.AddWithValue("$limit", q.Limit);
        using var r = cmd.ExecuteReader();
        var list = new List<RunRecord>();
        while (r.Read())
        {
            list.Add(new RunRecord(Head(r, pid: 16))
            {
                Executor = r.IsDBNull(18) ? null : r.GetString(18),
                Node = r.IsDBNull(19) ? null : r.GetString(19),
                ExternalId = r.IsDBNull(20) ? null : r.GetString(20),
                EndedAt = r.IsDBNull(8) ? null : Time(r.GetDouble(8)),
                RuntimeSeconds = r.IsDBNull(9) ? null : r.GetDouble(9),
                ExitCode = r.IsDBNull(10) ? null : r.GetInt32(10),
                Signal = r.IsDBNull(11) ? null : r.GetInt32(11),
                Outcome = r.GetString(12),
                CpuUserSeconds = r.IsDBNull(13) ? 0 : r.GetDouble(13),
                CpuSystemSeconds = r.IsDBNull(14) ? 0 : r.GetDouble(14),
                MaxRssBytes = r.IsDBNull(15) ? 0 : r.GetInt64(15),
            });
        }
        return list;
    }

    /// <summary>Runtimes of the script's most recent successful runs, newest first.</summary>
    public List<double> RecentRuntimes(string script, int limit)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT runtime FROM runs WHERE script = $s AND outcome = 'exited' AND runtime IS NOT NULL ORDER BY seq DESC LIMIT $n";
        cmd.Parameters.AddWithValue("$s", script);
        cmd.Parameters.AddWithValue("$n", limit);
        using var r = cmd.ExecuteReader();
        var list = new List<double>();
        while (r.Read()) list.Add(r.GetDouble(0));
        return list;
    }

    /// <summary>Per script: runs, failures, runtime median/p95/max (successful runs), CPU, max RSS.</summary>
    public List<ScriptStats> Stats(DateTimeOffset? since = null)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = """
            SELECT script, outcome, runtime, COALESCE(cpu_user, 0) + COALESCE(cpu_system, 0), COALESCE(max_rss, 0)
            FROM runs WHERE COALESCE(ended_at, enqueued_at) >= $since ORDER BY script
            """;
        cmd.Parameters.AddWithValue("$since", since is { } s ? Seconds(s) : 0.0);
        using var r = cmd.ExecuteReader();
        var byScript = new SortedDictionary<string, Tally>(StringComparer.Ordinal);
        while (r.Read())
        {
            string script = r.GetString(0);
            if (!byScript.TryGetValue(script, out var entry)) byScript[script] = entry = new Tally();
            entry.Runs++;
            if (r.GetString(1) == "exited") { if (!r.IsDBNull(2)) entry.Ok.Add(r.GetDouble(2)); }
            else entry.Failures++;
            entry.Cpu += r.GetDouble(3);
            entry.Rss = Math.Max(entry.Rss, r.GetInt64(4));
        }
        return byScript.Select(kv => new ScriptStats
        {
            Script = kv.Key,
            Runs = kv.Value.Runs,
            Failures = kv.Value.Failures,
            MedianSeconds = Percentile(kv.Value.Ok, 0.5),
            P95Seconds = Percentile(kv.Value.Ok, 0.95),
            MaxSeconds = kv.Value.Ok.Count > 0 ? kv.Value.Ok.Max() : null,
            CpuSeconds = kv.Value.Cpu,
            MaxRssBytes = kv.Value.Rss,
        }).ToList();
    }

    private sealed class Tally
    {
        public int Runs, Failures;
        public readonly List<double> Ok = new();
        public double Cpu;
        public long Rss;
    }

    /// <summary>Nearest-rank percentile; null for no values.</summary>
    public static double? Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        int rank = (int)Math.Ceiling(p * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Deletes runs that ended before the given time; returns how many.</summary>
    public int Prune(DateTimeOffset before)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "DELETE FROM runs WHERE COALESCE(ended_at, enqueued_at) < $t";
        cmd.Parameters.AddWithValue("$t", Seconds(before));
        return cmd.ExecuteNonQuery();
    }

    public static double Seconds(DateTimeOffset t) => (t.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerSecond;
    public static DateTimeOffset Time(double seconds) => DateTimeOffset.UnixEpoch.AddTicks((long)(seconds * TimeSpan.TicksPerSecond)).ToLocalTime();

    public void Dispose() => _db.Dispose();
}

/// <summary>The args column's JSON, generated at build time: no reflection per record on
/// the history thread, and nothing that trimming or NativeAOT would break.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class HistoryJson : System.Text.Json.Serialization.JsonSerializerContext;
