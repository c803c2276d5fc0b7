namespace Chaqum.Client;

/// <summary>One reply of the daemon: <c>S</c> and its words (plus recvmsg's body), or
/// <c>T</c> (recvmsg timed out). <c>E</c> never becomes a Reply: it is thrown.</summary>
internal sealed record Reply(IReadOnlyList<string> Words, byte[]? Body = null, bool TimedOut = false)
{
    public static readonly Reply Timeout = new([], TimedOut: true);

    /// <summary>The words taken as pairs (<c>ID STATUS ID STATUS...</c>) keyed by id.</summary>
    public Dictionary<string, string> Pairs(string verb)
    {
        if (Words.Count % 2 != 0)
            throw new ChaqumException($"{verb}: the daemon's reply has an odd number of words: {ShellWords.Join(Words)}");
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < Words.Count; i += 2) pairs[Words[i]] = Words[i + 1];
        return pairs;
    }

    /// <summary>The single word of a reply like <c>S JOBID</c>.</summary>
    public string Single(string verb)
    {
        if (Words.Count != 1)
            throw new ChaqumException($"{verb}: expected one word in the daemon's reply, got: S {ShellWords.Join(Words)}");
        return Words[0];
    }
}
