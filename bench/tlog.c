/*
 * trivial.log: one line per trivial-script run,
 *   <action> <start_us> <end_us> <pid> <XENBUS_PATH> <ok|fail>
 * read incrementally (only complete lines) from where tlog_open() found
 * the file's end, so one log serves a whole benchmark run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

int
tlog_open(struct tlog *t, const char *path)
{
	struct stat st;

	memset(t, 0, sizeof(*t));
	t->path = path;
	if (stat(path, &st) == 0)
		t->off = (long)st.st_size;
	return 0;
}

/* ".../backend/<kind>/<dom>/<devid>" -> dom, devid */
static int
parse_line(const char *line, struct trun *r)
{
	char path[BENCH_PATH], st[8], *s;
	unsigned long long a, b;
	long pid;

	memset(r, 0, sizeof(*r));
	if (sscanf(line, "%7s %llu %llu %ld %255s %7s", r->action, &a, &b,
	    &pid, path, st) != 6)
		return -1;
	r->start = a;
	r->end = b;
	r->ok = strcmp(st, "ok") == 0;
	if ((s = strrchr(path, '/')) == NULL ||
	    parse_long(s + 1, 0, 0xfffffff, &r->devid))
		return -1;
	*s = '\0';
	if ((s = strrchr(path, '/')) == NULL ||
	    parse_long(s + 1, 0, 0x7fef, &r->dom))
		return -1;
	return 0;
}

static int
push(struct tlog *t, const struct trun *r)
{
	struct trun *nv;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		if ((nv = realloc(t->v, t->cap * sizeof(*nv))) == NULL)
			return -1;
		t->v = nv;
	}
	t->v[t->n++] = *r;
	return 0;
}

int
tlog_poll(struct tlog *t)
{
	char line[768];
	struct trun r;
	size_t len;
	FILE *f;

	if ((f = fopen(t->path, "r")) == NULL)
		return 0;
	if (fseek(f, t->off, SEEK_SET) == -1) {
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strlen(line);
		if (len == 0 || line[len - 1] != '\n')
			break;		/* partial line: read it next time */
		t->off += (long)len;
		if (parse_line(line, &r) == 0 && push(t, &r) == -1)
			break;
	}
	fclose(f);
	return 0;
}

static bool
is_add(const struct trun *r)
{
	return !strcmp(r->action, "add") || !strcmp(r->action, "online");
}

size_t
tlog_count(const struct tlog *t, bool add)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += is_add(&t->v[i]) == add;
	return n;
}

static int
cmp_ev(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;

	/* by time; at equal times an end (-1) before a start (+1) */
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return (int)(x[1] - y[1]);
}

/* Most runs (of add or of remove scripts) alive at one instant. */
int
tlog_maxconc(const struct tlog *t, bool add)
{
	int64_t (*ev)[2];
	size_t i, n = 0;
	int cur = 0, max = 0;

	if ((ev = calloc(2 * t->n + 1, sizeof(*ev))) == NULL)
		return -1;
	for (i = 0; i < t->n; i++) {
		if (is_add(&t->v[i]) != add)
			continue;
		ev[n][0] = (int64_t)t->v[i].start;
		ev[n++][1] = 1;
		ev[n][0] = (int64_t)t->v[i].end;
		ev[n++][1] = -1;
	}
	qsort(ev, n, sizeof(*ev), cmp_ev);
	for (i = 0; i < n; i++) {
		cur += (int)ev[i][1];
		if (cur > max)
			max = cur;
	}
	free(ev);
	return max;
}

void
tlog_free(struct tlog *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}
