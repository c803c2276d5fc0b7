namespace Chaqum.Tests.Support;

/// <summary>
/// Marks a test that runs processes as uid 65534 (nobody). Such tests share that uid's
/// process count (RLIMIT_NPROC counts every task of a uid) and its files, so one lowering
/// the limit starves another: they run one at a time and beside nothing else
/// (ParallelScope.None puts them in NUnit's non-parallel shift). The category lets a run
/// pick them out: --filter TestCategory=Nobody.
/// </summary>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, Inherited = false)]
public sealed class UsesNobodyAttribute : ParallelizableAttribute
{
    public const string Category = "Nobody";
    public const int Uid = 65534;

    public UsesNobodyAttribute() : base(ParallelScope.None)
    {
        Properties.Add(NUnit.Framework.Internal.PropertyNames.Category, Category);
    }
}
