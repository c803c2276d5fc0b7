using System.Text;
using System.Text.Json;

namespace Chaqum.Client;

/// <summary>A message this job received: raw bytes, readable as text or JSON.</summary>
public sealed class ReceivedMessage(byte[] data)
{
    /// <summary>The bytes exactly as sent.</summary>
    public byte[] Data { get; } = data;

    /// <summary>The bytes as UTF-8 text (invalid bytes become U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Data);

    /// <summary>The bytes as JSON (System.Text.Json).</summary>
    /// <exception cref="JsonException">Not JSON, or not a <typeparamref name="T"/>.</exception>
    public T? FromJson<T>(JsonSerializerOptions? options = null) => JsonSerializer.Deserialize<T>(Data, options);
}
