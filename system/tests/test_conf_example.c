/*
 * Proves system/devsep.conf.example cannot drift from common/config.c:
 *  - the file as shipped (everything commented out) loads with config_load
 *    and equals the built-in defaults;
 *  - uncommenting every "#key = value" line, it still parses (every key is
 *    known, none is listed twice, every value is valid) and still equals
 *    the defaults (each value shown is the real default);
 *  - every key config_dump() writes (i.e. every row of the key table) is
 *    listed, and nothing else is;
 *  - every key is documented in man/devsep.conf.5.
 * Run from the repository root (tests/run-tests does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

#define EXAMPLE "system/devsep.conf.example"

static char *
dump(const struct devsep_config *c)
{
	char path[] = "/tmp/confdump.XXXXXX", *buf;
	int fd = mkstemp(path);
	FILE *f;
	long n;

	assert_true(fd >= 0);
	config_dump(c, fd);
	f = fdopen(fd, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, n + 1);
	assert_int_equal(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return buf;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf;

	assert_non_null(f);
	buf = calloc(1, 65536);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	return buf;
}

/* "#key = value" lines (a key right after '#') lose their '#'. */
static char *
uncomment(const char *in, size_t *len)
{
	char *out = calloc(1, strlen(in) + 1), *o = out;
	const char *l;

	for (l = in; *l; ) {
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l + 1) : strlen(l);

		if (l[0] == '#' && l[1] >= 'a' && l[1] <= 'z' &&
		    memchr(l, '=', n) != NULL)
			l++, n--;
		memcpy(o, l, n);
		o += n;
		l += n;
	}
	*len = o - out;
	return out;
}

static void
test_shipped_is_defaults(void **state)
{
	struct devsep_config d, c;
	char err[256], *a, *b;

	config_defaults(&d);
	config_defaults(&c);
	assert_int_equal(config_load(&c, EXAMPLE, 0, err, sizeof(err)), 0);
	a = dump(&d);
	b = dump(&c);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static void
test_uncommented_is_defaults(void **state)
{
	struct devsep_config d, c;
	char err[256], *raw, *txt, *a, *b;
	size_t len;

	raw = slurp(EXAMPLE, &len);
	txt = uncomment(raw, &len);
	config_defaults(&d);
	/* start from non-defaults so every key must really be set */
	memset(&c, 0, sizeof(c));
	c.n_image_dirs = 0;
	if (config_parse_buf(&c, txt, len, EXAMPLE, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	a = dump(&d);
	b = dump(&c);
	assert_string_equal(a, b);
	free(a);
	free(b);
	free(raw);
	free(txt);
}

static void
test_every_key_listed(void **state)
{
	struct devsep_config d;
	char *raw, *all, *line, *save = NULL, key[64], needle[80];
	size_t len, nkeys = 0, nlisted = 0;
	const char *p;
	char ch;

	raw = slurp(EXAMPLE, &len);
	config_defaults(&d);
	all = dump(&d);
	for (line = strtok_r(all, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(sscanf(line, "%63[a-z_] =", key), 1);
		snprintf(needle, sizeof(needle), "\n#%s = ", key);
		if (strstr(raw, needle) == NULL)
			fail_msg("key '%s' is not in %s", key, EXAMPLE);
		nkeys++;
	}
	for (p = raw; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (sscanf(p, "#%63[a-z_] = %c", key, &ch) == 2 &&
		    strchr(p, ' ') == p + 1 + strlen(key))
			nlisted++;
	assert_int_equal(nlisted, nkeys);
	free(raw);
	free(all);
}

/* man/devsep.conf.5 documents every key (".It Cm key"). */
static void
test_every_key_documented(void **state)
{
	struct devsep_config d;
	char *man, *all, *line, *save = NULL, key[64], needle[96];
	size_t len;

	man = slurp("man/devsep.conf.5", &len);
	config_defaults(&d);
	all = dump(&d);
	for (line = strtok_r(all, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(sscanf(line, "%63[a-z_] =", key), 1);
		snprintf(needle, sizeof(needle), "\n.It Cm %s ", key);
		if (strstr(man, needle) == NULL)
			fail_msg("key '%s' is not in man/devsep.conf.5", key);
	}
	free(man);
	free(all);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_is_defaults),
		cmocka_unit_test(test_uncommented_is_defaults),
		cmocka_unit_test(test_every_key_listed),
		cmocka_unit_test(test_every_key_documented),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
