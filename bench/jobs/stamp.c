/* stamp FILE: appends "S <ns>" when it starts and "E <ns>" just before it exits
 * (CLOCK_MONOTONIC). Run one after another, the gap from one E to the next S is the
 * hand-over: process exit, its parent noticing, and the next spawn up to main(). */
#include "bench.h"

int main(int argc, char **argv)
{
    long long start = now_ns();
    if (argc != 2) die("usage: stamp FILE");
    int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0) die("%s: %s", argv[1], strerror(errno));
    char line[64];
    int n = snprintf(line, sizeof line, "S %lld\n", start);
    write_all(fd, line, (size_t)n);
    n = snprintf(line, sizeof line, "E %lld\n", now_ns());
    write_all(fd, line, (size_t)n);
    _exit(0);
}
