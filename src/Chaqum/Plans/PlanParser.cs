using System.Text.Json;
using Chaqum.Protocol;
using Chaqum.Scheduling;

namespace Chaqum.Plans;

/// <summary>A plan refused before anything of it ran: where in the document, and why.
/// The message is what the E reply and chaqumctl say: "$.work[1].command: no such
/// script: 'convrt'".</summary>
public sealed class PlanRefusedException(string path, string reason) : Exception($"{path}: {reason}")
{
    public string JsonPath { get; } = path;
    public string Reason { get; } = reason;
}

/// <summary>
/// Reads a plan document (jobsch's format, docs/plans.md) into <see cref="PlanNode"/>s,
/// checking everything before anything runs: the whole plan is refused at its first
/// fault, with the JSON path of it. Scripts are resolved by <see cref="JobTree.Resolve"/>,
/// the same confinement a job's enqueue over fd 3 gets. Parsed with JsonDocument (no
/// reflection: the daemon is compiled ahead of time). Members the format does not know
/// are ignored, so that documents written for jobsch with its other fields run unchanged.
/// </summary>
public sealed class PlanParser
{
    /// <summary>Groups nest at most this deep (the root group is at depth 0).</summary>
    public const int MaxNesting = 64;
    /// <summary>The most execute steps one plan may have.</summary>
    public const int MaxSteps = 100_000;

    private readonly JobTree _tree;
    private int _steps;

    private PlanParser(JobTree tree) => _tree = tree;

    /// <summary>The plan's root node and its step count.</summary>
    /// <exception cref="PlanRefusedException">The document is not a plan this tree can run.</exception>
    public static (PlanNode Root, int Steps) Parse(ReadOnlyMemory<byte> document, JobTree tree)
    {
        JsonDocument doc;
        try
        {
            // Deep enough for 64 nested groups (each an object and its work array), so that
            // the nesting rule below answers with a path rather than the reader with a depth.
            doc = JsonDocument.Parse(document, new JsonDocumentOptions { MaxDepth = 2 * MaxNesting + 8 });
        }
        catch (JsonException e)
        {
            throw new PlanRefusedException("$", $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            var parser = new PlanParser(tree);
            var root = parser.Node(doc.RootElement, "$", depth: 0, role: null, defaultRole: null);
            return (root, parser._steps);
        }
    }

    private PlanNode Node(JsonElement e, string path, int depth, string? role, string? defaultRole)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new PlanRefusedException(path, $"a plan node is an object, not {Kind(e)}");
        if (!e.TryGetProperty("type", out var typeElement)) throw new PlanRefusedException(path, "missing type");
        if (typeElement.ValueKind != JsonValueKind.String) throw new PlanRefusedException(path + ".type", $"a string, not {Kind(typeElement)}");
        string? name = OptionalString(e, "name", path);
        role = Role(e, "role", path) ?? role;
        defaultRole = Role(e, "default_role", path) ?? defaultRole;
        string type = typeElement.GetString()!;
        return type switch
        {
            "execute" => Step(e, path, name, role ?? defaultRole),
            "sequence_group" or "parallel_group" => Group(e, path, depth, name, parallel: type == "parallel_group", role, defaultRole),
            _ => throw new PlanRefusedException(path + ".type", $"unknown type '{type}' (execute, sequence_group or parallel_group)"),
        };
    }

    private GroupNode Group(JsonElement e, string path, int depth, string? name, bool parallel, string? role, string? defaultRole)
    {
        if (depth >= MaxNesting) throw new PlanRefusedException(path, $"groups nested deeper than {MaxNesting}");
        if (!e.TryGetProperty("work", out var work)) throw new PlanRefusedException(path, "missing work");
        if (work.ValueKind != JsonValueKind.Array) throw new PlanRefusedException(path + ".work", $"an array, not {Kind(work)}");
        if (work.GetArrayLength() == 0) throw new PlanRefusedException(path + ".work", "empty: a group needs at least one step");
        var group = new GroupNode { Parallel = parallel, Name = name };
        int i = 0;
        foreach (var child in work.EnumerateArray())
        {
            var node = Node(child, $"{path}.work[{i}]", depth + 1, role, defaultRole);
            node.Parent = group;
            node.Index = i++;
            group.Work.Add(node);
        }
        return group;
    }

    private StepNode Step(JsonElement e, string path, string? name, string? role)
    {
        if (++_steps > MaxSteps) throw new PlanRefusedException("$", $"more than {MaxSteps} steps");
        if (!e.TryGetProperty("command", out var command)) throw new PlanRefusedException(path, "missing command");
        var words = Words(command, path + ".command");
        ScriptPath script;
        try { script = _tree.Resolve(words[0]); }
        catch (ProtocolException x) { throw new PlanRefusedException(path + ".command", x.Message); }

        TimeSpan? timeout = null;
        if (e.TryGetProperty("timeout", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.Number) throw new PlanRefusedException(path + ".timeout", $"a number of seconds, not {Kind(t)}");
            double seconds = t.GetDouble();
            if (seconds < 0) throw new PlanRefusedException(path + ".timeout", $"negative ({t.GetRawText()})");
            // As enqueue -t: 0 is no timeout; beyond a century is forever.
            if (seconds > 0) timeout = TimeSpan.FromSeconds(Math.Min(seconds, 3_153_600_000));
        }
        string? key = OptionalString(e, "key", path);
        if (key is { Length: 0 }) throw new PlanRefusedException(path + ".key", "empty key");
        return new StepNode
        {
            Name = name,
            Script = script,
            Args = words.Skip(1).ToArray(),
            Role = role,
            Timeout = timeout,
            Retries = Integer(e, "retries", path, min: 0),
            Priority = Integer(e, "priority", path, min: int.MinValue),
            Key = key,
        };
    }

    /// <summary>An array of strings, or a string split as the protocol splits a line (no
    /// shell runs it): the script of the tree, then its arguments.</summary>
    private static List<string> Words(JsonElement command, string path)
    {
        var words = new List<string>();
        if (command.ValueKind == JsonValueKind.String)
        {
            if (!Chaqum.Words.ShellWords.TrySplit(command.GetString(), words, out var error))
                throw new PlanRefusedException(path, $"malformed quoting: {error}");
        }
        else if (command.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (var word in command.EnumerateArray())
            {
                if (word.ValueKind != JsonValueKind.String) throw new PlanRefusedException($"{path}[{i}]", $"a string, not {Kind(word)}");
                words.Add(word.GetString()!);
                i++;
            }
        }
        else throw new PlanRefusedException(path, $"an array of words or a string, not {Kind(command)}");
        if (words.Count == 0) throw new PlanRefusedException(path, "empty command");
        if (words.Exists(w => w.Contains('\0'))) throw new PlanRefusedException(path, "a word contains a NUL byte");
        return words;
    }

    private static string? OptionalString(JsonElement e, string member, string path)
    {
        if (!e.TryGetProperty(member, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new PlanRefusedException($"{path}.{member}", $"a string, not {Kind(v)}");
        return v.GetString();
    }

    private static string? Role(JsonElement e, string member, string path)
    {
        var role = OptionalString(e, member, path);
        if (role is not null && Roles.Refusal(role) is { } why) throw new PlanRefusedException($"{path}.{member}", why);
        return role;
    }

    private static int Integer(JsonElement e, string member, string path, int min)
    {
        if (!e.TryGetProperty(member, out var v) || v.ValueKind == JsonValueKind.Null) return 0;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int n))
            throw new PlanRefusedException($"{path}.{member}", $"an integer, not {v.GetRawText()}");
        if (n < min) throw new PlanRefusedException($"{path}.{member}", $"negative ({n})");
        return n;
    }

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
