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
        Execute("CREATE INDEX IF NOT EXISTS runs_script ON runs(script, ended_at)");
        Execute("CREATE INDEX IF NOT EXISTS runs_ended ON runs(ended_at)");
        Execute("CREATE INDEX IF NOT EXISTS runs_id ON runs(id)");
        // Earlier versions kept the live jobs here too; the live journal is their one record now.
        Execute("DROP TABLE IF EXISTS live");
        Migrate();
    }

    /// <summary>The schema's version (PRAGMA user_version): 0 is the runs table as first
    /// made; each migration below brings a store one version up, once, in a transaction.</summary>
    public const int SchemaVersion = 1;

    private void Migrate()
    {
        int version = Convert.ToInt32(Scalar("PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version >= SchemaVersion) return;
        using var tx = _db.BeginTransaction();
        if (version < 1)
        {
            // 1: plans (docs/plans.md): their own table, and the plan a run was a step of.
            if (!HasColumn("runs", "plan")) Execute("ALTER TABLE runs ADD COLUMN plan TEXT", tx);
            Execute("CREATE INDEX IF NOT EXISTS runs_plan ON runs(plan) WHERE plan IS NOT NULL", tx);
            Execute("""
                CREATE TABLE IF NOT EXISTS plans (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL, name TEXT, outcome TEXT NOT NULL, submitter TEXT,
                    submitted_at REAL, ended_at REAL, runtime REAL, steps INTEGER, steps_ended INTEGER,
                    failed_step TEXT, failed_path TEXT, reason TEXT)
                """, tx);
            Execute("CREATE INDEX IF NOT EXISTS plans_id ON plans(id)", tx);
        }
        Execute($"PRAGMA user_version = {SchemaVersion}", tx);
        tx.Commit();
    }

    private bool HasColumn(string table, string column)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = $"SELECT 1 FROM pragma_table_info('{table}') WHERE name = $c";
        cmd.Parameters.AddWithValue("$c", column);
        return cmd.ExecuteScalar() is not null;
    }

    private object? Scalar(string sql)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    private void Execute(string sql, SqliteTransaction tx)
    {
        using var cmd = _db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    /// <summary>Whether the store has the plans table (a store made by an earlier version
    /// and opened read-only has not).</summary>
    private bool HasPlans() => Scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'plans'") is not null;

    /// <summary>Appends plan records in one transaction.</summary>
    public void WritePlans(IReadOnlyList<PlanRecord> plans)
    {
        if (plans.Count == 0) return;
        using var tx = _db.BeginTransaction();
        using var insert = _db.CreateCommand();
        insert.Transaction = tx;
        insert.CommandText = """
            INSERT INTO plans (id, name, outcome, submitter, submitted_at, ended_at, runtime, steps, steps_ended,
                               failed_step, failed_path, reason)
            VALUES ($id, $name, $outcome, $sub, $at, $end, $runtime, $steps, $ended, $fstep, $fpath, $reason)
            """;
        var p = Parameters(insert, "$id", "$name", "$outcome", "$sub", "$at", "$end", "$runtime", "$steps", "$ended",
            "$fstep", "$fpath", "$reason");
        foreach (var r in plans)
        {
            p[0].Value = r.Id;
            p[1].Value = (object?)r.Name ?? DBNull.Value;
            p[2].Value = r.Outcome;
            p[3].Value = (object?)r.Submitter ?? DBNull.Value;
            p[4].Value = Seconds(r.SubmittedAt);
            p[5].Value = r.EndedAt is { } e ? Seconds(e) : DBNull.Value;
            p[6].Value = (object?)r.RuntimeSeconds ?? DBNull.Value;
            p[7].Value = r.Steps;
            p[8].Value = r.StepsEnded;
            p[9].Value = (object?)r.FailedStep ?? DBNull.Value;
            p[10].Value = (object?)r.FailedPath ?? DBNull.Value;
            p[11].Value = (object?)r.Reason ?? DBNull.Value;
            insert.ExecuteNonQuery();
        }
        tx.Commit();
    }

    public bool HasPlan(string id)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT 1 FROM plans WHERE id = $id LIMIT 1";
        cmd.Parameters.AddWithValue("$id", id);
        return cmd.ExecuteScalar() is not null;
    }

    /// <summary>How many distinct steps of the plan the history has a record of, lost ones
    /// not counted: the steps that had ended when a crash lost the plan.</summary>
    public int EndedSteps(string plan)
    {
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "SELECT count(DISTINCT id) FROM runs WHERE plan = $p AND outcome <> 'lost'";
        cmd.Parameters.AddWithValue("$p", plan);
        return Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Plans matching the query, oldest first (the newest `Limit` of them).</summary>
    public List<PlanRecord> QueryPlans(PlanQuery q)
    {
        var list = new List<PlanRecord>();
        if (!HasPlans()) return list;
        using var cmd = _db.CreateCommand();
        var where = new List<string>();
        if (q.Id is not null) { where.Add("id = $id"); cmd.Parameters.AddWithValue("$id", q.Id); }
        if (q.Since is { } since) { where.Add("COALESCE(ended_at, submitted_at) >= $since"); cmd.Parameters.AddWithValue("$since", Seconds(since)); }
        if (q.FailedOnly) where.Add("outcome <> 'succeeded'");
        cmd.CommandText = $"""
            SELECT * FROM (
              SELECT id, name, outcome, submitter, submitted_at, ended_at, runtime, steps, steps_ended,
                     failed_step, failed_path, reason, seq
              FROM plans {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
              ORDER BY seq DESC LIMIT $limit) ORDER BY seq
            """;
        cmd.Parameters.AddWithValue("$limit", q.Limit);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            list.Add(new PlanRecord
            {
                Id = r.GetString(0),
                Name = r.IsDBNull(1) ? null : r.GetString(1),
                Outcome = r.GetString(2),
                Submitter = r.IsDBNull(3) ? null : r.GetString(3),
                SubmittedAt = r.IsDBNull(4) ? default : Time(r.GetDouble(4)),
                EndedAt = r.IsDBNull(5) ? null : Time(r.GetDouble(5)),
                RuntimeSeconds = r.IsDBNull(6) ? null : r.GetDouble(6),
                Steps = r.IsDBNull(7) ? 0 : r.GetInt32(7),
                StepsEnded = r.IsDBNull(8) ? 0 : r.GetInt32(8),
                FailedStep = r.IsDBNull(9) ? null : r.GetString(9),
                FailedPath = r.IsDBNull(10) ? null : r.GetString(10),
                Reason = r.IsDBNull(11) ? null : r.GetString(11),
            });
        }
        return list;
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
                              exit_code, signal, outcome, cpu_user, cpu_system, max_rss, pid, plan)
            VALUES ($id, $attempt, $script, $args, $grp, $parent, $enq, $start, $end, $runtime,
                    $exit, $signal, $outcome, $cpuu, $cpus, $rss, $pid, $plan)
            """;
        var p = Parameters(insert, "$id", "$attempt", "$script", "$args", "$grp", "$parent", "$enq", "$start", "$end",
            "$runtime", "$exit", "$signal", "$outcome", "$cpuu", "$cpus", "$rss", "$pid", "$plan");
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
            p[17].Value = (object?)r.Plan ?? DBNull.Value;
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
        bool plans = HasColumn("runs", "plan");
        if (q.Plan is not null)
        {
            if (!plans) return new List<RunRecord>();
            where.Add("plan = $plan");
            cmd.Parameters.AddWithValue("$plan", q.Plan);
        }
        cmd.CommandText = $"""
            SELECT * FROM (
              SELECT id, attempt, script, args, grp, parent, enqueued_at, started_at, ended_at, runtime,
                     exit_code, signal, outcome, cpu_user, cpu_system, max_rss, pid, seq, {(plans ? "plan" : "NULL")}
              FROM runs {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")}
              ORDER BY seq DESC LIMIT $limit) ORDER BY seq
            """;
        cmd.Parameters.AddWithValue("$limit", q.Limit);
        using var r = cmd.ExecuteReader();
        var list = new List<RunRecord>();
        while (r.Read())
        {
            list.Add(new RunRecord(Head(r, pid: 16) with { Plan = r.IsDBNull(18) ? null : r.GetString(18) })
            {
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
