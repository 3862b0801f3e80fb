/*
 * test_parse: proves the strict parsers of common/parse.c from tables of
 * valid and invalid rows (each row is one input and its expected result):
 *  - parse_u64/u32: empty, signs, blanks, leading zeros, hex, overflow at
 *    exactly UINT64_MAX+1, the max bound inclusive; the output is untouched
 *    on failure;
 *  - parse_u32n: explicit length, embedded NUL, over-long input;
 *  - parse_xenbus_state: 0..8 accepted; 9, "4 ", "", 4 KiB, binary refused;
 *  - parse_domid: 0x7FEF accepted, 0x7FF0 refused;
 *  - parse_duration_ms: ms / s / bare seconds, the 24 h cap, overflow, junk;
 *  - parse_bool, valid_kind, valid_component ("..", "/", control bytes,
 *    255 vs 256 bytes), NULL refused everywhere;
 *  - parse_backend_path: good paths with and without a rest, and every way
 *    to get it wrong (prefix, domids, 16-char kind, trailing and double
 *    slashes, empty components);
 *  - xsnprintf fails instead of truncating.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct u64row {
	const char	*s;
	uint64_t	 max;
	int		 rc;
	uint64_t	 v;
};

static const struct u64row u64rows[] = {
	{ "0",				UINT64_MAX, 0, 0 },
	{ "7",				UINT64_MAX, 0, 7 },
	{ "18446744073709551615",	UINT64_MAX, 0, UINT64_MAX },
	{ "18446744073709551616",	UINT64_MAX, -1, 0 },	/* +1 */
	{ "18446744073709551620",	UINT64_MAX, -1, 0 },
	{ "99999999999999999999999",	UINT64_MAX, -1, 0 },
	{ "100",			100, 0, 100 },
	{ "101",			100, -1, 0 },
	{ "0",				0, 0, 0 },
	{ "1",				0, -1, 0 },
	{ "",				UINT64_MAX, -1, 0 },
	{ "-1",				UINT64_MAX, -1, 0 },
	{ "+1",				UINT64_MAX, -1, 0 },
	{ " 1",				UINT64_MAX, -1, 0 },
	{ "1 ",				UINT64_MAX, -1, 0 },
	{ "1\n",			UINT64_MAX, -1, 0 },
	{ "01",				UINT64_MAX, -1, 0 },
	{ "00",				UINT64_MAX, -1, 0 },
	{ "0x10",			UINT64_MAX, -1, 0 },
	{ "1e3",			UINT64_MAX, -1, 0 },
	{ "12a",			UINT64_MAX, -1, 0 },
	{ "\xff",			UINT64_MAX, -1, 0 },
	{ NULL,				UINT64_MAX, -1, 0 },
};

static void
test_u64(void **state)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < N(u64rows); i++) {
		v = 0xabad1dea;
		if (parse_u64(u64rows[i].s, u64rows[i].max, &v) !=
		    u64rows[i].rc)
			fail_msg("row %zu '%s'", i, u64rows[i].s);
		if (u64rows[i].rc == 0 && v != u64rows[i].v)
			fail_msg("row %zu value", i);
		if (u64rows[i].rc == -1 && v != 0xabad1dea)
			fail_msg("row %zu: output written on failure", i);
	}
}

static void
test_u32(void **state)
{
	static const struct u64row rows[] = {
		{ "4294967295", UINT32_MAX, 0, UINT32_MAX },
		{ "4294967296", UINT32_MAX, -1, 0 },
		{ "18446744073709551616", UINT32_MAX, -1, 0 },
		{ "65535", 65535, 0, 65535 },
		{ "65536", 65535, -1, 0 },
		{ "", 10, -1, 0 },
		{ "-0", 10, -1, 0 },
	};
	uint32_t v;
	size_t i;

	for (i = 0; i < N(rows); i++) {
		v = 12345;
		if (parse_u32(rows[i].s, (uint32_t)rows[i].max, &v) != rows[i].rc)
			fail_msg("row %zu '%s'", i, rows[i].s);
		if (rows[i].rc == 0 && v != rows[i].v)
			fail_msg("row %zu value", i);
		if (rows[i].rc == -1 && v != 12345)
			fail_msg("row %zu: output written on failure", i);
	}
}

static void
test_u32n(void **state)
{
	char big[64];
	uint32_t v;

	assert_int_equal(parse_u32n("123", 3, 1000, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(parse_u32n("1234", 2, 1000, &v), 0);	/* prefix */
	assert_int_equal(v, 12);
	assert_int_equal(parse_u32n("1\0" "2", 3, 1000, &v), -1);
	assert_int_equal(parse_u32n("12\0", 3, 1000, &v), -1);
	assert_int_equal(parse_u32n("", 0, 1000, &v), -1);
	assert_int_equal(parse_u32n("1001", 4, 1000, &v), -1);
	memset(big, '1', sizeof(big));
	assert_int_equal(parse_u32n(big, sizeof(big), UINT32_MAX, &v), -1);
	assert_int_equal(parse_u32n("000000000000001", 15, 10, &v), -1);
	assert_int_equal(parse_u32n("4294967295", 10, UINT32_MAX, &v), 0);
	assert_int_equal(v, UINT32_MAX);
}

static void
test_xenbus_state(void **state)
{
	static const char *const bad[] = {
		"9", "10", "4 ", " 4", "", "-1", "04", "4\n", "\x04", "four",
	};
	char big[4096], bin[3] = { '4', '\0', '\x01' };
	int st, i;
	char s[2];

	for (i = 0; i <= 8; i++) {
		s[0] = (char)('0' + i);
		s[1] = '\0';
		st = -1;
		assert_int_equal(parse_xenbus_state(s, 1, &st), 0);
		assert_int_equal(st, i);
	}
	for (i = 0; i < (int)N(bad); i++) {
		st = 42;
		if (parse_xenbus_state(bad[i], strlen(bad[i]), &st) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(st, 42);
	}
	memset(big, '4', sizeof(big));
	assert_int_equal(parse_xenbus_state(big, sizeof(big), &st), -1);
	assert_int_equal(parse_xenbus_state(bin, sizeof(bin), &st), -1);
	assert_int_equal(parse_xenbus_state(bin, 2, &st), -1);
}

static void
test_domid(void **state)
{
	static const struct { const char *s; int rc; uint32_t v; } rows[] = {
		{ "0", 0, 0 }, { "1", 0, 1 }, { "32751", 0, 0x7FEF },
		{ "32752", -1, 0 },	/* 0x7FF0 DOMID_FIRST_RESERVED */
		{ "32753", -1, 0 }, { "65535", -1, 0 }, { "-1", -1, 0 },
		{ "0x7FEF", -1, 0 }, { "", -1, 0 }, { "007", -1, 0 },
	};
	uint32_t v;
	size_t i;

	for (i = 0; i < N(rows); i++) {
		if (parse_domid(rows[i].s, &v) != rows[i].rc)
			fail_msg("row %zu '%s'", i, rows[i].s);
		if (rows[i].rc == 0 && v != rows[i].v)
			fail_msg("row %zu value", i);
	}
}

static void
test_duration(void **state)
{
	static const struct { const char *s; int rc; uint32_t v; } rows[] = {
		{ "250ms", 0, 250 }, { "10s", 0, 10000 }, { "2", 0, 2000 },
		{ "0", 0, 0 }, { "0ms", 0, 0 }, { "0s", 0, 0 },
		{ "86400s", 0, 86400000 }, { "86400", 0, 86400000 },
		{ "86400000ms", 0, 86400000 },
		{ "86401", -1, 0 }, { "86400001ms", -1, 0 },
		{ "4294967296ms", -1, 0 }, { "4294968s", -1, 0 },
		{ "99999999999999999999999s", -1, 0 },
		{ "", -1, 0 }, { "ms", -1, 0 }, { "s", -1, 0 },
		{ "10m", -1, 0 }, { "10h", -1, 0 }, { "10 s", -1, 0 },
		{ "10ss", -1, 0 }, { "10sms", -1, 0 }, { "10msx", -1, 0 },
		{ "1.5s", -1, 0 }, { "-1s", -1, 0 }, { "010s", -1, 0 },
		{ " 10s", -1, 0 }, { "10MS", -1, 0 }, { NULL, -1, 0 },
	};
	uint32_t v;
	size_t i;

	for (i = 0; i < N(rows); i++) {
		v = 777;
		if (parse_duration_ms(rows[i].s, &v) != rows[i].rc)
			fail_msg("row %zu '%s'", i, rows[i].s);
		if (rows[i].rc == 0 && v != rows[i].v)
			fail_msg("row %zu value %u", i, v);
		if (rows[i].rc == -1 && v != 777)
			fail_msg("row %zu: output written on failure", i);
	}
}

static void
test_bool(void **state)
{
	static const struct { const char *s; int rc; int v; } rows[] = {
		{ "yes", 0, 1 }, { "true", 0, 1 }, { "1", 0, 1 }, { "on", 0, 1 },
		{ "no", 0, 0 }, { "false", 0, 0 }, { "0", 0, 0 }, { "off", 0, 0 },
		{ "YES", -1, 0 }, { "y", -1, 0 }, { "", -1, 0 }, { "2", -1, 0 },
		{ "yes ", -1, 0 }, { NULL, -1, 0 },
	};
	size_t i;
	int v;

	for (i = 0; i < N(rows); i++) {
		v = 5;
		if (parse_bool(rows[i].s, &v) != rows[i].rc)
			fail_msg("row %zu '%s'", i, rows[i].s);
		if (v != (rows[i].rc == 0 ? rows[i].v : 5))
			fail_msg("row %zu value", i);
	}
}

static void
test_kind(void **state)
{
	static const struct { const char *s; int ok; } rows[] = {
		{ "vif", 1 }, { "vbd", 1 }, { "qdisk", 1 }, { "vbd3", 1 },
		{ "pv_scsi", 1 }, { "a", 1 }, { "abcdefghijklmno", 1 },
		{ "abcdefghijklmnop", 0 },	/* 16 chars */
		{ "", 0 }, { "VIF", 0 }, { "v-f", 0 }, { "v/f", 0 },
		{ "..", 0 }, { "vif ", 0 }, { "v\x01", 0 }, { NULL, 0 },
	};
	size_t i;

	for (i = 0; i < N(rows); i++)
		if (valid_kind(rows[i].s) != rows[i].ok)
			fail_msg("row %zu '%s'", i, rows[i].s);
}

static void
test_component(void **state)
{
	static const struct { const char *s; int ok; } rows[] = {
		{ "disk.img", 1 }, { "a b", 1 }, { "...", 1 }, { ".x", 1 },
		{ "x..", 1 }, { "-", 1 },
		{ ".", 0 }, { "..", 0 }, { "", 0 }, { "a/b", 0 }, { "/", 0 },
		{ "a\n", 0 }, { "\x7f", 0 }, { "\x1b[0m", 0 }, { "\xc3\xa9", 0 },
		{ NULL, 0 },
	};
	char s[300];
	size_t i;

	for (i = 0; i < N(rows); i++)
		if (valid_component(rows[i].s) != rows[i].ok)
			fail_msg("row %zu '%s'", i, rows[i].s);
	memset(s, 'a', sizeof(s));
	s[255] = '\0';
	assert_int_equal(valid_component(s), 1);
	s[255] = 'a';
	s[256] = '\0';
	assert_int_equal(valid_component(s), 0);
}

struct bprow {
	const char	*path;
	int		 rc;
	uint32_t	 bdomid, domid, devid;
	const char	*kind, *rest;
};

static const struct bprow bprows[] = {
	{ "/local/domain/0/backend/vbd/1/51712", 0, 0, 1, 51712, "vbd", "" },
	{ "/local/domain/0/backend/vif/32751/0/hotplug-status", 0,
	    0, 32751, 0, "vif", "hotplug-status" },
	{ "/local/domain/5/backend/qdisk/12/768/a/b", 0, 5, 12, 768, "qdisk",
	    "a/b" },
	{ "/local/domain/0/backend/vbd/1/2147483647", 0, 0, 1, 2147483647,
	    "vbd", "" },
	{ "/local/domain/0/backend/vbd/1/2147483648", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend", -1, 0, 0, 0, 0, 0 },
	{ "", -1, 0, 0, 0, 0, 0 },
	{ "/", -1, 0, 0, 0, 0, 0 },
	{ "local/domain/0/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/frontend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domainx/0/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/Local/domain/0/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/vm/domain/0/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/32752/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/32752/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/-1/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/00/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/01/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/x", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/abcdefghijklmnop/1/0", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/abcdefghijklmno/1/0", 0, 0, 1, 0,
	    "abcdefghijklmno", "" },
	{ "/local/domain/0/backend/VBD/1/0", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/../1/0", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/51712/", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/51712/state/", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/51712//state", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/51712/a//b", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend//vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "//local/domain/0/backend/vbd/1/51712", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/51712x", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0/backend/vbd/1/ 1", -1, 0, 0, 0, 0, 0 },
	{ "/local/domain/0000000000000000000000000000000000000000/backend",
	    -1, 0, 0, 0, 0, 0 },
};

static void
test_backend_path(void **state)
{
	struct backend_path bp;
	size_t i;

	for (i = 0; i < N(bprows); i++) {
		memset(&bp, 0, sizeof(bp));
		if (parse_backend_path(bprows[i].path, &bp) != bprows[i].rc)
			fail_msg("row %zu '%s'", i, bprows[i].path);
		if (bprows[i].rc != 0)
			continue;
		assert_int_equal(bp.bdomid, bprows[i].bdomid);
		assert_int_equal(bp.domid, bprows[i].domid);
		assert_int_equal(bp.devid, bprows[i].devid);
		assert_string_equal(bp.kind, bprows[i].kind);
		assert_string_equal(bp.rest, bprows[i].rest);
		/* rest points into the caller's string */
		assert_true(bp.rest >= bprows[i].path &&
		    bp.rest <= bprows[i].path + strlen(bprows[i].path));
	}
	assert_int_equal(parse_backend_path(NULL, &bp), -1);
}

static void
test_xsnprintf(void **state)
{
	char buf[8];

	assert_int_equal(xsnprintf(buf, sizeof(buf), "%s", "1234567"), 7);
	assert_string_equal(buf, "1234567");
	errno = 0;
	assert_int_equal(xsnprintf(buf, sizeof(buf), "%s", "12345678"), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(xsnprintf(buf, sizeof(buf), "%u/%u", 1234u, 567u), -1);
	assert_int_equal(xsnprintf(buf, sizeof(buf), "%u/%u", 123u, 567u), 7);
	assert_int_equal(xsnprintf(buf, 0, "x"), -1);
	assert_int_equal(xsnprintf(buf, 1, "%s", ""), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_u32n),
		cmocka_unit_test(test_xenbus_state),
		cmocka_unit_test(test_domid),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_kind),
		cmocka_unit_test(test_component),
		cmocka_unit_test(test_backend_path),
		cmocka_unit_test(test_xsnprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
