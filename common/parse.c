/* Strict parsers.  See parse.h. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0')
		return -1;
	if (s[0] == '0' && s[1] != '\0')
		return -1;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (parse_u64(s, max, &v) == -1)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
parse_u32n(const char *s, size_t len, uint32_t max, uint32_t *out)
{
	char buf[16];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len) != NULL)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return parse_u32(buf, max, out);
}

int
parse_xenbus_state(const char *s, size_t len, int *state)
{
	uint32_t v;

	if (parse_u32n(s, len, 8, &v) == -1)
		return -1;
	*state = (int)v;
	return 0;
}

int
parse_domid(const char *s, uint32_t *out)
{
	return parse_u32(s, DOMID_MAX, out);
}

int
parse_duration_ms(const char *s, uint32_t *out)
{
	char num[24];
	const char *unit;
	size_t n;
	uint64_t v, mul = 1000;

	if (s == NULL)
		return -1;
	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++)
		;
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n);
	num[n] = '\0';
	unit = s + n;
	if (strcmp(unit, "ms") == 0)
		mul = 1;
	else if (strcmp(unit, "s") != 0 && *unit != '\0')
		return -1;
	if (parse_u64(num, 24ULL * 3600 * 1000, &v) == -1)
		return -1;
	v *= mul;
	if (v > 24ULL * 3600 * 1000)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
parse_bool(const char *s, int *out)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0 ||
	    strcmp(s, "1") == 0 || strcmp(s, "on") == 0)
		*out = 1;
	else if (strcmp(s, "no") == 0 || strcmp(s, "false") == 0 ||
	    strcmp(s, "0") == 0 || strcmp(s, "off") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

int
valid_kind(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n > 0 && n < 16;
}

int
valid_component(const char *s)
{
	size_t n;

	if (s == NULL || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (n = 0; s[n]; n++)
		if (s[n] == '/' || !isprint((unsigned char)s[n]))
			return 0;
	return n > 0 && n <= 255;
}

/* Copies the next '/'-terminated component of *pp into buf. */
static int
next_comp(const char **pp, char *buf, size_t bufsz)
{
	const char *p = *pp, *e;
	size_t n;

	if (*p != '/')
		return -1;
	p++;
	e = strchr(p, '/');
	n = e ? (size_t)(e - p) : strlen(p);
	if (n == 0 || n >= bufsz)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	*pp = p + n;
	return 0;
}

/* The part below a device dir: non-empty components, no "//", no trailing
 * '/' (xenstored never reports such paths; refuse them before use). */
static int
valid_rest(const char *r)
{
	size_t n = strlen(r);

	return n > 0 && r[0] != '/' && r[n - 1] != '/' &&
	    strstr(r, "//") == NULL;
}

int
parse_backend_path(const char *path, struct backend_path *bp)
{
	char c[32];
	const char *p = path;

	if (path == NULL)
		return -1;
	if (next_comp(&p, c, sizeof(c)) || strcmp(c, "local") ||
	    next_comp(&p, c, sizeof(c)) || strcmp(c, "domain") ||
	    next_comp(&p, c, sizeof(c)) || parse_domid(c, &bp->bdomid) ||
	    next_comp(&p, c, sizeof(c)) || strcmp(c, "backend") ||
	    next_comp(&p, bp->kind, sizeof(bp->kind)) ||
	    !valid_kind(bp->kind) ||
	    next_comp(&p, c, sizeof(c)) || parse_domid(c, &bp->domid) ||
	    next_comp(&p, c, sizeof(c)) || parse_u32(c, UINT32_MAX >> 1,
	    &bp->devid))
		return -1;
	if (*p != '\0' && (*p != '/' || !valid_rest(p + 1)))
		return -1;
	bp->rest = *p == '/' ? p + 1 : p;
	return 0;
}

int
xsnprintf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, sz, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return r;
}
