/*
 * Start-up reconcile: G guests x P vifs already present (written by the
 * toolstack actor, backend actor not running), put in three states:
 *   guest index g < 40% of G   "add":    state 2, online 1, no hotplug-status
 *                                        -> right final state: script ran,
 *                                           hotplug-status connected
 *   40% <= g < 70%             "steady": state 4, online 1, connected
 *                                        -> untouched (no script)
 *   g >= 70%                   "remove": state 6, online 0
 *                                        -> offline script ran, dir gone
 * recon-wait starts the daemon (--start, via /bin/sh -c "exec ...") at
 * t0 and waits until every device is in its right final state, or until
 * nothing has changed for QUIET_MS since the last change (FIRST_MS if
 * nothing changed yet: xl devd reads for seconds before its first
 * script; it never gets to "all right"), then
 * reports what each category ended as.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define QUIET_MS 5000		/* no change for this long after progress: done */
#define FIRST_MS 60000		/* no change at all for this long: done */

enum cat { C_ADD, C_STEADY, C_REMOVE };

static enum cat
cat_of(const struct bopt *o, long g)
{
	if (g * 10 < o->count * 4)
		return C_ADD;
	return g * 10 < o->count * 7 ? C_STEADY : C_REMOVE;
}

static int
setup_guest(struct xs_handle *xs, const struct bopt *o, long g)
{
	static const char *st[] = { "2", "4", "6" };
	static const char *on[] = { "1", "1", "0" };
	static const char *hs[] = { "", "connected", "" };
	enum cat c = cat_of(o, g);
	char p[BENCH_PATH], q[BENCH_PATH + 32];
	xs_transaction_t t;
	long i;
	int tries, bad;

	for (tries = 0; tries < 100; tries++) {
		if ((t = xs_transaction_start(xs)) == XBT_NULL)
			return -1;
		for (i = 0, bad = 0; i < o->per && !bad; i++) {
			be_path(p, sizeof(p), o->bdom, "vif", o->first + g,
			    o->devid + i);
			snprintf(q, sizeof(q), "%s/state", p);
			bad |= bx_write(xs, t, q, st[c]);
			snprintf(q, sizeof(q), "%s/online", p);
			bad |= bx_write(xs, t, q, on[c]);
			snprintf(q, sizeof(q), "%s/hotplug-status", p);
			bad |= bx_write(xs, t, q, hs[c]);
		}
		if (bad) {
			xs_transaction_end(xs, t, true);
			return -1;
		}
		if (xs_transaction_end(xs, t, false))
			return 0;
		if (errno != EAGAIN)
			return -1;
	}
	return -1;
}

/*
 * recon-create: the same devices as actor-toolstack writes them, reduced to
 * the nodes a device daemon reads (backend: frontend frontend-id online
 * state script mac bridge handle type hotplug-status; frontend: backend
 * backend-id state handle mac), with the same permissions; fast enough
 * for 10 000 devices, and for the storms' set-up at N > 200.
 */
static int
create_dev(struct xs_handle *xs, xs_transaction_t t, const struct bopt *o,
    long dom, long devid)
{
	struct xs_permissions fe_perm[2] = {
		{ (unsigned int)dom, XS_PERM_NONE },
		{ (unsigned int)o->bdom, XS_PERM_READ } };
	struct xs_permissions be_perm[2] = {
		{ (unsigned int)o->bdom, XS_PERM_NONE },
		{ (unsigned int)dom, XS_PERM_READ } };
	char be[BENCH_PATH], fe[BENCH_PATH], p[BENCH_PATH + 32], v[64];
	int bad = 0;

	be_path(be, sizeof(be), o->bdom, "vif", dom, devid);
	snprintf(fe, sizeof(fe), "/local/domain/%ld/device/vif/%ld", dom, devid);
	snprintf(v, sizeof(v), "00:16:3e:%02lx:%02lx:%02lx", (dom >> 8) & 0xff,
	    dom & 0xff, devid & 0xff);
#define BW(dir, key, val) do { snprintf(p, sizeof(p), "%s/%s", dir, key); 	bad |= bx_write(xs, t, p, val); } while (0)
	bad |= !xs_mkdir(xs, t, fe) || !xs_set_permissions(xs, t, fe, fe_perm, 2);
	BW(fe, "backend", be);
	BW(fe, "state", "1");
	BW(fe, "mac", v);
	bad |= !xs_mkdir(xs, t, be) || !xs_set_permissions(xs, t, be, be_perm, 2);
	BW(be, "frontend", fe);
	BW(be, "online", "1");
	BW(be, "state", "1");
	BW(be, "script", o->script);
	BW(be, "mac", v);
	BW(be, "bridge", "xenbr0");
	BW(be, "type", "vif");
	BW(be, "hotplug-status", "");
	snprintf(v, sizeof(v), "%ld", o->bdom);
	BW(fe, "backend-id", v);
	snprintf(v, sizeof(v), "%ld", dom);
	BW(be, "frontend-id", v);
	snprintf(v, sizeof(v), "%ld", devid);
	BW(be, "handle", v);
	BW(fe, "handle", v);
#undef BW
	return bad ? -1 : 0;
}

/* Written outside transactions: nothing watches while the set-up runs,
 * and a xenstored 4.17 transaction costs ~1 ms per node it touches here. */
static int
create_one(struct xs_handle *xs, const struct bopt *o, long dom, long devid)
{
	return create_dev(xs, XBT_NULL, o, dom, devid);
}

int
cmd_recon_create(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	long g, i;

	if (xs == NULL || o->script == NULL)
		return 2;
	for (g = 0; g < o->count; g++)
		for (i = 0; i < o->per; i++)
			if (create_one(xs, o, o->first + g, o->devid + i) == -1) {
				fprintf(stderr, "bench-driver: recon-create: %s\n",
				    strerror(errno));
				xs_close(xs);
				return 1;
			}
	xs_close(xs);
	return 0;
}

/* Prints "missing D..." for guests without a backend dir (to be written
 * by the toolstack first), or sets every device's state. */
int
cmd_recon_setup(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	char p[BENCH_PATH], *v;
	long g, missing = 0;

	if (xs == NULL)
		return 1;
	for (g = 0; g < o->count; g++) {
		snprintf(p, sizeof(p), "/local/domain/%ld/backend/vif/%ld/%ld",
		    o->bdom, o->first + g, o->devid + o->per - 1);
		if ((v = bx_read(xs, p)) == NULL) {
			printf("%smissing %ld", missing++ ? "\n" : "",
			    o->first + g);
			continue;
		}
		free(v);
	}
	if (missing) {
		printf("\n");
		xs_close(xs);
		return 3;
	}
	for (g = 0; g < o->count; g++)
		if (setup_guest(xs, o, g) == -1) {
			fprintf(stderr, "bench-driver: recon-setup guest %ld: %s\n",
			    o->first + g, strerror(errno));
			xs_close(xs);
			return 1;
		}
	xs_close(xs);
	return 0;
}

struct recon {
	long	 nadd, nremove;		/* devices */
	long	 added, removed;	/* in their right final state */
	long	 bad_runs;		/* scripts run on steady devices, adds
					   on remove devices */
	long	 offline_runs;
	uint64_t t_last;		/* last progress */
	unsigned char *seen;		/* per add device: script ran */
	bool	*gone;			/* per guest */
};

static void
count_runs(const struct bopt *o, struct tlog *t, size_t *from,
    struct recon *r)
{
	const struct trun *x;
	long g, idx;
	bool add;

	for (; *from < t->n; (*from)++) {
		x = &t->v[*from];
		if (x->start < o->t0_us)
			continue;	/* an earlier run's line */
		g = x->dom - o->first;
		idx = g * o->per + (x->devid - o->devid);
		if (g < 0 || g >= o->count || x->devid < o->devid ||
		    x->devid >= o->devid + o->per)
			continue;
		add = !strcmp(x->action, "add") || !strcmp(x->action, "online");
		if (cat_of(o, g) == C_STEADY || (cat_of(o, g) == C_REMOVE &&
		    add))
			r->bad_runs++;
		else if (cat_of(o, g) == C_REMOVE)
			r->offline_runs++;
		else if (add && x->ok && !r->seen[idx]++) {
			r->added++;
			r->t_last = x->end > r->t_last ? x->end : r->t_last;
		}
	}
}

static void
count_gone(struct xs_handle *xs, const struct bopt *o, struct recon *r)
{
	char p[BENCH_PATH], **v;
	bool *present = calloc((size_t)o->count, sizeof(bool));
	unsigned int n, j;
	long d, g;

	if (present == NULL)
		return;
	snprintf(p, sizeof(p), "/local/domain/%ld/backend/vif", o->bdom);
	v = xs_directory(xs, XBT_NULL, p, &n);
	if (v != NULL || errno == ENOENT) {
		for (j = 0; v && j < n; j++)
			if (parse_long(v[j], 0, 0x7fef, &d) == 0 &&
			    d >= o->first && d < o->first + o->count)
				present[d - o->first] = true;
		for (g = 0; g < o->count; g++)
			if (cat_of(o, g) == C_REMOVE && !present[g] &&
			    !r->gone[g]) {
				r->gone[g] = true;
				r->removed += o->per;
				r->t_last = now_us();
			}
	}
	free(v);
	free(present);
}

/* Steady devices still state 4 / online 1 / connected; add devices
 * connected.  Read after the timed part. */
static void
verify(struct xs_handle *xs, const struct bopt *o, long *steady_ok,
    long *add_conn)
{
	char p[BENCH_PATH], q[BENCH_PATH + 32], *a, *b, *c;
	long g, i;

	*steady_ok = *add_conn = 0;
	for (g = 0; g < o->count; g++) {
		if (cat_of(o, g) == C_REMOVE)
			continue;
		for (i = 0; i < o->per; i++) {
			be_path(p, sizeof(p), o->bdom, "vif", o->first + g,
			    o->devid + i);
			snprintf(q, sizeof(q), "%s/state", p);
			a = bx_read(xs, q);
			snprintf(q, sizeof(q), "%s/online", p);
			b = bx_read(xs, q);
			snprintf(q, sizeof(q), "%s/hotplug-status", p);
			c = bx_read(xs, q);
			if (cat_of(o, g) == C_STEADY)
				*steady_ok += a && b && c && !strcmp(a, "4") &&
				    !strcmp(b, "1") && !strcmp(c, "connected");
			else
				*add_conn += c && !strcmp(c, "connected");
			free(a);
			free(b);
			free(c);
		}
	}
}

static void
recon_count(const struct bopt *o, struct recon *r)
{
	long g;

	memset(r, 0, sizeof(*r));
	for (g = 0; g < o->count; g++) {
		if (cat_of(o, g) == C_ADD)
			r->nadd += o->per;
		else if (cat_of(o, g) == C_REMOVE)
			r->nremove += o->per;
	}
	r->seen = calloc((size_t)(o->count * o->per), 1);
	r->gone = calloc((size_t)o->count, sizeof(bool));
}

int
cmd_recon_wait(struct bopt *o)
{
	struct xs_handle *xs = bx_open();
	struct recon r;
	struct tlog t;
	struct cpu_snap a, b;
	uint64_t deadline, last_change;
	long prev = -1, steady_ok, add_conn;
	size_t from = 0;
	pid_t pid;

	if (xs == NULL || !o->log || !o->start || o->npids >= BENCH_MAX_PIDS)
		return 2;
	recon_count(o, &r);
	if (!r.seen || !r.gone)
		return 1;
	tlog_open(&t, o->log);
	t.off = 0;
	cpu_take(o, &a);
	o->t0_us = now_us();
	if ((pid = start_cmd(o->start)) == -1)
		return 1;
	a.d_ns[o->npids] = 0;
	o->pids[o->npids++] = pid;
	deadline = o->t0_us + (uint64_t)o->timeout_ms * 1000u;
	last_change = o->t0_us;
	while (now_us() < deadline &&
	    now_us() - last_change < (prev > 0 ? QUIET_MS : FIRST_MS) * 1000u &&
	    (r.added < r.nadd || r.removed < r.nremove)) {
		sleep_us((uint64_t)o->poll_ms * 1000u);
		tlog_poll(&t);
		count_runs(o, &t, &from, &r);
		count_gone(xs, o, &r);
		if (r.added + r.removed + r.bad_runs + r.offline_runs != prev) {
			prev = r.added + r.removed + r.bad_runs + r.offline_runs;
			last_change = now_us();
		}
	}
	cpu_settle(o, 3000);
	cpu_take(o, &b);
	verify(xs, o, &steady_ok, &add_conn);
	printf("recon devices=%ld complete=%d wall_s=%.3f added=%ld/%ld"
	    " add_connected=%ld removed=%ld/%ld offline_runs=%ld"
	    " steady_intact=%ld/%ld bad_runs=%ld",
	    o->count * o->per, r.added == r.nadd && r.removed == r.nremove,
	    r.t_last ? (double)(r.t_last - o->t0_us) / 1e6 : -1.0, r.added,
	    r.nadd, add_conn, r.removed, r.nremove, r.offline_runs,
	    steady_ok, o->count * o->per - r.nadd - r.nremove, r.bad_runs);
	cpu_print(o, &a, &b, o->count * o->per);
	printf(" hwm_kb=%ld\n", proc_hwm_kb(pid));
	tlog_free(&t);
	free(r.seen);
	free(r.gone);
	xs_close(xs);
	return 0;
}
