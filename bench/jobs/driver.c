/* The entry job of the benchmark tree: drives the daemon through the protocol and
 * times it from inside, so that the figures are what a job sees.
 *
 *   init ping M            M round trips of "wait --" (a no-op command: a ping)
 *   init once              one round trip, stamped: start-up to first answer
 *   init spawn N CAP       N trivial sh jobs into a group capped at CAP, then waited for
 *   init queue SMALL BIG   enqueue rate and daemon RSS with SMALL and BIG jobs queued
 *   init running K         daemon RSS with K jobs running sleep
 *   init handover K FILE   K stamp jobs one after the other (group capped at 1)
 *   init lines BYTES       one job writing BYTES of short lines to stdout
 *   init keep N            N sleepers queued behind one in a group capped at 1, then
 *                          SIGTERM: the daemon keeps them for its next start
 *   init resumed           as once, then SIGTERM (the resumed jobs would run on);
 *                          reports how many jobs the daemon resumed ($CHAQUM_RESUMED)
 *   init plan G W          a plan of G parallel groups of W trivial steps in sequence,
 *                          submitted with the plan verb and waited for with waitplan
 *   init deps G W          the same work enqueued by this job: each job of a group with
 *                          -a on every job of the group before, then waited for
 *
 * Results go to $BENCH_RESULTS as "KEY VALUE..." lines. */
#include "bench.h"
#include <dirent.h>
#include <signal.h>

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) die("%s: %s", path, strerror(errno));
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
}

/* The daemon spawned us: our parent is the daemon. */
static pid_t daemon_pid(void) { return getppid(); }

/* Per-thread CPU of the daemon, to say where its time goes: a snapshot now, and
 * report_threads() writes what each thread used since as "threads MODE NAME NS USER% SYS%". */
struct thread_cpu { int tid; long long ns, user, sys; char comm[32]; };
static struct thread_cpu before[256];
static int before_count;

static int read_threads(struct thread_cpu *out, int max)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)daemon_pid());
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) && count < max) {
        if (e->d_name[0] == '.') continue;
        char path[400], buf[1024];
        struct thread_cpu *t = &out[count];
        memset(t, 0, sizeof *t);
        t->tid = atoi(e->d_name);
        snprintf(path, sizeof path, "%s/%s/schedstat", dir, e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        t->ns = atoll(buf);
        snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
        fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        if (!open_paren || !close_paren) continue;
        size_t len = (size_t)(close_paren - open_paren - 1);
        if (len >= sizeof t->comm) len = sizeof t->comm - 1;
        memcpy(t->comm, open_paren + 1, len);
        for (char *c = t->comm; *c; c++) if (*c == ' ') *c = '_';
        /* fields after ")": state(3) ... utime(14) stime(15) */
        char *p = close_paren + 2;
        for (int field = 3; field < 14 && p; field++) p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
        if (p) sscanf(p, "%lld %lld", &t->user, &t->sys);
        count++;
    }
    closedir(d);
    return count;
}

static void snapshot_threads(void) { before_count = read_threads(before, 256); }

/* CPU time the daemon has used so far, all its threads (the first field of each
 * thread's schedstat, in ns): a cost that other load on the machine does not inflate. */
static long long daemon_cpu_ns(void)
{
    static struct thread_cpu now[256];
    int n = read_threads(now, 256);
    if (n == 0) die("/proc/%d/task: no thread readable", (int)daemon_pid());
    long long total = 0;
    for (int i = 0; i < n; i++) total += now[i].ns;
    return total;
}

static void report_threads(const char *mode)
{
    static struct thread_cpu after[256];
    int n = read_threads(after, 256);
    for (int i = 0; i < n; i++) {
        struct thread_cpu *a = &after[i], base = { 0 };
        for (int j = 0; j < before_count; j++) if (before[j].tid == a->tid) base = before[j];
        long long ns = a->ns - base.ns;
        if (ns < 1000000) continue;   /* under 1 ms: not worth a line */
        long long user = a->user - base.user, sys = a->sys - base.sys;
        result("threads", "%s %s %lld %lld %lld", mode, a->comm, ns, user, sys);
    }
}

/* Measure the daemon at work, not what it does once at start-up (opening the history
 * database, for one), which its first jobs would otherwise share the time with. */
static void warm_up(void)
{
    usleep(500 * 1000);
}

static void settle(void)
{
    /* Let the daemon finish what the last commands set off (history batches, log
     * flushes) before its memory is read. $BENCH_PAUSE (seconds) makes it longer, to
     * attach a profiler (dotnet-gcdump, dotnet-counters) at that point. */
    const char *pause_for = getenv("BENCH_PAUSE");
    usleep(1500 * 1000);
    if (pause_for) sleep((unsigned)atoi(pause_for));
}

static char *enqueue(const char *command)
{
    char *reply = ask(command);
    if (strncmp(reply, "S ", 2) != 0) die("enqueue answered '%s'", reply);
    return strdup(reply + 2);
}

/* Waits for the jobs in batches (a command line must stay under 64 KiB); each must
 * have ended with want (a status word such as "0" or "-15"), unless want is NULL. */
static void wait_all(const char *verb, char **ids, int n, const char *want)
{
    for (int i = 0; i < n; i += 500) {
        int end = i + 500 < n ? i + 500 : n;
        char line[64 * 1024];
        int len = snprintf(line, sizeof line, "%s --", verb);
        for (int j = i; j < end; j++) len += snprintf(line + len, sizeof line - len, " %s", ids[j]);
        char *reply = ask(line);
        if (!want) continue;
        /* "S id status id status ..." */
        char *save, *tok = strtok_r(reply + 1, " ", &save);
        while (tok) {
            char *status = strtok_r(NULL, " ", &save);
            if (!status || strcmp(status, want) != 0) die("%s ended with %s", tok, status ? status : "?");
            tok = strtok_r(NULL, " ", &save);
        }
    }
}

static int count_children_named(pid_t parent, const char *comm)
{
    DIR *d = opendir("/proc");
    if (!d) die("/proc: %s", strerror(errno));
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        /* pid (comm) state ppid ... */
        char *open_paren = strchr(buf, '('), *close_paren = strrchr(buf, ')');
        if (!open_paren || !close_paren) continue;
        *close_paren = 0;
        int ppid = 0;
        char state;
        if (sscanf(close_paren + 2, "%c %d", &state, &ppid) != 2) continue;
        if (ppid == parent && strcmp(open_paren + 1, comm) == 0) count++;
    }
    closedir(d);
    return count;
}

int main(int argc, char **argv)
{
    if (argc < 2) die("usage: init MODE ARG...");
    /* $BENCH_WARMUP (seconds): wait before measuring, e.g. to attach perf stat. */
    if (getenv("BENCH_WARMUP")) sleep((unsigned)atoi(getenv("BENCH_WARMUP")));
    const char *mode = argv[1];

    if (strcmp(mode, "ping") == 0 && argc == 3) {
        long m = atol(argv[2]);
        warm_up();
        snapshot_threads();
        long long cpu0 = daemon_cpu_ns(), t0 = now_ns();
        for (long i = 0; i < m; i++) ask("wait --");
        result("c_roundtrips", "%ld %lld", m, now_ns() - t0);
        result("cpu_roundtrip", "%ld %lld", m, daemon_cpu_ns() - cpu0);
        report_threads("ping");
    } else if (strcmp(mode, "once") == 0) {
        ask("wait --");
        result("first_answer_at", "%lld", now_ns());
    } else if (strcmp(mode, "resumed") == 0) {
        ask("wait --");
        result("first_answer_at", "%lld", now_ns());
        const char *resumed = getenv("CHAQUM_RESUMED");
        result("resumed_count", "%s", resumed ? resumed : "0");
        kill(daemon_pid(), SIGTERM);
        pause();
    } else if (strcmp(mode, "keep") == 0 && argc == 3) {
        int n = atoi(argv[2]);
        ask("group -m 1 -- q");
        for (int i = 0; i <= n; i++) free(enqueue("enqueue -g q -- sleeper"));
        kill(daemon_pid(), SIGTERM);
        pause();
    } else if (strcmp(mode, "spawn") == 0 && argc == 4) {
        int n = atoi(argv[2]);
        warm_up();
        char group[64];
        snprintf(group, sizeof group, "group -m %s -- spawn", argv[3]);
        ask(group);
        char **ids = calloc((size_t)n, sizeof *ids);
        snapshot_threads();
        long long cpu0 = daemon_cpu_ns(), t0 = now_ns();
        for (int i = 0; i < n; i++) ids[i] = enqueue("enqueue -g spawn -- trivial");
        wait_all("wait", ids, n, "0");
        result("spawn", "%d %lld", n, now_ns() - t0);
        result("cpu_spawn", "%d %lld", n, daemon_cpu_ns() - cpu0);
        report_threads("spawn");
    } else if (strcmp(mode, "queue") == 0 && argc == 4) {
        int small = atoi(argv[2]), big = atoi(argv[3]);
        settle();
        result("rss_idle_kb", "%ld", rss_kb(daemon_pid()));
        ask("group -m 1 -- q");
        free(enqueue("enqueue -g q -- sleeper"));  /* holds the group's one slot */
        snapshot_threads();
        long long cpu0 = daemon_cpu_ns(), t0 = now_ns(), t_small = 0, t_last0 = 0, t_big, cpu_last0 = 0;
        for (int i = 1; i <= big; i++) {
            char *id = enqueue("enqueue -g q -- trivial");
            free(id);
            if (i == big - small) {
                t_last0 = now_ns();
                cpu_last0 = daemon_cpu_ns();
                snapshot_threads();
            }
            if (i == small) {
                t_small = now_ns();
                result("cpu_enqueue", "%d %lld", small, daemon_cpu_ns() - cpu0);
                report_threads("enqueue");
                settle();
                result("rss_queued_kb", "%d %ld", small, rss_kb(daemon_pid()));
                if (big - small == small) {
                    t_last0 = now_ns();
                    cpu_last0 = daemon_cpu_ns();
                    snapshot_threads();
                }
            }
        }
        t_big = now_ns();
        result("cpu_enqueue_last", "%d %lld", small, daemon_cpu_ns() - cpu_last0);
        report_threads("enqueue_last");
        result("enqueue_first", "%d %lld", small, t_small - t0);
        result("enqueue_last", "%d %d %lld", small, big, t_big - t_last0);
        settle();
        result("rss_queued_kb", "%d %ld", big, rss_kb(daemon_pid()));
        /* Orderly stop: the queued jobs are cancelled, the blocker and we get SIGTERM. */
        kill(daemon_pid(), SIGTERM);
        pause();
    } else if (strcmp(mode, "running") == 0 && argc == 3) {
        int k = atoi(argv[2]);
        char **ids = calloc((size_t)k, sizeof *ids);
        for (int i = 0; i < k; i++) ids[i] = enqueue("enqueue -- sleeper");
        long long deadline = now_ns() + 60LL * 1000000000LL;
        while (count_children_named(daemon_pid(), "sleep") < k) {
            if (now_ns() > deadline) die("only %d of %d sleepers running after 60 s", count_children_named(daemon_pid(), "sleep"), k);
            usleep(100 * 1000);
        }
        settle();
        result("rss_running_kb", "%d %ld", k, rss_kb(daemon_pid()));
        wait_all("killjobs", ids, k, "-15");
    } else if (strcmp(mode, "handover") == 0 && argc == 4) {
        int k = atoi(argv[2]);
        ask("group -m 1 -- h");
        /* The gate holds the slot while the others are enqueued, so that enqueueing
         * does not run alongside the hand-overs being measured. */
        char *gate = enqueue("enqueue -g h -- gate");
        char **ids = calloc((size_t)k, sizeof *ids);
        char line[4096];
        snprintf(line, sizeof line, "enqueue -g h -- stamp %s", argv[3]);
        for (int i = 0; i < k; i++) ids[i] = enqueue(line);
        wait_all("wait", &gate, 1, "0");
        wait_all("wait", ids, k, "0");
    } else if (strcmp(mode, "plan") == 0 && argc == 4) {
        int groups = atoi(argv[2]), width = atoi(argv[3]);
        static const char step[] = "{\"type\":\"execute\",\"command\":[\"trivial\"]}";
        size_t cap = (size_t)groups * ((size_t)width * sizeof step + 64) + 64, len = 0;
        char *doc = malloc(cap);
        len += (size_t)sprintf(doc + len, "{\"type\":\"sequence_group\",\"work\":[");
        for (int g = 0; g < groups; g++) {
            len += (size_t)sprintf(doc + len, "%s{\"type\":\"parallel_group\",\"work\":[", g ? "," : "");
            for (int w = 0; w < width; w++) len += (size_t)sprintf(doc + len, "%s%s", w ? "," : "", step);
            len += (size_t)sprintf(doc + len, "]}");
        }
        len += (size_t)sprintf(doc + len, "]}");
        warm_up();
        snapshot_threads();
        long long cpu0 = daemon_cpu_ns(), t0 = now_ns();
        char header[64];
        int n = snprintf(header, sizeof header, "plan -- %zu\n", len);
        write_all(3, header, (size_t)n);
        write_all(3, doc, len);
        write_all(3, "\n", 1);
        char *reply = read_reply();
        if (strncmp(reply, "S plan/", 7) != 0) die("plan answered '%s'", reply);
        char line[128];
        snprintf(line, sizeof line, "waitplan -- %s", reply + 2);
        reply = ask(line);
        if (!strstr(reply, " succeeded")) die("the plan ended: '%s'", reply);
        result("plan", "%d %lld", groups * width, now_ns() - t0);
        result("cpu_plan", "%d %lld", groups * width, daemon_cpu_ns() - cpu0);
        report_threads("plan");
    } else if (strcmp(mode, "deps") == 0 && argc == 4) {
        int groups = atoi(argv[2]), width = atoi(argv[3]);
        char **previous = calloc((size_t)width, sizeof *previous), **current = calloc((size_t)width, sizeof *current);
        size_t cap = (size_t)width * 64 + 128;
        char *line = malloc(cap);
        warm_up();
        snapshot_threads();
        long long cpu0 = daemon_cpu_ns(), t0 = now_ns();
        for (int g = 0; g < groups; g++) {
            for (int w = 0; w < width; w++) {
                /* Results nobody waits for are not kept (-F); the last group's are. */
                int len = snprintf(line, cap, "enqueue%s", g < groups - 1 ? " -F" : "");
                if (g > 0)
                    for (int p = 0; p < width; p++) len += snprintf(line + len, cap - (size_t)len, " -a %s", previous[p]);
                snprintf(line + len, cap - (size_t)len, " -- trivial");
                current[w] = enqueue(line);
            }
            if (g > 0) for (int p = 0; p < width; p++) free(previous[p]);
            char **swap = previous; previous = current; current = swap;
        }
        wait_all("wait", previous, width, "0");
        result("deps", "%d %lld", groups * width, now_ns() - t0);
        result("cpu_deps", "%d %lld", groups * width, daemon_cpu_ns() - cpu0);
        report_threads("deps");
    } else if (strcmp(mode, "lines") == 0 && argc == 3) {
        char line[128];
        snprintf(line, sizeof line, "enqueue -- lines %s", argv[2]);
        snapshot_threads();
        long long cpu0 = daemon_cpu_ns(), t0 = now_ns();
        char *id = enqueue(line);
        wait_all("wait", &id, 1, "0");
        result("log", "%s %lld", argv[2], now_ns() - t0);
        result("cpu_log", "%s %lld", argv[2], daemon_cpu_ns() - cpu0);
        report_threads("log");
    } else {
        die("unknown mode or wrong arguments: %s", mode);
    }
    return 0;
}
