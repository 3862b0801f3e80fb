/*
 * actor-frontend - a guest's frontend driver for one device, connected as
 * the unprivileged guest D through DIR/dom<D>.sock (or XENSTORED_PATH).
 *
 * Modes (--mode):
 *   normal       1 -> 3 when backend at 2 (publishes ring-ref/event-channel),
 *                3 -> 4 when backend at 4; on backend 5: -> 5 -> 6, exit 0
 *   connect      as normal but exit 0 once at 4 (state stays 4)
 *   kexec        connect, then hand the device over: 4 -> 1 (seed 001),
 *                reconnect to 4, print "reconnected", exit 0
 *   never-close  as normal but ignores backend Closing; runs --seconds
 *   flip         writes state 4,1,4,5 as fast as possible for --seconds
 *   garbage      writes malformed values (non-numeric, negative, huge, empty,
 *                embedded bytes, ~4 KiB) to state and other frontend nodes
 *   spam         --rate writes/s to --node for --seconds
 *   deep         nests directories under the frontend dir until refused
 * Exit: 0 done, 1 error/timeout, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsutil.h"

struct fe {
	struct xs_handle *xs;
	long dom, devid, seconds, rate, timeout_ms;
	const char *kind, *mode, *node;
	char dir[128], be[256];
	int verbose;
};

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
"usage: actor-frontend [-d DIR] --domid D --kind vif|vbd --devid N\n"
"         [--mode normal|connect|kexec|never-close|flip|garbage|spam|deep]\n"
"         [--seconds T] [--rate WRITES_PER_S] [--node NAME] [--timeout-ms MS] [-v]\n"
"  DIR: world directory; connects to DIR/dom<D>.sock as guest D.\n"
"  exit: 0 done, 1 error or timeout, 2 usage\n");
	return rc;
}

static long rd(struct fe *f, const char *dir, const char *key)
{
	char p[300];
	long v;

	snprintf(p, sizeof(p), "%s/%s", dir, key);
	if (xsu_read_long(f->xs, XBT_NULL, p, -1, 0x7fffffffL, &v))
		return errno == ENOENT ? -2 : -1;
	return v;
}

static int wr(struct fe *f, const char *key, const char *val, size_t len)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", f->dir, key);
	return xs_write(f->xs, XBT_NULL, p, val, (unsigned int)len) ? 0 : -1;
}

static int set_state(struct fe *f, long from, long to)
{
	char v[8];

	snprintf(v, sizeof(v), "%ld", to);
	if (f->verbose)
		printf("state %ld->%ld\n", from, to);
	return wr(f, "state", v, strlen(v));
}

static int publish(struct fe *f)
{
	if (!strcmp(f->kind, "vif"))
		return wr(f, "tx-ring-ref", "8", 1) || wr(f, "rx-ring-ref", "9", 1) ||
		       wr(f, "event-channel", "13", 2) ||
		       wr(f, "request-rx-copy", "1", 1);
	return wr(f, "ring-ref", "8", 1) || wr(f, "event-channel", "13", 2) ||
	       wr(f, "protocol", "x86_64-abi", 10);
}

/* The normal frontend state machine; returns 1 when done, -1 on error. */
static int step(struct fe *f, int *kexec_phase)
{
	long fs = rd(f, f->dir, "state"), bs = rd(f, f->be, "state");
	bool never = !strcmp(f->mode, "never-close");

	if (bs == -2 && fs == -2)
		return 1;			/* device removed */
	if (fs == 1 && bs == 2)
		return (publish(f) || set_state(f, fs, 3)) ? -1 : 0;
	if (fs == 3 && bs == 4) {
		if (set_state(f, fs, 4))
			return -1;
		if (!strcmp(f->mode, "connect"))
			return 1;
		if (!strcmp(f->mode, "kexec")) {
			if (*kexec_phase == 1) {
				printf("reconnected\n");
				return 1;
			}
			*kexec_phase = 1;
			usleep(10000);
			return set_state(f, 4, 1) ? -1 : 0;
		}
		return 0;
	}
	if (fs == 4 && bs == 4 && !strcmp(f->mode, "connect"))
		return 1;
	if (fs == 4 && bs == 4 && !strcmp(f->mode, "kexec") && !*kexec_phase) {
		*kexec_phase = 1;	/* hand the device to the "new kernel" */
		return set_state(f, 4, 1) ? -1 : 0;
	}
	if ((bs == 5 || bs == 6) && !never && fs != 6) {
		if (fs != 5 && set_state(f, fs, 5))
			return -1;
		return set_state(f, 5, 6) ? -1 : 1;
	}
	return 0;
}

static int run_normal(struct fe *f)
{
	long long end = xsu_now_ms() + (f->seconds ? f->seconds * 1000 : f->timeout_ms);
	struct pollfd pfd = { .fd = xs_fileno(f->xs), .events = POLLIN };
	char p[300], **ev;
	int kexec_phase = 0, r;

	snprintf(p, sizeof(p), "%s/state", f->be);
	if (pfd.fd < 0 || !xs_watch(f->xs, p, "be"))
		return -1;
	snprintf(p, sizeof(p), "%s/state", f->dir);
	if (!xs_watch(f->xs, p, "fe"))
		return -1;
	while (!xsu_stop) {
		r = step(f, &kexec_phase);
		if (r)
			return r < 0 ? -1 : 0;
		if (xsu_now_ms() >= end) {
			if (!strcmp(f->mode, "never-close") && f->seconds)
				return 0;
			errno = ETIMEDOUT;
			return -1;
		}
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			return -1;
		while ((ev = xs_check_watch(f->xs)) != NULL)
			free(ev);
	}
	return 0;
}

static int run_flip(struct fe *f)
{
	static const char *const seq[] = { "4", "1", "4", "5" };
	long long end = xsu_now_ms() + f->seconds * 1000;
	unsigned long n = 0, fail = 0;

	while (!xsu_stop && xsu_now_ms() < end) {
		if (wr(f, "state", seq[n % 4], 1))
			fail++;
		n++;
	}
	printf("flip writes=%lu failed=%lu\n", n, fail);
	return 0;
}

static int run_garbage(struct fe *f)
{
	static const char *const nodes[] = { "state", "ring-ref",
		"event-channel", "handle", "feature-persistent",
		"virtual-device", "mac" };
	static char big[4096];
	struct { const char *v; size_t len; } vals[] = {
		{ "abc", 3 }, { "-1", 2 }, { "-2147483649", 11 },
		{ "99999999999999999999999", 23 }, { "", 0 }, { "4\n", 2 },
		{ " 4", 2 }, { "4abc", 4 }, { "0x4", 3 }, { "+4", 2 },
		{ "4.0", 3 }, { "\x01\x02\xff", 3 }, { "4\0junk", 6 },
		{ big, 3900 }, { big, sizeof(big) },
	};
	long long end = xsu_now_ms() + f->seconds * 1000;
	unsigned long ok = 0, refused = 0;
	size_t i, j;

	memset(big, 'A', sizeof(big));
	do {
		for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++)
			for (j = 0; j < sizeof(vals) / sizeof(vals[0]); j++)
				if (wr(f, nodes[i], vals[j].v, vals[j].len))
					refused++;
				else
					ok++;
	} while (!xsu_stop && xsu_now_ms() < end);
	printf("garbage accepted=%lu refused=%lu\n", ok, refused);
	return 0;
}

static int run_spam(struct fe *f)
{
	long long start = xsu_now_ms(), end = start + f->seconds * 1000;
	unsigned long n = 0, fail = 0;
	char v[32];
	long long due;

	while (!xsu_stop && xsu_now_ms() < end) {
		snprintf(v, sizeof(v), "%lu", n);
		if (wr(f, f->node, v, strlen(v)))
			fail++;
		n++;
		due = start + (long long)(n * 1000 / (unsigned long)f->rate);
		while (xsu_now_ms() < due && !xsu_stop)
			usleep(200);
	}
	printf("spam writes=%lu failed=%lu\n", n, fail);
	return 0;
}

static int run_deep(struct fe *f)
{
	char p[8192];
	size_t len;
	int depth = 0;

	len = (size_t)snprintf(p, sizeof(p), "%s/deep", f->dir);
	while (len + 3 < sizeof(p)) {
		if (!xs_write(f->xs, XBT_NULL, p, "x", 1))
			break;
		depth++;
		memcpy(p + len, "/d", 3);
		len += 2;
	}
	printf("deep depth=%d pathlen=%zu errno=%s\n", depth, len,
	       strerror(errno));
	return 0;
}

/* Options into f and *dir; -1 to go on, else the exit code (usage). */
static int parse_opts(struct fe *f, const char **dir, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "domid", 1, NULL, 'D' }, { "kind", 1, NULL, 'k' },
		{ "devid", 1, NULL, 'n' }, { "mode", 1, NULL, 'm' },
		{ "seconds", 1, NULL, 's' }, { "rate", 1, NULL, 'r' },
		{ "node", 1, NULL, 'N' }, { "timeout-ms", 1, NULL, 't' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 } };
	int o;

	while ((o = getopt_long(argc, argv, "d:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'd': *dir = optarg; break;
		case 'v': f->verbose = 1; break;
		case 'D': if (xsu_parse_long(optarg, 1, 0x7fef, &f->dom)) return usage(2); break;
		case 'n': if (xsu_parse_long(optarg, 0, 0xfffffffL, &f->devid)) return usage(2); break;
		case 's': if (xsu_parse_long(optarg, 0, 86400, &f->seconds)) return usage(2); break;
		case 'r': if (xsu_parse_long(optarg, 1, 1000000, &f->rate)) return usage(2); break;
		case 't': if (xsu_parse_long(optarg, 1, 3600000, &f->timeout_ms)) return usage(2); break;
		case 'k': f->kind = optarg; break;
		case 'm': f->mode = optarg; break;
		case 'N':
			if (!*optarg || strchr(optarg, '/') || strlen(optarg) > 64)
				return usage(2);
			f->node = optarg;
			break;
		case 'h': return usage(0);
		default: return usage(2);
		}
	}
	if (optind != argc || f->dom < 0 || f->devid < 0 ||
	    (strcmp(f->kind, "vif") && strcmp(f->kind, "vbd")))
		return usage(2);
	return -1;
}

/* Reads the device's backend path (written by the toolstack) into f->be. */
static int read_backend(struct fe *f)
{
	char p[300], *be;

	snprintf(f->dir, sizeof(f->dir), "/local/domain/%ld/device/%s/%ld", f->dom,
		 f->kind, f->devid);
	snprintf(p, sizeof(p), "%s/backend", f->dir);
	be = xsu_read(f->xs, XBT_NULL, p);
	if (!be || strlen(be) >= sizeof(f->be)) {
		fprintf(stderr, "actor-frontend: no backend path at %s\n", p);
		free(be);
		return -1;
	}
	strcpy(f->be, be);
	free(be);
	return 0;
}

/* Runs f->mode: 0 done, -1 failed (errno), 2 unknown mode. */
static int run_mode(struct fe *f)
{
	if (!strcmp(f->mode, "flip"))
		return run_flip(f);
	if (!strcmp(f->mode, "garbage"))
		return run_garbage(f);
	if (!strcmp(f->mode, "spam"))
		return run_spam(f);
	if (!strcmp(f->mode, "deep"))
		return run_deep(f);
	if (!strcmp(f->mode, "normal") || !strcmp(f->mode, "connect") ||
	    !strcmp(f->mode, "kexec") || !strcmp(f->mode, "never-close"))
		return run_normal(f);
	return 2;
}

int main(int argc, char **argv)
{
	struct fe f = { .dom = -1, .devid = -1, .kind = "", .mode = "normal",
			.node = "spam", .rate = 100, .timeout_ms = 30000 };
	char sock[PATH_MAX];
	const char *dir = NULL;
	int rc;

	if ((rc = parse_opts(&f, &dir, argc, argv)) != -1)
		return rc;
	if (dir) {
		if (snprintf(sock, sizeof(sock), "%s/dom%ld.sock", dir, f.dom) >=
		    (int)sizeof(sock))
			return usage(2);
		setenv("XENSTORED_PATH", sock, 1);
	}
	xsu_stop_on_signals();
	f.xs = xs_open(0);
	if (!f.xs) {
		perror("actor-frontend: xs_open");
		return 1;
	}
	if (read_backend(&f))
		return 1;
	rc = run_mode(&f);
	if (rc == 2)
		return usage(2);
	if (rc)
		fprintf(stderr, "actor-frontend: %s: %s\n", f.mode,
			strerror(errno));
	xs_close(f.xs);
	return rc ? 1 : 0;
}
