/*
 * Client side of devsep-lockd (protocol: common/proto_lock.h).
 *
 * (a) Blocking API (devsepctl, tests, simple tools): one connection, one
 *     request at a time, owner 0.  Every call returns 0 or -errno:
 *     EDEADLK (lock order), ETIMEDOUT, EAGAIN (trylock busy), ESRCH
 *     (absent or destroyed domain), ESTALE (compare-and-swap lost),
 *     EBUSY, ECONNRESET (lockd went away: every lock is gone too).
 *     lockc_errmsg() gives lockd's message for the last error.
 *
 * (b) Async API for libevent daemons (qemu-broker): requests carry a reqid
 *     and complete through a callback from the event loop, so a lock wait
 *     never blocks the loop.  `owner` separates independent operations on
 *     one connection (locks, order checks and waits are per owner).  When
 *     the connection is lost every pending callback runs with -ECONNRESET,
 *     then on_lost.
 */
#ifndef DEVSEP_LOCKD_CLIENT_H
#define DEVSEP_LOCKD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "proto_lock.h"

struct event_base;

/* ---- (a) blocking ---- */
struct lockc;

/* Connects to <rundir>/lockd.sock; NULL with errno set if lockd is absent. */
struct lockc	*lockc_open(const char *rundir);
void		 lockc_close(struct lockc *);
int		 lockc_fd(const struct lockc *);
const char	*lockc_errmsg(const struct lockc *);

/* which: LOCK_SLOW or LOCK_FAST.  timeout_ms: LOCK_TIMEOUT_DEFAULT,
 * LOCK_TIMEOUT_INFINITE or milliseconds.  *gen (may be NULL) gets the
 * domain's config generation when the fast lock was taken. */
int	lockc_acquire(struct lockc *, uint32_t domid, uint32_t which,
	    uint32_t timeout_ms, uint64_t *gen);
int	lockc_trylock(struct lockc *, uint32_t domid, uint32_t which,
	    uint64_t *gen);
/* Fire-and-forget; returns -errno only when the send failed. */
int	lockc_release(struct lockc *, uint32_t domid, uint32_t which);

/* Need the fast lock.  *json is malloc'ed (caller frees). */
int	lockc_config_read(struct lockc *, uint32_t domid, char **json,
	    uint64_t *gen);
/* expect_gen 0: unconditional; else -ESTALE if the generation moved. */
int	lockc_config_write(struct lockc *, uint32_t domid, const char *json,
	    uint64_t expect_gen, uint64_t *newgen);

/* Lifecycle (seed 002 order): create; destroy = begin -> (QEMU killed,
 * xenstore backends removed) -> dm_gone -> finish. */
int	lockc_domain_create(struct lockc *, uint32_t domid, const char *json,
	    uint64_t *gen);
int	lockc_destroy_begin(struct lockc *, uint32_t domid, uint32_t flags,
	    uint32_t timeout_ms);
int	lockc_dm_gone(struct lockc *, uint32_t domid);
int	lockc_destroy_finish(struct lockc *, uint32_t domid);

/* JSON documents, malloc'ed (caller frees); see proto_lock.h. */
int	lockc_query(struct lockc *, uint32_t domid, char **json);
int	lockc_list(struct lockc *, char **json);
/* MSG_COMMON_STATUS / MSG_COMMON_STATS. */
int	lockc_status(struct lockc *, int stats, char **json);

/* ---- (b) async, on libevent ---- */
struct lockc_async;

struct lockc_reply {
	uint64_t	 gen;		/* acquire(fast), config read/write, create */
	const char	*json;		/* config read / query / list, NUL-ended */
	size_t		 json_len;
	const char	*errmsg;	/* lockd's message when rc < 0, else "" */
};
/* rc: 0 or -errno.  reply is valid only during the callback. */
typedef void (*lockc_cb)(int rc, const struct lockc_reply *, void *arg);

/* Connects (blocking connect on a local socket, then nonblocking I/O);
 * NULL with errno if lockd is absent. */
struct lockc_async *lockc_async_new(struct event_base *, const char *rundir,
	    void (*on_lost)(void *arg), void *arg);
/* Pending callbacks are not called. */
void	lockc_async_free(struct lockc_async *);
/* Number of requests awaiting a reply. */
size_t	lockc_async_pending(const struct lockc_async *);

/* Each returns 0 (cb will run exactly once) or -errno (cb never runs). */
int	lockc_async_acquire(struct lockc_async *, uint32_t owner,
	    uint32_t domid, uint32_t which, uint32_t flags, uint32_t timeout_ms,
	    lockc_cb, void *arg);
/* No callback; cancels a pending acquire of that lock (its cb gets
 * -ECANCELED). */
int	lockc_async_release(struct lockc_async *, uint32_t owner,
	    uint32_t domid, uint32_t which);
int	lockc_async_config_read(struct lockc_async *, uint32_t owner,
	    uint32_t domid, lockc_cb, void *arg);
int	lockc_async_config_write(struct lockc_async *, uint32_t owner,
	    uint32_t domid, const char *json, uint64_t expect_gen, lockc_cb,
	    void *arg);
int	lockc_async_dm_gone(struct lockc_async *, uint32_t domid, lockc_cb,
	    void *arg);

#endif
