/*
 * fuzz_parse: libFuzzer target for every strict parser in common/parse.c.
 * The input is used as a NUL-terminated string (and, for the length-based
 * parsers, as raw bytes).  Proves, for any input:
 *  - no crash / UB (ASan/UBSan);
 *  - parse_u64 / parse_u32 / parse_domid accept only the canonical decimal
 *    form: printing the value gives back the input exactly, within bounds;
 *  - parse_u32n / parse_xenbus_state on raw bytes agree with the string
 *    parser and refuse embedded NULs; states are 0..8;
 *  - parse_duration_ms stays within 24 h and accepts only digits plus
 *    "", "s" or "ms"; parse_bool accepts exactly the 8 spellings;
 *  - valid_kind / valid_component accept only what their spec allows;
 *  - parse_backend_path accepts only paths it can print back identically
 *    from the parsed fields;
 *  - xsnprintf either fits exactly or fails, never truncates silently.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_numbers(const char *s, const uint8_t *raw, size_t size)
{
	char buf[32];
	uint64_t v64;
	uint32_t v32, w32;
	int st;

	if (parse_u64(s, UINT64_MAX, &v64) == 0) {
		snprintf(buf, sizeof(buf), "%" PRIu64, v64);
		CHECK(strcmp(buf, s) == 0);
	}
	if (parse_u32(s, 100000, &v32) == 0) {
		CHECK(v32 <= 100000);
		snprintf(buf, sizeof(buf), "%u", v32);
		CHECK(strcmp(buf, s) == 0);
	}
	if (parse_domid(s, &v32) == 0)
		CHECK(v32 <= DOMID_MAX);
	if (parse_u32n((const char *)raw, size, UINT32_MAX, &v32) == 0) {
		CHECK(memchr(raw, '\0', size) == NULL);
		CHECK(parse_u32(s, UINT32_MAX, &w32) == 0 && w32 == v32);
	}
	if (parse_xenbus_state((const char *)raw, size, &st) == 0)
		CHECK(size == 1 && st >= 0 && st <= 8 && raw[0] == '0' + st);
}

static void
check_words(const char *s)
{
	static const char *const bools[] = { "yes", "true", "1", "on", "no",
	    "false", "0", "off" };
	uint32_t ms;
	size_t i, n = strlen(s);
	int b, known = 0;

	if (parse_duration_ms(s, &ms) == 0) {
		CHECK(ms <= 86400000u);
		for (i = 0; isdigit((unsigned char)s[i]); i++)
			;
		CHECK(i > 0 && (strcmp(s + i, "") == 0 ||
		    strcmp(s + i, "s") == 0 || strcmp(s + i, "ms") == 0));
	}
	for (i = 0; i < 8; i++)
		known |= strcmp(s, bools[i]) == 0;
	CHECK((parse_bool(s, &b) == 0) == known);
	if (valid_kind(s)) {
		CHECK(n >= 1 && n <= 15);
		for (i = 0; i < n; i++)
			CHECK(islower((unsigned char)s[i]) ||
			    isdigit((unsigned char)s[i]) || s[i] == '_');
	}
	if (valid_component(s)) {
		CHECK(n >= 1 && n <= 255 && strchr(s, '/') == NULL);
		CHECK(strcmp(s, ".") != 0 && strcmp(s, "..") != 0);
		for (i = 0; i < n; i++)
			CHECK(s[i] >= 0x20 && s[i] < 0x7f);
	}
}

static void
check_paths(const char *s)
{
	static char buf[8192];
	struct backend_path bp;
	size_t n = strlen(s);
	int r;

	if (parse_backend_path(s, &bp) == 0) {
		CHECK(bp.bdomid <= DOMID_MAX && bp.domid <= DOMID_MAX);
		CHECK(valid_kind(bp.kind));
		CHECK(bp.rest >= s && bp.rest <= s + n);
		r = snprintf(buf, sizeof(buf), "/local/domain/%u/backend/%s/%u/%u%s%s",
		    bp.bdomid, bp.kind, bp.domid, bp.devid,
		    *bp.rest ? "/" : "", bp.rest);
		CHECK(r > 0 && (size_t)r < sizeof(buf));
		CHECK(strcmp(buf, s) == 0);
	}
	r = xsnprintf(buf, 16, "%s", s);
	CHECK(r == -1 ? n >= 16 : ((size_t)r == n && strcmp(buf, s) == 0));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > 8000)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_numbers(s, data, size);
	check_words(s);
	check_paths(s);
	free(s);
	return 0;
}
