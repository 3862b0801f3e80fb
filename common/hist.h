/*
 * A latency histogram as the daemons report it in MSG_COMMON_STATS:
 * buckets with inclusive upper bounds, the last one open, plus the sum and
 * the maximum of the values.  Its JSON form is the one devsepctl renders:
 *   [{"le_<unit>": 10, "count": 3}, ..., {"le_<unit>": "inf", "count": 0}]
 */
#ifndef DEVSEP_HIST_H
#define DEVSEP_HIST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define HIST_MAX_BUCKETS	16

/* The buckets of one kind of histogram (usually a static const). */
struct hist_spec {
	const char	*unit;			/* "us", "ms": key "le_<unit>" */
	size_t		 nle;			/* bounds; buckets = nle + 1 */
	uint64_t	 le[HIST_MAX_BUCKETS - 1];	/* ascending */
};

struct hist {
	const struct hist_spec	*spec;
	uint64_t		 count[HIST_MAX_BUCKETS];
	uint64_t		 sum, max;
};

/* Counts v into the first bucket whose bound is >= v (else the open one). */
void	 hist_add(struct hist *, uint64_t v);
/* The bucket array in the JSON form above (a new reference). */
json_t	*hist_json(const struct hist *);

#endif
