/* spawn N K PATH [ARG...]: the machine's spawn limit. posix_spawns PATH N times,
 * keeping K children in flight (waitpid for one, spawn the next), and prints the
 * elapsed nanoseconds. The same script the daemon runs, the same cap. */
#include "../jobs/bench.h"
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 4) die("usage: spawn N K PATH [ARG...]");
    int n = atoi(argv[1]), k = atoi(argv[2]);
    int started = 0, running = 0;
    long long t0 = now_ns();
    while (started < n || running > 0) {
        while (started < n && running < k) {
            pid_t pid;
            int rc = posix_spawn(&pid, argv[3], NULL, NULL, argv + 3, environ);
            if (rc != 0) die("posix_spawn %s: %s", argv[3], strerror(rc));
            started++;
            running++;
        }
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0) die("waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("child failed (status %d)", status);
        running--;
    }
    printf("%lld\n", now_ns() - t0);
    return 0;
}
