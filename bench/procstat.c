/*
 * CPU time and memory of the processes a benchmark phase measures.
 * CPU: the sum over all threads of /proc/P/task/T/schedstat's first field
 * (on-CPU nanoseconds; xenstored under the shim has helper threads), and
 * /proc/P/stat utime+stime (clock ticks) as a cross-check.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

uint64_t
proc_cpu_ns(pid_t pid)
{
	char p[96];
	unsigned long long ns, sum = 0;
	struct dirent *e;
	DIR *d;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%ld/task", (long)pid);
	if ((d = opendir(p)) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/proc/%ld/task/%.16s/schedstat",
		    (long)pid, e->d_name);
		if ((f = fopen(p, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		fclose(f);
	}
	closedir(d);
	return sum;
}

uint64_t
proc_cpu_ticks(pid_t pid)
{
	char p[64], buf[1024], *s;
	unsigned long long ut, st;
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold blanks: fields start after the last ')' */
	if ((s = strrchr(buf, ')')) == NULL ||
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	    &ut, &st) != 2)
		return 0;
	return ut + st;
}

static long
status_kb(pid_t pid, const char *key)
{
	char p[64], line[256];
	size_t kl = strlen(key);
	long kb = -1;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%ld/status", (long)pid);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			kb = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

long
proc_hwm_kb(pid_t pid)
{
	return status_kb(pid, "VmHWM");
}

long
proc_rss_kb(pid_t pid)
{
	return status_kb(pid, "VmRSS");
}

void
cpu_take(const struct bopt *o, struct cpu_snap *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	if (o->xs_pid > 0) {
		s->xs_ns = proc_cpu_ns(o->xs_pid);
		s->xs_ticks = proc_cpu_ticks(o->xs_pid);
	}
	for (i = 0; i < o->npids; i++)
		s->d_ns[i] = proc_cpu_ns(o->pids[i]);
}

/* Waits (up to max_ms) until xenstored and the daemons are quiet: less
 * than 0.5 ms of CPU in total over 50 ms. */
void
cpu_settle(const struct bopt *o, long max_ms)
{
	struct cpu_snap a, b;
	uint64_t end = now_us() + (uint64_t)max_ms * 1000u, sa, sb;
	size_t i;

	cpu_take(o, &a);
	while (now_us() < end) {
		sleep_us(50000);
		cpu_take(o, &b);
		sa = a.xs_ns;
		sb = b.xs_ns;
		for (i = 0; i < o->npids; i++) {
			sa += a.d_ns[i];
			sb += b.d_ns[i];
		}
		if (sb - sa < 500000u)
			return;
		a = b;
	}
}

void
cpu_print(const struct bopt *o, const struct cpu_snap *a,
    const struct cpu_snap *b, long ndev)
{
	double xs_ms = (double)(b->xs_ns - a->xs_ns) / 1e6, d_ms = 0;
	size_t i;

	for (i = 0; i < o->npids; i++)
		d_ms += (double)(b->d_ns[i] - a->d_ns[i]) / 1e6;
	printf(" xs_cpu_ms=%.1f xs_ticks=%llu xs_us_per_dev=%.1f"
	    " daemon_cpu_ms=%.1f daemon_us_per_dev=%.1f",
	    xs_ms, (unsigned long long)(b->xs_ticks - a->xs_ticks),
	    ndev ? xs_ms * 1000.0 / (double)ndev : 0.0, d_ms,
	    ndev ? d_ms * 1000.0 / (double)ndev : 0.0);
}
