using NUnit.Framework.Interfaces;
using NUnit.Framework.Internal;

namespace Chaqum.Tests.Support;

/// <summary>
/// Multiplies every test's CancelAfter by <see cref="Deadline.Factor"/>. Applied to the
/// assembly, after NUnit has built the tree of fixtures and tests: each test case gets its
/// own "Timeout" property (which NUnit prefers to an inherited one), the nearest CancelAfter
/// above it, scaled. CancelAfter stays what fixtures write, so they need no knob of their own.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class ScaledCancelAfterAttribute : Attribute, IApplyToTest
{
    public void ApplyToTest(Test test)
    {
        if (Deadline.Factor != 1) Scale(test, inherited: null);
    }

    private static void Scale(ITest test, int? inherited)
    {
        int? own = test.Properties.ContainsKey(PropertyNames.Timeout)
            ? (int?)test.Properties.Get(PropertyNames.Timeout) : null;
        int? effective = own ?? inherited;
        if (!test.IsSuite)
        {
            if (effective is int ms && ms > 0)
                test.Properties.Set(PropertyNames.Timeout, (int)Math.Min(int.MaxValue, ms * Deadline.Factor));
            return;
        }
        foreach (var child in test.Tests) Scale(child, effective);
    }
}
