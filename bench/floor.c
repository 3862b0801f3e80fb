/*
 * The physical floor: N runs of the hotplug script alone, P at a time,
 * spawned flat out (posix_spawn + waitpid, nothing else), each with the
 * environment a daemon would give it (XENBUS_PATH of device i: guest
 * first + i / per, devid i % per, as the storms lay them out; argv
 * "online type_if=vif") and XENSTORED_PATH pointing at xenstored itself.
 * Prints the wall time, the rate and xenstored's CPU for the scripts'
 * own writes.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench.h"

static pid_t
spawn_one(const struct bopt *o, long i)
{
	char bus[BENCH_PATH + 16], xsp[BENCH_PATH + 32];
	const char *env_xs = getenv("XENSTORED_PATH");
	char *argv[] = { (char *)o->script, "online", "type_if=vif", NULL };
	char *envp[] = { bus, xsp, "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
			 NULL };
	pid_t pid;
	int r;

	strcpy(bus, "XENBUS_PATH=");
	be_path(bus + 12, sizeof(bus) - 12, o->bdom, "vif",
	    o->first + i / o->per, o->devid + i % o->per);
	snprintf(xsp, sizeof(xsp), "XENSTORED_PATH=%s",
	    env_xs ? env_xs : "");
	r = posix_spawn(&pid, o->script, NULL, NULL, argv, envp);
	if (r != 0) {
		errno = r;
		return -1;
	}
	return pid;
}

int
cmd_floor(struct bopt *o)
{
	struct cpu_snap a, b;
	uint64_t t0, t1;
	long started = 0, running = 0, failed = 0;
	int status;
	pid_t pid;

	if (o->script == NULL || o->count < 1)
		return 2;
	cpu_take(o, &a);
	t0 = now_us();
	while (started < o->count || running > 0) {
		while (running < o->par && started < o->count) {
			if (spawn_one(o, started++) == -1) {
				perror("bench-driver: spawn");
				failed++;
				continue;
			}
			running++;
		}
		pid = waitpid(-1, &status, 0);
		if (pid == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	t1 = now_us();
	cpu_settle(o, 1000);
	cpu_take(o, &b);
	printf("floor n=%ld par=%ld wall_s=%.3f rate=%.1f failed=%ld"
	    " script_wall_us=%.0f", o->count, o->par,
	    (double)(t1 - t0) / 1e6, (double)o->count * 1e6 /
	    (double)(t1 - t0), failed, (double)(t1 - t0) * (double)o->par /
	    (double)o->count);
	cpu_print(o, &a, &b, o->count);
	printf("\n");
	return failed ? 1 : 0;
}
