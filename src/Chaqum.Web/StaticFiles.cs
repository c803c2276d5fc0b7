using System.Reflection;

namespace Chaqum.Web;

/// <summary>/static/app.css and /static/live.js, from the assembly's resources.</summary>
public static class StaticFiles
{
    public static void MapStatic(this WebApplication app)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var (name, type) in new[] { ("app.css", "text/css; charset=utf-8"), ("live.js", "text/javascript; charset=utf-8") })
        {
            using var stream = assembly.GetManifestResourceStream("static/" + name) ?? throw new InvalidOperationException($"static/{name} is not in the assembly");
            using var reader = new StreamReader(stream);
            var bytes = System.Text.Encoding.UTF8.GetBytes(reader.ReadToEnd());
            app.MapGet("/static/" + name, (HttpContext c) =>
            {
                c.Response.Headers.CacheControl = "no-cache";
                return Results.Bytes(bytes, type);
            }).ExcludeFromDescription();
        }
    }
}
