using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace Chaqum.Web.Pages;

/// <summary>
/// A piece of HTML that is safe to send. The only way to make one from text is
/// <see cref="H"/>, whose interpolation holes are HTML-encoded unless they are Html
/// themselves: job output, script names, arguments and group names (all chosen by jobs)
/// cannot become markup by forgetting to escape them, because escaping is what a hole
/// does. Encoding covers quotes too, so a hole inside a quoted attribute is safe.
/// </summary>
public readonly record struct Html(string Value)
{
    public static readonly Html Empty = new("");

    public static Html H([InterpolatedStringHandlerArgument] ref HtmlBuilder builder) => builder.Build();

    /// <summary>Text, encoded.</summary>
    public static Html Text(string? text) => new(HtmlEncoder.Default.Encode(text ?? ""));

    public static Html Join(IEnumerable<Html> parts) => new(string.Concat(parts.Select(p => p.Value)));

    public override string ToString() => Value;
}

[InterpolatedStringHandler]
public ref struct HtmlBuilder
{
    private readonly StringBuilder _text;

    public HtmlBuilder(int literalLength, int formattedCount) => _text = new StringBuilder(literalLength + 16 * formattedCount);

    public void AppendLiteral(string s) => _text.Append(s);

    public void AppendFormatted(Html html) => _text.Append(html.Value);

    public void AppendFormatted(IEnumerable<Html> parts)
    {
        foreach (var p in parts) _text.Append(p.Value);
    }

    public void AppendFormatted<T>(T value) => Encode(value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture) : value?.ToString());

    public void AppendFormatted<T>(T value, string format) where T : IFormattable =>
        Encode(value.ToString(format, CultureInfo.InvariantCulture));

    private void Encode(string? text) => _text.Append(HtmlEncoder.Default.Encode(text ?? ""));

    public Html Build() => new(_text.ToString());
}
