using Chaqum.Words;

namespace Chaqum.Tests.Unit;

[TestFixture, CancelAfter(30_000)]
public class ShellWordsTests
{
    [TestCase("enqueue -- greet world", new[] { "enqueue", "--", "greet", "world" })]
    [TestCase("  a\t\tb  ", new[] { "a", "b" })]
    [TestCase("'a b' c", new[] { "a b", "c" })]
    [TestCase("'it'\"'\"'s'", new[] { "it's" })]
    [TestCase("\"a \\\"b\\\" \\\\ \\$x \\`y\\` \\n\"", new[] { "a \"b\" \\ $x `y` \\n" })]
    [TestCase("\"line\\\ncontinued\"", new[] { "linecontinued" })]
    [TestCase("a\\ b\\'c", new[] { "a b'c" })]
    [TestCase("''", new[] { "" })]
    [TestCase("a '' b", new[] { "a", "", "b" })]
    [TestCase("\"\"", new[] { "" })]
    [TestCase("x'y'\"z\"", new[] { "xyz" })]
    [TestCase("$'a\\nb'", new[] { "a\nb" })]
    [TestCase("$'tab\\there\\x41\\101\\\\\\''", new[] { "tab\there" + "AA\\'" })]
    [TestCase("$'\\xc3\\xa9'", new[] { "é" })]
    [TestCase("$x '$y' \"$z\"", new[] { "$x", "$y", "$z" })]
    [TestCase("", new string[0])]
    [TestCase("   ", new string[0])]
    [TestCase("wörld ünïcödé", new[] { "wörld", "ünïcödé" })]
    public void Splits_like_posix_sh(string line, string[] expected)
    {
        Assert.That(ShellWords.Split(line), Is.EqualTo(expected));
    }

    [TestCase("'open", "unterminated single quote")]
    [TestCase("\"open", "unterminated double quote")]
    [TestCase("trailing\\", "backslash at end of line")]
    [TestCase("$'open", "unterminated $'...' quote")]
    [TestCase("$'\\q'", "unknown escape")]
    [TestCase("$'\\xff'", "valid UTF-8")]
    public void Refuses_malformed_quoting(string line, string reason)
    {
        var words = new List<string>();
        Assert.That(ShellWords.TrySplit(line, words, out var error), Is.False);
        Assert.That(error, Does.Contain(reason));
        Assert.Throws<FormatException>(() => ShellWords.Split(line));
    }

    [TestCase("plain", "plain")]
    [TestCase("", "''")]
    [TestCase("a b", "'a b'")]
    [TestCase("it's", "'it'\"'\"'s'")]
    [TestCase("a\nb", "$'a\\nb'")]
    [TestCase("-g", "-g")]
    [TestCase("path/to/file.txt", "path/to/file.txt")]
    public void Quotes_like_python_shlex(string word, string quoted)
    {
        Assert.That(ShellWords.Quote(word), Is.EqualTo(quoted));
    }

    [Test]
    public void Round_trips_generated_words()
    {
        var random = new Random(20261122);
        const string alphabet = "ab z'\"\\$`\t\n\r!#&;|<>(){}*?~=%é€😀\u0001\u007f-";
        for (int round = 0; round < 5000; round++)
        {
            var words = new List<string>();
            int count = random.Next(0, 6);
            for (int w = 0; w < count; w++)
            {
                int length = random.Next(0, 12);
                var chars = new System.Text.StringBuilder();
                for (int c = 0; c < length; c++)
                {
                    // Surrogate pairs stay together.
                    var s = char.ConvertFromUtf32(char.ConvertToUtf32(alphabet.EnumerateRunes().ElementAt(random.Next(alphabet.EnumerateRunes().Count())).ToString(), 0));
                    chars.Append(s);
                }
                words.Add(chars.ToString());
            }
            string line = ShellWords.Join(words);
            Assert.That(line, Does.Not.Contain("\n"), "a quoted command must stay on one line");
            Assert.That(ShellWords.Split(line), Is.EqualTo(words), $"line: {line}");
        }
    }
}
