namespace Chaqum.Tests.Support;

/// <summary>
/// Load, crash, fuzz and fault tests: each loads the machine on purpose (thousands of jobs,
/// floods, full disks, kill -9 in a loop), so they run one at a time (ParallelScope.None)
/// and .ci/run runs them after all the others (--filter TestCategory=Heavy), with their
/// sizes scaled by HARDENING_SCALE to what the machine can do.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, Inherited = false)]
public sealed class HeavyAttribute : ParallelizableAttribute
{
    public const string Category = "Heavy";

    public HeavyAttribute() : base(ParallelScope.None)
    {
        Properties.Add(NUnit.Framework.Internal.PropertyNames.Category, Category);
    }
}
