/*
 * bench-driver - timing-critical parts of bench/devd-compare.
 * See bench.h for the file map and usage() for the sub-commands.
 * Every time is CLOCK_MONOTONIC (the trivial script logs the same clock).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static int
usage(int rc)
{
	fprintf(rc ? stderr : stdout,
"usage: bench-driver CMD [options]   (xenstore: XENSTORED_PATH)\n"
"  now                       print CLOCK_MONOTONIC microseconds\n"
"  rtt --count N             mean/p50/p99 of N xs_read round trips\n"
"  clean --first D --count N [--kinds vif,vbd]   remove devices of D..\n"
"  verify --first D --count N [--kinds K] [--per P]  count connected\n"
"  rss --pid P...            peak RSS (VmHWM) and RSS of each pid\n"
"  attach --log F --count N --start CMD --xs-pid X [--pid P]...\n"
"  attach-poll --first D --count N --kinds K --start CMD --xs-pid X ...\n"
"  baseline --count N --start CMD --log BACKEND_LOG --xs-pid X\n"
"  detach --first D --count N [--kinds K] --log F --xs-pid X [--pid P]...\n"
"  floor --script S --first D --count N --par P --xs-pid X\n"
"  recon-create --first D --count G --per P --script S  (minimal vifs)\n"
"  recon-setup --first D --count G --per P  (states; lists missing)\n"
"  recon-wait --first D --count G --per P --log F --start CMD --xs-pid X\n"
"  --start CMD: /bin/sh -c CMD in the background at t0 (prints its pid)\n"
"  common: --backend-domid B (0) --devid N (0) --vbd-devid N (51712)\n"
"          --poll-ms MS --timeout-ms MS\n");
	return rc;
}

struct xs_handle *
bx_open(void)
{
	struct xs_handle *xs = xs_open(0);

	if (xs == NULL)
		perror("bench-driver: xs_open");
	return xs;
}

int
bx_write(struct xs_handle *xs, xs_transaction_t t, const char *path,
    const char *val)
{
	return xs_write(xs, t, path, val, (unsigned int)strlen(val)) ? 0 : -1;
}

char *
bx_read(struct xs_handle *xs, const char *path)
{
	unsigned int len;

	return xs_read(xs, XBT_NULL, path, &len);
}

pid_t
start_cmd(const char *cmd)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	if (pid == -1)
		perror("bench-driver: fork");
	else
		printf("started pid=%ld\n", (long)pid);
	fflush(stdout);
	return pid;
}

static int
cmd_now(struct bopt *o)
{
	printf("%llu\n", (unsigned long long)now_us());
	return 0;
}

/* Serial xs_read round trips on an otherwise idle connection. */
static int
cmd_rtt(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	double *v;
	double sum = 0;
	uint64_t t;
	long i;

	if (xs == NULL || (v = calloc((size_t)o->count, sizeof(*v))) == NULL)
		return 1;
	for (i = 0; i < o->count; i++) {
		t = now_us();
		free(bx_read(xs, "/local/domain/0/domid"));
		v[i] = (double)(now_us() - t);
		sum += v[i];
	}
	printf("rtt count=%ld mean_us=%.1f p50_us=%.1f p99_us=%.1f\n",
	    o->count, sum / (double)o->count, pct(v, (size_t)o->count, 50),
	    pct(v, (size_t)o->count, 99));
	free(v);
	xs_close(xs);
	return 0;
}

static int
cmd_clean(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	char k[4][8], p[BENCH_PATH];
	size_t nk = kind_list(o->kinds, k, 4), j;
	long d;

	if (xs == NULL)
		return 1;
	for (d = o->first; d < o->first + o->count; d++) {
		for (j = 0; j < nk; j++) {
			snprintf(p, sizeof(p), "/local/domain/%ld/backend/%s/%ld",
			    o->bdom, k[j], d);
			xs_rm(xs, XBT_NULL, p);
		}
		snprintf(p, sizeof(p), "/local/domain/%ld/device", d);
		xs_rm(xs, XBT_NULL, p);
		snprintf(p, sizeof(p), "/libxl/%ld", d);
		xs_rm(xs, XBT_NULL, p);
	}
	xs_close(xs);
	return 0;
}

/* Devices D.., per kind (vif: --devid..+per-1, vbd: --vbd-devid) whose
 * hotplug-status is "connected". */
static int
cmd_verify(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	char k[4][8], p[BENCH_PATH + 32], *v;
	size_t nk = kind_list(o->kinds, k, 4), j;
	long d, i, conn = 0, total = 0, per = o->per > 0 ? o->per : 1;

	if (xs == NULL)
		return 1;
	for (d = o->first; d < o->first + o->count; d++)
		for (j = 0; j < nk; j++)
			for (i = 0; i < per; i++) {
				be_path(p, sizeof(p), o->bdom, k[j], d,
				    strcmp(k[j], "vbd") ? o->devid + i :
				    o->vbd_devid + i);
				strcat(p, "/hotplug-status");
				v = bx_read(xs, p);
				conn += v && !strcmp(v, "connected");
				total++;
				free(v);
			}
	printf("verify connected=%ld total=%ld\n", conn, total);
	xs_close(xs);
	return conn == total ? 0 : 1;
}

static int
cmd_rss(struct bopt *o)
{
	size_t i;

	for (i = 0; i < o->npids; i++)
		printf("rss pid=%ld hwm_kb=%ld rss_kb=%ld\n", (long)o->pids[i],
		    proc_hwm_kb(o->pids[i]), proc_rss_kb(o->pids[i]));
	return 0;
}

static int
parse_opt(struct bopt *o, int c, const char *a)
{
	long v;

	switch (c) {
	case 'f': return parse_long(a, 0, 0x7fef, &o->first);
	case 'n': return parse_long(a, 0, 10000000, &o->count);
	case 'P': return parse_long(a, 1, 1024, &o->par);
	case 'i': return parse_long(a, 0, 0xfffffff, &o->devid);
	case 'I': return parse_long(a, 0, 0xfffffff, &o->vbd_devid);
	case 'b': return parse_long(a, 0, 0x7fef, &o->bdom);
	case 'm': return parse_long(a, 1, 60000, &o->poll_ms);
	case 't': return parse_long(a, 1, 3600000, &o->timeout_ms);
	case 'e': return parse_long(a, 1, 100000, &o->per);
	case 'l': o->log = a; return 0;
	case 's': o->script = a; return 0;
	case 'k': o->kinds = a; return 0;
	case 'S': o->start = a; return 0;
	case 'x': case 'p':
		if (parse_long(a, 1, 4194304, &v))
			return -1;
		if (c == 'x')
			o->xs_pid = (pid_t)v;
		else if (o->npids < BENCH_MAX_PIDS)
			o->pids[o->npids++] = (pid_t)v;
		else
			return -1;
		return 0;
	}
	return -1;
}

static const struct {
	const char *name;
	int (*fn)(struct bopt *);
} cmds[] = {
	{ "now", cmd_now }, { "rtt", cmd_rtt }, { "clean", cmd_clean },
	{ "verify", cmd_verify }, { "rss", cmd_rss },
	{ "attach", cmd_attach }, { "attach-poll", cmd_attach_poll },
	{ "baseline", cmd_baseline },
	{ "detach", cmd_detach }, { "floor", cmd_floor },
	{ "recon-create", cmd_recon_create },
	{ "recon-setup", cmd_recon_setup }, { "recon-wait", cmd_recon_wait },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "first", 1, NULL, 'f' }, { "count", 1, NULL, 'n' },
		{ "par", 1, NULL, 'P' }, { "devid", 1, NULL, 'i' },
		{ "vbd-devid", 1, NULL, 'I' }, { "backend-domid", 1, NULL, 'b' },
		{ "poll-ms", 1, NULL, 'm' }, { "timeout-ms", 1, NULL, 't' },
		{ "per", 1, NULL, 'e' }, { "log", 1, NULL, 'l' },
		{ "script", 1, NULL, 's' }, { "kinds", 1, NULL, 'k' },
		{ "start", 1, NULL, 'S' },
		{ "xs-pid", 1, NULL, 'x' }, { "pid", 1, NULL, 'p' },
		{ NULL, 0, NULL, 0 } };
	struct bopt o = { .count = 1, .par = 2, .vbd_devid = 51712,
			  .poll_ms = 5, .timeout_ms = 120000, .per = 1,
			  .kinds = "vif" };
	size_t i;
	int c;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(argc < 2 ? 2 : 0);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0]))
		return usage(2);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if (c == '?' || parse_opt(&o, c, optarg)) {
			fprintf(stderr, "bench-driver: bad option %s\n",
			    argv[optind - 1]);
			return 2;
		}
	if (optind != argc)
		return usage(2);
	return cmds[i].fn(&o);
}
