/* Shared by the benchmark's C jobs and baselines: clocks, results, and the job side
 * of the protocol (one command line on fd 3, one reply line from fd 4). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Not every program uses every helper. */
#define HELPER static __attribute__((unused))

HELPER long long now_ns(void)
{
    /* CLOCK_MONOTONIC is one clock for every process on the machine, so stamps taken
     * in different processes can be subtracted. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

HELPER void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* Appends "KEY VALUE" to the results file named by $BENCH_RESULTS (one write, so lines
 * from several processes never mix). */
HELPER void result(const char *key, const char *fmt, ...)
{
    const char *path = getenv("BENCH_RESULTS");
    if (!path) die("BENCH_RESULTS not set");
    char line[512];
    int n = snprintf(line, sizeof line, "%s ", key);
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - n, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, line, n) != n) die("%s: %s", path, strerror(errno));
    close(fd);
}

HELPER void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) die("write to fd %d: %s", fd, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
}

/* The reply reader: a buffer over fd 4, so a reply costs one read(2) in the usual case. */
static char rbuf[1 << 20];
static size_t rstart, rend;

/* Returns the next reply line (without LF, NUL-terminated, valid until the next call). */
HELPER char *read_reply(void)
{
    for (;;) {
        char *lf = memchr(rbuf + rstart, '\n', rend - rstart);
        if (lf) {
            char *line = rbuf + rstart;
            *lf = 0;
            rstart = (size_t)(lf - rbuf) + 1;
            return line;
        }
        if (rstart > 0) {
            memmove(rbuf, rbuf + rstart, rend - rstart);
            rend -= rstart;
            rstart = 0;
        }
        if (rend == sizeof rbuf) die("reply longer than %zu bytes", sizeof rbuf);
        ssize_t n = read(4, rbuf + rend, sizeof rbuf - rend);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("reading fd 4: %s", n == 0 ? "end of file" : strerror(errno));
        rend += (size_t)n;
    }
}

/* Sends one command line (LF added) and returns the reply line; an E reply is fatal. */
HELPER char *ask(const char *command)
{
    size_t n = strlen(command);
    char line[n + 1];
    memcpy(line, command, n);
    line[n] = '\n';
    write_all(3, line, n + 1);
    char *reply = read_reply();
    if (reply[0] != 'S') die("'%s' answered '%s'", command, reply);
    return reply;
}
