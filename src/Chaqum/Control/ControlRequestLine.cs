using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Chaqum.Control.Messages;

namespace Chaqum.Control;

/// <summary>
/// One request line, read as the protocol's envelope: v, id, cmd and args, each checked
/// for its kind, so that whatever a client sends (null, an array, a number, a cmd that
/// is not a string, nesting a thousand deep) is answered with a sentence naming what is
/// wrong, never dropped or taken for an internal error.
/// </summary>
public sealed record ControlRequestLine(long Id, string Command, JsonElement? Args)
{
    private static readonly JsonDocumentOptions Reading = new() { MaxDepth = 32 };

    /// <summary>The request, or the sentence of the error answer (and the id, when the
    /// line had a readable one).</summary>
    public static ControlRequestLine? Parse(ReadOnlyMemory<byte> line, out long id, out string? error)
    {
        id = 0;
        error = null;
        JsonDocument document;
        try { document = JsonDocument.Parse(line, Reading); }
        catch (JsonException e)
        {
            error = $"bad request: cannot read it as JSON ({FirstSentence(e.Message)})";
            return null;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = $"bad request: a request is a JSON object, not {Kind(root.ValueKind)}";
                return null;
            }
            if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
            {
                if (idElement.ValueKind != JsonValueKind.Number || !idElement.TryGetInt64(out id))
                {
                    error = "bad request: 'id' must be a whole number";
                    return null;
                }
            }
            int version = ControlProtocol.Version;
            if (root.TryGetProperty("v", out var v) && v.ValueKind != JsonValueKind.Null &&
                (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out version)))
            {
                error = "bad request: 'v' must be a whole number";
                return null;
            }
            if (version != ControlProtocol.Version)
            {
                error = $"unsupported protocol version {version} (this daemon speaks {ControlProtocol.Version})";
                return null;
            }
            if (!root.TryGetProperty("cmd", out var cmd) || cmd.ValueKind != JsonValueKind.String || cmd.GetString() is not { Length: > 0 } command)
            {
                error = "bad request: 'cmd' must name a request (a string such as \"ps\")";
                return null;
            }
            JsonElement? args = null;
            if (root.TryGetProperty("args", out var a) && a.ValueKind != JsonValueKind.Null)
            {
                if (a.ValueKind != JsonValueKind.Object)
                {
                    error = $"{command}: 'args' must be an object, not {Kind(a.ValueKind)}";
                    return null;
                }
                if (Unfit(a, null) is { } why)
                {
                    error = $"{command}: {why}";
                    return null;
                }
                args = a.Clone();
            }
            return new ControlRequestLine(id, command, args);
        }
    }

    /// <summary>The arguments as the verb's type; a mismatch is the client's mistake,
    /// answered with the argument's name and what it must be.</summary>
    /// <exception cref="ControlException">The arguments do not fit.</exception>
    public TArgs ArgsOf<TArgs, TResult>(ControlVerb<TArgs, TResult> verb)
    {
        try
        {
            var args = Args is { } a ? a.Deserialize(verb.Args) : JsonSerializer.Deserialize("{}", verb.Args);
            return args ?? throw new ControlException($"{Command}: missing arguments");
        }
        catch (JsonException e)
        {
            throw new ControlException($"{Command}: {Mismatch(verb.Args, e.Path)}");
        }
    }

    private static string Mismatch(JsonTypeInfo info, string? path)
    {
        // "$.ids[0]" → "ids"
        var name = path?.TrimStart('$', '.').Split('[', '.')[0];
        var property = info.Properties.FirstOrDefault(p => p.Name == name);
        if (property is null) return $"bad argument '{name}'";
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        string what = type == typeof(bool) ? "true or false"
            : type == typeof(string) ? "a string"
            : type == typeof(int) || type == typeof(long) ? "a whole number (within range)"
            : type == typeof(double) ? "a number"
            : type == typeof(List<string>) ? "an array of strings"
            : "of another kind";
        return $"argument '{name}' must be {what}";
    }

    /// <summary>What no argument may hold, whatever its request: a NUL inside a string
    /// would cut a word short where it becomes a C string (a job's argument at spawn), so
    /// it is refused, as the job protocol does; and a null inside an array has no meaning.</summary>
    private static string? Unfit(JsonElement element, string? name)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return element.GetString()!.Contains('\0') ? $"argument '{name}' contains a NUL character" : null;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject())
                    if (Unfit(p.Value, name ?? p.Name) is { } found) return found;
                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Null) return $"argument '{name}' holds a null";
                    if (Unfit(item, name) is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "that",
    };

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message.TrimEnd('.');
    }
}

/// <summary>A request that cannot be honoured: the message is the error answer.</summary>
public sealed class ControlException(string message) : Exception(message);
