using System.Text.Json;

namespace Chaqum.Persistence;

/// <summary>
/// One line of the live journal, parsed straight from its UTF-8 bytes with a
/// Utf8JsonReader into plain fields (reused from line to line). A start after a crash or
/// a restart reads every line of a journal that may hold 100 000 queued jobs before init
/// may start: a JsonDocument per line (and a string per line before that) took most of
/// the two seconds such a start may take (docs/performance.md). Unknown names are
/// skipped; a line that is not a whole JSON object throws JsonException.
/// </summary>
internal sealed class JournalLine
{
    public string? Kind, Id, Script, Group, Parent, Key, Cgroup, Outcome, PausedReason, Plan, Name, Executor, Node, ExternalId, Role;
    public readonly List<string> Args = new(), Dependencies = new(), ExtraArgs = new();
    public long? Attempt, Number, Priority, Retries, Pid, StartTicks, Exit, Signal, MaxProcs, MinMemory, MaxRss, BreakAfter;
    public double? Enqueued, Started, Ended, Runtime, Timeout, Due, MaxCpu, MaxLoad, MaxPressure, CpuUser, CpuSystem;
    public bool Forget, Requeue, Held, Urgent, Paused;

    // The last script, group and parent seen: a queue of 100 000 jobs names a few, and
    // reusing the string already made saves allocating (and collecting) one per line.
    private string? _script, _group, _parent;

    private static string Same(ref Utf8JsonReader r, ref string? last)
    {
        if (last is not null && r.ValueTextEquals(last)) return last;
        return last = r.GetString()!;
    }

    private void Reset()
    {
        Kind = Id = Script = Group = Parent = Key = Cgroup = Outcome = PausedReason = Plan = Name = Executor = Node = ExternalId = Role = null;
        Args.Clear();
        ExtraArgs.Clear();
        Dependencies.Clear();
        Attempt = Number = Priority = Retries = Pid = StartTicks = Exit = Signal = MaxProcs = MinMemory = MaxRss = BreakAfter = null;
        Enqueued = Started = Ended = Runtime = Timeout = Due = MaxCpu = MaxLoad = MaxPressure = CpuUser = CpuSystem = null;
        Forget = Requeue = Held = Urgent = Paused = false;
    }

    /// <exception cref="JsonException">Not a whole line of the journal (a torn last line).</exception>
    /// <exception cref="InvalidOperationException">A value of the wrong type.</exception>
    public void Parse(ReadOnlySpan<byte> line)
    {
        Reset();
        var r = new Utf8JsonReader(line);
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new JsonException("not an object");
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var name = r.ValueSpan;
            if (!r.Read()) throw new JsonException("no value");
            switch (name)
            {
                case var n when n.SequenceEqual("k"u8): Kind = r.GetString(); break;
                case var n when n.SequenceEqual("id"u8): Id = r.GetString(); break;
                case var n when n.SequenceEqual("s"u8): Script = Same(ref r, ref _script); break;
                case var n when n.SequenceEqual("g"u8): Group = Same(ref r, ref _group); break;
                case var n when n.SequenceEqual("p"u8): Parent = Same(ref r, ref _parent); break;
                case var n when n.SequenceEqual("ky"u8): Key = r.GetString(); break;
                case var n when n.SequenceEqual("cg"u8): Cgroup = r.GetString(); break;
                case var n when n.SequenceEqual("outcome"u8): Outcome = r.GetString(); break;
                case var n when n.SequenceEqual("why"u8): PausedReason = r.GetString(); break;
                case var n when n.SequenceEqual("pl"u8): Plan = r.GetString(); break;
                case var n when n.SequenceEqual("nm"u8): Name = r.GetString(); break;
                case var n when n.SequenceEqual("x"u8): Strings(ref r, Args); break;
                case var n when n.SequenceEqual("X"u8): Strings(ref r, ExtraArgs); break;
                case var n when n.SequenceEqual("ex"u8): Executor = r.GetString(); break;
                case var n when n.SequenceEqual("node"u8): Node = r.GetString(); break;
                case var n when n.SequenceEqual("xid"u8): ExternalId = r.GetString(); break;
                case var n when n.SequenceEqual("role"u8): Role = r.GetString(); break;
                case var n when n.SequenceEqual("dep"u8): Strings(ref r, Dependencies); break;
                case var n when n.SequenceEqual("a"u8): Attempt = r.GetInt64(); break;
                case var n when n.SequenceEqual("n"u8): Number = r.GetInt64(); break;
                case var n when n.SequenceEqual("pr"u8): Priority = r.GetInt64(); break;
                case var n when n.SequenceEqual("rt"u8): Retries = r.GetInt64(); break;
                case var n when n.SequenceEqual("pid"u8): Pid = r.GetInt64(); break;
                case var n when n.SequenceEqual("st"u8): StartTicks = r.GetInt64(); break;
                case var n when n.SequenceEqual("exit"u8): Exit = r.GetInt64(); break;
                case var n when n.SequenceEqual("signal"u8): Signal = r.GetInt64(); break;
                case var n when n.SequenceEqual("m"u8): MaxProcs = r.GetInt64(); break;
                case var n when n.SequenceEqual("M"u8): MinMemory = r.GetInt64(); break;
                case var n when n.SequenceEqual("B"u8): BreakAfter = r.GetInt64(); break;
                case var n when n.SequenceEqual("max_rss"u8): MaxRss = r.GetInt64(); break;
                case var n when n.SequenceEqual("t"u8): Enqueued = r.GetDouble(); break;
                case var n when n.SequenceEqual("started"u8): Started = r.GetDouble(); break;
                case var n when n.SequenceEqual("ended"u8): Ended = r.GetDouble(); break;
                case var n when n.SequenceEqual("runtime"u8): Runtime = r.GetDouble(); break;
                case var n when n.SequenceEqual("to"u8): Timeout = r.GetDouble(); break;
                case var n when n.SequenceEqual("due"u8): Due = r.GetDouble(); break;
                case var n when n.SequenceEqual("c"u8): MaxCpu = r.GetDouble(); break;
                case var n when n.SequenceEqual("l"u8): MaxLoad = r.GetDouble(); break;
                case var n when n.SequenceEqual("P"u8): MaxPressure = r.GetDouble(); break;
                case var n when n.SequenceEqual("cpu_user"u8): CpuUser = r.GetDouble(); break;
                case var n when n.SequenceEqual("cpu_system"u8): CpuSystem = r.GetDouble(); break;
                case var n when n.SequenceEqual("F"u8): Forget = r.GetBoolean(); break;
                case var n when n.SequenceEqual("R"u8): Requeue = r.GetBoolean(); break;
                case var n when n.SequenceEqual("H"u8): Held = r.GetBoolean(); break;
                case var n when n.SequenceEqual("U"u8): Urgent = r.GetBoolean(); break;
                case var n when n.SequenceEqual("pz"u8): Paused = r.GetBoolean(); break;
                default: r.Skip(); break;
            }
        }
        if (r.TokenType != JsonTokenType.EndObject) throw new JsonException("torn line");
    }

    private static void Strings(ref Utf8JsonReader r, List<string> into)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw new JsonException("not an array");
        while (r.Read() && r.TokenType != JsonTokenType.EndArray) into.Add(r.GetString()!);
    }

    /// <summary>Seconds since the epoch (as written, to the millisecond) as a time.</summary>
    public static DateTimeOffset Time(double seconds) => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));

    public static DateTimeOffset? Time(double? seconds) => seconds is { } s ? Time(s) : null;
}
