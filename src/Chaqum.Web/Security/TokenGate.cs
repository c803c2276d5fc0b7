using System.Security.Cryptography;
using System.Text;

namespace Chaqum.Web.Security;

/// <summary>
/// The token that guards a chaqum-web listening beyond loopback (--token-file). API
/// clients send it as "Authorization: Bearer TOKEN"; browsers type it once into the login
/// form, which sets a session cookie (HttpOnly, SameSite=Strict): an HMAC, under the
/// token, of a key made when this process started, so the token itself never sits in a
/// cookie and every session ends when chaqum-web restarts or the token changes.
/// Comparisons are in constant time.
/// </summary>
public sealed class TokenGate
{
    public const string CookieName = "chaqum_session";
    private readonly byte[]? _token;
    private readonly byte[] _processKey = RandomNumberGenerator.GetBytes(32);

    private TokenGate(byte[]? token) => _token = token;

    public static TokenGate None { get; } = new(null);

    public bool Enabled => _token is not null;

    /// <exception cref="UsageException">The file cannot be read, or holds no token.</exception>
    public static TokenGate FromFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--token-file {path}: {e.Message}");
        }
        if (text.Length < 16) throw new UsageException($"--token-file {path}: the token must be at least 16 characters (try: head -c 24 /dev/urandom | base64 > {path})");
        return new TokenGate(Encoding.UTF8.GetBytes(text));
    }

    public bool IsToken(string? candidate) =>
        _token is not null && candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), _token);

    public string Session() => Convert.ToHexStringLower(HMACSHA256.HashData(_token!, _processKey));

    public bool IsSession(string? cookie) =>
        _token is not null && cookie is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(cookie), Encoding.UTF8.GetBytes(Session()));

    /// <summary>Whether this request carries the token (bearer) or a session cookie.</summary>
    public bool Admits(HttpContext context)
    {
        if (!Enabled) return true;
        string? header = context.Request.Headers.Authorization;
        if (header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal) && IsToken(header["Bearer ".Length..].Trim())) return true;
        return IsSession(context.Request.Cookies[CookieName]);
    }
}
