using System.Text.Json;
using System.Text.Json.Serialization;

namespace Chaqum.Web.Api;

/// <summary>The API's JSON: snake_case like the control socket's, nulls written (a field
/// with nothing to say is null, not missing), text as it is.</summary>
public static class ApiJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        options.Encoder = Chaqum.Control.Messages.ControlProtocol.Encoder;
        options.MaxDepth = 32;
    }

    /// <summary>Reads a JSON body whatever its content type (curl -d sends
    /// application/x-www-form-urlencoded); a bad body is a sentence.</summary>
    public static async Task<T> ReadBody<T>(HttpRequest request, JsonSerializerOptions options) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, options, request.HttpContext.RequestAborted)
                ?? throw new SubmissionException("the body must be a JSON object");
        }
        catch (JsonException e)
        {
            throw new SubmissionException($"the body is not the JSON expected: {e.Message}");
        }
    }
}
