/*
 * The lock table: per-domain slow and fast locks, FIFO waiters, owners,
 * lock-order checks, timeouts, destroy drain.  Pure: no I/O, no clock (the
 * caller passes `now` in ms), so every rule is unit-tested directly.
 *
 * An owner is (conn, number): conn is the caller's opaque connection cookie.
 * Every completion of a *queued* request (grant, timeout, ESRCH because the
 * domain began dying, ECANCELED, destroy drain done) is reported through the
 * done callback; immediate results are returned by the call itself.
 *
 * Lock state machine, per lock (see also common/proto_lock.h):
 *
 *   state      event                     -> action, next state
 *   FREE       acquire                   -> grant now, HELD(o)
 *   HELD(o)    acquire by p, try         -> EAGAIN, HELD(o)
 *   HELD(o)    acquire by p, blocking    -> queue p (FIFO), HELD(o)
 *   HELD(o)    acquire by o              -> EDEADLK, HELD(o)
 *   HELD(o)    release by o / o's conn gone
 *                 waiters empty          -> FREE
 *                 waiters p1..pn         -> grant p1 (done 0), HELD(p1)
 *   any        waiter deadline passed    -> done ETIMEDOUT, remove waiter
 *   any        domain set DYING/ABSENT   -> every waiter: done ESRCH
 */
#ifndef DEVSEP_LOCKTABLE_H
#define DEVSEP_LOCKTABLE_H

#include <stddef.h>
#include <stdint.h>

#define LT_MAX_OWNERS_PER_CONN	64	/* owners holding or waiting */
#define LT_MAX_HELD		64	/* locks held by one owner */
#define LT_NO_DEADLINE		UINT64_MAX

enum lt_dstate {
	LT_ABSENT = 0,	/* no store: nothing may be locked */
	LT_ACTIVE,
	LT_DYING,	/* destroy begun: acquisitions fail ESRCH */
	LT_BROKEN,	/* corrupt store file: acquisitions fail EIO */
};

struct lt_ident {		/* who, for queries and logs */
	int32_t		pid;
	uint32_t	uid;
	uint32_t	peer;
};

struct locktable;

/*
 * A queued request finished.  which: LOCK_SLOW/LOCK_FAST, or 0 for a
 * destroy drain (lt_drain).  rc 0 or -errno.  waited_ms: time queued.
 */
typedef void (*lt_done_fn)(void *arg, void *conn, uint32_t reqid, int rc,
    uint32_t domid, uint32_t which, uint64_t waited_ms);

struct locktable *lt_new(lt_done_fn, void *arg);
void	lt_free(struct locktable *);

/* Domain state as the store says; DYING/ABSENT/BROKEN fail all waiters. */
void	lt_domain_set(struct locktable *, uint32_t domid, enum lt_dstate,
	    uint64_t now);
enum lt_dstate lt_domain_get(const struct locktable *, uint32_t domid);

/*
 * Returns 0 (granted now), 1 (queued: done() will report), or -errno:
 * ESRCH, EIO, EDEADLK, EAGAIN (try), EINPROGRESS (owner already waits),
 * ENOSPC (too many owners/locks), ENOMEM, EINVAL.  why gets a message on
 * error and is "" otherwise.
 */
int	lt_acquire(struct locktable *, void *conn, uint32_t owner,
	    const struct lt_ident *, uint32_t domid, uint32_t which,
	    int try_only, uint32_t reqid, uint64_t now, uint64_t deadline,
	    char *why, size_t whysz);
/* 0 released (next waiter granted), 1 cancelled a pending acquire (done()
 * reports ECANCELED), -ENOENT neither held nor waited. */
int	lt_release(struct locktable *, void *conn, uint32_t owner,
	    uint32_t domid, uint32_t which, uint64_t now);
/* 1 if (conn, owner) holds the lock. */
int	lt_holds(const struct locktable *, void *conn, uint32_t owner,
	    uint32_t domid, uint32_t which);
/* 1 if anyone holds the lock (also for an absent domain). */
int	lt_is_held(const struct locktable *, uint32_t domid, uint32_t which);
/* Releases everything of conn's owners, drops their waits silently.
 * Returns the number of locks released. */
size_t	lt_conn_gone(struct locktable *, void *conn, uint64_t now);
/* 1 while conn holds a lock or waits for one. */
int	lt_conn_busy(const struct locktable *, const void *conn);

/*
 * Destroy drain: done(which=0) once the domain's fast lock is free (now:
 * returns 0 without queuing).  Returns 1 queued, -ENOSPC.
 */
int	lt_drain(struct locktable *, void *conn, uint32_t reqid,
	    uint32_t domid, uint64_t now, uint64_t deadline);

/* Fails waits whose deadline is <= now (ETIMEDOUT). */
void	lt_expire(struct locktable *, uint64_t now);
/* Earliest pending deadline, LT_NO_DEADLINE if none. */
uint64_t lt_next_deadline(const struct locktable *);

/* Introspection for QUERY: calls fn for every domain known to the table. */
struct lt_lockinfo {
	int		 held;
	struct lt_ident	 holder;
	uint32_t	 owner;
	uint64_t	 since;		/* ms, caller's clock */
	size_t		 nwaiters;
};
typedef void (*lt_visit_fn)(void *arg, uint32_t domid, enum lt_dstate,
    const struct lt_lockinfo *slow, const struct lt_lockinfo *fast);
void	lt_visit(const struct locktable *, uint32_t domid_or_all,
	    lt_visit_fn, void *arg);
/* Waiters of one lock, in FIFO order (for QUERY). */
typedef void (*lt_waiter_fn)(void *arg, const struct lt_ident *,
    uint32_t owner, uint64_t since);
void	lt_visit_waiters(const struct locktable *, uint32_t domid,
	    uint32_t which, lt_waiter_fn, void *arg);

#endif
