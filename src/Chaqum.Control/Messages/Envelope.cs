using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chaqum.Control.Messages;

/// <summary>
/// The control socket's protocol, version 1: JSON lines. A client writes one request per
/// line; the daemon answers every line with exactly one answer, in order. Streaming
/// requests (log -f, run) first send event lines with the same id, then the answer.
///
///   → {"v":1,"id":7,"cmd":"ps","args":{"all":true}}
///   ← {"v":1,"id":7,"ok":true,"result":{...}}
///   ← {"v":1,"id":7,"ok":false,"error":"no job 'x/9'"}
///   ← {"v":1,"id":8,"event":{...}}        (streaming only, before the answer)
///
/// The envelope carries args, result and event as raw JSON: each request's own types
/// (<see cref="ControlVerbs"/>) say what is inside.
/// </summary>
public sealed class ControlRequest
{
    [JsonPropertyName("v")] public int Version { get; set; } = ControlProtocol.Version;
    [JsonPropertyName("id")] public long Id { get; set; }
    [JsonPropertyName("cmd")] public string Command { get; set; } = "";
    [JsonPropertyName("args")] public JsonElement? Args { get; set; }
}

public sealed class ControlResponse
{
    [JsonPropertyName("v")] public int Version { get; set; } = ControlProtocol.Version;
    [JsonPropertyName("id")] public long Id { get; set; }
    [JsonPropertyName("ok")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Ok { get; set; }
    [JsonPropertyName("error")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; set; }
    [JsonPropertyName("result")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonElement? Result { get; set; }
    [JsonPropertyName("event")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonElement? Event { get; set; }

    [JsonIgnore] public bool IsEvent => Event is not null && Ok is null;
}

public static class ControlProtocol
{
    public const int Version = 1;

    /// <summary>The longest request line the daemon reads (the LF not counted).</summary>
    public const int MaxRequestBytes = 1024 * 1024;

    /// <summary>"2026-11-30T18:07:58.898+00:00": every time on the wire.</summary>
    public const string TimeFormat = "yyyy-MM-ddTHH:mm:ss.fffzzz";

    public static string? Time(DateTimeOffset? t) =>
        t?.ToString(TimeFormat, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Text as it is ("+01:00", not "\u002B01:00"); control characters are still
    /// escaped by JSON itself, so a line never spans two.</summary>
    public static readonly System.Text.Encodings.Web.JavaScriptEncoder Encoder =
        System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
}
