/* lines BYTES: writes BYTES of short (60-byte) numbered lines to stdout, as fast as
 * the reader takes them: the lines are made once, so the writer costs next to nothing. */
#include "bench.h"

int main(int argc, char **argv)
{
    if (argc != 2) die("usage: lines BYTES");
    long long total = atoll(argv[1]);
    enum { LINE = 60, PER_BLOCK = 1092 };        /* 65520 bytes per block */
    static char block[LINE * PER_BLOCK];
    for (int i = 0; i < PER_BLOCK; i++) {
        char *p = block + i * LINE;
        snprintf(p, LINE + 1, "line %06d the quick brown fox jumps over the lazy dog.....", i);
        p[LINE - 1] = '\n';
    }
    long long written = 0;
    while (written < total) {
        size_t n = sizeof block;
        if ((long long)n > total - written) n = (size_t)(total - written);
        write_all(1, block, n);
        written += (long long)n;
    }
    return 0;
}
