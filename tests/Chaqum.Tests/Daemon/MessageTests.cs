namespace Chaqum.Tests.Daemon;

[TestFixture, CancelAfter(120_000)]
public class MessageTests
{
    [Test]
    public void Parent_and_child_exchange_messages_both_ways()
    {
        using var tree = new TempTree();
        tree.Script("child", Sh.Script("""
            printf 'recvmsg -t 600\n' >&3
            IFS= read -r header <&4
            len=${header#S }
            body=$(head -c "$len" <&4); head -c 1 <&4 >/dev/null
            echo "child got [$body] ($header)"
            reply="thanks for: $body"
            printf 'sendmsg -- %s %d\n%s\n' "$CHAQUM_PARENT" "${#reply}" "$reply" >&3
            IFS= read -r r <&4; echo "child sent: $r"
            """));
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- child'; c=$(word 2)
            msg='hello child'
            printf 'sendmsg -- %s %d\n%s\n' "$c" "${#msg}" "$msg" >&3
            IFS= read -r REPLY <&4; echo "sent: $REPLY"; m=$(word 2)
            cmd "waitrecv -t 600 -- $m"
            printf 'recvmsg -t 600\n' >&3
            IFS= read -r header <&4
            body=$(head -c "${header#S }" <&4); head -c 1 <&4 >/dev/null
            echo "init got [$body]"
            cmd "wait -- $c"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init, Has.Some.Match(@"^sent: S msg:\d+$"));
        Assert.That(init, Has.Some.Match(@"^reply: S msg:\d+ R$"));
        Assert.That(init, Has.Some.EqualTo("init got [thanks for: hello child]"));
        Assert.That(d.Output(@"child/\d+"), Has.Some.EqualTo("child got [hello child] (S 11)"));
    }

    [Test]
    public void Binary_messages_arrive_byte_for_byte_in_order()
    {
        using var tree = new TempTree();
        tree.Script("init", """
            #!/usr/bin/env python3
            import os
            w = os.fdopen(3, "wb", buffering=0)
            r = os.fdopen(4, "rb", buffering=0)
            def line():
                out = b""
                while not out.endswith(b"\n"):
                    out += r.read(1)
                return out[:-1].decode()
            me = os.environ["CHAQUM_IDENT"]
            payloads = [bytes(range(256)) * 3, b"", b"\n\n\n", "wörld\x00".encode()]
            for p in payloads:
                w.write(b"sendmsg -- %s %d\n" % (me.encode(), len(p)) + p + b"\n")
                assert line().startswith("S msg:")
            for p in payloads:
                w.write(b"recvmsg -t 5\n")
                header = line()
                n = int(header.split()[1])
                data = b""
                while len(data) < n:
                    data += r.read(n - len(data))
                assert r.read(1) == b"\n"
                print("match" if data == p else "MISMATCH %r" % data, flush=True)
            w.write(b"recvmsg -t 0.2\n")
            print("empty:", line(), flush=True)
            """);
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        Assert.That(d.Output("init"), Is.EqualTo(new[] { "match", "match", "match", "match", "empty: T" }));
    }

    [Test]
    public void Messages_to_ended_or_unknown_jobs_are_refused_and_the_body_skipped()
    {
        using var tree = new TempTree();
        tree.Script("quick", "exit 0\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- quick'; q=$(word 2)
            cmd "wait -- $q"
            printf 'sendmsg -- %s 5\nhello\n' "$q" >&3; IFS= read -r r <&4; echo "ended: $r"
            printf 'sendmsg -- nosuch/9 5\nhello\n' >&3; IFS= read -r r <&4; echo "unknown: $r"
            printf 'sendmsg -- init 3\nabcd\n' >&3; IFS= read -r r <&4; echo "liar: $r"
            cmd 'wait --'
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        // One wording whether the job ended (its result taken or not) or never existed.
        Assert.That(init, Has.Some.Match(@"^ended: E sendmsg: no live job 'quick/\d+' \(it has ended, or never existed\)$"));
        Assert.That(init, Has.Some.EqualTo("unknown: E sendmsg: no live job 'nosuch/9' (it has ended, or never existed)"));
        Assert.That(init, Has.Some.EqualTo("liar: E message of 3 bytes not followed by LF"));
        Assert.That(init[^1], Is.EqualTo("reply: S"));
    }

    [Test]
    public void Waitrecv_says_T_for_a_message_whose_destination_ended_unread()
    {
        using var tree = new TempTree();
        // deaf lives until init has seen the first waitrecv time out: a gate, not a sleep
        // (on a busy machine a sleeping deaf could end before the first waitrecv).
        tree.Script("deaf", "while [ ! -e go ]; do sleep 0.05; done\n");
        tree.Script("init", Sh.Script("""
            cmd 'enqueue -- deaf'; d=$(word 2)
            printf 'sendmsg -- %s 2\nhi\n' "$d" >&3; IFS= read -r REPLY <&4; m=$(word 2)
            cmd "waitrecv -t 0.1 -- $m"
            : > go
            cmd "waitrecv -- $m"
            """));
        using var d = DaemonProcess.Start(tree);
        Assert.That(d.WaitForExit(), Is.EqualTo(0));
        var init = d.Output("init");
        Assert.That(init[1], Does.Match(@"^reply: S msg:\d+ T$"));
        Assert.That(init[2], Does.Match(@"^reply: S msg:\d+ T$"), "no hang once the destination is gone");
    }
}
