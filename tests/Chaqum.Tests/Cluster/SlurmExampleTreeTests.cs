using Chaqum.Tests.JobTrees;

namespace Chaqum.Tests.Cluster;

/// <summary>jobtrees/cluster on the loopback cluster: six squares on the nodes, collected
/// by message, each with the node it ran on.</summary>
[TestFixture, CancelAfter(240_000)]
public class SlurmExampleTreeTests
{
    [Test]
    public void Cluster_tree_squares_on_the_nodes_and_collects_the_results()
    {
        SlurmCluster.Require();
        using var scratch = new TempTree();
        string tree = ExampleTrees.Directory("cluster");
        try
        {
            using var d = DaemonProcess.Raw(SlurmCluster.Environment, "--state-dir", scratch.StateDir, tree, "main");
            Assert.That(d.WaitForExit(TimeSpan.FromSeconds(180)), Is.EqualTo(0), d.Log);
            var init = d.Output("init");
            Assert.That(init, Has.Count.EqualTo(7), d.Log);
            Assert.That(init[0], Does.Match(@"^statuses: (square/\d+ 0 ?){6}$"), d.Log);
            for (int n = 1; n <= 6; n++)
                Assert.That(init[n], Does.Match($@"^{n} squared is {n * n} \(on n[12]\)$"), d.Log);
            Assert.That(d.Log, Does.Match(@"INF square/\d+\[out\] squaring 6 on n[12] \(Slurm job \d+\)"));
        }
        finally
        {
            SlurmCluster.CancelAll(tree);
            ProcessCleanup.KillTreeProcesses(tree);
        }
    }
}
