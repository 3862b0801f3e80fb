/* Latency histograms for STATS: see hist.h. */
#include <stdio.h>

#include "hist.h"

void
hist_add(struct hist *h, uint64_t v)
{
	size_t i;

	for (i = 0; i < h->spec->nle && v > h->spec->le[i]; i++)
		;
	h->count[i]++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

json_t *
hist_json(const struct hist *h)
{
	json_t *a = json_array(), *b;
	char key[32];
	size_t i;

	snprintf(key, sizeof(key), "le_%s", h->spec->unit);
	for (i = 0; i <= h->spec->nle; i++) {
		b = json_pack("{s:I}", "count", (json_int_t)h->count[i]);
		json_object_set_new(b, key, i < h->spec->nle ?
		    json_integer((json_int_t)h->spec->le[i]) :
		    json_string("inf"));
		json_array_append_new(a, b);
	}
	return a;
}
