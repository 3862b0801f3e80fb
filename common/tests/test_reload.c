/*
 * test_reload: proves daemon_reload_config (common/reload.c), the SIGHUP
 * path of the broker and hotplugd:
 *  - a runtime key in the file (max_jobs, qmp_cmd_timeout) is applied;
 *  - a key that needs a restart (qemu_binary) is not, even when the file
 *    changes it;
 *  - a file that does not parse returns -1 and changes nothing;
 *  - a missing file means defaults: runtime keys return to them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "reload.h"

static char path[64];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/test_reload.XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return -1;
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
test_runtime_keys(void **state)
{
	struct devsep_config cur, dflt;

	config_defaults(&cur);
	config_defaults(&dflt);
	snprintf(cur.qemu_binary, sizeof(cur.qemu_binary), "/usr/bin/q1");
	write_file("max_jobs = 7\nqmp_cmd_timeout = 2s\n"
	    "qemu_binary = /usr/bin/q2\n");
	assert_int_equal(daemon_reload_config(&cur, path), 0);
	assert_int_equal(cur.max_jobs, 7);
	assert_int_equal(cur.qmp_cmd_timeout_ms, 2000);
	assert_string_equal(cur.qemu_binary, "/usr/bin/q1");
	assert_int_not_equal(dflt.max_jobs, 7);
}

static void
test_bad_file_kept(void **state)
{
	struct devsep_config cur, before;

	config_defaults(&cur);
	cur.max_jobs = 9;
	memcpy(&before, &cur, sizeof(cur));
	write_file("max_jobs = 3\nmax_jobs = lots\n");
	assert_int_equal(daemon_reload_config(&cur, path), -1);
	assert_memory_equal(&cur, &before, sizeof(cur));
}

static void
test_missing_is_defaults(void **state)
{
	struct devsep_config cur, dflt;

	config_defaults(&cur);
	config_defaults(&dflt);
	cur.max_jobs = dflt.max_jobs + 1;
	unlink(path);
	assert_int_equal(daemon_reload_config(&cur, path), 0);
	assert_int_equal(cur.max_jobs, dflt.max_jobs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_runtime_keys, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_file_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing_is_defaults,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
