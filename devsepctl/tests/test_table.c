/*
 * Proves the table renderer (devsepctl/table.c): columns are aligned to
 * the widest cell, the last column is not padded, empty cells print "-",
 * control bytes a guest could plant (ESC, newline) never reach the
 * terminal, over-long cells are cut with "...", and an incomplete row is
 * an error rather than a misaligned table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devsepctl/table.h"

static char *
render(struct table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(table_print(t, f), 0);
	fclose(f);
	return buf;
}

static void
test_alignment(void **state)
{
	struct table t;
	char *out;

	assert_int_equal(table_init(&t, "A", "LONGHDR", "C", NULL), 0);
	table_row(&t);
	table_cell(&t, "%s", "xxxx");
	table_cell(&t, "%d", 7);
	table_cell(&t, "%s", "last");
	table_row(&t);
	table_cell(&t, "y");
	table_cell(&t, "%s", "");
	table_cell(&t, "z");
	out = render(&t);
	assert_string_equal(out,
	    "A     LONGHDR  C\n"
	    "xxxx  7        last\n"
	    "y     -        z\n");
	free(out);
	table_dispose(&t);
}

static void
test_sanitize(void **state)
{
	struct table t;
	char *out;

	table_init(&t, "K", "V", NULL);
	table_row(&t);
	table_cell(&t, "%s", "a\033[2Jb");
	table_cell(&t, "%s", "line1\nline2\t\x80");
	out = render(&t);
	assert_null(strchr(out, '\033'));
	assert_string_equal(out, "K       V\na?[2Jb  line1?line2??\n");
	free(out);
	table_dispose(&t);
}

static void
test_truncate(void **state)
{
	char big[TABLE_CELL_MAX * 2], dst[TABLE_CELL_MAX];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	table_sanitize(dst, sizeof(dst), big);
	assert_int_equal(strlen(dst), TABLE_CELL_MAX - 1);
	assert_string_equal(dst + TABLE_CELL_MAX - 4, "...");
	table_sanitize(dst, sizeof(dst), "short");
	assert_string_equal(dst, "short");
}

static void
test_incomplete(void **state)
{
	struct table t;
	FILE *f = fopen("/dev/null", "w");

	table_init(&t, "A", "B", NULL);
	table_row(&t);
	table_cell(&t, "1");
	/* only one of two cells: printing must refuse */
	assert_int_equal(table_print(&t, f), -1);
	/* starting the next row with the previous one short is an error */
	assert_int_equal(table_row(&t), -1);
	table_dispose(&t);
	table_init(&t, "A", NULL);
	table_row(&t);
	table_cell(&t, "1");
	assert_int_equal(table_cell(&t, "2"), -1);	/* too many cells */
	table_dispose(&t);
	fclose(f);
}

static void
test_empty_table(void **state)
{
	struct table t;
	char *out;

	table_init(&t, "ONLY", "HEADERS", NULL);
	out = render(&t);
	assert_string_equal(out, "ONLY  HEADERS\n");
	free(out);
	table_dispose(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_empty_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
