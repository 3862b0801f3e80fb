/* Aligned text tables.  See table.h. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

void
table_sanitize(char *dst, size_t n, const char *s)
{
	size_t i, len = strlen(s);

	if (n == 0)
		return;
	for (i = 0; i + 1 < n && s[i] != '\0'; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[i] = '\0';
	if (len >= n && n > 4)
		memcpy(dst + n - 4, "...", 4);
}

static char *
cell_dup(const char *s)
{
	char buf[TABLE_CELL_MAX];

	table_sanitize(buf, sizeof(buf), s[0] == '\0' ? "-" : s);
	return strdup(buf);
}

int
table_init(struct table *t, ...)
{
	va_list ap;
	const char *h;

	memset(t, 0, sizeof(*t));
	va_start(ap, t);
	while ((h = va_arg(ap, const char *)) != NULL) {
		if (t->ncols == TABLE_MAX_COLS ||
		    (t->hdr[t->ncols] = cell_dup(h)) == NULL) {
			t->err = 1;
			break;
		}
		t->ncols++;
	}
	va_end(ap);
	return t->err || t->ncols == 0 ? -1 : 0;
}

void
table_dispose(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		free(t->hdr[i]);
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int
table_row(struct table *t)
{
	char **n;
	size_t ncap;

	if (t->err || (t->nrows > 0 && t->col != t->ncols)) {
		t->err = 1;
		return -1;
	}
	if (t->nrows == t->cap) {
		ncap = t->cap ? t->cap * 2 : 8;
		n = realloc(t->cells, ncap * t->ncols * sizeof(*n));
		if (n == NULL) {
			t->err = 1;
			return -1;
		}
		t->cells = n;
		t->cap = ncap;
	}
	memset(t->cells + t->nrows * t->ncols, 0, t->ncols * sizeof(char *));
	t->nrows++;
	t->col = 0;
	return 0;
}

int
table_cell(struct table *t, const char *fmt, ...)
{
	char buf[TABLE_CELL_MAX + 1];
	va_list ap;
	char *c;

	if (t->err || t->nrows == 0 || t->col == t->ncols) {
		t->err = 1;
		return -1;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if ((c = cell_dup(buf)) == NULL) {
		t->err = 1;
		return -1;
	}
	t->cells[(t->nrows - 1) * t->ncols + t->col++] = c;
	return 0;
}

static void
print_line(const struct table *t, char *const *cells, const size_t *w,
    FILE *f)
{
	size_t i;

	for (i = 0; i < t->ncols; i++) {
		if (i + 1 == t->ncols)
			fprintf(f, "%s\n", cells[i]);
		else
			fprintf(f, "%-*s  ", (int)w[i], cells[i]);
	}
}

int
table_print(const struct table *t, FILE *f)
{
	size_t w[TABLE_MAX_COLS], i, r, len;

	if (t->err || t->ncols == 0 || (t->nrows > 0 && t->col != t->ncols)) {
		fprintf(stderr, "table: incomplete table (out of memory?)\n");
		return -1;
	}
	for (i = 0; i < t->ncols; i++)
		w[i] = strlen(t->hdr[i]);
	for (r = 0; r < t->nrows; r++)
		for (i = 0; i < t->ncols; i++) {
			len = strlen(t->cells[r * t->ncols + i]);
			if (len > w[i])
				w[i] = len;
		}
	print_line(t, t->hdr, w, f);
	for (r = 0; r < t->nrows; r++)
		print_line(t, t->cells + r * t->ncols, w, f);
	return 0;
}
