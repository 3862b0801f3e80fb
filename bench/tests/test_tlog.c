/*
 * test_tlog proves the arithmetic behind bench/devd-compare's numbers:
 *  - trivial.log lines are parsed for absolute and libxl-relative
 *    XENBUS_PATHs, malformed lines are skipped, a partial last line is left
 *    for the next poll (and then read exactly once);
 *  - add/online vs remove/offline runs are counted apart;
 *  - max concurrency is the most runs alive at one instant, a run ending
 *    exactly when another starts does not overlap it;
 *  - pct() is the nearest-rank percentile (p50 of 1..100 is 50, p99 is 99,
 *    p100 the max, one sample is every percentile).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bench/bench.h"

static char path[64];

static void
append(const char *s)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(s, f);
	fclose(f);
}

static int
setup(void **state)
{
	int fd;

	strcpy(path, "/tmp/test_tlog.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return 0;
}

static int
teardown(void **state)
{
	unlink(path);
	return 0;
}

static void
test_parse_and_partial(void **state)
{
	struct tlog t;

	append("online 100 200 7 /local/domain/0/backend/vif/12/0 ok\n");
	tlog_open(&t, path);			/* starts at the current end */
	append("online 300 400 8 backend/vif/13/3 ok\n");
	append("garbage line\n");
	append("offline 500 600 9 /local/domain/0/backend/vbd/14/51712 fail\n");
	append("add 700 8");			/* being written */
	assert_int_equal(tlog_poll(&t), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.v[0].dom, 13);
	assert_int_equal(t.v[0].devid, 3);
	assert_true(t.v[0].ok);
	assert_int_equal(t.v[0].start, 300);
	assert_int_equal(t.v[1].dom, 14);
	assert_int_equal(t.v[1].devid, 51712);
	assert_false(t.v[1].ok);
	append("00 10 backend/vif/15/0 ok\n");
	assert_int_equal(tlog_poll(&t), 0);
	assert_int_equal(t.n, 3);
	assert_int_equal(t.v[2].end, 800);
	assert_int_equal(tlog_poll(&t), 0);	/* nothing new: nothing twice */
	assert_int_equal(t.n, 3);
	assert_int_equal(tlog_count(&t, true), 2);
	assert_int_equal(tlog_count(&t, false), 1);
	tlog_free(&t);
}

static void
test_maxconc(void **state)
{
	struct tlog t;

	tlog_open(&t, path);
	append("online 0 10 1 backend/vif/1/0 ok\n");
	append("online 10 20 2 backend/vif/2/0 ok\n");	/* touches: no overlap */
	append("online 5 15 3 backend/vif/3/0 ok\n");	/* overlaps both */
	append("online 6 7 4 backend/vif/4/0 ok\n");	/* 3 alive at 6..7 */
	append("offline 0 100 5 backend/vif/5/0 ok\n");	/* other kind */
	tlog_poll(&t);
	assert_int_equal(tlog_maxconc(&t, true), 3);
	assert_int_equal(tlog_maxconc(&t, false), 1);
	tlog_free(&t);
}

static void
test_pct(void **state)
{
	double v[100], one[1] = { 42 };
	int i;

	for (i = 0; i < 100; i++)
		v[i] = 100 - i;			/* unsorted input */
	assert_true(pct(v, 100, 50) == 50);
	assert_true(pct(v, 100, 99) == 99);
	assert_true(pct(v, 100, 100) == 100);
	assert_true(pct(v, 100, 1) == 1);
	assert_true(pct(one, 1, 50) == 42 && pct(one, 1, 99) == 42);
	assert_true(pct(v, 0, 50) == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_parse_and_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_maxconc, setup, teardown),
		cmocka_unit_test(test_pct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
