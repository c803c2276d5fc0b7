namespace Chaqum.Tests.Daemon;

/// <summary>Every refusal class is answered with "E reason", logged with the job id, and
/// leaves the stream in sync: the next command is answered normally.</summary>
[TestFixture, CancelAfter(120_000)]
public class RefusalTests
{
    private static (List<string> Replies, DaemonProcess Daemon) Run(TempTree tree, params string[] lines)
    {
        var body = string.Join("\n", lines.Select(l => $"cmd {Quote(l)}\ncmd 'wait --'"));
        tree.Script("init", Sh.Script(body));
        var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        return (d.Output("init"), d);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    [TestCase("bogus", "E unknown command 'bogus'")]
    [TestCase("enqueue -Z -- job", "E enqueue: unknown option -Z")]
    [TestCase("enqueue -g", "E enqueue: option -g needs a value")]
    [TestCase("enqueue --", "E enqueue: missing SCRIPT operand")]
    [TestCase("enqueue -- 'unbalanced", "E malformed quoting: unterminated single quote")]
    [TestCase("enqueue -- \"unbalanced", "E malformed quoting: unterminated double quote")]
    [TestCase("wait -t abc -- x", "E wait: -t (timeout): 'abc' is not a number of seconds")]
    [TestCase("wait -t -1 -- x", "E wait: -t (timeout): '-1' is negative")]
    [TestCase("wait -t nan -- x", "E wait: -t (timeout): 'nan' is not a number of seconds")]
    [TestCase("wait -a -f -- x", "E wait: -a and -f exclude each other")]
    [TestCase("wait -- init", "E wait: a job cannot wait for itself")]
    [TestCase("killjobs -s NOSUCH -- x", "E killjobs: -s: unknown signal 'NOSUCH'")]
    [TestCase("recvmsg extra", "E recvmsg: takes no operands")]
    [TestCase("sendmsg -- init", "E sendmsg: expected JOBID LENGTH")]
    [TestCase("sendmsg -- init abc", "E sendmsg: 'abc' is not a length in bytes")]
    [TestCase("enqueue -- missing", "E enqueue: no such script: 'missing'")]
    [TestCase("enqueue -- ../outside", "E enqueue: ")]
    [TestCase("enqueue -- /bin/sh", "E enqueue: '/bin/sh' is outside the job tree")]
    [TestCase("enqueue -- data.txt", "E enqueue: 'data.txt' is not executable")]
    [TestCase("enqueue -- subdir", "E enqueue: 'subdir' is not a regular file")]
    [TestCase("enqueue -- link-out", "E enqueue: 'link-out' is outside the job tree")]
    [TestCase("enqueue -- dirlink/../job", "E enqueue: ")]
    [TestCase("   ", "E empty command")]
    [TestCase("enqueue -- job $'a\\0b'", "E a word contains a NUL byte")]
    [TestCase("enqueue -g $'g\\0' -- job", "E a word contains a NUL byte")]
    public void Refused_with_reason_and_stream_stays_in_sync(string line, string expected)
    {
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        tree.File_("data.txt", "not a script");
        Directory.CreateDirectory(tree.PathOf("subdir"));
        File.CreateSymbolicLink(tree.PathOf("link-out"), "/bin/sh");
        File.CreateSymbolicLink(tree.PathOf("dirlink"), "/usr/bin");
        var (replies, d) = Run(tree, line);
        using (d)
        {
            Assert.That(replies[0], Does.StartWith("reply: " + expected));
            Assert.That(replies[1], Is.EqualTo("reply: S"), "the next command is answered normally");
            Assert.That(d.Log, Does.Match(@"WRN init: refused.*" + System.Text.RegularExpressions.Regex.Escape(expected[2..])));
        }
    }

    [Test]
    public void Dirlink_dotdot_cannot_reach_outside()
    {
        // "dirlink/../job" lexically is "job" inside the tree, but dirlink points to
        // /usr/bin, so the real path is /usr/job: refused whatever exists there.
        using var tree = new TempTree();
        tree.Script("job", "exit 0\n");
        File.CreateSymbolicLink(tree.PathOf("dirlink"), "/usr/bin");
        var (replies, d) = Run(tree, "enqueue -- dirlink/../bin/true");
        using (d) Assert.That(replies[0], Does.Contain("is outside the job tree"));
    }

    [Test]
    public void Over_long_line_is_refused_and_the_rest_of_it_discarded()
    {
        using var tree = new TempTree();
        tree.Script("init", Sh.Script("""
            head -c 70000 /dev/zero | tr '\0' 'x' > /tmp/$$.long
            { printf 'enqueue -- '; cat /tmp/$$.long; printf '\n'; } >&3
            rm -f /tmp/$$.long
            IFS= read -r r <&4; echo "long: $r"
            cmd 'wait --'
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var output = d.Output("init");
        Assert.That(output[0], Is.EqualTo("long: E line longer than 65536 bytes"));
        Assert.That(output[1], Is.EqualTo("reply: S"));
    }

    [Test]
    public void Nul_bytes_invalid_utf8_and_empty_lines_are_refused()
    {
        using var tree = new TempTree();
        tree.Script("init", Sh.Script("""
            printf 'wait -- a\000b\n' >&3; IFS= read -r r <&4; echo "nul: $r"
            printf 'enqueue -- \377\376\n' >&3; IFS= read -r r <&4; echo "utf8: $r"
            printf '\n' >&3; IFS= read -r r <&4; echo "empty: $r"
            cmd 'wait --'
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[]
        {
            "nul: E command contains a NUL byte",
            "utf8: E command is not valid UTF-8",
            "empty: E empty command",
            "reply: S",
        }));
    }

    [Test]
    public void Killing_a_job_that_is_not_a_descendant_is_not_permitted()
    {
        using var tree = new TempTree();
        tree.Script("victim", "sleep 30\n");
        tree.Script("attacker", Sh.Script("cmd \"killjobs -- $1\"\ncmd \"killjobs -- $CHAQUM_PARENT\""));
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- victim'; v=$(word 2)
            cmd "enqueue -- attacker $v"; a=$(word 2)
            cmd "wait -- $a"
            cmd "wait -t 0 -- $v"
            cmd "killjobs -- $v"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var attacker = d.Output(@"attacker/\d+");
        Assert.That(attacker[0], Does.Match(@"^reply: E killjobs: not permitted: victim/\d+ is not a descendant of attacker/\d+$"));
        Assert.That(attacker[1], Does.Match(@"^reply: E killjobs: not permitted: init is not a descendant"));
        var init = d.Output("init");
        Assert.That(init[3], Does.Match(@"^reply: S victim/\d+ T$"), "the victim survived");
        Assert.That(init[4], Does.Match(@"^reply: S victim/\d+ -15$"), "its ancestor may kill it");
    }
}
