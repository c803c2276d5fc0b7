/* timeit COMMAND [ARG...]: runs the command and prints "START_NS ELAPSED_NS"
 * (CLOCK_MONOTONIC), so that a stamp taken inside the command can be set against
 * its start. The baseline for start-up times "sh -c '/bin/true; exit $?'" with it. */
#include "../jobs/bench.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2) die("usage: timeit COMMAND [ARG...]");
    long long t0 = now_ns();
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[1], NULL, NULL, argv + 1, environ);
    if (rc != 0) die("posix_spawn %s: %s", argv[1], strerror(rc));
    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid: %s", strerror(errno));
    long long elapsed = now_ns() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("%s failed (status %d)", argv[1], status);
    printf("%lld %lld\n", t0, elapsed);
    return 0;
}
