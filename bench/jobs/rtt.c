/* rtt TAG M: a job's protocol round trips, timed inside the job (bench/slurm): 50
 * untimed "wait --" (a ping), then M timed ones, each stamped; appends
 * "rtt_TAG M TOTAL_NS MEDIAN_NS P90_NS" to $BENCH_RESULTS. The same program runs as a
 * job of a local group and of a Slurm group, where every round trip goes through the
 * shim, srun and slurmstepd. */
#include "bench.h"

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 3) die("usage: rtt TAG M");
    long m = atol(argv[2]);
    if (m <= 0) die("rtt: M must be positive");
    long long *each = malloc((size_t)m * sizeof *each);
    if (!each) die("out of memory");
    for (int i = 0; i < 50; i++) ask("wait --");
    long long t0 = now_ns(), last = t0;
    for (long i = 0; i < m; i++) {
        ask("wait --");
        long long t = now_ns();
        each[i] = t - last;
        last = t;
    }
    qsort(each, (size_t)m, sizeof *each, cmp_ll);
    char key[64];
    snprintf(key, sizeof key, "rtt_%s", argv[1]);
    result(key, "%ld %lld %lld %lld", m, last - t0, each[m / 2], each[m * 9 / 10]);
    return 0;
}
