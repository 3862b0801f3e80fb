/* libxl's locks and JSON for domains that xl manages (see xlk.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "libxl.h"
#include "lockd.h"
#include "log.h"
#include "proto_lock.h"
#include "xlk.h"

#define US_PER_MS	1000ull

enum xlk_state { XLK_QUEUED, XLK_FLOCK, XLK_HELD };

struct xlk {
	LIST_ENTRY(xlk)	 link;
	enum xlk_state	 state;
	void		*conn;
	uint32_t	 owner, reqid, domid, which;
	uint64_t	 deadline;
	char		 uuid[LX_UUID_LEN + 1];
	int		 fd;		/* the lock's own file */
	int		 main_held;	/* fd holds it */
	int		 qfd;		/* slow lock: qmp-socket-lock too */
	int		 qheld;
};

/* A domain in xl mode: its uuid and the generation lockd reports. */
struct xldom {
	LIST_ENTRY(xldom) link;
	uint32_t	 domid;
	char		 uuid[LX_UUID_LEN + 1];
	struct lx_stamp	 stamp;
	uint64_t	 gen;
};

static struct {
	int			 dirfd;
	struct event		*ev_poll;
	xlk_done_fn		 done;
	size_t			 nflock;
	LIST_HEAD(, xlk)	 locks;
	LIST_HEAD(, xldom)	 doms;
} X = { .dirfd = -1 };

static void xlk_poll_cb(int, short, void *);

/* Gives back whatever libxl lock k holds (unlink first, libxl's order:
 * qmp-socket-lock, then the lock itself) and drops what it waits on. */
static void
lock_drop(struct xlk *k)
{
	if (k->qheld)
		lx_lock_release(X.dirfd, k->domid, k->uuid, LX_QMP_LOCK,
		    &k->qfd);
	else
		lx_lock_abandon(&k->qfd);
	if (k->main_held)
		lx_lock_release(X.dirfd, k->domid, k->uuid,
		    lx_lock_name(k->which), &k->fd);
	else
		lx_lock_abandon(&k->fd);
	k->qheld = k->main_held = 0;
}

int
xlk_init(struct event_base *base, int dirfd, xlk_done_fn done)
{
	LIST_INIT(&X.locks);
	LIST_INIT(&X.doms);
	X.dirfd = dirfd;
	X.done = done;
	if (dirfd == -1)
		return 0;
	X.ev_poll = evtimer_new(base, xlk_poll_cb, NULL);
	return X.ev_poll == NULL ? -1 : 0;
}

void
xlk_shutdown(void)
{
	struct xldom *d;
	struct xlk *k;

	while ((k = LIST_FIRST(&X.locks)) != NULL) {
		LIST_REMOVE(k, link);
		lock_drop(k);
		free(k);
	}
	while ((d = LIST_FIRST(&X.doms)) != NULL) {
		LIST_REMOVE(d, link);
		free(d);
	}
	if (X.ev_poll != NULL)
		event_free(X.ev_poll);
	X.ev_poll = NULL;
}

int
xlk_enabled(void)
{
	return X.dirfd != -1;
}

size_t
xlk_nwaiting(void)
{
	return X.nflock;
}

/* ------------------------------------------------------------ domains */

static struct xldom *
dom_find(uint32_t domid)
{
	struct xldom *d;

	LIST_FOREACH(d, &X.doms, link)
		if (d->domid == domid)
			return d;
	return NULL;
}

static void
dom_forget(uint32_t domid)
{
	struct xldom *d = dom_find(domid);

	if (d != NULL) {
		LIST_REMOVE(d, link);
		free(d);
	}
}

/* The cached uuid is still libxl's JSON, or a scan finds it. */
static int
dom_refresh(uint32_t domid, struct xldom **out, char *why, size_t whysz)
{
	struct xldom *d = dom_find(domid);
	struct lx_stamp st;
	char uuid[LX_UUID_LEN + 1];
	int r;

	if (d != NULL && lx_json_stamp(X.dirfd, domid, d->uuid, &st) == 0) {
		*out = d;
		return 1;
	}
	dom_forget(domid);
	if ((r = lx_probe(X.dirfd, domid, uuid)) <= 0) {
		if (r == -EEXIST)
			snprintf(why, whysz, "domid %u: two libxl userdata "
			    "JSON files (a stale one?): refusing", domid);
		else if (r < 0)
			snprintf(why, whysz, "domid %u: libxl_dir: %s", domid,
			    strerror(-r));
		return r;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	d->domid = domid;
	memcpy(d->uuid, uuid, sizeof(uuid));
	LIST_INSERT_HEAD(&X.doms, d, link);
	*out = d;
	return 1;
}

int
xlk_prepare(uint32_t domid, uint64_t now, char *why, size_t whysz)
{
	struct xldom *d;
	int r;

	if (X.dirfd == -1)
		return 0;
	r = dom_refresh(domid, &d, why, whysz);
	if (r == 1 && lt_domain_get(lockd->lt, domid) != LT_ACTIVE)
		lt_domain_set(lockd->lt, domid, LT_ACTIVE, now);
	else if (r <= 0 && lt_domain_get(lockd->lt, domid) == LT_ACTIVE)
		lt_domain_set(lockd->lt, domid, LT_ABSENT, now);
	return r;
}

int
xlk_is_xl(uint32_t domid)
{
	return dom_find(domid) != NULL;
}

/* The generation: bumped whenever the JSON file is not the one last seen. */
static int
dom_gen(struct xldom *d, uint64_t *gen)
{
	struct lx_stamp st;
	int r;

	if ((r = lx_json_stamp(X.dirfd, d->domid, d->uuid, &st)) != 0)
		return r;
	if (d->gen == 0 || memcmp(&st, &d->stamp, sizeof(st)) != 0) {
		d->stamp = st;
		d->gen++;
	}
	*gen = d->gen;
	return 0;
}

/* -------------------------------------------------------------- locks */

static struct xlk *
lock_find(void *conn, uint32_t reqid)
{
	struct xlk *k;

	LIST_FOREACH(k, &X.locks, link)
		if (k->conn == conn && k->reqid == reqid &&
		    k->state != XLK_HELD)
			return k;
	return NULL;
}

static struct xlk *
lock_find_owner(void *conn, uint32_t owner, uint32_t domid, uint32_t which)
{
	struct xlk *k;

	LIST_FOREACH(k, &X.locks, link)
		if (k->conn == conn && k->owner == owner &&
		    k->domid == domid && k->which == which)
			return k;
	return NULL;
}

static void
set_state(struct xlk *k, enum xlk_state st)
{
	if (k->state == XLK_FLOCK)
		X.nflock--;
	if (st == XLK_FLOCK)
		X.nflock++;
	k->state = st;
}

static void
lock_free(struct xlk *k)
{
	set_state(k, XLK_QUEUED);
	LIST_REMOVE(k, link);
	free(k);
}

static struct xlk *
lock_new(void *conn, uint32_t owner, uint32_t reqid, uint32_t domid,
    uint32_t which, uint64_t deadline)
{
	struct xlk *k;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->state = XLK_QUEUED;
	k->conn = conn;
	k->owner = owner;
	k->reqid = reqid;
	k->domid = domid;
	k->which = which;
	k->deadline = deadline;
	k->fd = k->qfd = -1;
	LIST_INSERT_HEAD(&X.locks, k, link);
	return k;
}

int
xlk_queued(void *conn, uint32_t owner, uint32_t reqid, uint32_t domid,
    uint32_t which, uint64_t deadline)
{
	return lock_new(conn, owner, reqid, domid, which, deadline) ? 0 :
	    -ENOMEM;
}

void
xlk_failed(void *conn, uint32_t reqid)
{
	struct xlk *k = lock_find(conn, reqid);

	if (k != NULL)
		lock_free(k);
}

/*
 * Fails k: answers rc, forgets k, gives the table's lock back (which may
 * grant the next devsep waiter at once, re-entering xlk_granted).
 */
static void
lock_fail(struct xlk *k, int rc, const char *why)
{
	void *conn = k->conn;
	uint32_t owner = k->owner, reqid = k->reqid, domid = k->domid;
	uint32_t which = k->which;

	lock_drop(k);
	lock_free(k);
	X.done(conn, reqid, rc, domid, which, 0, why);
	lt_release(lockd->lt, conn, owner, domid, which, now_us());
}

/* libxl's flock is ours: the domain must still be there (libxl checks
 * the same after locking). */
static void
lock_got(struct xlk *k)
{
	struct xldom *d = dom_find(k->domid);
	uint64_t gen = 0;
	char why[96];
	int r = d == NULL ? -ENOENT : dom_gen(d, &gen);

	if (r != 0) {
		lock_drop(k);
		snprintf(why, sizeof(why), "domid %u: libxl's domain JSON is "
		    "gone (domain destroyed)", k->domid);
		dom_forget(k->domid);
		lock_fail(k, -ESRCH, why);
		return;
	}
	set_state(k, XLK_HELD);
	X.done(k->conn, k->reqid, 0, k->domid, k->which,
	    k->which == LOCK_FAST ? gen : 0, "");
}

/* now: the next loop turn (a grant made inside the lock table's own
 * callback must not call back into the table), else in XLK_POLL_MS. */
static void
poll_arm(int now)
{
	struct timeval tv = { 0, now ? 0 : XLK_POLL_MS * 1000 };

	if (X.nflock == 0)
		return;
	if (now)
		evtimer_del(X.ev_poll);
	if (now || !evtimer_pending(X.ev_poll, NULL))
		evtimer_add(X.ev_poll, &tv);
}

/*
 * The libxl locks of k, in libxl's order: the lock's own file, then for
 * the slow lock qmp-socket-lock (libxl takes it inside its device-changes
 * lock whenever it talks QMP, and the broker talks QMP under the slow
 * lock).  0 all held, -EWOULDBLOCK, -errno.
 */
static int
lx_lock_step(struct xlk *k)
{
	int r;

	if (!k->main_held) {
		if ((r = lx_lock_try(X.dirfd, k->domid, k->uuid,
		    lx_lock_name(k->which), &k->fd)) != 0)
			return r;
		k->main_held = 1;
	}
	if (k->which != LOCK_SLOW || k->qheld)
		return 0;
	if ((r = lx_lock_try(X.dirfd, k->domid, k->uuid, LX_QMP_LOCK,
	    &k->qfd)) != 0)
		return r;
	k->qheld = 1;
	return 0;
}

/* One attempt; returns 1 when k is finished (held or failed). */
static int
lock_attempt(struct xlk *k, uint64_t now)
{
	char why[128];
	int r;

	if (k->uuid[0] == '\0') {
		snprintf(why, sizeof(why), "domid %u: libxl's domain JSON is "
		    "gone (domain destroyed)", k->domid);
		lock_fail(k, -ESRCH, why);
		return 1;
	}
	r = lx_lock_step(k);
	if (r == 0) {
		lock_got(k);
		return 1;
	}
	if (r == -EWOULDBLOCK && k->deadline == XLK_TRY) {
		snprintf(why, sizeof(why), "domid %u: libxl's %s is held",
		    k->domid, lx_lock_name(k->which));
		lock_fail(k, -EAGAIN, why);
		return 1;
	}
	if (r == -EWOULDBLOCK && now < k->deadline)
		return 0;
	if (r == -EWOULDBLOCK) {
		snprintf(why, sizeof(why), "domid %u: timed out waiting for "
		    "libxl's %s", k->domid, lx_lock_name(k->which));
		lock_fail(k, -ETIMEDOUT, why);
	} else {
		snprintf(why, sizeof(why), "domid %u: libxl's %s: %s",
		    k->domid, lx_lock_name(k->which), strerror(-r));
		lock_fail(k, r, why);
	}
	return 1;
}

void
xlk_granted(void *conn, uint32_t owner, uint32_t reqid, uint32_t domid,
    uint32_t which, uint64_t deadline, uint64_t now, int from_table)
{
	struct xldom *d = dom_find(domid);
	struct xlk *k = lock_find(conn, reqid);

	if (k == NULL && (k = lock_new(conn, owner, reqid, domid, which,
	    deadline)) == NULL) {
		/* the owner keeps the table lock until it releases it */
		X.done(conn, reqid, -ENOMEM, domid, which, 0, "no memory");
		return;
	}
	if (d != NULL)		/* else the domain is gone: fails ESRCH */
		memcpy(k->uuid, d->uuid, sizeof(k->uuid));
	set_state(k, XLK_FLOCK);
	if (from_table)
		poll_arm(1);
	else if (lock_attempt(k, now) == 0)
		poll_arm(0);
}

static void
xlk_poll_cb(int fd, short ev, void *arg)
{
	struct xlk *k, *next;
	uint64_t now = now_us();

	/*
	 * lock_attempt may free k and, through the table, add a new entry
	 * at the head: those are tried from their own xlk_granted call.
	 */
	for (k = LIST_FIRST(&X.locks); k != NULL; k = next) {
		next = LIST_NEXT(k, link);
		if (k->state == XLK_FLOCK)
			lock_attempt(k, now);
	}
	poll_arm(0);
	lockd_rearm_timer();
}

int
xlk_holds(void *conn, uint32_t owner, uint32_t domid, uint32_t which)
{
	struct xlk *k = lock_find_owner(conn, owner, domid, which);

	return k != NULL && k->state == XLK_HELD;
}

int
xlk_release(void *conn, uint32_t owner, uint32_t domid, uint32_t which)
{
	struct xlk *k = lock_find_owner(conn, owner, domid, which);
	uint32_t reqid;
	char why[96];

	if (k == NULL || k->state == XLK_QUEUED)
		return 0;
	if (k->state == XLK_HELD) {
		lock_drop(k);
		lock_free(k);
		return 1;
	}
	reqid = k->reqid;
	lock_drop(k);
	lock_free(k);
	snprintf(why, sizeof(why), "domid %u: cancelled by release", domid);
	X.done(conn, reqid, -ECANCELED, domid, which, 0, why);
	return 2;
}

size_t
xlk_conn_gone(void *conn)
{
	struct xlk *k, *next;
	size_t n = 0;

	for (k = LIST_FIRST(&X.locks); k != NULL; k = next) {
		next = LIST_NEXT(k, link);
		if (k->conn != conn)
			continue;
		n += k->state == XLK_HELD;
		lock_drop(k);
		lock_free(k);
	}
	return n;
}

/* ------------------------------------------------------------- config */

int
xlk_config_get(uint32_t domid, json_t **cfg, uint64_t *gen, char *why,
    size_t whysz)
{
	struct xldom *d = dom_find(domid);
	int r;

	if (d == NULL) {
		snprintf(why, whysz, "domid %u: not managed by libxl", domid);
		return -ESRCH;
	}
	if ((r = lx_json_read(X.dirfd, domid, d->uuid, cfg, why, whysz)))
		return r == -ENOENT ? -ESRCH : r;
	if ((r = dom_gen(d, gen)) != 0) {
		json_decref(*cfg);
		*cfg = NULL;
		snprintf(why, whysz, "domid %u: libxl JSON: %s", domid,
		    strerror(-r));
	}
	return r;
}

int
xlk_config_put(uint32_t domid, const json_t *cfg, uint64_t expect,
    uint64_t *newgen, char *why, size_t whysz)
{
	struct xldom *d = dom_find(domid);
	uint64_t gen;
	int r;

	if (d == NULL || dom_gen(d, &gen) != 0) {
		snprintf(why, whysz, "domid %u: libxl's domain JSON is gone",
		    domid);
		return -ESRCH;
	}
	if (expect != 0 && expect != gen) {
		snprintf(why, whysz, "domid %u: generation is %llu, not %llu",
		    domid, (unsigned long long)gen, (unsigned long long)expect);
		return -ESTALE;
	}
	if ((r = lx_json_write(X.dirfd, domid, d->uuid, cfg)) != 0) {
		snprintf(why, whysz, "domid %u: writing libxl's JSON: %s",
		    domid, strerror(-r));
		return r;
	}
	dom_gen(d, newgen);
	return 0;
}

struct each {
	void	(*fn)(void *, uint32_t, uint64_t, json_t *);
	void	*arg;
};

static void
each_one(void *arg, uint32_t domid, const char *uuid)
{
	struct each *e = arg;
	struct xldom *d = dom_find(domid);
	uint64_t gen = 0;
	json_t *cfg;
	char why[128];

	if (lx_json_read(X.dirfd, domid, uuid, &cfg, why, sizeof(why))) {
		log_warnx("lockd: domid=%u: %s", domid, why);
		return;
	}
	if (d != NULL && strcmp(d->uuid, uuid) == 0)
		dom_gen(d, &gen);
	e->fn(e->arg, domid, gen, cfg);
	json_decref(cfg);
}

void
xlk_foreach(void (*fn)(void *, uint32_t, uint64_t, json_t *), void *arg)
{
	struct each e = { fn, arg };

	if (X.dirfd != -1)
		lx_scan(X.dirfd, each_one, &e);
}
