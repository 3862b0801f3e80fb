/* The lock table (pure).  State machine: see locktable.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "locktable.h"
#include "proto_lock.h"

#define LT_BUCKETS	256

#ifndef TAILQ_FOREACH_SAFE	/* glibc's sys/queue.h lacks it */
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) && ((tvar) = TAILQ_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif

struct lt_owner;

struct lt_wait {
	TAILQ_ENTRY(lt_wait)	 entry;
	struct lt_owner		*owner;		/* NULL for a drain */
	void			*conn;
	uint32_t		 reqid;
	uint32_t		 domid;
	uint32_t		 which;		/* 0: drain */
	uint64_t		 since;
	uint64_t		 deadline;
};
TAILQ_HEAD(lt_waitq, lt_wait);

struct lt_held {
	uint32_t		 domid;
	uint32_t		 which;
	uint32_t		 epoch;		/* domain incarnation at grant */
};

struct lt_owner {
	TAILQ_ENTRY(lt_owner)	 entry;
	void			*conn;
	uint32_t		 num;
	struct lt_ident		 id;
	struct lt_held		 held[LT_MAX_HELD];
	size_t			 nheld;
	struct lt_wait		*pending;
};

struct lt_lock {
	struct lt_owner		*holder;
	uint64_t		 since;
	struct lt_waitq		 waiters;
	size_t			 nwaiters;
};

struct lt_dom {
	TAILQ_ENTRY(lt_dom)	 entry;
	uint32_t		 domid;
	enum lt_dstate		 state;
	uint32_t		 epoch;		/* bumped when it starts dying */
	struct lt_lock		 lk[2];		/* [0] slow, [1] fast */
	struct lt_waitq		 drains;
};

struct locktable {
	TAILQ_HEAD(, lt_dom)	 doms[LT_BUCKETS];
	TAILQ_HEAD(, lt_owner)	 owners;
	struct lt_owner		*spare;		/* one forgotten owner, reused */
	lt_done_fn		 done;
	void			*arg;
	size_t			 nwaits;	/* queued waits + drains */
};

static int
lk_index(uint32_t which)
{
	return which == LOCK_FAST ? 1 : 0;
}

static const char *
lk_name(uint32_t which)
{
	return which == LOCK_FAST ? "fast" : "slow";
}

/* Global order: every slow lock (ascending domid) before every fast lock. */
static uint64_t
lk_rank(uint32_t domid, uint32_t which)
{
	return ((uint64_t)lk_index(which) << 32) | domid;
}

struct locktable *
lt_new(lt_done_fn done, void *arg)
{
	struct locktable *lt;
	size_t i;

	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return NULL;
	for (i = 0; i < LT_BUCKETS; i++)
		TAILQ_INIT(&lt->doms[i]);
	TAILQ_INIT(&lt->owners);
	lt->done = done;
	lt->arg = arg;
	return lt;
}

static void
waitq_free(struct lt_waitq *q)
{
	struct lt_wait *w;

	while ((w = TAILQ_FIRST(q)) != NULL) {
		TAILQ_REMOVE(q, w, entry);
		free(w);
	}
}

void
lt_free(struct locktable *lt)
{
	struct lt_dom *d;
	struct lt_owner *o;
	size_t i;

	if (lt == NULL)
		return;
	for (i = 0; i < LT_BUCKETS; i++) {
		while ((d = TAILQ_FIRST(&lt->doms[i])) != NULL) {
			TAILQ_REMOVE(&lt->doms[i], d, entry);
			waitq_free(&d->lk[0].waiters);
			waitq_free(&d->lk[1].waiters);
			waitq_free(&d->drains);
			free(d);
		}
	}
	while ((o = TAILQ_FIRST(&lt->owners)) != NULL) {
		TAILQ_REMOVE(&lt->owners, o, entry);
		free(o);
	}
	free(lt->spare);
	free(lt);
}

/* ------------------------------------------------------------ domains */

static struct lt_dom *
dom_find(const struct locktable *lt, uint32_t domid)
{
	struct lt_dom *d;

	TAILQ_FOREACH(d, &lt->doms[domid % LT_BUCKETS], entry)
		if (d->domid == domid)
			return d;
	return NULL;
}

static struct lt_dom *
dom_get(struct locktable *lt, uint32_t domid)
{
	struct lt_dom *d;

	if ((d = dom_find(lt, domid)) != NULL)
		return d;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->domid = domid;
	d->state = LT_ABSENT;
	TAILQ_INIT(&d->lk[0].waiters);
	TAILQ_INIT(&d->lk[1].waiters);
	TAILQ_INIT(&d->drains);
	TAILQ_INSERT_TAIL(&lt->doms[domid % LT_BUCKETS], d, entry);
	return d;
}

/* Frees an absent domain entry that no lock, waiter or drain refers to. */
static void
dom_gc(struct locktable *lt, struct lt_dom *d)
{
	if (d->state != LT_ABSENT || d->lk[0].holder || d->lk[1].holder ||
	    d->lk[0].nwaiters || d->lk[1].nwaiters || !TAILQ_EMPTY(&d->drains))
		return;
	TAILQ_REMOVE(&lt->doms[d->domid % LT_BUCKETS], d, entry);
	free(d);
}

enum lt_dstate
lt_domain_get(const struct locktable *lt, uint32_t domid)
{
	const struct lt_dom *d = dom_find(lt, domid);

	return d ? d->state : LT_ABSENT;
}

static void owner_gc(struct locktable *, struct lt_owner *);

static void
wait_free(struct locktable *lt, struct lt_wait *w)
{
	lt->nwaits--;
	free(w);
}

static void
wait_finish(struct locktable *lt, struct lt_wait *w, int rc, uint64_t now)
{
	struct lt_owner *o = w->owner;

	lt->nwaits--;
	if (o != NULL)
		o->pending = NULL;
	lt->done(lt->arg, w->conn, w->reqid, rc, w->domid, w->which,
	    now > w->since ? now - w->since : 0);
	free(w);
	owner_gc(lt, o);
}

static void
lock_fail_waiters(struct locktable *lt, struct lt_lock *l, int rc,
    uint64_t now)
{
	struct lt_wait *w;

	while ((w = TAILQ_FIRST(&l->waiters)) != NULL) {
		TAILQ_REMOVE(&l->waiters, w, entry);
		l->nwaiters--;
		wait_finish(lt, w, rc, now);
	}
}

void
lt_domain_set(struct locktable *lt, uint32_t domid, enum lt_dstate st,
    uint64_t now)
{
	struct lt_dom *d;

	if ((d = dom_get(lt, domid)) == NULL)
		return;
	if (st != LT_ACTIVE && d->state != st) {
		if (d->state == LT_ACTIVE || d->state == LT_BROKEN)
			d->epoch++;
		lock_fail_waiters(lt, &d->lk[0], -ESRCH, now);
		lock_fail_waiters(lt, &d->lk[1], -ESRCH, now);
	}
	d->state = st;
	dom_gc(lt, d);
}

/* ------------------------------------------------------------- owners */

static struct lt_owner *
owner_find(const struct locktable *lt, void *conn, uint32_t num)
{
	struct lt_owner *o;

	TAILQ_FOREACH(o, &lt->owners, entry)
		if (o->conn == conn && o->num == num)
			return o;
	return NULL;
}

static struct lt_owner *
owner_get(struct locktable *lt, void *conn, uint32_t num,
    const struct lt_ident *id)
{
	struct lt_owner *o;
	size_t n = 0;

	if ((o = owner_find(lt, conn, num)) != NULL)
		return o;
	TAILQ_FOREACH(o, &lt->owners, entry)
		if (o->conn == conn)
			n++;
	if (n >= LT_MAX_OWNERS_PER_CONN)
		return NULL;
	/*
	 * The uncontended acquire + release creates and forgets an owner
	 * each time: keep the last forgotten one instead of calloc + free
	 * (held[] is only read below nheld, so it is not cleared).
	 */
	if ((o = lt->spare) != NULL)
		lt->spare = NULL;
	else if ((o = malloc(sizeof(*o))) == NULL)
		return NULL;
	o->conn = conn;
	o->num = num;
	o->id = id != NULL ? *id : (struct lt_ident){ 0, 0, 0 };
	o->nheld = 0;
	o->pending = NULL;
	TAILQ_INSERT_TAIL(&lt->owners, o, entry);
	return o;
}

/* An owner that holds nothing and waits for nothing is forgotten, so the
 * per-connection limit bounds owners in use, not numbers ever used. */
static void
owner_gc(struct locktable *lt, struct lt_owner *o)
{
	if (o == NULL || o->nheld > 0 || o->pending != NULL)
		return;
	TAILQ_REMOVE(&lt->owners, o, entry);
	if (lt->spare == NULL)
		lt->spare = o;
	else
		free(o);
}

static struct lt_held *
owner_held(struct lt_owner *o, uint32_t domid, uint32_t which)
{
	size_t i;

	for (i = 0; i < o->nheld; i++)
		if (o->held[i].domid == domid && o->held[i].which == which)
			return &o->held[i];
	return NULL;
}

static void
owner_add_held(struct lt_owner *o, const struct lt_dom *d, uint32_t which)
{
	o->held[o->nheld].domid = d->domid;
	o->held[o->nheld].which = which;
	o->held[o->nheld].epoch = d->epoch;
	o->nheld++;
}

static void
owner_del_held(struct lt_owner *o, struct lt_held *h)
{
	*h = o->held[--o->nheld];
}

/* ------------------------------------------------------------ acquire */

/* EDEADLK check: a blocking request must rank above every held lock. */
static int
order_check(const struct lt_owner *o, uint32_t domid, uint32_t which,
    int try_only, char *why, size_t whysz)
{
	uint64_t r = lk_rank(domid, which);
	const struct lt_held *h;
	size_t i;

	for (i = 0; i < o->nheld; i++) {
		h = &o->held[i];
		if (h->domid == domid && h->which == which) {
			snprintf(why, whysz, "already holds the %s lock of "
			    "domid %u", lk_name(which), domid);
			return -EDEADLK;
		}
		if (!try_only && lk_rank(h->domid, h->which) > r) {
			snprintf(why, whysz, "holds the %s lock of domid %u; "
			    "the %s lock of domid %u must be taken before it "
			    "(order: slow locks, then fast locks, ascending "
			    "domid)", lk_name(h->which), h->domid,
			    lk_name(which), domid);
			return -EDEADLK;
		}
	}
	return 0;
}

/* A fast lock must not be taken with a slow lock left from a destroyed
 * incarnation of the same domain (seed 002: the qmp op must bomb out). */
static int
epoch_check(struct lt_owner *o, const struct lt_dom *d, uint32_t which,
    char *why, size_t whysz)
{
	struct lt_held *h;

	if (which != LOCK_FAST ||
	    (h = owner_held(o, d->domid, LOCK_SLOW)) == NULL ||
	    h->epoch == d->epoch)
		return 0;
	snprintf(why, whysz, "slow lock of domid %u is from a destroyed "
	    "incarnation of the domain", d->domid);
	return -ESRCH;
}

static int
state_check(const struct lt_dom *d, uint32_t domid, char *why, size_t whysz)
{
	enum lt_dstate st = d ? d->state : LT_ABSENT;

	if (st == LT_ACTIVE)
		return 0;
	snprintf(why, whysz, "domid %u %s", domid, st == LT_DYING ?
	    "is being destroyed" : st == LT_BROKEN ?
	    "has a corrupt config store file" : "does not exist");
	return st == LT_BROKEN ? -EIO : -ESRCH;
}

static void
grant(struct lt_lock *l, struct lt_dom *d, struct lt_owner *o,
    uint32_t which, uint64_t now)
{
	l->holder = o;
	l->since = now;
	owner_add_held(o, d, which);
}

/* A waiter (lock or drain, which == 0) queued at now until deadline. */
static struct lt_wait *
wait_new(void *conn, uint32_t reqid, uint32_t domid, uint32_t which,
    uint64_t now, uint64_t deadline)
{
	struct lt_wait *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->conn = conn;
	w->reqid = reqid;
	w->domid = domid;
	w->which = which;
	w->since = now;
	w->deadline = deadline;
	return w;
}

static int
enqueue(struct locktable *lt, struct lt_lock *l, struct lt_owner *o,
    uint32_t reqid,
    uint32_t domid, uint32_t which, uint64_t now, uint64_t deadline)
{
	struct lt_wait *w;

	if ((w = wait_new(o->conn, reqid, domid, which, now, deadline)) ==
	    NULL)
		return -ENOMEM;
	w->owner = o;
	TAILQ_INSERT_TAIL(&l->waiters, w, entry);
	l->nwaiters++;
	lt->nwaits++;
	o->pending = w;
	return 1;
}

static int
acquire_checks(struct lt_owner *o, struct lt_dom *d, uint32_t domid,
    uint32_t which, int try_only, char *why, size_t whysz)
{
	int rc;

	if ((rc = state_check(d, domid, why, whysz)) != 0 ||
	    (rc = order_check(o, domid, which, try_only, why, whysz)) != 0 ||
	    (rc = epoch_check(o, d, which, why, whysz)) != 0)
		return rc;
	if (o->pending != NULL) {
		snprintf(why, whysz, "owner %u already waits for a lock",
		    o->num);
		return -EINPROGRESS;
	}
	if (o->nheld >= LT_MAX_HELD) {
		snprintf(why, whysz, "owner holds too many locks");
		return -ENOSPC;
	}
	return 0;
}

int
lt_acquire(struct locktable *lt, void *conn, uint32_t num,
    const struct lt_ident *id, uint32_t domid, uint32_t which, int try_only,
    uint32_t reqid, uint64_t now, uint64_t deadline, char *why, size_t whysz)
{
	struct lt_owner *o;
	struct lt_dom *d;
	struct lt_lock *l;
	int rc;

	if (whysz > 0)
		why[0] = '\0';	/* one store, not a snprintf per acquire */
	if (which != LOCK_SLOW && which != LOCK_FAST) {
		snprintf(why, whysz, "bad lock kind %u", which);
		return -EINVAL;
	}
	if ((o = owner_get(lt, conn, num, id)) == NULL) {
		snprintf(why, whysz, "too many owners on this connection");
		return -ENOSPC;
	}
	d = dom_find(lt, domid);
	if ((rc = acquire_checks(o, d, domid, which, try_only, why, whysz))) {
		owner_gc(lt, o);
		return rc;
	}
	l = &d->lk[lk_index(which)];
	if (l->holder == NULL) {
		grant(l, d, o, which, now);
		return 0;
	}
	if (try_only) {
		snprintf(why, whysz, "%s lock of domid %u is held by pid %d",
		    lk_name(which), domid, (int)l->holder->id.pid);
		owner_gc(lt, o);
		return -EAGAIN;
	}
	if ((rc = enqueue(lt, l, o, reqid, domid, which, now, deadline)) < 0) {
		snprintf(why, whysz, "out of memory queueing the wait");
		owner_gc(lt, o);
	}
	return rc;
}

/* ------------------------------------------------------------ release */

static void
drains_complete(struct locktable *lt, struct lt_dom *d, uint64_t now)
{
	struct lt_wait *w;

	if (d->lk[1].holder != NULL)
		return;
	while ((w = TAILQ_FIRST(&d->drains)) != NULL) {
		TAILQ_REMOVE(&d->drains, w, entry);
		wait_finish(lt, w, 0, now);
	}
}

/* Hands the lock to the first waiter (FIFO) or frees it. */
static void
lock_handoff(struct locktable *lt, struct lt_dom *d, uint32_t which,
    uint64_t now)
{
	struct lt_lock *l = &d->lk[lk_index(which)];
	struct lt_wait *w;

	l->holder = NULL;
	if ((w = TAILQ_FIRST(&l->waiters)) != NULL) {
		TAILQ_REMOVE(&l->waiters, w, entry);
		l->nwaiters--;
		grant(l, d, w->owner, which, now);
		wait_finish(lt, w, 0, now);
	}
	if (which == LOCK_FAST)
		drains_complete(lt, d, now);
}

static void
release_held(struct locktable *lt, struct lt_owner *o, struct lt_held *h,
    uint64_t now)
{
	struct lt_dom *d = dom_find(lt, h->domid);
	uint32_t which = h->which;

	owner_del_held(o, h);
	if (d == NULL)
		return;
	lock_handoff(lt, d, which, now);
	dom_gc(lt, d);
}

static void
cancel_pending(struct locktable *lt, struct lt_owner *o, int notify,
    uint64_t now)
{
	struct lt_wait *w = o->pending;
	struct lt_dom *d = dom_find(lt, w->domid);
	struct lt_lock *l = &d->lk[lk_index(w->which)];

	TAILQ_REMOVE(&l->waiters, w, entry);
	l->nwaiters--;
	o->pending = NULL;
	if (notify)
		wait_finish(lt, w, -ECANCELED, now);
	else
		wait_free(lt, w);
	dom_gc(lt, d);
}

int
lt_release(struct locktable *lt, void *conn, uint32_t num, uint32_t domid,
    uint32_t which, uint64_t now)
{
	struct lt_owner *o;
	struct lt_held *h;

	if ((o = owner_find(lt, conn, num)) == NULL)
		return -ENOENT;
	if ((h = owner_held(o, domid, which)) != NULL) {
		release_held(lt, o, h, now);
		owner_gc(lt, o);
		return 0;
	}
	if (o->pending != NULL && o->pending->domid == domid &&
	    o->pending->which == which) {
		cancel_pending(lt, o, 1, now);
		return 1;
	}
	return -ENOENT;
}

int
lt_holds(const struct locktable *lt, void *conn, uint32_t num,
    uint32_t domid, uint32_t which)
{
	struct lt_owner *o = owner_find(lt, conn, num);

	return o != NULL && owner_held(o, domid, which) != NULL;
}

int
lt_is_held(const struct locktable *lt, uint32_t domid, uint32_t which)
{
	const struct lt_dom *d = dom_find(lt, domid);

	return d != NULL && d->lk[lk_index(which)].holder != NULL;
}

static void
drains_drop_conn(struct locktable *lt, void *conn)
{
	struct lt_dom *d, *dn;
	struct lt_wait *w, *wn;
	size_t i;

	for (i = 0; i < LT_BUCKETS; i++) {
		TAILQ_FOREACH_SAFE(d, &lt->doms[i], entry, dn) {
			TAILQ_FOREACH_SAFE(w, &d->drains, entry, wn) {
				if (w->conn != conn)
					continue;
				TAILQ_REMOVE(&d->drains, w, entry);
				wait_free(lt, w);
			}
			dom_gc(lt, d);
		}
	}
}

size_t
lt_conn_gone(struct locktable *lt, void *conn, uint64_t now)
{
	struct lt_owner *o, *on;
	size_t n = 0;

	drains_drop_conn(lt, conn);
	TAILQ_FOREACH_SAFE(o, &lt->owners, entry, on) {
		if (o->conn != conn)
			continue;
		if (o->pending != NULL)
			cancel_pending(lt, o, 0, now);
		while (o->nheld > 0) {
			release_held(lt, o, &o->held[o->nheld - 1], now);
			n++;
		}
		TAILQ_REMOVE(&lt->owners, o, entry);
		free(o);
	}
	return n;
}

int
lt_conn_busy(const struct locktable *lt, const void *conn)
{
	const struct lt_owner *o;

	TAILQ_FOREACH(o, &lt->owners, entry)
		if (o->conn == conn && (o->nheld > 0 || o->pending != NULL))
			return 1;
	return 0;
}

/* -------------------------------------------------------- drain, time */

int
lt_drain(struct locktable *lt, void *conn, uint32_t reqid, uint32_t domid,
    uint64_t now, uint64_t deadline)
{
	struct lt_dom *d = dom_find(lt, domid);
	struct lt_wait *w;

	if (d == NULL || d->lk[1].holder == NULL)
		return 0;
	if ((w = wait_new(conn, reqid, domid, 0, now, deadline)) == NULL)
		return -ENOSPC;
	TAILQ_INSERT_TAIL(&d->drains, w, entry);
	lt->nwaits++;
	return 1;
}

static void
expire_queue(struct locktable *lt, struct lt_waitq *q, size_t *count,
    uint64_t now)
{
	struct lt_wait *w, *wn;

	TAILQ_FOREACH_SAFE(w, q, entry, wn) {
		if (w->deadline > now)
			continue;
		TAILQ_REMOVE(q, w, entry);
		if (count != NULL)
			(*count)--;
		wait_finish(lt, w, -ETIMEDOUT, now);
	}
}

void
lt_expire(struct locktable *lt, uint64_t now)
{
	struct lt_dom *d, *dn;
	size_t i;

	if (lt->nwaits == 0)
		return;
	for (i = 0; i < LT_BUCKETS; i++) {
		TAILQ_FOREACH_SAFE(d, &lt->doms[i], entry, dn) {
			expire_queue(lt, &d->lk[0].waiters, &d->lk[0].nwaiters,
			    now);
			expire_queue(lt, &d->lk[1].waiters, &d->lk[1].nwaiters,
			    now);
			expire_queue(lt, &d->drains, NULL, now);
			dom_gc(lt, d);
		}
	}
}

static uint64_t
queue_min_deadline(const struct lt_waitq *q, uint64_t min)
{
	const struct lt_wait *w;

	TAILQ_FOREACH(w, q, entry)
		if (w->deadline < min)
			min = w->deadline;
	return min;
}

uint64_t
lt_next_deadline(const struct locktable *lt)
{
	const struct lt_dom *d;
	uint64_t min = LT_NO_DEADLINE;
	size_t i;

	if (lt->nwaits == 0)	/* the common case: no walk */
		return min;
	for (i = 0; i < LT_BUCKETS; i++) {
		TAILQ_FOREACH(d, &lt->doms[i], entry) {
			min = queue_min_deadline(&d->lk[0].waiters, min);
			min = queue_min_deadline(&d->lk[1].waiters, min);
			min = queue_min_deadline(&d->drains, min);
		}
	}
	return min;
}

/* ------------------------------------------------------ introspection */

static void
lockinfo(const struct lt_lock *l, struct lt_lockinfo *li)
{
	memset(li, 0, sizeof(*li));
	li->held = l->holder != NULL;
	if (l->holder != NULL) {
		li->holder = l->holder->id;
		li->owner = l->holder->num;
	}
	li->since = l->since;
	li->nwaiters = l->nwaiters;
}

static void
visit_dom(const struct lt_dom *d, lt_visit_fn fn, void *arg)
{
	struct lt_lockinfo s, f;

	lockinfo(&d->lk[0], &s);
	lockinfo(&d->lk[1], &f);
	fn(arg, d->domid, d->state, &s, &f);
}

void
lt_visit(const struct locktable *lt, uint32_t domid, lt_visit_fn fn,
    void *arg)
{
	const struct lt_dom *d;
	size_t i;

	if (domid != LOCK_DOMID_ALL) {
		if ((d = dom_find(lt, domid)) != NULL)
			visit_dom(d, fn, arg);
		return;
	}
	for (i = 0; i < LT_BUCKETS; i++)
		TAILQ_FOREACH(d, &lt->doms[i], entry)
			visit_dom(d, fn, arg);
}

void
lt_visit_waiters(const struct locktable *lt, uint32_t domid, uint32_t which,
    lt_waiter_fn fn, void *arg)
{
	const struct lt_dom *d = dom_find(lt, domid);
	const struct lt_wait *w;

	if (d == NULL)
		return;
	TAILQ_FOREACH(w, &d->lk[lk_index(which)].waiters, entry)
		fn(arg, &w->owner->id, w->owner->num, w->since);
}
