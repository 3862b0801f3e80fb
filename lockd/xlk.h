/*
 * Domains that xl manages: devsep's slow and fast locks are libxl's lock
 * files, and the config is libxl's userdata JSON (lockd/libxl.h).
 *
 * A domain is in xl mode when lockd has no record of it (no DOMAIN_CREATE)
 * and libxl's userdata-d.<domid>.<uuid>.libxl-json exists in libxl_dir.
 * The lock table still orders devsep's own owners (FIFO, order checks,
 * EDEADLK, owner death); a grant by the table is only answered once lockd
 * also holds libxl's flock for that owner.  So at most one devsep owner at
 * a time waits for a given libxl lock file, and lockd holds the flock for
 * exactly as long as that owner holds the lock.
 *
 * Per (domid, which) entry, state table:
 *
 *   state    event                          -> action, next state
 *   -        ACQUIRE of an xl domain queued -> remember deadline, QUEUED
 *   -/QUEUED table grants                   -> lx_lock_try:
 *                                                got it: JSON still there?
 *                                                  yes: reply OK, HELD
 *                                                  no:  ESRCH, release, -
 *                                                busy: FLOCK (poll timer)
 *   QUEUED   table fails (timeout, ESRCH)   -> -
 *   FLOCK    poll: got it                   -> as above
 *   FLOCK    poll: deadline passed          -> ETIMEDOUT, table release, -
 *   FLOCK    RELEASE by the owner           -> ECANCELED, table release, -
 *   HELD     RELEASE                        -> unlink, LOCK_UN, close, -
 *   any      connection gone                -> (HELD: unlink) LOCK_UN,
 *                                              close, - (no reply)
 *
 * For the slow lock, "libxl's flock" is two files, taken in libxl's order:
 * libxl-device-changes-lock, then qmp-socket-lock (libxl takes the latter
 * inside the former while it talks QMP; the broker talks QMP under the
 * slow lock).  Released in reverse order.
 *
 * lockd never blocks in flock(2): FLOCK polls with LOCK_NB every
 * XLK_POLL_MS.  An xl process that asks while a devsep owner polls may
 * get the lock first (xl waits in the kernel); devsep owners among
 * themselves stay FIFO.  The devsep waiter is bounded by its timeout.
 */
#ifndef DEVSEP_LOCKD_XLK_H
#define DEVSEP_LOCKD_XLK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define XLK_POLL_MS	5
#define XLK_TRY		0	/* deadline of a try-lock: never waits */

struct event_base;

/*
 * A grant finished: rc 0 (reply OK with gen) or -errno (reply the error;
 * xlk gives the table's lock back itself).
 */
typedef void (*xlk_done_fn)(void *conn, uint32_t reqid, int rc,
    uint32_t domid, uint32_t which, uint64_t gen, const char *why);

/* dirfd: libxl_dir, or -1 (xl mode off).  Returns 0 or -1. */
int	xlk_init(struct event_base *, int dirfd, xlk_done_fn);
void	xlk_shutdown(void);
int	xlk_enabled(void);

/*
 * Before an ACQUIRE of a domain lockd has no record of: 1 if libxl manages
 * it (the table's domain state is set ACTIVE), 0 if not (ABSENT), -errno
 * (why set) if libxl's files are ambiguous.
 */
int	xlk_prepare(uint32_t domid, uint64_t now, char *why, size_t whysz);
/* 1 if domid is in xl mode (known from xlk_prepare). */
int	xlk_is_xl(uint32_t domid);

/* ACQUIRE of an xl domain was queued by the table. */
int	xlk_queued(void *conn, uint32_t owner, uint32_t reqid, uint32_t domid,
	    uint32_t which, uint64_t deadline);
/* The table granted (now, or from its queue: from_table 1, called inside
 * the table's callback): take libxl's flock; the reply goes through done.
 * deadline is used when nothing was queued. */
void	xlk_granted(void *conn, uint32_t owner, uint32_t reqid,
	    uint32_t domid, uint32_t which, uint64_t deadline, uint64_t now,
	    int from_table);
/* The table failed a queued request (no reply from xlk). */
void	xlk_failed(void *conn, uint32_t reqid);
/*
 * RELEASE by (conn, owner): 0 nothing of xlk's (the caller releases the
 * table lock), 1 released libxl's flock (the caller releases the table
 * lock too), 2 cancelled a flock wait (ECANCELED reported through done;
 * the caller releases the table lock and sends nothing else).
 */
int	xlk_release(void *conn, uint32_t owner, uint32_t domid,
	    uint32_t which);
/* 1 if (conn, owner) holds libxl's flock of (domid, which). */
int	xlk_holds(void *conn, uint32_t owner, uint32_t domid, uint32_t which);
/* Connection closed: drops its flocks (call before lt_conn_gone). */
size_t	xlk_conn_gone(void *conn);

/* Config of an xl domain (the caller holds the table's fast lock, and
 * so libxl's). */
int	xlk_config_get(uint32_t domid, json_t **cfg, uint64_t *gen,
	    char *why, size_t whysz);
int	xlk_config_put(uint32_t domid, const json_t *cfg, uint64_t expect,
	    uint64_t *newgen, char *why, size_t whysz);
/* The JSON of every xl domain lockd knows, for LIST: calls fn per domain. */
void	xlk_foreach(void (*fn)(void *, uint32_t domid, uint64_t gen,
	    json_t *cfg), void *arg);

/* For STATUS / tests. */
size_t	xlk_nwaiting(void);

#endif
