// Fixtures run in parallel (each starts its own daemons on its own trees); the tests of
// one fixture run one after another.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
