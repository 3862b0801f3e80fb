/*
 * check-xs - tiny xenstore probe for the world tests (real libxenstore on
 * XENSTORED_PATH), printing results the shell tests assert on.
 *
 *   check-xs read PATH            value, or "ERR <ERRNO>"
 *   check-xs write PATH VALUE     "OK" or "ERR <ERRNO>"
 *   check-xs txconflict PATH      "EAGAIN" when a concurrent write makes the
 *                                 transaction fail (exit 0), else exit 1
 *   check-xs watch PATH MS        prints "armed", then the path of the first
 *                                 event after the initial one; exit 1 on timeout
 *   check-xs txleak               start a transaction and exit without ending it
 *   check-xs rtt N                N sequential reads of /local/domain/0/domid
 *                                 (or $RTT_PATH): "rtt_us=<mean>"
 * Exit: 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/actors/xsutil.h"

static const char *ename(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case ENOENT: return "ENOENT";
	case EAGAIN: return "EAGAIN";
	case EINVAL: return "EINVAL";
	case E2BIG: return "E2BIG";
	case EPERM: return "EPERM";
	case ENOSPC: return "ENOSPC";
	case EDQUOT: return "EDQUOT";
	default: return "EOTHER";
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: check-xs read PATH | write PATH VALUE | "
		"txconflict PATH | watch PATH MS | txleak X | rtt N\n");
	return 2;
}

static int txconflict(struct xs_handle *a, const char *path)
{
	struct xs_handle *b = xs_open(0);
	xs_transaction_t t;
	char *v;

	if (!b)
		return 1;
	xs_write(a, XBT_NULL, path, "0", 1);
	t = xs_transaction_start(a);
	v = xs_read(a, t, path, NULL);
	free(v);
	if (!xs_write(b, XBT_NULL, path, "other", 5) ||
	    !xs_write(a, t, path, "mine", 4))
		return 1;
	if (xs_transaction_end(a, t, false)) {
		printf("COMMITTED\n");
		return 1;
	}
	printf("%s\n", ename(errno));
	return errno == EAGAIN ? 0 : 1;
}

static int watch(struct xs_handle *xs, const char *path, long ms)
{
	long long end = xsu_now_ms() + ms;
	struct pollfd pfd = { .fd = xs_fileno(xs), .events = POLLIN };
	char **ev;
	int seen = 0;

	if (!xs_watch(xs, path, "t"))
		return 1;
	while (xsu_now_ms() < end) {
		while ((ev = xs_check_watch(xs)) != NULL) {
			if (seen++ == 0) {
				printf("armed\n");
				fflush(stdout);
			} else {
				printf("%s\n", ev[XS_WATCH_PATH]);
				free(ev);
				return 0;
			}
			free(ev);
		}
		poll(&pfd, 1, 50);
	}
	return 1;
}

static int rtt(struct xs_handle *xs, long n)
{
	const char *p = getenv("RTT_PATH") ? getenv("RTT_PATH")
					   : "/local/domain/0/domid";
	long long t0;
	long i;
	char *v;

	t0 = xsu_now_ms();
	for (i = 0; i < n; i++) {
		v = xs_read(xs, XBT_NULL, p, NULL);
		if (!v)
			return 1;
		free(v);
	}
	printf("rtt_us=%.2f\n", (double)(xsu_now_ms() - t0) * 1000.0 / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	struct xs_handle *xs;
	long n;
	char *v;

	if (argc < 3)
		return usage();
	xs = xs_open(0);
	if (!xs) {
		perror("check-xs: xs_open");
		return 1;
	}
	if (!strcmp(argv[1], "read") && argc == 3) {
		v = xs_read(xs, XBT_NULL, argv[2], NULL);
		if (!v) {
			printf("ERR %s\n", ename(errno));
			return 1;
		}
		printf("%s\n", v);
		free(v);
		return 0;
	}
	if (!strcmp(argv[1], "write") && argc == 4) {
		if (!xs_write(xs, XBT_NULL, argv[2], argv[3],
			      (unsigned int)strlen(argv[3]))) {
			printf("ERR %s\n", ename(errno));
			return 1;
		}
		printf("OK\n");
		return 0;
	}
	if (!strcmp(argv[1], "txconflict") && argc == 3)
		return txconflict(xs, argv[2]);
	if (!strcmp(argv[1], "watch") && argc == 4 &&
	    !xsu_parse_long(argv[3], 1, 600000, &n))
		return watch(xs, argv[2], n);
	if (!strcmp(argv[1], "txleak") && argc == 3)
		return xs_transaction_start(xs) == XBT_NULL ? 1 : 0;
	if (!strcmp(argv[1], "rtt") && argc == 3 &&
	    !xsu_parse_long(argv[2], 1, 100000000, &n))
		return rtt(xs, n);
	return usage();
}
