/* timeit COMMAND [ARG...]: runs the command, its standard output on /dev/null, and prints
 * "START_NS ELAPSED_NS" (CLOCK_MONOTONIC), so that a stamp taken inside the command can be
 * set against its start. The start-up figures and their baselines (/bin/true, tsp -h) are
 * timed with it; what a command prints costs the terminal, not the command. */
#include "../jobs/bench.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 2) die("usage: timeit COMMAND [ARG...]");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    long long t0 = now_ns();
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[1], &actions, NULL, argv + 1, environ);
    if (rc != 0) die("posix_spawn %s: %s", argv[1], strerror(rc));
    int status;
    if (waitpid(pid, &status, 0) < 0) die("waitpid: %s", strerror(errno));
    long long elapsed = now_ns() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("%s failed (status %d)", argv[1], status);
    printf("%lld %lld\n", t0, elapsed);
    return 0;
}
