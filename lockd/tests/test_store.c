/*
 * Unit tests of lockd/store.c against a real temp directory.
 * Proves: a record round-trips (generation, state, dm_gone, config,
 * tombstone); a write replaces the file atomically and a failed write
 * leaves the previous file intact; the startup scan removes left-over
 * *.tmp files, ignores foreign names and reports corrupt files (bad JSON,
 * wrong domid, missing/extra keys, bad state, null config while active)
 * without touching them; quarantine and remove work.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

static char dir[64];
static int dfd;

static int
setup(void **state)
{
	strcpy(dir, "/tmp/lockd-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	dfd = store_open(dir);
	assert_true(dfd >= 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	close(dfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
put_file(const char *name, const char *text)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int
exists(const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, 0) == 0;
}

static void
test_roundtrip(void **state)
{
	struct store_rec w = { .domid = 7, .gen = 42, .dm_gone = 0 }, r;
	char err[256];

	w.config = json_pack("{s:{s:[{s:i}]}}", "devices", "vif", "devid", 0);
	assert_int_equal(store_write(dfd, &w), 0);
	assert_int_equal(store_load(dfd, 7, &r, err, sizeof(err)), 0);
	assert_int_equal(r.gen, 42);
	assert_false(r.dying);
	assert_true(json_equal(r.config, w.config));
	store_rec_dispose(&r);
	assert_false(exists("dom7.json.tmp"));
	/* tombstone */
	store_rec_dispose(&w);
	w.dying = 1;
	w.dm_gone = 1;
	assert_int_equal(store_write(dfd, &w), 0);
	assert_int_equal(store_load(dfd, 7, &r, err, sizeof(err)), 0);
	assert_true(r.dying && r.dm_gone);
	assert_null(r.config);
	assert_int_equal(store_remove(dfd, 7), 0);
	assert_int_equal(store_load(dfd, 7, &r, err, sizeof(err)), -ENOENT);
	assert_int_equal(store_remove(dfd, 7), -ENOENT);
}

static void
test_failed_write_keeps_old(void **state)
{
	struct store_rec w = { .domid = 3, .gen = 1 }, r;
	char err[256];

	w.config = json_object();
	assert_int_equal(store_write(dfd, &w), 0);
	/* make the temp file impossible to create */
	assert_int_equal(mkdirat(dfd, "dom3.json.tmp", 0700), 0);
	w.gen = 2;
	assert_true(store_write(dfd, &w) < 0);
	assert_int_equal(store_load(dfd, 3, &r, err, sizeof(err)), 0);
	assert_int_equal(r.gen, 1);
	store_rec_dispose(&r);
	store_rec_dispose(&w);
	unlinkat(dfd, "dom3.json.tmp", AT_REMOVEDIR);
}

struct seen {
	int	 ok[16];
	int	 bad[16];
	char	 err[16][256];
};

static void
scan_cb(void *arg, uint32_t domid, const struct store_rec *r, const char *e)
{
	struct seen *s = arg;

	assert_true(domid < 16);
	if (r != NULL)
		s->ok[domid]++;
	else {
		s->bad[domid]++;
		snprintf(s->err[domid], sizeof(s->err[domid]), "%s", e);
	}
}

static void
test_scan(void **state)
{
	struct store_rec w = { .domid = 1, .gen = 5 };
	struct seen s;

	memset(&s, 0, sizeof(s));
	w.config = json_object();
	assert_int_equal(store_write(dfd, &w), 0);
	store_rec_dispose(&w);
	put_file("dom2.json.tmp", "{half");
	put_file("dom3.json", "{\"domid\":3,");
	put_file("dom4.json", "{\"domid\":5,\"generation\":1,\"state\":"
	    "\"active\",\"dm_gone\":false,\"config\":{}}");
	put_file("dom5.json", "{\"domid\":5,\"generation\":1,\"state\":"
	    "\"active\",\"dm_gone\":false,\"config\":{},\"x\":1}");
	put_file("dom6.json", "{\"domid\":6,\"generation\":1,\"state\":"
	    "\"zombie\",\"dm_gone\":false,\"config\":{}}");
	put_file("dom7.json", "{\"domid\":7,\"generation\":1,\"state\":"
	    "\"active\",\"dm_gone\":false,\"config\":null}");
	put_file("dom8.json", "{\"domid\":8,\"generation\":0,\"state\":"
	    "\"active\",\"dm_gone\":false,\"config\":{}}");
	put_file("dom9.json.corrupt", "junk");
	put_file("README", "junk");
	put_file("dom01.json", "junk");
	assert_int_equal(store_scan(dfd, scan_cb, &s), 7);
	assert_int_equal(s.ok[1], 1);
	assert_false(exists("dom2.json.tmp"));
	assert_int_equal(s.bad[3], 1);
	assert_int_equal(s.bad[4], 1);
	assert_non_null(strstr(s.err[4], "domid"));
	assert_int_equal(s.bad[5], 1);
	assert_int_equal(s.bad[6], 1);
	assert_int_equal(s.bad[7], 1);
	assert_int_equal(s.bad[8], 1);
	assert_int_equal(s.ok[9] + s.bad[9], 0);
	/* corrupt files are left in place */
	assert_true(exists("dom3.json"));
	assert_int_equal(store_quarantine(dfd, 3), 0);
	assert_false(exists("dom3.json"));
	assert_true(exists("dom3.json.corrupt"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
