/*
 * Proves the QMP wire parser (qmp_parse.c) frames lines exactly and
 * classifies only the four legal message shapes: lines split across reads
 * are joined, CRLF and empty lines handled, a line of QMP_LINE_MAX bytes or
 * more (e.g. 2 MiB) is an error, and every malformed or foreign message
 * (not JSON, not an object, unknown shape, bad field types, duplicate keys)
 * is refused, while ids that are not ours parse with has_id = 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qemu-broker/qmp_parse.h"

struct seen {
	char	lines[8][128];
	int	n;
	int	stop_at;
};

static int
collect(const char *line, size_t len, void *arg)
{
	struct seen *s = arg;

	assert_true(len < 128);
	memcpy(s->lines[s->n], line, len);
	s->lines[s->n][len] = '\0';
	s->n++;
	return s->n == s->stop_at ? -1 : 0;
}

static void
test_split_and_join(void **state)
{
	static struct qmp_lines l;
	struct seen s = { .stop_at = -1 };

	qmp_lines_init(&l);
	assert_int_equal(qmp_lines_feed(&l, "{\"a\"", 4, collect, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(qmp_lines_feed(&l, ":1}\r\n\n{\"b\":2}\n{\"c", 17,
	    collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.lines[0], "{\"a\":1}");
	assert_string_equal(s.lines[1], "{\"b\":2}");
	assert_int_equal(qmp_lines_feed(&l, "\":3}\n", 5, collect, &s), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.lines[2], "{\"c\":3}");
}

static void
test_callback_stops(void **state)
{
	static struct qmp_lines l;
	struct seen s = { .stop_at = 1 };

	qmp_lines_init(&l);
	assert_int_equal(qmp_lines_feed(&l, "a\nb\n", 4, collect, &s), -1);
	assert_int_equal(s.n, 1);
}

static int
count_only(const char *line, size_t len, void *arg)
{
	(*(size_t *)arg) = len;
	return 0;
}

static void
test_line_limits(void **state)
{
	static struct qmp_lines l;
	size_t got = 0, i;
	char *big = malloc(2 * 1024 * 1024);

	/* QMP_LINE_MAX - 1 bytes + '\n' is the longest legal line */
	memset(big, 'x', 2 * 1024 * 1024);
	big[QMP_LINE_MAX - 1] = '\n';
	qmp_lines_init(&l);
	assert_int_equal(qmp_lines_feed(&l, big, QMP_LINE_MAX, count_only,
	    &got), 0);
	assert_int_equal(got, QMP_LINE_MAX - 1);
	/* QMP_LINE_MAX bytes without a newline: error, even in pieces */
	big[QMP_LINE_MAX - 1] = 'x';
	qmp_lines_init(&l);
	for (i = 0; i + 1000 < QMP_LINE_MAX; i += 1000)
		assert_int_equal(qmp_lines_feed(&l, big, 1000, count_only,
		    &got), 0);
	assert_int_equal(qmp_lines_feed(&l, big, 2000, count_only, &got), -1);
	/* a 2 MiB line at once */
	qmp_lines_init(&l);
	assert_int_equal(qmp_lines_feed(&l, big, 2 * 1024 * 1024, count_only,
	    &got), -1);
	free(big);
}

static int
parse(const char *s, struct qmp_msg *m)
{
	return qmp_msg_parse(s, strlen(s), m);
}

static void
test_shapes(void **state)
{
	struct qmp_msg m;

	assert_int_equal(parse("{\"QMP\": {\"version\": {}}}", &m), 0);
	assert_int_equal(m.kind, QMP_GREETING);
	qmp_msg_dispose(&m);

	assert_int_equal(parse("{\"return\": {\"fdset-id\": 3}, \"id\": 7}",
	    &m), 0);
	assert_int_equal(m.kind, QMP_RETURN);
	assert_true(m.has_id);
	assert_int_equal(m.id, 7);
	assert_int_equal(json_integer_value(json_object_get(m.ret,
	    "fdset-id")), 3);
	qmp_msg_dispose(&m);

	assert_int_equal(parse("{\"error\": {\"class\": \"GenericError\", "
	    "\"desc\": \"Device 'x' not found\"}, \"id\": 2}", &m), 0);
	assert_int_equal(m.kind, QMP_ERROR);
	assert_string_equal(m.errclass, "GenericError");
	assert_string_equal(m.errdesc, "Device 'x' not found");
	assert_int_equal(m.id, 2);
	qmp_msg_dispose(&m);

	assert_int_equal(parse("{\"event\": \"DEVICE_DELETED\", \"data\": "
	    "{\"device\": \"disk1\"}, \"timestamp\": {}}", &m), 0);
	assert_int_equal(m.kind, QMP_EVENT);
	assert_string_equal(m.event, "DEVICE_DELETED");
	assert_string_equal(json_string_value(json_object_get(m.data,
	    "device")), "disk1");
	qmp_msg_dispose(&m);
}

static void
test_foreign_ids(void **state)
{
	static const char *ids[] = { "{\"return\": {}}",
	    "{\"return\": {}, \"id\": \"7\"}", "{\"return\": {}, \"id\": -1}",
	    "{\"return\": {}, \"id\": 1.5}", "{\"return\": {}, \"id\": null}" };
	struct qmp_msg m;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		assert_int_equal(parse(ids[i], &m), 0);
		assert_int_equal(m.kind, QMP_RETURN);
		assert_false(m.has_id);
		qmp_msg_dispose(&m);
	}
}

static void
test_refused(void **state)
{
	static const char *bad[] = { "", "not json", "[1,2]", "42",
	    "\"return\"", "{}", "{\"foo\": 1}", "{\"QMP\": 1}",
	    "{\"error\": \"x\"}", "{\"error\": {\"class\": \"A\"}}",
	    "{\"error\": {\"class\": 1, \"desc\": \"d\"}}",
	    "{\"event\": 5}", "{\"event\": \"\"}", "{\"event\": \"E\", \"data\": [1]}",
	    "{\"return\": {}, \"id\": 1, \"id\": 2}",
	    "{\"return\": {}",
	    /* one element: a 66-character event name */
	    ("{\"event\": \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}") };
	struct qmp_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i], &m), -1);
		assert_null(m.root);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_and_join),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_line_limits),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_foreign_ids),
		cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
