/*
 * Device table: a hash of compact struct wdev keyed by (kind, domid, devid),
 * the dirty queue (a device is queued at most once however many watch
 * events name it: XSA-349 coalescing) and the timer heap (one libevent
 * timer for all devices; cancelled timers are skipped by generation).
 * The queue is drained in batches through the evaluator watcherd.c set
 * (devtab_init, struct devtab_eval: device.c's evaluation, input.c's
 * pipelined reads); the only other watcherd file this one calls is
 * liveness.c (a guest's device count).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"
#include "liveness.h"
#include "log.h"
#include "parse.h"
#include "wd.h"
#include "xsbatch.h"

struct tmr {
	uint64_t	deadline;
	uint32_t	domid, devid, gen;
	uint8_t		kind;
};

static struct tmr	*heap;
static size_t		 nheap, heapcap;
static struct event	*ev_timer;
static uint32_t		 timer_gen;	/* global: never reused per key */
static int		 eval_scheduled;	/* ev_eval active or pending */
static const struct devtab_eval *ev_fn;

/*
 * The kinds watcherd handles, as xl devd does (libxl_device_events_handler):
 * script devices (vbd, vif) and QEMU's backends (qdisk, 9pfs).  Others
 * (console, vkbd, vfb, pci, vtpm...) are served by QEMU or by libxl in dom0
 * and are left alone: their hints count as ignored.
 */
static const char *const known_kinds[] = { "vbd", "vif", "qdisk", "9pfs" };
static const char *const qemu_kinds[] = { "qdisk", "9pfs" };

static void eval_cb(evutil_socket_t, short, void *);
static void timer_cb(evutil_socket_t, short, void *);

void
devtab_init(const struct devtab_eval *e)
{
	ev_fn = e;
	wd.hsize = 4096;
	if ((wd.hash = calloc(wd.hsize, sizeof(*wd.hash))) == NULL)
		fatal("devtab");
	wd.ev_eval = event_new(wd.base, -1, 0, eval_cb, NULL);
	ev_timer = event_new(wd.base, -1, 0, timer_cb, NULL);
	if (wd.ev_eval == NULL || ev_timer == NULL)
		fatalx("devtab: event_new");
}

static void
free_dev(struct wdev *d, void *arg)
{
	free(d);
}

/* Frees every device and the table's events (the _init/_dispose pair). */
void
devtab_dispose(void)
{
	devtab_foreach(free_dev, NULL);
	free(wd.hash);
	wd.hash = NULL;
	wd.hsize = wd.ndevs = wd.ndirty = 0;
	wd.dirty_head = wd.dirty_tail = NULL;
	free(heap);
	heap = NULL;
	nheap = heapcap = 0;
	event_free(wd.ev_eval);
	event_free(ev_timer);
	wd.ev_eval = ev_timer = NULL;
	eval_scheduled = 0;
}

int
kind_index(const char *name, int create)
{
	size_t i;

	for (i = 0; i < wd.nkinds; i++)
		if (strcmp(wd.kinds[i], name) == 0)
			return (int)i;
	if (!create || wd.nkinds == WD_MAX_KINDS || !valid_kind(name))
		return -1;
	for (i = 0; i < sizeof(known_kinds) / sizeof(known_kinds[0]); i++)
		if (strcmp(known_kinds[i], name) == 0)
			break;
	if (i == sizeof(known_kinds) / sizeof(known_kinds[0]))
		return -1;
	strcpy(wd.kinds[wd.nkinds], name);
	return (int)wd.nkinds++;
}

int
kind_is_qemu(unsigned kind)
{
	size_t i;

	for (i = 0; i < sizeof(qemu_kinds) / sizeof(qemu_kinds[0]); i++)
		if (kind < wd.nkinds && strcmp(wd.kinds[kind], qemu_kinds[i]) == 0)
			return 1;
	return 0;
}

static size_t
hkey(unsigned kind, uint32_t domid, uint32_t devid, size_t size)
{
	uint64_t h = ((uint64_t)domid << 32 | devid) * 0x9E3779B97F4A7C15ull;

	h ^= kind * 0xC2B2AE3D27D4EB4Full;
	return (size_t)(h >> 17) & (size - 1);
}

struct wdev *
dev_find(unsigned kind, uint32_t domid, uint32_t devid)
{
	struct wdev *d;

	for (d = wd.hash[hkey(kind, domid, devid, wd.hsize)]; d; d = d->hnext)
		if (d->kind == kind && d->domid == domid && d->devid == devid)
			return d;
	return NULL;
}

static void
rehash(void)
{
	struct wdev **nh, *d, *next;
	size_t i, nsize = wd.hsize * 2, k;

	if ((nh = calloc(nsize, sizeof(*nh))) == NULL)
		return;		/* keep the longer chains */
	for (i = 0; i < wd.hsize; i++)
		for (d = wd.hash[i]; d; d = next) {
			next = d->hnext;
			k = hkey(d->kind, d->domid, d->devid, nsize);
			d->hnext = nh[k];
			nh[k] = d;
		}
	free(wd.hash);
	wd.hash = nh;
	wd.hsize = nsize;
}

struct wdev *
dev_add(unsigned kind, uint32_t domid, uint32_t devid)
{
	struct wdev *d;
	size_t k;

	static uint64_t refused;

	if (wd.ndevs >= WD_DEVS_MAX) {
		if (refused++ % 10000 == 0)	/* bounded logging */
			log_warnx("domid=%u kind=%s devid=%u not tracked: "
			    "%d devices (%llu refused so far)", domid,
			    wd.kinds[kind], devid, WD_DEVS_MAX,
			    (unsigned long long)refused);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->kind = (uint8_t)kind;
	d->domid = domid;
	d->devid = devid;
	d->be_state = d->fe_state = d->online = XS_ABSENT;
	d->last_outcome = WD_OUT_NONE;
	d->t_start_ms = now_ms();
	if (kind_is_qemu(kind))
		d->st.flags |= F_QEMU;
	if (wd.ndevs >= wd.hsize)
		rehash();
	k = hkey(kind, domid, devid, wd.hsize);
	d->hnext = wd.hash[k];
	wd.hash[k] = d;
	wd.ndevs++;
	guest_dev_added(domid);
	return d;
}

/* The device must not be on the dirty queue (device.c frees it there). */
void
dev_free(struct wdev *d)
{
	struct wdev **pp;

	for (pp = &wd.hash[hkey(d->kind, d->domid, d->devid, wd.hsize)]; *pp;
	    pp = &(*pp)->hnext)
		if (*pp == d) {
			*pp = d->hnext;
			wd.ndevs--;
			guest_dev_freed(d->domid);
			break;
		}
	free(d->last_err);
	free(d);
}

void
devtab_foreach(void (*fn)(struct wdev *, void *), void *arg)
{
	struct wdev *d, *next;
	size_t i;

	for (i = 0; i < wd.hsize; i++)
		for (d = wd.hash[i]; d; d = next) {
			next = d->hnext;
			fn(d, arg);
		}
}

/* ---- dirty queue ---- */

/* Queues d to read every input node again (and trust no own write). */
void
dev_mark_dirty(struct wdev *d)
{
	d->hs_own = 0;
	dev_mark(d, WANT_ALL);
}

/* Queues d for evaluation, reading the nodes of `want` afresh. */
void
dev_mark(struct wdev *d, unsigned want)
{
	d->want |= (uint8_t)want;
	if (d->dirty) {
		wd.st.hints_coalesced++;
		return;
	}
	d->dirty = 1;
	d->dnext = NULL;
	if (wd.dirty_tail)
		wd.dirty_tail->dnext = d;
	else
		wd.dirty_head = d;
	wd.dirty_tail = d;
	wd.ndirty++;
	if (!eval_scheduled) {
		eval_scheduled = 1;
		event_active(wd.ev_eval, 0, 0);
	}
}

static struct wdev *
dirty_pop(void)
{
	struct wdev *d = wd.dirty_head;

	wd.dirty_head = d->dnext;
	if (wd.dirty_head == NULL)
		wd.dirty_tail = NULL;
	wd.ndirty--;
	d->dirty = 0;
	return d;
}

/*
 * Evaluates at most WD_EVAL_BATCH devices, XSB_DEVS at a time with their
 * nodes read in one pipelined burst (ev_fn->read), then yields to the
 * loop: the rest is scheduled as a zero timeout, which libevent runs
 * after the next poll (an event_active() from inside the callback would
 * run in the same pass and starve the sockets).
 */
static void
eval_cb(evutil_socket_t fd, short ev, void *arg)
{
	static const struct timeval yield = { 0, 0 };
	struct wdev *devs[XSB_DEVS];
	struct fsm_in in[XSB_DEVS];
	unsigned want[XSB_DEVS];
	int ok[XSB_DEVS];
	size_t n, i, done = 0;

	eval_scheduled = 0;
	if (wd.shutting_down)
		return;
	while (done < WD_EVAL_BATCH && wd.dirty_head && wd.xs) {
		for (n = 0; n < XSB_DEVS && wd.dirty_head; n++) {
			devs[n] = dirty_pop();
			ev_fn->pre(devs[n]);
			want[n] = devs[n]->want;
			devs[n]->want = 0;
		}
		ev_fn->read(devs, n, want, in, ok);
		for (i = 0; i < n; i++) {
			if (!ok[i] || !wd.xs || devs[i]->dirty) {
				/* the rescan or the re-queue reads it later */
				devs[i]->want |= (uint8_t)want[i];
				continue;
			}
			ev_fn->eval(devs[i], &in[i]);	/* may free */
		}
		done += n;
	}
	if (wd.dirty_head && wd.xs) {
		eval_scheduled = 1;
		evtimer_add(wd.ev_eval, &yield);	/* after the next poll */
	}
	else if (wd.dirty_head == NULL && wd.reconcile_t0) {
		wd.st.reconcile_ms = now_ms() - wd.reconcile_t0;
		wd.reconcile_t0 = 0;
		log_info("reconcile: %zu devices evaluated %llu ms after the "
		    "scan began", wd.ndevs,
		    (unsigned long long)wd.st.reconcile_ms);
	}
}

/* ---- timers ---- */

static void
heap_swap(size_t a, size_t b)
{
	struct tmr t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
}

static void
heap_push(const struct tmr *t)
{
	size_t i;
	struct tmr *nh;

	if (nheap == heapcap) {
		heapcap = heapcap ? heapcap * 2 : 256;
		if ((nh = realloc(heap, heapcap * sizeof(*heap))) == NULL)
			fatal("timer heap");
		heap = nh;
	}
	i = nheap++;
	heap[i] = *t;
	while (i > 0 && heap[(i - 1) / 2].deadline > heap[i].deadline) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_pop(void)
{
	size_t i = 0, c;

	heap[0] = heap[--nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && heap[c + 1].deadline < heap[c].deadline)
			c++;
		if (heap[i].deadline <= heap[c].deadline)
			break;
		heap_swap(i, c);
		i = c;
	}
}

static void
timer_rearm(void)
{
	struct timeval tv;
	uint64_t now = now_ms(), ms;

	if (nheap == 0) {
		event_del(ev_timer);
		return;
	}
	ms = heap[0].deadline > now ? heap[0].deadline - now : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	event_add(ev_timer, &tv);
}

void
dev_timer_arm(struct wdev *d, int timer, uint32_t ms)
{
	struct tmr t;

	d->timer_gen = ++timer_gen;
	d->timer = (uint8_t)timer;
	d->timer_fired = 0;
	t.deadline = now_ms() + ms;
	t.domid = d->domid;
	t.devid = d->devid;
	t.kind = d->kind;
	t.gen = d->timer_gen;
	heap_push(&t);
	if (heap[0].gen == t.gen && heap[0].domid == t.domid &&
	    heap[0].devid == t.devid && heap[0].kind == t.kind)
		timer_rearm();
}

void
dev_timer_cancel(struct wdev *d)
{
	d->timer_gen = ++timer_gen;	/* the heap entry becomes stale */
	d->timer = T_NONE;
	d->timer_fired = 0;
}

void
devtab_run_timers(void)
{
	uint64_t now = now_ms();
	struct wdev *d;
	struct tmr t;

	while (nheap > 0 && heap[0].deadline <= now) {
		t = heap[0];
		heap_pop();
		d = dev_find(t.kind, t.domid, t.devid);
		if (d == NULL || d->timer_gen != t.gen || d->timer == T_NONE)
			continue;	/* freed, cancelled or re-armed */
		d->timer_fired = 1;
		dev_mark_dirty(d);
	}
	timer_rearm();
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	devtab_run_timers();
}
