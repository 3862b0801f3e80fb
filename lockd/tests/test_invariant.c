/*
 * Unit tests of common/invariant.c.
 * Proves: items described by the JSON pass; each kind of missing entry is
 * reported (domain absent, tombstone after destroy, device/devid missing,
 * qmp id missing, dm entry missing) and counted; a non-LIST document is
 * refused; the item line parser is strict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "invariant.h"

static const char *store =
    "{\"domains\":["
    "{\"domid\":1,\"state\":\"active\",\"generation\":3,\"dm_gone\":false,"
    " \"config\":{\"devices\":{\"vif\":[{\"devid\":0}],\"vbd\":[{\"devid\":51712}]},"
    "  \"dm\":{\"pid\":1},"
    "  \"qmp\":{\"cdrom\":[{\"id\":\"ide-cd0\",\"image\":\"/i.iso\"}]}}},"
    "{\"domid\":2,\"state\":\"dying\",\"generation\":1,\"dm_gone\":true,"
    " \"config\":null}]}";

static int nreports;
static char last[160];

static void
report(void *arg, const struct inv_item *it, const char *why)
{
	nreports++;
	snprintf(last, sizeof(last), "%s", why);
}

static int
check_lines(const char **lines, size_t n)
{
	struct inv_item items[16];
	char err[128];
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(inv_item_parse(lines[i], &items[i]), 0);
	nreports = 0;
	return inv_check(store, items, n, report, NULL, err, sizeof(err));
}

static void
test_all_described(void **state)
{
	const char *l[] = { "1 xs vif 0", "1 xs vbd 51712", "1 qmp dm qemu",
	    "1 qmp cdrom ide-cd0" };

	assert_int_equal(check_lines(l, 4), 0);
	assert_int_equal(nreports, 0);
}

static void
test_violations(void **state)
{
	const char *l1[] = { "1 xs vif 1" };
	const char *l2[] = { "1 qmp cdrom ide-cd1" };
	const char *l3[] = { "3 xs vif 0" };
	const char *l4[] = { "2 qmp dm qemu" };
	const char *l5[] = { "1 xs vkbd 0", "1 qmp disk d0", "1 xs vif 0" };

	assert_int_equal(check_lines(l1, 1), 1);
	assert_non_null(strstr(last, "xenstore device"));
	assert_int_equal(check_lines(l2, 1), 1);
	assert_non_null(strstr(last, "qmp thing"));
	assert_int_equal(check_lines(l3, 1), 1);
	assert_non_null(strstr(last, "no JSON config"));
	assert_int_equal(check_lines(l4, 1), 1);
	assert_non_null(strstr(last, "removed"));
	assert_int_equal(check_lines(l5, 3), 2);
}

static void
test_dm_entry(void **state)
{
	const char *doc = "{\"domains\":[{\"domid\":4,\"config\":{}}]}";
	struct inv_item it;
	char err[64];

	assert_int_equal(inv_item_parse("4 qmp dm qemu", &it), 0);
	assert_int_equal(inv_check(doc, &it, 1, report, NULL, err,
	    sizeof(err)), 1);
	assert_non_null(strstr(last, "\"dm\""));
}

static void
test_bad_inputs(void **state)
{
	struct inv_item it = { 0 };
	char err[64];

	assert_int_equal(inv_check("[]", &it, 0, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_int_equal(inv_check("{", &it, 0, NULL, NULL, err,
	    sizeof(err)), -1);
	assert_int_equal(inv_item_parse("1 xs vif x", &it), -1);
	assert_int_equal(inv_item_parse("1 foo vif 0", &it), -1);
	assert_int_equal(inv_item_parse("-1 xs vif 0", &it), -1);
	assert_int_equal(inv_item_parse("1 xs VIF 0", &it), -1);
	assert_int_equal(inv_item_parse("1 qmp cdrom ..", &it), -1);
	assert_int_equal(inv_item_parse("1 xs vif", &it), -1);
}

/* An xl domain: the config is libxl's JSON (common/inv_libxl.c). */
static const char *xlstore =
    "{\"domains\":[{\"domid\":5,\"state\":\"active\",\"generation\":1,"
    " \"dm_gone\":false,\"toolstack\":\"libxl\",\"config\":{"
    "  \"c_info\":{\"type\":\"hvm\"},"
    "  \"disks\":[{\"vdev\":\"hdc\",\"is_cdrom\":1,\"pdev_path\":\"\"},"
    "   {\"vdev\":\"xvdb\"}],"
    "  \"nics\":[{\"devid\":0}]}}]}";

static int
check_xl(const char *line)
{
	struct inv_item it;
	char err[128];

	assert_int_equal(inv_item_parse(line, &it), 0);
	return inv_check(xlstore, &it, 1, report, NULL, err, sizeof(err));
}

static void
test_libxl_json(void **state)
{
	assert_int_equal(check_xl("5 xs vbd 5632"), 0);	/* hdc */
	assert_int_equal(check_xl("5 xs qdisk 5632"), 0);
	assert_int_equal(check_xl("5 xs vbd 51728"), 0);	/* xvdb */
	assert_int_equal(check_xl("5 xs vif 0"), 0);
	assert_int_equal(check_xl("5 xs console 0"), 0);	/* implicit */
	assert_int_equal(check_xl("5 qmp dm qemu"), 0);
	assert_int_equal(check_xl("5 qmp cdrom 5632"), 0);
	assert_int_equal(check_xl("5 xs vbd 5696"), 1);	/* hdd: none */
	assert_non_null(strstr(last, "libxl's JSON"));
	assert_int_equal(check_xl("5 xs vif 1"), 1);
	assert_int_equal(check_xl("5 qmp cdrom 51728"), 1);	/* not a CD */
	assert_int_equal(check_xl("5 qmp disk 5632"), 1);	/* a CD */
	assert_int_equal(check_xl("5 xs vkbd 0"), 1);
	assert_int_equal(check_xl("5 xs foo 0"), 1);
}

static void
test_vdev(void **state)
{
	static const struct { const char *v; uint32_t id; } ok[] = {
		{ "xvda", 51712 }, { "xvdb", 51728 }, { "xvda1", 51713 },
		{ "xvdq", (1u << 28) | (16 << 8) }, { "xvdaa", (1u << 28) |
		(26 << 8) }, { "hda", 768 }, { "hdb", 832 }, { "hdc", 5632 },
		{ "hdd", 5696 }, { "sda", 2048 }, { "sdb1", 2065 },
		{ "d0p1", (1u << 28) | 1 }, { "51712", 51712 },
	};
	static const char *bad[] = { "", "xvd", "hde", "sdq", "xvda256",
	    "hda64", "d0", "dxp1", "xvdA", "vda", "-1" };
	uint32_t id;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(inv_vdev_devid(ok[i].v, &id), 0);
		assert_int_equal(id, ok[i].id);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(inv_vdev_devid(bad[i], &id), -1);
	/* and back, for xvd devids */
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char v[16];

		if (strncmp(ok[i].v, "xvd", 3) != 0)
			continue;
		assert_int_equal(inv_devid_vdev(ok[i].id, v, sizeof(v)), 0);
		assert_string_equal(v, ok[i].v);
	}
	{
		char v[16];

		assert_int_equal(inv_devid_vdev(5632, v, sizeof(v)), -1);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_described),
		cmocka_unit_test(test_violations),
		cmocka_unit_test(test_dm_entry),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_libxl_json),
		cmocka_unit_test(test_vdev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
