/*
 * test_status: proves status_json_new (common/status.c) gives every
 * daemon's STATUS reply the fields proto.h promises:
 *  - daemon, version (DEVSEP_VERSION), pid (ours), uptime_s as given, and
 *    sandbox as an object ({} before sandbox_enter);
 *  - the daemon's own fields (extra) are added and extra is consumed
 *    (a NULL extra gives the common fields alone);
 *  - a non-object extra fails (NULL) instead of being dropped silently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "status.h"

static void
test_common_fields(void **state)
{
	json_t *o = status_json_new("lockd", 42, NULL);

	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "daemon")),
	    "lockd");
	assert_string_equal(json_string_value(json_object_get(o, "version")),
	    DEVSEP_VERSION);
	assert_int_equal(json_integer_value(json_object_get(o, "pid")),
	    getpid());
	assert_int_equal(json_integer_value(json_object_get(o, "uptime_s")),
	    42);
	assert_true(json_is_object(json_object_get(o, "sandbox")));
	assert_int_equal(json_object_size(o), 5);
	json_decref(o);
}

static void
test_extra(void **state)
{
	json_t *extra = json_pack("{s:s, s:i}", "state_dir", "/var/lib/x",
	    "domains", 3);
	json_t *o;

	json_incref(extra);	/* keep one reference to see it consumed */
	o = status_json_new("broker", 0, extra);
	assert_non_null(o);
	assert_int_equal(extra->refcount, 1);
	json_decref(extra);
	assert_string_equal(json_string_value(json_object_get(o,
	    "state_dir")), "/var/lib/x");
	assert_int_equal(json_integer_value(json_object_get(o, "domains")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "daemon")),
	    "broker");
	assert_int_equal(json_object_size(o), 7);
	json_decref(o);
}

static void
test_bad_extra(void **state)
{
	assert_null(status_json_new("x", 0, json_integer(1)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_fields),
		cmocka_unit_test(test_extra),
		cmocka_unit_test(test_bad_extra),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
