/*
 * loadjob: the jobs of the load and fault tests (tests/Chaqum.Tests/Hardening), in C so that a
 * thousand of them fit on a small machine. Compiled with gcc at test time (NativeJob.cs).
 *
 *   loadjob pinger N          N rounds of cheap commands (ping, group, sendmsg to itself,
 *                             recvmsg, waitrecv), every reply checked; exit 0 if all right
 *   loadjob enqueuer N GROUP SCRIPT
 *                             enqueue N jobs of SCRIPT in GROUP, pipelined (writes and
 *                             reads at once); prints "enqueued N in S s" and the first/last id
 *   loadjob killer N GROUP SCRIPT [GATE]
 *                             as enqueuer, then (once the file GATE exists, if given) kills
 *                             them all with killjobs in chunks; prints "killed N in S s"
 *   loadjob deaf              writes "wait --" for ever and never reads a reply
 *   loadjob forker N MODE     forks N children that pause(); MODE "exit": the job exits and
 *                             leaves them in its process group; "setsid": they leave the group
 *                             (double-forked daemons); "wait": the job pauses too
 *   loadjob flood SECONDS FILE
 *                             writes 100-byte lines to stdout as fast as it can for SECONDS,
 *                             then writes "BYTES SECONDS" to FILE
 *   loadjob pause             pauses until a signal ends it
 *
 * The protocol is spoken raw: a command line on fd 3, one reply line on fd 4.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char inbuf[1 << 20];
static size_t inlen;

static void die(const char *what)
{
    fprintf(stderr, "loadjob: %s\n", what);
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write to fd 3 failed");
        }
        data += n;
        len -= (size_t)n;
    }
}

/* Reads one reply line (without LF) into line; bytes of a body are read by read_exact. */
static void read_line(char *line, size_t cap)
{
    for (;;) {
        char *lf = memchr(inbuf, '\n', inlen);
        if (lf) {
            size_t n = (size_t)(lf - inbuf);
            if (n >= cap)
                die("reply too long");
            memcpy(line, inbuf, n);
            line[n] = 0;
            memmove(inbuf, lf + 1, inlen - n - 1);
            inlen -= n + 1;
            return;
        }
        if (inlen == sizeof inbuf)
            die("reply line too long");
        ssize_t r = read(4, inbuf + inlen, sizeof inbuf - inlen);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            die("fd 4 closed");
        inlen += (size_t)r;
    }
}

static void read_exact(char *out, size_t len)
{
    while (len > 0) {
        if (inlen == 0) {
            ssize_t r = read(4, inbuf, sizeof inbuf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                die("fd 4 closed in a body");
            inlen = (size_t)r;
        }
        size_t take = len < inlen ? len : inlen;
        memcpy(out, inbuf, take);
        memmove(inbuf, inbuf + take, inlen - take);
        inlen -= take;
        out += take;
        len -= take;
    }
}

static void cmd(const char *line, char *reply, size_t cap)
{
    write_all(3, line, strlen(line));
    read_line(reply, cap);
}

static void expect_prefix(const char *reply, const char *prefix, const char *what)
{
    if (strncmp(reply, prefix, strlen(prefix)) != 0) {
        fprintf(stderr, "loadjob: %s answered '%s'\n", what, reply);
        exit(2);
    }
}

static int pinger(int rounds)
{
    const char *me = getenv("CHAQUM_IDENT");
    char line[512], reply[512], body[32], msgid[512];
    if (!me)
        die("no CHAQUM_IDENT");
    for (int i = 0; i < rounds; i++) {
        cmd("wait --\n", reply, sizeof reply);
        expect_prefix(reply, "S", "wait --");
        if (strcmp(reply, "S") != 0)
            die("ping answered more than S");
        snprintf(line, sizeof line, "group -m %d -- g%d\n", 1 + i % 4, i % 8);
        cmd(line, reply, sizeof reply);
        expect_prefix(reply, "S", "group");
        snprintf(line, sizeof line, "sendmsg -- %s 16\n0123456789abcdef\n", me);
        cmd(line, reply, sizeof reply);
        expect_prefix(reply, "S msg:", "sendmsg");
        snprintf(msgid, sizeof msgid, "%s", reply + 2);
        cmd("recvmsg -t 0\n", reply, sizeof reply);
        if (strcmp(reply, "S 16") != 0)
            die("recvmsg did not answer S 16");
        read_exact(body, 17);
        if (memcmp(body, "0123456789abcdef\n", 17) != 0)
            die("recvmsg body differs");
        snprintf(line, sizeof line, "waitrecv -t 0 -- %s\n", msgid);
        cmd(line, reply, sizeof reply);
        char want[600];
        snprintf(want, sizeof want, "S %s R", msgid);
        if (strcmp(reply, want) != 0)
            die("waitrecv did not answer R");
    }
    return 0;
}

/* Enqueues n jobs with writes and reads interleaved (poll), so neither pipe blocks. */
static char **enqueue_many(int n, const char *group, const char *script, double *seconds)
{
    char **ids = calloc((size_t)n, sizeof *ids);
    char line[512], reply[512];
    int len = snprintf(line, sizeof line, "enqueue -g %s -- %s\n", group, script);
    int sent = 0, got = 0;
    size_t off = 0;
    double t0 = now();
    while (got < n) {
        struct pollfd fds[2] = { { .fd = 4, .events = POLLIN }, { .fd = 3, .events = sent < n ? POLLOUT : 0 } };
        if (inlen > 0 && memchr(inbuf, '\n', inlen))
            fds[0].revents = POLLIN;
        else if (poll(fds, 2, -1) < 0 && errno != EINTR)
            die("poll");
        if (fds[1].revents & POLLOUT) {
            ssize_t w = write(3, line + off, (size_t)len - off);
            if (w > 0) {
                off += (size_t)w;
                if (off == (size_t)len) {
                    off = 0;
                    sent++;
                }
            }
        }
        if (fds[0].revents & (POLLIN | POLLHUP)) {
            read_line(reply, sizeof reply);
            expect_prefix(reply, "S ", "enqueue");
            ids[got++] = strdup(reply + 2);
        }
    }
    *seconds = now() - t0;
    return ids;
}

static int enqueuer(int n, const char *group, const char *script, int kill_them, const char *gate)
{
    double seconds;
    char **ids = enqueue_many(n, group, script, &seconds);
    printf("enqueued %d in %.3f s, %s .. %s\n", n, seconds, ids[0], ids[n - 1]);
    fflush(stdout);
    if (!kill_them)
        return 0;
    while (gate && access(gate, F_OK) != 0)
        usleep(20000);
    /* killjobs in chunks that stay well under the 64 KiB line cap. */
    double t0 = now();
    static char line[30000];
    static char reply[1 << 20];
    for (int i = 0; i < n;) {
        size_t used = (size_t)snprintf(line, sizeof line, "killjobs -t 60 --");
        for (; i < n && used + strlen(ids[i]) + 3 < sizeof line; i++)
            used += (size_t)snprintf(line + used, sizeof line - used, " %s", ids[i]);
        line[used++] = '\n';
        line[used] = 0;
        cmd(line, reply, sizeof reply);
        expect_prefix(reply, "S ", "killjobs");
    }
    printf("killed %d in %.3f s\n", n, now() - t0);
    return 0;
}

static void deaf(void)
{
    static const char line[] = "wait --\n";
    for (;;)
        write_all(3, line, sizeof line - 1);
}

static int forker(int n, const char *mode)
{
    int setsid_mode = strcmp(mode, "setsid") == 0;
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "loadjob: fork %d failed: %s\n", i, strerror(errno));
            return 2;
        }
        if (pid == 0) {
            /* Children do not speak the protocol; they only hold their place. */
            close(3);
            close(4);
            if (setsid_mode) {
                setsid();
                if (fork() != 0)
                    _exit(0);
            }
            for (;;)
                pause();
        }
        if (setsid_mode)
            waitpid(pid, NULL, 0);
    }
    printf("forked %d\n", n);
    fflush(stdout);
    if (strcmp(mode, "wait") == 0)
        for (;;)
            pause();
    return 0;
}

static int flood(double seconds, const char *file)
{
    static char buf[100 * 1000];
    for (int i = 0; i < 1000; i++) {
        memset(buf + i * 100, 'a' + i % 26, 99);
        buf[i * 100 + 99] = '\n';
    }
    long long total = 0;
    double t0 = now(), t = t0;
    while (t - t0 < seconds) {
        ssize_t n = write(1, buf, sizeof buf);
        if (n < 0 && errno != EINTR)
            die("write to stdout failed");
        if (n > 0)
            total += n;
        t = now();
    }
    FILE *f = fopen(file, "w");
    if (!f)
        die("cannot write the result file");
    fprintf(f, "%lld %.3f\n", total, t - t0);
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_DFL);
    if (argc >= 3 && strcmp(argv[1], "pinger") == 0)
        return pinger(atoi(argv[2]));
    if (argc >= 5 && strcmp(argv[1], "enqueuer") == 0)
        return enqueuer(atoi(argv[2]), argv[3], argv[4], 0, NULL);
    if (argc >= 5 && strcmp(argv[1], "killer") == 0)
        return enqueuer(atoi(argv[2]), argv[3], argv[4], 1, argc >= 6 ? argv[5] : NULL);
    if (argc >= 2 && strcmp(argv[1], "deaf") == 0)
        deaf();
    if (argc >= 4 && strcmp(argv[1], "forker") == 0)
        return forker(atoi(argv[2]), argv[3]);
    if (argc >= 4 && strcmp(argv[1], "flood") == 0)
        return flood(atof(argv[2]), argv[3]);
    if (argc >= 2 && strcmp(argv[1], "pause") == 0) {
        for (;;)
            pause();
    }
    die("usage: loadjob pinger|enqueuer|killer|deaf|forker|flood|pause ...");
    return 2;
}
