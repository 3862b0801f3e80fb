/*
 * trivial-script - the cheapest possible hotplug script, for benchmarks.
 *
 * Called with the Linux hotplug convention (argv[1] = add|online|remove|
 * offline, env XENBUS_PATH = the backend dir).  On add/online it writes
 * XENBUS_PATH/hotplug-status = connected through libxenstore (which talks
 * to XENSTORED_PATH: devsep's scoped per-job proxy under hotplugd, xenstored
 * itself under xl devd) and exits 0; on remove/offline it exits 0.
 *
 * Every run appends one line (a single O_APPEND write, so lines from
 * concurrent runs never interleave) to trivial.log next to the executable:
 *   <action> <start_us> <end_us> <pid> <XENBUS_PATH> <ok|fail>
 * with CLOCK_MONOTONIC microseconds, so the benchmark can compute latency
 * and concurrency without asking xenstored anything.
 *
 * Linked statically: xl devd runs under LD_PRELOAD=libxenshim.so and its
 * scripts inherit that environment; a static binary ignores LD_PRELOAD, so
 * both daemons run byte-for-byte the same, equally cheap script.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

static unsigned long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull +
	    (unsigned long long)ts.tv_nsec / 1000ull;
}

static int
write_connected(const char *dir)
{
	char p[512];
	struct xs_handle *xs;
	int ok;

	if (snprintf(p, sizeof(p), "%s/hotplug-status", dir) >= (int)sizeof(p))
		return -1;
	xs = xs_open(0);
	if (xs == NULL)
		return -1;
	ok = xs_write(xs, XBT_NULL, p, "connected", 9);
	xs_close(xs);
	return ok ? 0 : -1;
}

/* trivial.log in the executable's directory. */
static void
log_run(const char *action, const char *dir, unsigned long long t0,
    int rc)
{
	char exe[PATH_MAX], line[768], *slash;
	ssize_t n;
	int fd, len;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 16);
	if (n <= 0)
		return;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) == NULL)
		return;
	strcpy(slash + 1, "trivial.log");
	len = snprintf(line, sizeof(line), "%s %llu %llu %ld %s %s\n", action,
	    t0, now_us(), (long)getpid(), dir, rc ? "fail" : "ok");
	if (len <= 0 || len >= (int)sizeof(line))
		return;
	fd = open(exe, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd == -1)
		return;
	(void)!write(fd, line, (size_t)len);
	close(fd);
}

int
main(int argc, char **argv)
{
	unsigned long long t0 = now_us();
	const char *dir = getenv("XENBUS_PATH");
	const char *action = argc > 1 ? argv[1] : "";
	int rc = 0;

	/* libxl passes a path relative to the domain's home
	 * ("backend/vif/5/0"), which xenstored resolves itself. */
	if (dir == NULL || *dir == '\0') {
		fprintf(stderr, "trivial-script: no XENBUS_PATH\n");
		return 1;
	}
	if (!strcmp(action, "add") || !strcmp(action, "online"))
		rc = write_connected(dir);
	else if (strcmp(action, "remove") && strcmp(action, "offline")) {
		fprintf(stderr, "trivial-script: unknown action '%s'\n", action);
		return 1;
	}
	log_run(action, dir, t0, rc);
	if (rc)
		fprintf(stderr, "trivial-script: %s: cannot write hotplug-status\n",
		    dir);
	return rc ? 1 : 0;
}
