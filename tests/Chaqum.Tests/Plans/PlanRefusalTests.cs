using System.Text;
using Chaqum.Tests.Control;
using static Chaqum.Tests.Plans.PlanRig;

namespace Chaqum.Tests.Plans;

/// <summary>Every class of bad plan is refused whole, before anything of it runs, with the
/// JSON path of the fault; over the control socket and over fd 3 alike.</summary>
[TestFixture, CancelAfter(300_000)]
public class PlanRefusalTests
{
    private static string Nested(int depth) =>
        depth == 0 ? Exec("mark deep") : Seq(Nested(depth - 1));

    private static readonly (string Name, string Document, string Path, string Reason)[] BadPlans =
    {
        ("not JSON", "{\"type\": \"sequence_group\", \"work\": [", "$", "not valid JSON"),
        ("not an object", "[1, 2]", "$", "an object"),
        ("unknown type", Seq(Exec("mark a"), """{"type": "shell", "command": "mark b"}"""), "$.work[1].type", "unknown type 'shell'"),
        ("missing type", Seq("""{"command": "mark b"}"""), "$.work[0]", "missing type"),
        ("missing work", """{"type": "parallel_group"}""", "$", "missing work"),
        ("empty work", """{"type": "parallel_group", "work": []}""", "$.work", "empty"),
        ("missing command", Seq(Exec("mark a"), Par(Exec("mark b"), """{"type": "execute"}""")), "$.work[1].work[1]", "missing command"),
        ("empty command", Seq("""{"type": "execute", "command": []}"""), "$.work[0].command", "empty command"),
        ("unknown script", Seq(Exec("mark a"), Par(Exec("nosuch x"))), "$.work[1].work[0].command", "no such script"),
        ("not executable", Seq(Exec("data")), "$.work[0].command", "not executable"),
        ("a directory", Seq(Exec("sub")), "$.work[0].command", "not a regular file"),
        ("absolute outside", Seq("""{"type": "execute", "command": ["/bin/sh", "-c", "touch pwned"]}"""), "$.work[0].command", "outside the job tree"),
        ("dot-dot escape", Seq(Exec("../../../../../../../../etc/passwd")), "$.work[0].command", "outside the job tree"),
        ("symlink out", Seq(Exec("link")), "$.work[0].command", "outside the job tree"),
        ("negative timeout", Seq("""{"type": "execute", "command": "mark a", "timeout": -1}"""), "$.work[0].timeout", "negative"),
        ("timeout not a number", Seq("""{"type": "execute", "command": "mark a", "timeout": "10"}"""), "$.work[0].timeout", "a number"),
        ("negative retries", Seq("""{"type": "execute", "command": "mark a", "retries": -2}"""), "$.work[0].retries", "negative"),
        ("bad role", Seq("""{"type": "execute", "command": "mark a", "role": "-"}"""), "$.work[0].role", "ungrouped"),
        ("bad quoting", Seq(Exec("mark 'a")), "$.work[0].command", "malformed quoting"),
        ("nesting deeper than 64", Nested(65), "$" + string.Concat(Enumerable.Repeat(".work[0]", 64)), "nested deeper than 64"),
    };

    private static TempTree BadTree()
    {
        var tree = new TempTree();
        Scripts(tree);
        File.WriteAllText(tree.PathOf("data"), "not a script\n");
        Directory.CreateDirectory(tree.PathOf("sub"));
        File.WriteAllText(tree.Root + ".outside", "#!/bin/sh\ntouch pwned\n");
        File.SetUnixFileMode(tree.Root + ".outside", (UnixFileMode)0b111_101_101);
        File.CreateSymbolicLink(tree.PathOf("link"), tree.Root + ".outside");
        return tree;
    }

    [Test]
    public void Every_class_of_bad_plan_is_refused_with_the_path_of_its_fault_and_nothing_runs()
    {
        using var tree = BadTree();
        using var d = Ctl.Daemon(tree, "");
        foreach (var (name, document, path, reason) in BadPlans)
        {
            // Each has a good step before the fault: nothing of it may run.
            var r = Ctl.Run(tree, "plan", "submit", Write(tree, document));
            Assert.That(r.Exit, Is.EqualTo(1), $"{name}: {r}");
            Assert.That(r.Err, Does.Contain($"plan refused: {path}: ").And.Contain(reason), $"{name}: {r}");
        }
        // "-" reads the document from stdin (closed here: nothing is no JSON).
        var empty = Ctl.Run(tree, "plan", "submit", "-");
        Assert.That(empty.Exit, Is.EqualTo(1), empty.ToString());
        Assert.That(empty.Err, Does.Contain("plan refused: $: not valid JSON"), empty.ToString());

        Assert.That(Order(tree), Is.Empty, "no step of a refused plan ran");
        Assert.That(tree.Exists("pwned"), Is.False);
        var ps = Ctl.Run(tree, "ps", "--json", "-a").Json.AsArray();
        Assert.That(ps.Select(j => j!["id"]!.GetValue<string>()), Is.EqualTo(new[] { "init" }));
        Assert.That(Ctl.Run(tree, "plan", "list", "--json").Json["plans"]!.AsArray(), Is.Empty);
        Assert.That(d.Log, Does.Not.Contain("internal error"));
        d.WaitForLine(@"WRN control: plan refused: \$\.work\[1\]\.type: unknown type 'shell'");
        Stop(tree, d);
    }

    [Test]
    public void Over_fd_3_a_bad_plan_gets_E_with_the_path_and_the_next_command_is_answered()
    {
        using var tree = BadTree();
        // The last: a document of good steps, one too many of them (4.6 MB: over fd 3, whose
        // documents may have 16 MiB; the control socket takes requests of 1 MiB).
        var tooMany = Par(string.Join(", ", Enumerable.Repeat(Exec("mark many"), 100_001)));
        var documents = new[] { BadPlans[2].Document, BadPlans[8].Document, BadPlans[11].Document, BadPlans[^1].Document, "{", tooMany };
        var body = new StringBuilder();
        for (int i = 0; i < documents.Length; i++)
        {
            string file = tree.Root + $".doc{i}";
            File.WriteAllText(file, documents[i]);
            body.Append("printf 'plan -- %s\\n' $(wc -c < '" + file + "') >&3; cat '" + file + "' >&3; echo >&3; IFS= read -r REPLY <&4; echo \"reply: $REPLY\"\n");
        }
        var output = Chaqum.Tests.Daemon.Sh.InitOutput(tree, body + "cmd 'plan -- x'\ncmd 'plan'\ncmd 'waitplan -- plan/12345'\ncmd 'wait --'\n");
        Assert.That(output, Has.Count.EqualTo(documents.Length + 4), string.Join("\n", output));
        Assert.That(output[0], Is.EqualTo("reply: E plan: $.work[1].type: unknown type 'shell' (execute, sequence_group or parallel_group)"));
        Assert.That(output[1], Does.StartWith("reply: E plan: $.work[1].work[0].command: no such script"));
        Assert.That(output[2], Does.StartWith("reply: E plan: $.work[0].command: ").And.Contain("outside the job tree"));
        Assert.That(output[3], Does.Contain("nested deeper than 64"));
        Assert.That(output[4], Does.StartWith("reply: E plan: $: not valid JSON"));
        Assert.That(output[5], Is.EqualTo("reply: E plan: $: more than 100000 steps"));
        Assert.That(output[6], Does.StartWith("reply: E plan: 'x' is not a length"));
        Assert.That(output[7], Does.StartWith("reply: E plan: expected LENGTH"));
        Assert.That(output[8], Does.StartWith("reply: E waitplan: unknown plan 'plan/12345'"));
        Assert.That(output[9], Is.EqualTo("reply: S"));
        Assert.That(Order(tree), Is.Empty);
        Assert.That(tree.Exists("pwned"), Is.False);
    }
}
