/*
 * test_hist: proves common/hist.c, the STATS latency histograms of lockd,
 * hotplugd and the broker:
 *  - a value equal to a bound counts in that bucket, one above it in the
 *    next; values above the last bound go to the open bucket;
 *  - sum and max follow every value;
 *  - the JSON is one object per bucket, {"le_<unit>": bound, "count": n},
 *    the last one {"le_<unit>": "inf", ...} (what devsepctl renders).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hist.h"

static const struct hist_spec spec = { "ms", 3, { 10, 100, 1000 } };

static void
test_buckets(void **state)
{
	struct hist h = { &spec, { 0 }, 0, 0 };

	hist_add(&h, 0);
	hist_add(&h, 10);	/* == bound: first bucket */
	hist_add(&h, 11);	/* next */
	hist_add(&h, 1000);
	hist_add(&h, 1001);	/* open bucket */
	hist_add(&h, UINT32_MAX);
	assert_int_equal(h.count[0], 2);
	assert_int_equal(h.count[1], 1);
	assert_int_equal(h.count[2], 1);
	assert_int_equal(h.count[3], 2);
	assert_int_equal(h.sum, 0 + 10 + 11 + 1000 + 1001 + (uint64_t)UINT32_MAX);
	assert_int_equal(h.max, UINT32_MAX);
}

static void
test_json(void **state)
{
	struct hist h = { &spec, { 0 }, 0, 0 };
	json_t *a, *b;

	hist_add(&h, 50);
	hist_add(&h, 5000);
	a = hist_json(&h);
	assert_int_equal(json_array_size(a), 4);
	b = json_array_get(a, 1);
	assert_int_equal(json_integer_value(json_object_get(b, "le_ms")), 100);
	assert_int_equal(json_integer_value(json_object_get(b, "count")), 1);
	assert_int_equal(json_object_size(b), 2);
	b = json_array_get(a, 0);
	assert_int_equal(json_integer_value(json_object_get(b, "count")), 0);
	b = json_array_get(a, 3);
	assert_string_equal(json_string_value(json_object_get(b, "le_ms")),
	    "inf");
	assert_int_equal(json_integer_value(json_object_get(b, "count")), 1);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
