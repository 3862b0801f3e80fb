/*
 * Pure helpers of bench-driver (no xenstore, no processes), so that unit
 * tests link them alone: clock, strict number parsing, paths, percentiles.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void
sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000u),
			       (long)(us % 1000000u) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
be_path(char *p, size_t cap, long bdom, const char *kind, long dom, long devid)
{
	int n = snprintf(p, cap, "/local/domain/%ld/backend/%s/%ld/%ld", bdom,
	    kind, dom, devid);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* "vif,vbd" -> {"vif","vbd"}; returns how many. */
size_t
kind_list(const char *kinds, char out[][8], size_t max)
{
	size_t n = 0, len;
	const char *p = kinds, *c;

	while (*p && n < max) {
		c = strchr(p, ',');
		len = c ? (size_t)(c - p) : strlen(p);
		if (len > 0 && len < 8) {
			memcpy(out[n], p, len);
			out[n++][len] = '\0';
		}
		p += len + (c != NULL);
	}
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile p (0..100) of v[0..n); sorts v. */
double
pct(double *v, size_t n, double p)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k == 0)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

