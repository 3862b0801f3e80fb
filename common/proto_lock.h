/*
 * devsep-lockd protocol (message numbers 200..299), socket SOCK_LOCKD.
 *
 * Locks.  Per domain a SLOW lock (outside: held across slow work such as a
 * QMP exchange) and a FAST lock (inside: guards read/modify/write of the
 * domain's JSON config).  A lock belongs to (connection, owner): `owner` is a
 * number the client picks so one connection can carry several independent
 * operations (the broker's event loop); blocking clients use owner 0.  When
 * the connection closes, every lock of every owner on it is released and
 * the waiters are served FIFO.  At most 64 owners per connection may hold
 * or wait at once (ENOSPC beyond); an idle owner is forgotten.
 *
 * Lock order (deadlock freedom): rank(lock) = (kind, domid) with SLOW < FAST,
 * i.e. all slow locks in ascending domid, then fast locks in ascending domid.
 * A blocking ACQUIRE whose rank is not above every lock the owner holds is
 * refused at once with EDEADLK (message names the held lock).  A TRY acquire
 * never waits, so it is not order-checked.  One pending ACQUIRE per owner.
 *
 * Release is fire-and-forget: no reply.  The connection is ordered, so a
 * RELEASE followed by any other request is processed in that order.  A
 * RELEASE of a lock the owner is still waiting for cancels the wait; the
 * pending ACQUIRE then gets ERROR ECANCELED.
 *
 * Domain lifecycle (seed 002), persisted in the store:
 *
 *   state    event                      -> action / next state
 *   ABSENT   CREATE, slow lock free     -> write JSON / ACTIVE
 *   ABSENT   CREATE, slow lock held     -> EBUSY (a qmp op of the destroyed
 *                                          incarnation is still running)
 *   ACTIVE   CREATE                     -> EEXIST
 *   DYING    CREATE                     -> EBUSY (destroy in progress)
 *   ABSENT   DESTROY_BEGIN              -> tombstone, dm_gone=1 / DYING
 *   ACTIVE   DESTROY_BEGIN              -> fail fast+slow waiters ESRCH;
 *                                          reply once no fast holder / DYING
 *   DYING    DESTROY_BEGIN              -> same (idempotent: a restarted
 *                                          destroyer resumes)
 *   DYING    DM_GONE, fast lock free    -> dm_gone=1 (QEMU confirmed dead)
 *   DYING    DM_GONE, fast lock held    -> EBUSY (drain not complete)
 *   ACTIVE   DM_GONE                    -> EINVAL (destroy not begun)
 *   DYING    DESTROY_FINISH, dm_gone    -> remove JSON / ABSENT
 *   DYING    DESTROY_FINISH, !dm_gone   -> EBUSY
 *            or fast lock held
 * Each rule is checked by lockd/model/locks.pml.
 *   ABSENT   any other                  -> ESRCH
 *   DYING    ACQUIRE (slow or fast)     -> ESRCH
 *
 * DESTROY_BEGIN with LOCK_DESTROY_NO_DM (no device model) sets dm_gone.
 * The destroyer must have removed the domain's xenstore backends before
 * DESTROY_FINISH (lockd has no xenstore connection and cannot check).
 *
 * Replies: MSG_COMMON_OK (payload listed per request) or MSG_COMMON_ERROR
 * {u32 errno, str message}; every reply echoes the request's reqid.
 * JSON travels as a blob (u32 length + bytes, no NUL) of at most
 * LOCK_JSON_MAX bytes.
 */
#ifndef DEVSEP_PROTO_LOCK_H
#define DEVSEP_PROTO_LOCK_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define LOCK_SLOW		1u
#define LOCK_FAST		2u

#define LOCK_F_TRY		1u	/* ACQUIRE flags: do not wait (EAGAIN) */
#define LOCK_DESTROY_NO_DM	1u	/* DESTROY_BEGIN flags: no QEMU exists */

#define LOCK_TIMEOUT_DEFAULT	0u		/* config lock_timeout_ms */
#define LOCK_TIMEOUT_INFINITE	0xffffffffu
#define LOCK_DOMID_ALL		0xffffffffu	/* QUERY: every domain */

#define LOCK_JSON_MAX		(256 * 1024)
#define LOCK_MSG_MAX		(LOCK_JSON_MAX + 256)	/* channel maxsize */
#define LOCK_LIST_MAX		(1024 * 1024 - 64)	/* LIST reply blob */

enum msg_lock {
	/* u32 owner, u32 domid, u32 which (LOCK_SLOW|LOCK_FAST), u32 flags,
	 * u32 timeout_ms.  OK: u64 generation (fast; 0 for slow).
	 * ERROR: EDEADLK (order), EAGAIN (TRY, held), ETIMEDOUT, ESRCH
	 * (absent/dying domain), EINPROGRESS (owner already waits),
	 * ECANCELED (released while waiting). */
	MSG_LOCK_ACQUIRE	= 200,
	/* u32 owner, u32 domid, u32 which.  No reply. */
	MSG_LOCK_RELEASE	= 201,
	/* u32 owner, u32 domid.  Needs the fast lock.
	 * reply CONFIG: u64 generation, blob json (the "config" object). */
	MSG_LOCK_CONFIG_READ	= 202,
	MSG_LOCK_CONFIG		= 203,
	/* u32 owner, u32 domid, u64 expect_gen (0: unconditional),
	 * blob json (an object).  Needs the fast lock.  OK: u64 generation.
	 * ERROR: ESTALE (generation moved), EINVAL (not a JSON object). */
	MSG_LOCK_CONFIG_WRITE	= 204,
	/* u32 domid, blob json (initial config object; empty = {}).
	 * OK: u64 generation. */
	MSG_LOCK_DOMAIN_CREATE	= 205,
	/* u32 domid, u32 flags (LOCK_DESTROY_NO_DM), u32 timeout_ms.
	 * OK (empty) once the domain is DYING and no fast lock is held. */
	MSG_LOCK_DESTROY_BEGIN	= 206,
	/* u32 domid.  The device model is confirmed dead.  OK (empty). */
	MSG_LOCK_DM_GONE	= 207,
	/* u32 domid.  Removes the JSON.  OK (empty). */
	MSG_LOCK_DESTROY_FINISH	= 208,
	/* u32 domid or LOCK_DOMID_ALL.  reply QUERY_REPLY: str JSON
	 * {"domains":[{"domid","state","generation","dm_gone",
	 *   "slow":{"holder":{"pid","uid","peer","owner","since_ms"}|null,
	 *           "waiters":[{"pid","uid","peer","owner","waited_ms"}]},
	 *   "fast":{...}}]} */
	MSG_LOCK_QUERY		= 209,
	MSG_LOCK_QUERY_REPLY	= 210,
	/* empty.  reply LIST_REPLY: blob JSON {"domains":[{"domid","state",
	 * "generation","dm_gone","config":{...}|null}]} — a consistent
	 * snapshot of the whole store, for the invariant checker. */
	MSG_LOCK_LIST		= 211,
	MSG_LOCK_LIST_REPLY	= 212,
};

/*
 * One struct per message with its put/get (common/proto_lock.c; rules in
 * proto_hotplug.h: the caller initializes b as that message, put writes
 * the payload; get reads all of it or fails with the struct zeroed).  A
 * JSON blob is not copied: get points json into the message, valid while
 * the message is (json_len bytes, no NUL); over LOCK_JSON_MAX it fails
 * (the CONFIG reply: over LOCK_LIST_MAX, as lockd's client always read it).
 * LIST has no payload (msg_end).  OK replies with a generation: struct
 * lock_ok_gen on MSG_COMMON_OK.
 */
struct lock_acquire {			/* MSG_LOCK_ACQUIRE */
	uint32_t	owner, domid, which, flags, timeout_ms;
};
struct lock_release {			/* MSG_LOCK_RELEASE */
	uint32_t	owner, domid, which;
};
struct lock_config_read {		/* MSG_LOCK_CONFIG_READ */
	uint32_t	owner, domid;
};
struct lock_config {			/* MSG_LOCK_CONFIG (reply) */
	uint64_t	 generation;
	const void	*json;
	size_t		 json_len;
};
struct lock_config_write {		/* MSG_LOCK_CONFIG_WRITE */
	uint32_t	 owner, domid;
	uint64_t	 expect_gen;
	const void	*json;
	size_t		 json_len;
};
struct lock_domain_create {		/* MSG_LOCK_DOMAIN_CREATE */
	uint32_t	 domid;
	const void	*json;		/* json_len 0: {} */
	size_t		 json_len;
};
struct lock_destroy_begin {		/* MSG_LOCK_DESTROY_BEGIN */
	uint32_t	domid, flags, timeout_ms;
};
struct lock_dm_gone {			/* MSG_LOCK_DM_GONE */
	uint32_t	domid;
};
struct lock_destroy_finish {		/* MSG_LOCK_DESTROY_FINISH */
	uint32_t	domid;
};
struct lock_query {			/* MSG_LOCK_QUERY */
	uint32_t	domid;		/* or LOCK_DOMID_ALL */
};
struct lock_ok_gen {			/* MSG_COMMON_OK of ACQUIRE,
					   CONFIG_WRITE, DOMAIN_CREATE */
	uint64_t	generation;
};

struct msgbuf;
struct msg;
#define LOCK_CODEC(name)						\
void	lock_##name##_put(struct msgbuf *, const struct lock_##name *);	\
int	lock_##name##_get(struct msg *, struct lock_##name *)
LOCK_CODEC(acquire);
LOCK_CODEC(release);
LOCK_CODEC(config_read);
LOCK_CODEC(config);
LOCK_CODEC(config_write);
LOCK_CODEC(domain_create);
LOCK_CODEC(destroy_begin);
LOCK_CODEC(dm_gone);
LOCK_CODEC(destroy_finish);
LOCK_CODEC(query);
LOCK_CODEC(ok_gen);
#undef LOCK_CODEC

#endif
