using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Chaqum.Control;

/// <summary>
/// The control socket's protocol, version 1: JSON lines. A client writes one request per
/// line; the daemon answers with one response line per request, in order. Streaming
/// requests (log -f, run) first send event lines with the same id, then the final response.
///
///   → {"v":1,"id":7,"cmd":"ps","args":{"all":true}}
///   ← {"v":1,"id":7,"ok":true,"result":{...}}
///   ← {"v":1,"id":7,"ok":false,"error":"no job 'x/9'"}
///   ← {"v":1,"id":8,"event":{...}}        (streaming only, before the final response)
/// </summary>
public sealed class ControlRequest
{
    [JsonPropertyName("v")] public int Version { get; set; } = ControlProtocol.Version;
    [JsonPropertyName("id")] public long Id { get; set; }
    [JsonPropertyName("cmd")] public string Command { get; set; } = "";
    [JsonPropertyName("args")] public JsonObject? Args { get; set; }

    public string? Text(string name) => Args?[name]?.GetValue<string>();
    public bool Flag(string name) => Args?[name]?.GetValue<bool>() ?? false;
    public int? Int(string name) => Args?[name] is { } n ? n.GetValue<int>() : null;
    public double? Number(string name) => Args?[name] is { } n ? n.GetValue<double>() : null;

    public List<string> Texts(string name) =>
        Args?[name] is JsonArray a ? a.Select(x => x!.GetValue<string>()).ToList() : new List<string>();
}

public sealed class ControlResponse
{
    [JsonPropertyName("v")] public int Version { get; set; } = ControlProtocol.Version;
    [JsonPropertyName("id")] public long Id { get; set; }
    [JsonPropertyName("ok")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public bool? Ok { get; set; }
    [JsonPropertyName("error")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; set; }
    [JsonPropertyName("result")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonNode? Result { get; set; }
    [JsonPropertyName("event")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public JsonNode? Event { get; set; }

    [JsonIgnore] public bool IsEvent => Event is not null && Ok is null;
}

public static class ControlProtocol
{
    public const int Version = 1;

    public static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Json);
}
