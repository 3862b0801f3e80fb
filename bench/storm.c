/*
 * Attach and detach storms.
 *
 * attach: the devices are already written (toolstack) while no backend
 * actor runs; --start starts it (t0): its start-up scan writes state 2
 * for all of them at once.  "Connected" = the trivial script's hotplug-status write returned
 * (its log line), so nothing polls xenstored while xenstored's CPU is
 * measured.  Latency = connected - t0.
 * attach-poll: the same with real scripts (no log): polls hotplug-status.
 * detach: libxl's removal (online=0 and state=5 in one transaction per
 * device) for all devices from one thread, while another holds one watch
 * on the backend root and, on an event naming a device dir (or a parent),
 * reads that dir: ENOENT = gone.  Latency = gone - that device's write.
 * The observer's watch costs xenstored one more event delivery per write
 * below the root (the same for both daemons).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define SETTLE_MS 3000

struct devset {
	char	 kinds[4][8];
	size_t	 nk;
	long	 first, count;		/* guests */
	long	 per;			/* devices per guest and kind */
	size_t	 n;			/* count * per * nk; device i is
					   guest i/nk/per, devid +i/nk%per,
					   kind i%nk */
	uint64_t *t_write, *t_done;	/* per device, 0 = not yet */
	bool	 *error;
};

static int
devset_init(struct devset *s, const struct bopt *o)
{
	memset(s, 0, sizeof(*s));
	s->nk = kind_list(o->kinds, s->kinds, 4);
	s->first = o->first;
	s->count = o->count;
	s->per = o->per;
	s->n = (size_t)(o->count * o->per) * s->nk;
	s->t_write = calloc(s->n + 1, sizeof(uint64_t));
	s->t_done = calloc(s->n + 1, sizeof(uint64_t));
	s->error = calloc(s->n + 1, sizeof(bool));
	return s->nk && s->t_write && s->t_done && s->error ? 0 : -1;
}

static void
devset_free(struct devset *s)
{
	free(s->t_write);
	free(s->t_done);
	free(s->error);
}

static long
dev_devid(const struct bopt *o, const char *kind)
{
	return strcmp(kind, "vbd") ? o->devid : o->vbd_devid;
}

/* Prints " p50_ms= p99_ms= max_ms=" of t_done - base (base: t0 or
 * t_write); returns the number of devices done. */
static size_t
print_lat(const struct devset *s, uint64_t t0, bool from_write)
{
	double *v = calloc(s->n + 1, sizeof(double)), p50, p99;
	size_t i, n = 0;

	if (v == NULL)
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->t_done[i])
			v[n++] = (double)(s->t_done[i] -
			    (from_write ? s->t_write[i] : t0)) / 1000.0;
	p50 = pct(v, n, 50);
	p99 = pct(v, n, 99);
	printf(" p50_ms=%.1f p99_ms=%.1f max_ms=%.1f", p50, p99,
	    n ? v[n - 1] : 0.0);
	free(v);
	return n;
}

static void
print_rate(const char *what, size_t n, uint64_t t0, uint64_t tend)
{
	double wall = (double)(tend > t0 ? tend - t0 : 1) / 1e6;

	printf("%s n=%zu wall_s=%.3f rate=%.1f", what, n, wall,
	    (double)n / wall);
}

int
cmd_attach(struct bopt *o)
{
	struct devset s;
	struct tlog t;
	struct cpu_snap a, b;
	uint64_t t0, tend = 0, deadline, first = UINT64_MAX;
	size_t i, j = 0, fails = 0;

	if (!o->log || !o->start || devset_init(&s, o) == -1)
		return 2;
	cpu_settle(o, SETTLE_MS);	/* the toolstack's writes */
	tlog_open(&t, o->log);
	cpu_take(o, &a);
	t0 = now_us();
	deadline = t0 + (uint64_t)o->timeout_ms * 1000u;
	if (start_cmd(o->start) == -1)
		return 1;
	while (tlog_poll(&t) == 0 && tlog_count(&t, true) < s.n &&
	    now_us() < deadline)
		sleep_us(1000);
	for (i = 0; i < t.n && j < s.n; i++) {
		if (strcmp(t.v[i].action, "add") &&
		    strcmp(t.v[i].action, "online"))
			continue;
		s.t_done[j++] = t.v[i].end;
		fails += !t.v[i].ok;
		tend = t.v[i].end > tend ? t.v[i].end : tend;
		first = t.v[i].start < first ? t.v[i].start : first;
	}
	cpu_settle(o, SETTLE_MS);
	cpu_take(o, &b);
	print_rate("attach", tlog_count(&t, true), t0, tend);
	print_lat(&s, t0, false);
	printf(" first_script_ms=%.1f maxconc=%d fails=%zu",
	    first == UINT64_MAX ? -1.0 : (double)(first - t0) / 1000.0,
	    tlog_maxconc(&t, true), fails);
	cpu_print(o, &a, &b, (long)s.n);
	printf(" complete=%d\n", tlog_count(&t, true) >= s.n);
	tlog_free(&t);
	devset_free(&s);
	return 0;
}

/* Lines equal to "ready" in the backend actor's log. */
static long
ready_lines(const char *path)
{
	char line[256];
	long n = 0;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += !strcmp(line, "ready\n");
	fclose(f);
	return n;
}

/*
 * baseline: the backend actor alone (no daemon) on the storm's devices:
 * started at t0, done when it prints "ready" (its start-up scan has
 * written state 2 for every device).  xenstored's CPU for this is in
 * every attach storm; subtracting it leaves what the daemon and its
 * scripts cost xenstored.
 */
int
cmd_baseline(struct bopt *o)
{
	struct cpu_snap a, b;
	uint64_t t0, t1, deadline;
	long before;
	pid_t pid;

	if (!o->start || !o->log || o->npids >= BENCH_MAX_PIDS)
		return 2;
	before = ready_lines(o->log);
	cpu_settle(o, SETTLE_MS);
	cpu_take(o, &a);
	t0 = now_us();
	deadline = t0 + (uint64_t)o->timeout_ms * 1000u;
	if ((pid = start_cmd(o->start)) == -1)
		return 1;
	a.d_ns[o->npids] = 0;
	o->pids[o->npids++] = pid;
	while (ready_lines(o->log) <= before && now_us() < deadline)
		sleep_us(2000);
	t1 = now_us();
	cpu_settle(o, SETTLE_MS);
	cpu_take(o, &b);
	print_rate("baseline", (size_t)o->count, t0, t1);
	cpu_print(o, &a, &b, o->count);
	printf(" complete=%d\n", t1 < deadline);
	return 0;
}

/* One poll of every device not yet done: hotplug-status connected/error. */
static void
poll_status(struct xs_handle *xs, const struct bopt *o, struct devset *s,
    size_t *done)
{
	char p[BENCH_PATH + 32], *v;
	size_t i, k;

	for (i = 0; i < s->n; i++) {
		if (s->t_done[i])
			continue;
		k = i % s->nk;
		be_path(p, sizeof(p), o->bdom, s->kinds[k],
		    s->first + (long)(i / s->nk) / s->per,
		    dev_devid(o, s->kinds[k]) + (long)(i / s->nk) % s->per);
		strcat(p, "/hotplug-status");
		v = bx_read(xs, p);
		if (v && (!strcmp(v, "connected") || !strcmp(v, "error"))) {
			s->t_done[i] = now_us();
			s->error[i] = !strcmp(v, "error");
			(*done)++;
		}
		free(v);
	}
}

int
cmd_attach_poll(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	struct devset s;
	struct cpu_snap a, b;
	uint64_t t0, tend = 0, deadline;
	size_t i, done = 0, errs = 0;

	if (xs == NULL || !o->start || devset_init(&s, o) == -1)
		return 2;
	cpu_settle(o, SETTLE_MS);
	cpu_take(o, &a);
	t0 = now_us();
	deadline = t0 + (uint64_t)o->timeout_ms * 1000u;
	if (start_cmd(o->start) == -1)
		return 1;
	while (done < s.n && now_us() < deadline) {
		poll_status(xs, o, &s, &done);
		if (done < s.n)
			sleep_us((uint64_t)o->poll_ms * 1000u);
	}
	for (i = 0; i < s.n; i++) {
		errs += s.error[i];
		tend = s.t_done[i] > tend ? s.t_done[i] : tend;
	}
	cpu_settle(o, SETTLE_MS);
	cpu_take(o, &b);
	print_rate("attach", done, t0, tend);
	print_lat(&s, t0, false);
	printf(" errors=%zu", errs);
	cpu_print(o, &a, &b, (long)s.n);
	printf(" complete=%d\n", done == s.n);
	devset_free(&s);
	xs_close(xs);
	return 0;
}

struct poller {
	const struct bopt *o;
	struct devset	*s;
	size_t		 gone;
	uint64_t	 deadline;
	bool		 ready, failed;
};

/* Device i gone (its backend dir reads ENOENT)?  Marks it. */
static void
check_gone(struct xs_handle *xs, struct poller *pl, size_t i)
{
	struct devset *s = pl->s;
	char p[BENCH_PATH];
	size_t k = i % s->nk, gj = i / s->nk;
	long g = (long)gj / s->per, j = (long)gj % s->per;
	char *v;

	if (s->t_done[i] || !__atomic_load_n(&s->t_write[i], __ATOMIC_ACQUIRE))
		return;
	be_path(p, sizeof(p), pl->o->bdom, s->kinds[k], s->first + g,
	    dev_devid(pl->o, s->kinds[k]) + j);
	v = bx_read(xs, p);
	if (v == NULL && errno == ENOENT) {
		s->t_done[i] = now_us();
		pl->gone++;
	}
	free(v);
}

/* A watch event below .../backend: "<kind>[/<dom>[/<devid>[/...]]]".
 * Only a path that names a device dir or one of its parents can be a
 * removal; check the devices below it. */
static void
on_event(struct xs_handle *xs, struct poller *pl, const char *rel)
{
	struct devset *s = pl->s;
	char buf[BENCH_PATH], *save = NULL, *kind, *dom, *id, *more;
	long d = -1, n = -1, base;
	size_t k, i;

	snprintf(buf, sizeof(buf), "%s", rel);
	kind = strtok_r(buf, "/", &save);
	dom = strtok_r(NULL, "/", &save);
	id = strtok_r(NULL, "/", &save);
	more = strtok_r(NULL, "/", &save);
	if (kind == NULL || more != NULL ||
	    (dom && parse_long(dom, 0, 0x7fef, &d)) ||
	    (id && parse_long(id, 0, 0xfffffff, &n)))
		return;
	for (k = 0; k < s->nk; k++) {
		if (strcmp(kind, s->kinds[k]))
			continue;
		base = dev_devid(pl->o, s->kinds[k]);
		for (i = k; i < s->n; i += s->nk) {
			long g = (long)(i / s->nk) / s->per;
			long j = (long)(i / s->nk) % s->per;

			if ((d < 0 || d == s->first + g) &&
			    (n < 0 || n == base + j))
				check_gone(xs, pl, i);
		}
	}
}

static void *
poller_main(void *arg)
{
	struct poller *pl = arg;
	struct xs_handle *xs = bx_open();
	char root[64], **ev;
	struct pollfd pfd;
	unsigned int num;
	size_t rl, i;

	snprintf(root, sizeof(root), "/local/domain/%ld/backend", pl->o->bdom);
	rl = strlen(root);
	if (xs == NULL || !xs_watch(xs, root, "gone")) {
		pl->failed = true;
		__atomic_store_n(&pl->ready, true, __ATOMIC_RELEASE);
		return NULL;
	}
	free(xs_read_watch(xs, &num));	/* the initial event */
	__atomic_store_n(&pl->ready, true, __ATOMIC_RELEASE);
	pfd.fd = xs_fileno(xs);
	pfd.events = POLLIN;
	while (pl->gone < pl->s->n && now_us() < pl->deadline) {
		poll(&pfd, 1, 20);
		while ((ev = xs_check_watch(xs)) != NULL) {
			if (!strncmp(ev[XS_WATCH_PATH], root, rl) &&
			    ev[XS_WATCH_PATH][rl] == '/')
				on_event(xs, pl, ev[XS_WATCH_PATH] + rl + 1);
			free(ev);
		}
	}
	for (i = 0; i < pl->s->n; i++)	/* a removal seen late: counts late */
		check_gone(xs, pl, i);
	xs_close(xs);
	return NULL;
}

/* online=0, state=5 in one transaction, retried on EAGAIN (libxl). */
static int
remove_one(struct xs_handle *xs, const struct bopt *o, const char *kind,
    long dom, long devid)
{
	char p[BENCH_PATH], q[BENCH_PATH + 16];
	xs_transaction_t t;
	int tries;

	be_path(p, sizeof(p), o->bdom, kind, dom, devid);
	for (tries = 0; tries < 100; tries++) {
		if ((t = xs_transaction_start(xs)) == XBT_NULL)
			return -1;
		snprintf(q, sizeof(q), "%s/online", p);
		if (bx_write(xs, t, q, "0") == 0) {
			snprintf(q, sizeof(q), "%s/state", p);
			if (bx_write(xs, t, q, "5") == 0 &&
			    xs_transaction_end(xs, t, false))
				return 0;
		} else
			xs_transaction_end(xs, t, true);
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

static void
detach_report(const struct bopt *o, struct devset *s, struct tlog *t,
    uint64_t t0, const struct cpu_snap *a, const struct cpu_snap *b)
{
	uint64_t tend = 0, first_gone = UINT64_MAX, last_off = 0;
	size_t i, done = 0;

	for (i = 0; i < s->n; i++) {
		if (!s->t_done[i])
			continue;
		done++;
		tend = s->t_done[i] > tend ? s->t_done[i] : tend;
		first_gone = s->t_done[i] < first_gone ? s->t_done[i] :
		    first_gone;
	}
	for (i = 0; t && i < t->n; i++)
		if (strcmp(t->v[i].action, "add") &&
		    strcmp(t->v[i].action, "online") && t->v[i].start > last_off)
			last_off = t->v[i].start;
	print_rate("detach", done, t0, tend);
	print_lat(s, t0, true);
	printf(" first_gone_ms=%.1f last_offline_start_ms=%.1f"
	    " offline_runs=%zu maxconc=%d",
	    first_gone == UINT64_MAX ? -1.0 : (double)(first_gone - t0) / 1e3,
	    last_off ? (double)(last_off - t0) / 1e3 : -1.0,
	    t ? tlog_count(t, false) : 0, t ? tlog_maxconc(t, false) : -1);
	cpu_print(o, a, b, (long)s->n);
	printf(" complete=%d\n", done == s->n);
}

int
cmd_detach(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	struct devset s;
	struct poller pl = { .o = o };
	struct tlog t;
	struct cpu_snap a, b;
	pthread_t th;
	uint64_t t0;
	size_t i, k;

	if (xs == NULL || devset_init(&s, o) == -1)
		return 2;
	pl.s = &s;
	if (o->log)
		tlog_open(&t, o->log);
	cpu_take(o, &a);
	t0 = now_us();
	pl.deadline = t0 + (uint64_t)o->timeout_ms * 1000u;
	if (pthread_create(&th, NULL, poller_main, &pl) != 0)
		return 1;
	while (!__atomic_load_n(&pl.ready, __ATOMIC_ACQUIRE))
		sleep_us(1000);
	t0 = now_us();
	for (i = 0; i < s.n && !pl.failed; i += s.nk)
		for (k = 0; k < s.nk; k++) {
			__atomic_store_n(&s.t_write[i + k], now_us(),
			    __ATOMIC_RELEASE);
			if (remove_one(xs, o, s.kinds[k],
			    s.first + (long)(i / s.nk) / s.per,
			    dev_devid(o, s.kinds[k]) +
			    (long)(i / s.nk) % s.per) == -1)
				fprintf(stderr, "bench-driver: remove: %s\n",
				    strerror(errno));
		}
	pthread_join(th, NULL);
	if (o->log)
		tlog_poll(&t);
	cpu_settle(o, SETTLE_MS);
	cpu_take(o, &b);
	detach_report(o, &s, o->log ? &t : NULL, t0, &a, &b);
	if (o->log)
		tlog_free(&t);
	devset_free(&s);
	xs_close(xs);
	return 0;
}
