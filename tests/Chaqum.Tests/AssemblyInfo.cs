// Fixtures run in parallel (each starts its own daemons on its own trees); the tests of
// one fixture run one after another. [Heavy] and [UsesNobody] tests run alone.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(3)]
// Every CancelAfter, scaled by CHAQUM_TEST_TIMEOUT_SCALE (see Support/Deadline.cs).
[assembly: ScaledCancelAfter]
