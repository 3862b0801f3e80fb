/*
 * devsep-lockd request handling: the permission table (type -> peers ->
 * handler), one handler per message, replies, lock-table completions.
 * Payload layouts are in common/proto_lock.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "domain.h"
#include "lockd.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "proto_lock.h"
#include "reply.h"
#include "stats.h"
#include "status.h"
#include "xlk.h"

/*
 * Who takes locks and the JSON: the broker (QMP things) and the admin
 * (toolstack, devsepctl).  watcherd never talks to lockd: a compromised
 * watcherd must not rewrite the JSON the broker acts on.
 */
#define PEERS_LOCK	(PEER_BROKER | PEER_ADMIN)
#define US_PER_MS	1000ull

/* ------------------------------------------------------------ replies */

static void
send_or_drop(struct msgchan *ch, struct msgbuf *b)
{
	if (msgchan_send(ch, b) == -1)
		log_warn("lockd: reply to pid=%d failed",
		    (int)msgchan_cred(ch)->pid);
	msgbuf_dispose(b);
}

static void
reply_err(struct msgchan *ch, uint32_t reqid, int err, const char *why)
{
	struct msgbuf b;

	reply_error_init(&b, reqid, err, why);
	send_or_drop(ch, &b);
}

/* The OK replies are built on the stack: header + at most a u64. */
#define REPLY_OK_SIZE	(MSG_HDR_SIZE + sizeof(uint64_t))

static void
reply_ok_gen(struct msgchan *ch, uint32_t reqid, uint64_t gen)
{
	struct lock_ok_gen o = { gen };
	uint8_t store[REPLY_OK_SIZE];
	struct msgbuf b;

	msgbuf_init_buf(&b, MSG_COMMON_OK, reqid, store, sizeof(store));
	lock_ok_gen_put(&b, &o);
	send_or_drop(ch, &b);
}

static void
reply_ok(struct msgchan *ch, uint32_t reqid)
{
	uint8_t store[MSG_HDR_SIZE];
	struct msgbuf b;

	msgbuf_init_buf(&b, MSG_COMMON_OK, reqid, store, sizeof(store));
	send_or_drop(ch, &b);
}

/* Replies with type and a JSON document as a blob; E2BIG when too big. */
static void
reply_json(struct msgchan *ch, uint32_t type, uint32_t reqid, json_t *o,
    size_t max)
{
	struct msgbuf b;
	char *s = json_dumps(o, JSON_COMPACT);
	struct reply_json r = { s, s ? strlen(s) : 0 };

	if (s == NULL || r.len > max) {
		reply_err(ch, reqid, s ? E2BIG : ENOMEM, "reply too large");
		free(s);
		return;
	}
	msgbuf_init(&b, type, reqid);
	reply_json_put(&b, &r);
	send_or_drop(ch, &b);
	free(s);
}

static uint64_t
gen_of(uint32_t domid)
{
	const struct dom *d = dom_lookup(domid);

	return d ? d->gen : 0;
}

/* ------------------------------------------- lock-table completions */

static void
count_acquire_rc(int rc)
{
	switch (rc) {
	case 0:			stats_inc(ST_ACQ_IMMEDIATE); break;
	case 1:			stats_inc(ST_ACQ_QUEUED); break;
	case -EDEADLK:		stats_inc(ST_ACQ_EDEADLK); break;
	case -EAGAIN:		stats_inc(ST_ACQ_EAGAIN); break;
	case -ESRCH:		stats_inc(ST_ACQ_ESRCH); break;
	case -ETIMEDOUT:	stats_inc(ST_ACQ_TIMEOUT); break;
	case -ECANCELED:	stats_inc(ST_ACQ_CANCELLED); break;
	default:		stats_inc(ST_ACQ_OTHER_ERR); break;
	}
}

/* Is domid in xl mode (libxl's locks and JSON)?  lockd's own record wins. */
static int
is_xl(uint32_t domid)
{
	return dom_lookup(domid) == NULL && xlk_is_xl(domid);
}

static void
owner_of(void *arg, uint32_t domid, enum lt_dstate st,
    const struct lt_lockinfo *slow, const struct lt_lockinfo *fast)
{
	uint32_t *o = arg;

	*o = o[1] == LOCK_SLOW ? slow->owner : fast->owner;
}

/* The owner that the table just granted (domid, which) to. */
static uint32_t
holder_owner(uint32_t domid, uint32_t which)
{
	uint32_t o[2] = { 0, which };

	lt_visit(lockd->lt, domid, owner_of, o);
	return o[0];
}

/* xlk finished a grant of an xl domain's lock (libxl's flock). */
void
lockd_xlk_done(void *conn, uint32_t reqid, int rc, uint32_t domid,
    uint32_t which, uint64_t gen, const char *why)
{
	if (rc == 0) {
		reply_ok_gen(conn, reqid, gen);
		return;
	}
	count_acquire_rc(rc);
	reply_err(conn, reqid, -rc, why);
}

void
lockd_lt_done(void *arg, void *conn, uint32_t reqid, int rc, uint32_t domid,
    uint32_t which, uint64_t waited_us)
{
	struct msgchan *ch = conn;
	char why[128];

	if (which != 0 && is_xl(domid)) {
		if (rc == 0) {
			stats_wait_us(waited_us);
			xlk_granted(conn, holder_owner(domid, which), reqid,
			    domid, which, LT_NO_DEADLINE, now_us(), 1);
			return;
		}
		xlk_failed(conn, reqid);
	}
	if (which != 0) {
		stats_wait_us(waited_us);
		if (rc == 0)
			stats_inc(ST_ACQ_GRANTED_WAIT);
		else
			count_acquire_rc(rc);
	}
	if (rc == 0) {
		if (which == 0)
			reply_ok(ch, reqid);
		else
			reply_ok_gen(ch, reqid, which == LOCK_FAST ?
			    gen_of(domid) : 0);
		return;
	}
	snprintf(why, sizeof(why), "domid %u: %s%s", domid,
	    which == 0 ? "destroy drain: " : "", rc == -ESRCH ?
	    "domain is being destroyed" : rc == -ETIMEDOUT ? "timed out" :
	    rc == -ECANCELED ? "cancelled by release" : strerror(-rc));
	reply_err(ch, reqid, -rc, why);
}

static uint64_t
lockd_deadline(uint32_t timeout_ms, uint64_t now)
{
	if (timeout_ms == LOCK_TIMEOUT_INFINITE)
		return LT_NO_DEADLINE;
	if (timeout_ms == LOCK_TIMEOUT_DEFAULT)
		timeout_ms = lockd->cfg.lock_timeout_ms;
	return now + timeout_ms * US_PER_MS;
}

/*
 * Runs after every message: the timer follows the earliest deadline.
 * lockd->timer_at is the deadline it is armed for (LT_NO_DEADLINE: not
 * armed), so the common case (no waits, or the same earliest wait) costs
 * neither a clock read nor an event_del/event_add.
 */
void
lockd_rearm_timer(void)
{
	uint64_t next = lt_next_deadline(lockd->lt), now, d;
	struct timeval tv;

	if (next == lockd->timer_at)
		return;
	lockd->timer_at = next;
	if (next == LT_NO_DEADLINE) {
		event_del(lockd->ev_timer);
		return;
	}
	now = now_us();
	d = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(d / 1000000);
	tv.tv_usec = (suseconds_t)(d % 1000000);
	event_add(lockd->ev_timer, &tv);
}

void
lockd_timer_cb(int fd, short ev, void *arg)
{
	lockd->timer_at = LT_NO_DEADLINE;	/* fired: no longer armed */
	lt_expire(lockd->lt, now_us());
	lockd_rearm_timer();
}

/* ----------------------------------------------------------- handlers */

static int
lockd_dispatch_client_acquire(struct msgchan *ch, struct msg *m)
{
	struct lock_acquire a;
	const struct ucred *cr = msgchan_cred(ch);
	struct lt_ident id = { cr->pid, cr->uid, msgchan_peer(ch) };
	uint64_t now = now_us(), deadline;
	char why[256];
	int rc, xl = 0;

	if (lock_acquire_get(m, &a) == -1)
		return -1;
	deadline = lockd_deadline(a.timeout_ms, now);
	why[0] = '\0';
	if (dom_lookup(a.domid) == NULL &&
	    (xl = xlk_prepare(a.domid, now, why, sizeof(why))) < 0) {
		reply_err(ch, m->hdr.reqid, EIO, why);
		return 0;
	}
	rc = lt_acquire(lockd->lt, ch, a.owner, &id, a.domid, a.which,
	    (a.flags & LOCK_F_TRY) != 0, m->hdr.reqid, now, deadline, why,
	    sizeof(why));
	count_acquire_rc(rc);
	if (rc == 0 && xl)
		xlk_granted(ch, a.owner, m->hdr.reqid, a.domid, a.which,
		    (a.flags & LOCK_F_TRY) ? XLK_TRY : deadline, now, 0);
	else if (rc == 0)
		reply_ok_gen(ch, m->hdr.reqid, a.which == LOCK_FAST ?
		    gen_of(a.domid) : 0);
	else if (rc == 1 && xl &&
	    xlk_queued(ch, a.owner, m->hdr.reqid, a.domid, a.which,
	    deadline) < 0)
		lt_release(lockd->lt, ch, a.owner, a.domid, a.which, now);
	else if (rc < 0)
		reply_err(ch, m->hdr.reqid, -rc, why);
	return 0;
}

static int
lockd_dispatch_client_release(struct msgchan *ch, struct msg *m)
{
	struct lock_release r;
	int rc;

	if (lock_release_get(m, &r) == -1)
		return -1;
	/* libxl's flock goes first: the table may grant the next r.owner */
	xlk_release(ch, r.owner, r.domid, r.which);
	rc = lt_release(lockd->lt, ch, r.owner, r.domid, r.which, now_us());
	if (rc == -ENOENT) {
		stats_inc(ST_RELEASE_BAD);
		log_warnx("lockd: pid=%d released the %s lock of r.domid=%u "
		    "it does not hold (ignored)", (int)msgchan_cred(ch)->pid,
		    r.which == LOCK_FAST ? "fast" : "slow", r.domid);
	} else
		stats_inc(ST_RELEASE);
	return 0;
}

static int
fast_held(struct msgchan *ch, uint32_t reqid, uint32_t owner, uint32_t domid)
{
	char why[96];

	/* an xl domain: libxl's flock too, not only the table's grant */
	if (lt_holds(lockd->lt, ch, owner, domid, LOCK_FAST) &&
	    (!is_xl(domid) || xlk_holds(ch, owner, domid, LOCK_FAST)))
		return 1;
	snprintf(why, sizeof(why), "the fast lock of domid %u is not held "
	    "by owner %u of this connection", domid, owner);
	reply_err(ch, reqid, EPERM, why);
	return 0;
}

static int
lockd_dispatch_client_config_read(struct msgchan *ch, struct msg *m)
{
	struct lock_config_read r;
	struct lock_config reply;
	const json_t *cfg = NULL;
	json_t *xcfg = NULL;
	uint64_t gen;
	struct msgbuf b;
	char why[128], *s;
	int rc;

	if (lock_config_read_get(m, &r) == -1)
		return -1;
	if (!fast_held(ch, m->hdr.reqid, r.owner, r.domid))
		return 0;
	if (is_xl(r.domid))
		rc = xlk_config_get(r.domid, &xcfg, &gen, why, sizeof(why));
	else
		rc = dom_config_get(r.domid, &cfg, &gen, why, sizeof(why));
	if (rc != 0) {
		reply_err(ch, m->hdr.reqid, -rc, why);
		return 0;
	}
	s = json_dumps(xcfg ? xcfg : cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(xcfg);
	if (s == NULL) {
		reply_err(ch, m->hdr.reqid, ENOMEM, "no memory");
		return 0;
	}
	stats_inc(ST_CONFIG_READ);
	reply = (struct lock_config){ gen, s, strlen(s) };
	msgbuf_init(&b, MSG_LOCK_CONFIG, m->hdr.reqid);
	lock_config_put(&b, &reply);
	send_or_drop(ch, &b);
	free(s);
	return 0;
}

/* Parses a config object from a blob ("" means {}); NULL + why on error. */
static json_t *
parse_config(const void *p, size_t len, char *why, size_t whysz)
{
	json_error_t je;
	json_t *o;

	if (len == 0)
		return json_object();
	if ((o = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je)) == NULL) {
		snprintf(why, whysz, "bad JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		snprintf(why, whysz, "config must be a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
lockd_dispatch_client_config_write(struct msgchan *ch, struct msg *m)
{
	struct lock_config_write w;
	uint64_t newgen;
	json_t *cfg;
	char why[256];
	int rc;

	if (lock_config_write_get(m, &w) == -1)
		return -1;
	if (!fast_held(ch, m->hdr.reqid, w.owner, w.domid))
		return 0;
	if ((cfg = parse_config(w.json, w.json_len, why, sizeof(why))) ==
	    NULL) {
		reply_err(ch, m->hdr.reqid, EINVAL, why);
		return 0;
	}
	if (is_xl(w.domid)) {
		rc = xlk_config_put(w.domid, cfg, w.expect_gen, &newgen, why,
		    sizeof(why));
		json_decref(cfg);	/* xlk keeps no reference */
		cfg = NULL;
	} else
		rc = dom_config_put(w.domid, cfg, w.expect_gen, &newgen, why,
		    sizeof(why));
	if (rc != 0) {
		json_decref(cfg);
		stats_inc(rc == -ESTALE ? ST_CONFIG_ESTALE : ST_CONFIG_WRITE);
		reply_err(ch, m->hdr.reqid, -rc, why);
		return 0;
	}
	stats_inc(ST_CONFIG_WRITE);
	reply_ok_gen(ch, m->hdr.reqid, newgen);
	return 0;
}

static int
lockd_dispatch_admin_create(struct msgchan *ch, struct msg *m)
{
	struct lock_domain_create c;
	uint32_t domid;
	uint64_t gen;
	json_t *cfg;
	char why[256];
	int rc;

	if (lock_domain_create_get(m, &c) == -1)
		return -1;
	domid = c.domid;
	if ((cfg = parse_config(c.json, c.json_len, why, sizeof(why))) ==
	    NULL) {
		reply_err(ch, m->hdr.reqid, EINVAL, why);
		return 0;
	}
	why[0] = '\0';
	if (dom_lookup(domid) == NULL &&
	    xlk_prepare(domid, now_us(), why, sizeof(why)) != 0) {
		json_decref(cfg);
		if (why[0] == '\0')
			snprintf(why, sizeof(why), "domid %u is managed by "
			    "libxl (its userdata JSON exists)", domid);
		reply_err(ch, m->hdr.reqid, EEXIST, why);
		return 0;
	}
	rc = dom_create(domid, cfg, &gen, why, sizeof(why));
	json_decref(cfg);
	if (rc != 0) {
		reply_err(ch, m->hdr.reqid, -rc, why);
		return 0;
	}
	stats_inc(ST_CREATE);
	reply_ok_gen(ch, m->hdr.reqid, gen);
	return 0;
}

static int
lockd_dispatch_admin_destroy_begin(struct msgchan *ch, struct msg *m)
{
	struct lock_destroy_begin d;
	uint64_t now = now_us();
	char why[256];
	int rc;

	if (lock_destroy_begin_get(m, &d) == -1)
		return -1;
	if ((rc = dom_destroy_begin(d.domid, d.flags, now, why,
	    sizeof(why)))) {
		reply_err(ch, m->hdr.reqid, -rc, why);
		return 0;
	}
	rc = lt_drain(lockd->lt, ch, m->hdr.reqid, d.domid, now,
	    lockd_deadline(d.timeout_ms, now));
	if (rc == 0)
		reply_ok(ch, m->hdr.reqid);
	else if (rc < 0)
		reply_err(ch, m->hdr.reqid, -rc, "cannot wait for the drain");
	return 0;
}

static int
lockd_dispatch_broker_dm_gone(struct msgchan *ch, struct msg *m)
{
	struct lock_dm_gone g;
	char why[256];
	int rc;

	if (lock_dm_gone_get(m, &g) == -1)
		return -1;
	if ((rc = dom_dm_gone(g.domid, why, sizeof(why))) != 0)
		reply_err(ch, m->hdr.reqid, -rc, why);
	else
		reply_ok(ch, m->hdr.reqid);
	return 0;
}

static int
lockd_dispatch_admin_destroy_finish(struct msgchan *ch, struct msg *m)
{
	struct lock_destroy_finish f;
	char why[256];
	int rc;

	if (lock_destroy_finish_get(m, &f) == -1)
		return -1;
	if ((rc = dom_destroy_finish(f.domid, now_us(), why, sizeof(why)))) {
		reply_err(ch, m->hdr.reqid, -rc, why);
		return 0;
	}
	stats_inc(ST_DESTROY);
	reply_ok(ch, m->hdr.reqid);
	return 0;
}

/* QUERY: domains with their lock holders and waiters. */
struct qctx {
	json_t		*arr;
	uint64_t	 now;
};

static void
q_waiter(void *arg, const struct lt_ident *id, uint32_t owner, uint64_t since)
{
	struct qctx *q = arg;

	json_array_append_new(q->arr, json_pack("{s:i, s:I, s:s, s:I, s:I}",
	    "pid", (int)id->pid, "uid", (json_int_t)id->uid, "peer",
	    peer_class_name(id->peer), "owner", (json_int_t)owner,
	    "waited_ms", (json_int_t)((q->now - since) / US_PER_MS)));
}

static json_t *
q_lock(uint32_t domid, uint32_t which, const struct lt_lockinfo *li,
    uint64_t now)
{
	struct qctx q = { json_array(), now };
	json_t *h = json_null();

	if (li->held)
		h = json_pack("{s:i, s:I, s:s, s:I, s:I}", "pid",
		    (int)li->holder.pid, "uid", (json_int_t)li->holder.uid,
		    "peer", peer_class_name(li->holder.peer), "owner",
		    (json_int_t)li->owner, "held_ms",
		    (json_int_t)((now - li->since) / US_PER_MS));
	lt_visit_waiters(lockd->lt, domid, which, q_waiter, &q);
	return json_pack("{s:o, s:o}", "holder", h, "waiters", q.arr);
}

static void
q_dom(void *arg, uint32_t domid, enum lt_dstate st,
    const struct lt_lockinfo *slow, const struct lt_lockinfo *fast)
{
	struct qctx *q = arg;
	const struct dom *d = dom_lookup(domid);

	json_array_append_new(q->arr, json_pack("{s:I, s:s, s:I, s:b, s:o, "
	    "s:o}", "domid", (json_int_t)domid, "state", dom_state_name(st),
	    "generation", (json_int_t)(d ? d->gen : 0), "dm_gone",
	    d ? d->dm_gone : 0, "slow", q_lock(domid, LOCK_SLOW, slow, q->now),
	    "fast", q_lock(domid, LOCK_FAST, fast, q->now)));
}

static int
lockd_dispatch_client_query(struct msgchan *ch, struct msg *m)
{
	struct qctx q = { json_array(), now_us() };
	struct lock_query r;
	json_t *o;

	if (lock_query_get(m, &r) == -1) {
		json_decref(q.arr);
		return -1;
	}
	lt_visit(lockd->lt, r.domid, q_dom, &q);
	o = json_pack("{s:o}", "domains", q.arr);
	reply_json(ch, MSG_LOCK_QUERY_REPLY, m->hdr.reqid, o, LOCK_LIST_MAX);
	json_decref(o);
	return 0;
}

static void
list_dom(void *arg, const struct dom *d)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:I, s:b, s:O?}",
	    "domid", (json_int_t)d->domid, "state", dom_state_name(d->state),
	    "generation", (json_int_t)d->gen, "dm_gone", d->dm_gone,
	    "config", d->config));
}

/* An xl domain: its config is libxl's JSON ("toolstack": "libxl"). */
static void
list_xl(void *arg, uint32_t domid, uint64_t gen, json_t *cfg)
{
	if (dom_lookup(domid) != NULL)
		return;		/* lockd's own record wins */
	json_array_append_new(arg, json_pack("{s:I, s:s, s:I, s:b, s:s, "
	    "s:O}", "domid", (json_int_t)domid, "state", "active",
	    "generation", (json_int_t)gen, "dm_gone", 0, "toolstack",
	    "libxl", "config", cfg));
}

static int
lockd_dispatch_admin_list(struct msgchan *ch, struct msg *m)
{
	json_t *arr, *o;

	if (msg_end(m))
		return -1;
	arr = json_array();
	dom_foreach(list_dom, arr);
	xlk_foreach(list_xl, arr);
	o = json_pack("{s:o}", "domains", arr);
	reply_json(ch, MSG_LOCK_LIST_REPLY, m->hdr.reqid, o, LOCK_LIST_MAX);
	json_decref(o);
	return 0;
}

static int
lockd_dispatch_admin_status(struct msgchan *ch, struct msg *m)
{
	json_t *o;

	if (msg_end(m))
		return -1;
	o = status_json_new("lockd", (now_us() - lockd->start_us) / 1000000,
	    json_pack("{s:s, s:I, s:I}", "state_dir", lockd->cfg.state_dir,
	    "domains", (json_int_t)dom_count(), "connections",
	    (json_int_t)msglisten_count(lockd->listen)));
	reply_json(ch, MSG_COMMON_STATUS_REPLY, m->hdr.reqid, o,
	    LOCK_LIST_MAX);
	json_decref(o);
	return 0;
}

static int
lockd_dispatch_admin_stats(struct msgchan *ch, struct msg *m)
{
	json_t *o;

	if (msg_end(m))
		return -1;
	o = stats_json();
	reply_json(ch, MSG_COMMON_STATS_REPLY, m->hdr.reqid, o, LOCK_LIST_MAX);
	json_decref(o);
	return 0;
}

/* The permission matrix: who may send what. */
static const struct msg_handler handlers[] = {
	{ MSG_COMMON_STATUS, "status", PEER_ADMIN,
	    lockd_dispatch_admin_status },
	{ MSG_COMMON_STATS, "stats", PEER_ADMIN,
	    lockd_dispatch_admin_stats },
	{ MSG_LOCK_ACQUIRE, "acquire", PEERS_LOCK,
	    lockd_dispatch_client_acquire },
	{ MSG_LOCK_RELEASE, "release", PEERS_LOCK,
	    lockd_dispatch_client_release },
	{ MSG_LOCK_CONFIG_READ, "config_read", PEERS_LOCK,
	    lockd_dispatch_client_config_read },
	{ MSG_LOCK_CONFIG_WRITE, "config_write", PEERS_LOCK,
	    lockd_dispatch_client_config_write },
	{ MSG_LOCK_DOMAIN_CREATE, "domain_create", PEER_ADMIN,
	    lockd_dispatch_admin_create },
	{ MSG_LOCK_DESTROY_BEGIN, "destroy_begin", PEER_ADMIN,
	    lockd_dispatch_admin_destroy_begin },
	{ MSG_LOCK_DM_GONE, "dm_gone", PEER_BROKER | PEER_ADMIN,
	    lockd_dispatch_broker_dm_gone },
	{ MSG_LOCK_DESTROY_FINISH, "destroy_finish", PEER_ADMIN,
	    lockd_dispatch_admin_destroy_finish },
	{ MSG_LOCK_QUERY, "query", PEER_ADMIN,
	    lockd_dispatch_client_query },
	{ MSG_LOCK_LIST, "list", PEER_ADMIN,
	    lockd_dispatch_admin_list },
};

const struct msg_handler *
lockd_handlers(size_t *n)
{
	*n = sizeof(handlers) / sizeof(handlers[0]);
	return handlers;
}

/* -------------------------------------------------------- connections */

/* An idle admin connection that holds or waits for a lock is kept. */
static int
lockd_conn_busy(struct msgchan *ch)
{
	return lt_conn_busy(lockd->lt, ch);
}

static void
lockd_dispatch_peer(struct msgchan *ch, struct msg *m, void *arg)
{
	if (msg_dispatch(handlers, sizeof(handlers) / sizeof(handlers[0]),
	    ch, m) == -1) {
		stats_inc(ST_DROPPED);
		log_warnx("lockd: dropping pid=%d uid=%u peer=%s: bad or "
		    "unpermitted message type %u", (int)msgchan_cred(ch)->pid,
		    (unsigned)msgchan_cred(ch)->uid,
		    peer_class_name(msgchan_peer(ch)), m->hdr.type);
		msgchan_drop(ch, "bad message");
	}
	lockd_rearm_timer();
}

static void
lockd_conn_closed(struct msgchan *ch, void *arg)
{
	size_t n;

	xlk_conn_gone(ch);	/* libxl's flocks first */
	n = lt_conn_gone(lockd->lt, ch, now_us());

	if (n > 0)
		log_info("lockd: pid=%d went away holding %zu lock(s): "
		    "released", (int)msgchan_cred(ch)->pid, n);
	stats_add(ST_DEATH_RELEASED, n);
	msglisten_closed_peer(lockd->listen, msgchan_peer(ch));
	msgchan_free(ch);
	lockd_rearm_timer();
}

/*
 * Datagrams read from one client per wake-up.  A release is never
 * answered, so a client's release and its next request usually arrive
 * together: reading both per wake-up saves one epoll_wait per
 * acquire + release (bench/lock-bench, pinned: ~0.7 us of 12.7); each
 * client still gets at most this many per loop turn.
 */
#define LOCKD_READ_BATCH	2

/* A new connection (msglisten counts and limits them). */
int
lockd_accept(int fd, void *arg)
{
	struct msgchan_opts o = { .maxsize = LOCK_MSG_MAX };
	struct msgchan *ch;

	if ((ch = msgchan_new(lockd->base, fd, &o, lockd_dispatch_peer,
	    lockd_conn_closed, NULL)) == NULL)
		return -1;
	msgchan_set_read_batch(ch, LOCKD_READ_BATCH);
	if (msgchan_peer(ch) & PEER_ADMIN)
		msgchan_set_idle(ch, lockd->cfg.peer_idle_timeout_ms,
		    lockd_conn_busy);
	stats_inc(ST_CONN);
	return 0;
}
