/*
 * rel-guest: a hostile guest's own xenstore connection (DIR/dom<D>.sock,
 * unprivileged, as guest D) for the reliability scenarios; it does what
 * actor-frontend's modes do not:
 *
 *   rel-guest DIR D mass-delete PATH N   creates nodes PATH/<i> (one
 *       write each) and deletes them one by one until N were deleted
 *       (each deletion a watch event for a watcher of PATH or above:
 *       XSA-326), then PATH; prints
 *       "created=C deleted=R quota_refusals=Q ms=T"
 *   rel-guest DIR D write PATH VALUE     prints "OK" or "ERR <errno name>"
 *   rel-guest DIR D rm PATH              prints "OK" or "ERR <errno name>"
 * Exit: 0 when the command could be attempted (the result is printed),
 * 1 no connection, 2 usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
result(int ok)
{
	if (ok)
		printf("OK\n");
	else
		printf("ERR %s\n", strerrorname_np(errno) ? strerrorname_np(errno)
		    : "?");
}

/*
 * A guest's node quota (xenstored: 1000 entries per domain by default)
 * stops a single batch short of N, so this works in rounds: create what
 * the quota allows (at most BATCH), delete exactly those, until N nodes
 * were deleted or a round could create nothing.
 */
#define BATCH 400
static int
mass_delete(struct xs_handle *xs, const char *path, long n)
{
	char p[512];
	long i, got, made = 0, gone = 0, refused = 0, t0 = ms_now();

	while (gone < n) {
		for (got = 0; got < BATCH && gone + got < n; got++) {
			snprintf(p, sizeof(p), "%s/%ld", path, got);
			if (!xs_write(xs, XBT_NULL, p, "x", 1)) {
				refused++;
				break;
			}
		}
		made += got;
		for (i = 0; i < got; i++) {
			snprintf(p, sizeof(p), "%s/%ld", path, i);
			if (xs_rm(xs, XBT_NULL, p))
				gone++;
		}
		if (got == 0)
			break;
	}
	xs_rm(xs, XBT_NULL, path);
	printf("created=%ld deleted=%ld quota_refusals=%ld ms=%ld\n", made,
	    gone, refused, ms_now() - t0);
	return 0;
}

static int
usage(void)
{
	fprintf(stderr, "usage: rel-guest DIR D mass-delete PATH N | "
	    "write PATH VALUE | rm PATH\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct xs_handle *xs;
	char sock[PATH_MAX], *end;
	long dom, n;
	int rc = 0;

	if (argc < 5)
		return usage();
	dom = strtol(argv[2], &end, 10);
	if (*end || dom < 1 || dom > 0x7fef)
		return usage();
	if (snprintf(sock, sizeof(sock), "%s/dom%ld.sock", argv[1], dom) >=
	    (int)sizeof(sock))
		return usage();
	setenv("XENSTORED_PATH", sock, 1);
	if ((xs = xs_open(0)) == NULL) {
		perror("rel-guest: xs_open");
		return 1;
	}
	if (!strcmp(argv[3], "mass-delete") && argc == 6) {
		n = strtol(argv[5], &end, 10);
		if (*end || n < 1 || n > 100000)
			rc = usage();
		else
			rc = mass_delete(xs, argv[4], n);
	} else if (!strcmp(argv[3], "write") && argc == 6)
		result(xs_write(xs, XBT_NULL, argv[4], argv[5], strlen(argv[5])));
	else if (!strcmp(argv[3], "rm") && argc == 5)
		result(xs_rm(xs, XBT_NULL, argv[4]));
	else
		rc = usage();
	xs_close(xs);
	return rc;
}
