/* pingpong M: the machine's round-trip limit. Two processes, two pipes: one writes
 * "wait --" and reads a line back, the other reads the line and answers "S", M times,
 * both reading through a buffer up to the LF as the daemon and a job do. Prints the
 * elapsed nanoseconds. */
#include "../jobs/bench.h"
#include <sys/wait.h>

static int read_line(int fd, char *buf, size_t size, size_t *start, size_t *end)
{
    for (;;) {
        char *lf = memchr(buf + *start, '\n', *end - *start);
        if (lf) { *start = (size_t)(lf - buf) + 1; return 1; }
        if (*start == *end) *start = *end = 0;
        ssize_t n = read(fd, buf + *end, size - *end);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        *end += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) die("usage: pingpong M");
    long m = atol(argv[1]);
    int up[2], down[2];
    if (pipe(up) || pipe(down)) die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    char buf[4096];
    size_t start = 0, end = 0;
    if (pid == 0) {
        close(up[1]);
        close(down[0]);
        while (read_line(up[0], buf, sizeof buf, &start, &end)) write_all(down[1], "S\n", 2);
        _exit(0);
    }
    close(up[0]);
    close(down[1]);
    long long t0 = now_ns();
    for (long i = 0; i < m; i++) {
        write_all(up[1], "wait --\n", 8);
        if (!read_line(down[0], buf, sizeof buf, &start, &end)) die("no answer");
    }
    long long elapsed = now_ns() - t0;
    close(up[1]);
    waitpid(pid, NULL, 0);
    printf("%lld\n", elapsed);
    return 0;
}
