/* Client side of devsep-lockd: blocking and async APIs (lockd_client.h). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lockd_client.h"
#include "msg.h"
#include "config.h"
#include "parse.h"
#include "reply.h"

#define LOCKC_REPLY_MAX		(LOCK_LIST_MAX + 64)
#define LOCKC_WAIT_MS		30000	/* replies that never wait on locks */
#define LOCKC_MARGIN_MS		5000	/* beyond lockd's own lock timeout */

/* What an OK-class reply carries. */
enum shape { SH_EMPTY, SH_GEN, SH_CONFIG, SH_JSON };

struct lockc_parsed {
	uint64_t	 gen;
	const void	*json;
	size_t		 json_len;
	char		 errmsg[256];
};

/* Decodes a reply m to a request expecting `want` (with shape sh). */
static int
reply_parse(struct msg *m, uint32_t want, enum shape sh,
    struct lockc_parsed *p)
{
	struct lock_ok_gen o;
	struct lock_config c;
	struct reply_json j;
	uint32_t err;

	memset(p, 0, sizeof(*p));
	if (m->hdr.type == MSG_COMMON_ERROR) {
		if (reply_error_get(m, &err, p->errmsg, sizeof(p->errmsg)) ||
		    err == 0)
			return -EBADMSG;
		return -(int)err;
	}
	if (m->hdr.type != want)
		return -EBADMSG;
	switch (sh) {
	case SH_GEN:
		if (lock_ok_gen_get(m, &o) == -1)
			return -EBADMSG;
		p->gen = o.generation;
		return 0;
	case SH_CONFIG:
		if (lock_config_get(m, &c) == -1)
			return -EBADMSG;
		p->gen = c.generation;
		p->json = c.json;
		p->json_len = c.json_len;
		return 0;
	case SH_JSON:		/* the JSON replies: QUERY, LIST, STATUS... */
		if (reply_json_get(m, want, LOCK_LIST_MAX, &j) == -1)
			return -EBADMSG;
		p->json = j.json;
		p->json_len = j.len;
		return 0;
	case SH_EMPTY:
		break;
	}
	return msg_end(m) == 0 ? 0 : -EBADMSG;
}

static char *
dup_json(const struct lockc_parsed *p)
{
	char *s = malloc(p->json_len + 1);

	if (s != NULL) {
		memcpy(s, p->json, p->json_len);
		s[p->json_len] = '\0';
	}
	return s;
}

/* ============================================================ blocking */

struct lockc {
	int		 fd;
	uint32_t	 reqid;
	uint8_t		*rbuf;		/* one reply; allocated once */
	char		 errmsg[256];
};

#define LOCKC_RBUF	(MSG_HDR_SIZE + LOCKC_REPLY_MAX + 1)

/*
 * Receives one reply into c->rbuf (m points into it: do not dispose).
 * No poll(2) when waiting forever: one recv per reply, like the raw
 * ping-pong this is benchmarked against.  0 or -errno.
 */
static int
lockc_recv(struct lockc *c, struct msg *m, int wait_ms)
{
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	ssize_t n;
	int r;

	if (wait_ms >= 0) {
		while ((r = poll(&pfd, 1, wait_ms)) == -1 && errno == EINTR)
			;
		if (r == -1)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
	}
	while ((n = recv(c->fd, c->rbuf, LOCKC_RBUF, MSG_TRUNC)) == -1 &&
	    errno == EINTR)
		;
	if (n == -1)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n >= LOCKC_RBUF ||
	    msg_parse(m, c->rbuf, (size_t)n, LOCKC_REPLY_MAX) == -1)
		return -EBADMSG;
	return 0;
}

struct lockc *
lockc_open(const char *rundir)
{
	char path[(CONFIG_PATH_MAX + 16)];
	struct lockc *c;
	int fd;

	if (xsnprintf(path, sizeof(path), "%s/%s", rundir, SOCK_LOCKD) == -1) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((fd = msg_connect_server(path, PEER_LOCKD, NULL)) == -1)
		return NULL;	/* EPERM: not lockd (an impostor) */
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->rbuf = malloc(LOCKC_RBUF)) == NULL) {
		free(c);
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	c->fd = fd;
	return c;
}

void
lockc_close(struct lockc *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->rbuf);
	free(c);
}

int
lockc_fd(const struct lockc *c)
{
	return c->fd;
}

const char *
lockc_errmsg(const struct lockc *c)
{
	return c->errmsg;
}

static int
lockc_send(struct lockc *c, struct msgbuf *b)
{
	int r = msg_send_fd(c->fd, b);

	msgbuf_dispose(b);
	return r == -1 ? -errno : 0;
}

/* Sends b, waits for the reply with the same reqid, decodes it. */
static int
lockc_call(struct lockc *c, struct msgbuf *b, uint32_t want, enum shape sh,
    int wait_ms, struct msg *m, struct lockc_parsed *p)
{
	uint32_t reqid = c->reqid;
	int rc;

	c->errmsg[0] = '\0';
	if ((rc = lockc_send(c, b)) != 0)
		return rc;
	do {	/* a reply to another reqid cannot happen in order: skip */
		if ((rc = lockc_recv(c, m, wait_ms)) != 0)
			return rc;
	} while (m->hdr.reqid != reqid);
	rc = reply_parse(m, want, sh, p);
	if (rc < 0)
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", p->errmsg[0] ?
		    p->errmsg : strerror(-rc));
	return rc;
}

static void
lockc_init(struct lockc *c, struct msgbuf *b, uint32_t type)
{
	msgbuf_init(b, type, ++c->reqid);
}

/*
 * Requests of a few u32 (acquire, release, ...) are built on the caller's
 * stack, in store[LOCKC_SMALL]: no malloc per request.
 */
#define LOCKC_SMALL	(MSG_HDR_SIZE + 5 * sizeof(uint32_t))

static void
lockc_init_small(struct lockc *c, struct msgbuf *b, uint32_t type,
    uint8_t *store)
{
	msgbuf_init_buf(b, type, ++c->reqid, store, LOCKC_SMALL);
}

/* One request whose OK reply carries shape sh; copies gen/json out. */
static int
lockc_simple(struct lockc *c, struct msgbuf *b, uint32_t want, enum shape sh,
    int wait_ms, uint64_t *gen, char **json)
{
	struct lockc_parsed p;
	struct msg m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.fd = -1;
	rc = lockc_call(c, b, want, sh, wait_ms, &m, &p);
	if (rc == 0 && gen != NULL)
		*gen = p.gen;
	if (rc == 0 && json != NULL && (*json = dup_json(&p)) == NULL)
		rc = -ENOMEM;
	return rc;	/* m points into c->rbuf: nothing to dispose */
}

static int
acquire_wait_ms(uint32_t timeout_ms)
{
	if (timeout_ms == LOCK_TIMEOUT_INFINITE ||
	    timeout_ms > INT32_MAX - LOCKC_MARGIN_MS)
		return -1;
	if (timeout_ms == LOCK_TIMEOUT_DEFAULT)
		return -1;	/* lockd's configured timeout applies */
	return (int)timeout_ms + LOCKC_MARGIN_MS;
}

static int
lockc_acq(struct lockc *c, uint32_t domid, uint32_t which, uint32_t flags,
    uint32_t timeout_ms, uint64_t *gen)
{
	struct lock_acquire a = { 0, domid, which, flags, timeout_ms };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_ACQUIRE, store);
	lock_acquire_put(&b, &a);
	return lockc_simple(c, &b, MSG_COMMON_OK, SH_GEN,
	    acquire_wait_ms(timeout_ms), gen, NULL);
}

int
lockc_acquire(struct lockc *c, uint32_t domid, uint32_t which,
    uint32_t timeout_ms, uint64_t *gen)
{
	return lockc_acq(c, domid, which, 0, timeout_ms, gen);
}

int
lockc_trylock(struct lockc *c, uint32_t domid, uint32_t which, uint64_t *gen)
{
	return lockc_acq(c, domid, which, LOCK_F_TRY, 0, gen);
}

int
lockc_release(struct lockc *c, uint32_t domid, uint32_t which)
{
	struct lock_release r = { 0, domid, which };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_RELEASE, store);
	lock_release_put(&b, &r);
	return lockc_send(c, &b);
}

int
lockc_config_read(struct lockc *c, uint32_t domid, char **json,
    uint64_t *gen)
{
	struct lock_config_read r = { 0, domid };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_CONFIG_READ, store);
	lock_config_read_put(&b, &r);
	return lockc_simple(c, &b, MSG_LOCK_CONFIG, SH_CONFIG, LOCKC_WAIT_MS,
	    gen, json);
}

int
lockc_config_write(struct lockc *c, uint32_t domid, const char *json,
    uint64_t expect_gen, uint64_t *newgen)
{
	struct lock_config_write w = { 0, domid, expect_gen,
	    json ? json : "", json ? strlen(json) : 0 };
	struct msgbuf b;

	lockc_init(c, &b, MSG_LOCK_CONFIG_WRITE);
	lock_config_write_put(&b, &w);
	return lockc_simple(c, &b, MSG_COMMON_OK, SH_GEN, LOCKC_WAIT_MS,
	    newgen, NULL);
}

int
lockc_domain_create(struct lockc *c, uint32_t domid, const char *json,
    uint64_t *gen)
{
	struct lock_domain_create d = { domid, json ? json : "",
	    json ? strlen(json) : 0 };
	struct msgbuf b;

	lockc_init(c, &b, MSG_LOCK_DOMAIN_CREATE);
	lock_domain_create_put(&b, &d);
	return lockc_simple(c, &b, MSG_COMMON_OK, SH_GEN, LOCKC_WAIT_MS, gen,
	    NULL);
}

int
lockc_destroy_begin(struct lockc *c, uint32_t domid, uint32_t flags,
    uint32_t timeout_ms)
{
	struct lock_destroy_begin d = { domid, flags, timeout_ms };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_DESTROY_BEGIN, store);
	lock_destroy_begin_put(&b, &d);
	return lockc_simple(c, &b, MSG_COMMON_OK, SH_EMPTY,
	    acquire_wait_ms(timeout_ms), NULL, NULL);
}

int
lockc_dm_gone(struct lockc *c, uint32_t domid)
{
	struct lock_dm_gone g = { domid };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_DM_GONE, store);
	lock_dm_gone_put(&b, &g);
	return lockc_simple(c, &b, MSG_COMMON_OK, SH_EMPTY, LOCKC_WAIT_MS,
	    NULL, NULL);
}

int
lockc_destroy_finish(struct lockc *c, uint32_t domid)
{
	struct lock_destroy_finish f = { domid };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_DESTROY_FINISH, store);
	lock_destroy_finish_put(&b, &f);
	return lockc_simple(c, &b, MSG_COMMON_OK, SH_EMPTY, LOCKC_WAIT_MS,
	    NULL, NULL);
}

int
lockc_query(struct lockc *c, uint32_t domid, char **json)
{
	struct lock_query q = { domid };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_QUERY, store);
	lock_query_put(&b, &q);
	return lockc_simple(c, &b, MSG_LOCK_QUERY_REPLY, SH_JSON,
	    LOCKC_WAIT_MS, NULL, json);
}

int
lockc_list(struct lockc *c, char **json)
{
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, MSG_LOCK_LIST, store);
	return lockc_simple(c, &b, MSG_LOCK_LIST_REPLY, SH_JSON,
	    LOCKC_WAIT_MS, NULL, json);
}

int
lockc_status(struct lockc *c, int stats, char **json)
{
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	lockc_init_small(c, &b, stats ? MSG_COMMON_STATS : MSG_COMMON_STATUS,
	    store);
	return lockc_simple(c, &b, stats ? MSG_COMMON_STATS_REPLY :
	    MSG_COMMON_STATUS_REPLY, SH_JSON, LOCKC_WAIT_MS, NULL, json);
}

/* =============================================================== async */

struct lockc_req {
	TAILQ_ENTRY(lockc_req)	 entry;
	uint32_t		 reqid;
	uint32_t		 want;
	enum shape		 sh;
	lockc_cb		 cb;
	void			*arg;
};

struct lockc_async {
	struct msgchan		*ch;
	TAILQ_HEAD(, lockc_req)	 reqs;
	size_t			 npending;
	uint32_t		 reqid;
	void			(*on_lost)(void *);
	void			*arg;
};

static void
async_complete(struct lockc_req *r, int rc, const struct lockc_parsed *p)
{
	struct lockc_reply rep;
	char *json = NULL;

	memset(&rep, 0, sizeof(rep));
	rep.errmsg = "";
	if (p != NULL) {
		rep.gen = p->gen;
		rep.errmsg = p->errmsg;
		if (rc == 0 && p->json != NULL && (json = dup_json(p)) == NULL)
			rc = -ENOMEM;
		rep.json = json;
		rep.json_len = json ? p->json_len : 0;
	}
	r->cb(rc, &rep, r->arg);
	free(json);
	free(r);
}

static void
async_on_msg(struct msgchan *ch, struct msg *m, void *arg)
{
	struct lockc_async *la = arg;
	struct lockc_parsed p;
	struct lockc_req *r;
	int rc;

	TAILQ_FOREACH(r, &la->reqs, entry)
		if (r->reqid == m->hdr.reqid)
			break;
	if (r == NULL) {
		msgchan_drop(ch, "lockd reply to no request");
		return;
	}
	TAILQ_REMOVE(&la->reqs, r, entry);
	la->npending--;
	rc = reply_parse(m, r->want, r->sh, &p);
	if (rc == -EBADMSG)
		msgchan_drop(ch, "malformed lockd reply");
	async_complete(r, rc, &p);
}

static void
async_fail_all(struct lockc_async *la, int rc)
{
	struct lockc_req *r;

	while ((r = TAILQ_FIRST(&la->reqs)) != NULL) {
		TAILQ_REMOVE(&la->reqs, r, entry);
		la->npending--;
		async_complete(r, rc, NULL);
	}
}

static void
async_on_close(struct msgchan *ch, void *arg)
{
	struct lockc_async *la = arg;

	msgchan_free(ch);
	la->ch = NULL;
	async_fail_all(la, -ECONNRESET);
	if (la->on_lost != NULL)
		la->on_lost(la->arg);
}

struct lockc_async *
lockc_async_new(struct event_base *base, const char *rundir,
    void (*on_lost)(void *), void *arg)
{
	struct msgchan_opts o = { .maxsize = LOCKC_REPLY_MAX };
	struct lockc_async *la;
	char path[(CONFIG_PATH_MAX + 16)];
	int fd;

	if (xsnprintf(path, sizeof(path), "%s/%s", rundir, SOCK_LOCKD) == -1) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((la = calloc(1, sizeof(*la))) == NULL)
		return NULL;
	TAILQ_INIT(&la->reqs);
	la->on_lost = on_lost;
	la->arg = arg;
	if ((fd = msg_connect_server(path, PEER_LOCKD, NULL)) == -1) {
		free(la);	/* EPERM: not lockd (an impostor) */
		return NULL;
	}
	if ((la->ch = msgchan_new(base, fd, &o, async_on_msg, async_on_close,
	    la)) == NULL) {
		close(fd);
		free(la);
		errno = ENOMEM;
		return NULL;
	}
	msgchan_set_peer(la->ch, PEER_LOCKD);	/* verified at connect */
	return la;
}

void
lockc_async_free(struct lockc_async *la)
{
	struct lockc_req *r;

	if (la == NULL)
		return;
	while ((r = TAILQ_FIRST(&la->reqs)) != NULL) {
		TAILQ_REMOVE(&la->reqs, r, entry);
		free(r);
	}
	if (la->ch != NULL)
		msgchan_free(la->ch);
	free(la);
}

size_t
lockc_async_pending(const struct lockc_async *la)
{
	return la->npending;
}

/* Sends b; on success registers cb for the reply (when cb != NULL). */
static int
async_send(struct lockc_async *la, struct msgbuf *b, uint32_t want,
    enum shape sh, lockc_cb cb, void *arg)
{
	struct lockc_req *r = NULL;
	int rc = 0;

	if (la->ch == NULL) {
		rc = -ENOTCONN;
		goto out;
	}
	if (cb != NULL && (r = calloc(1, sizeof(*r))) == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	if (msgchan_send(la->ch, b) == -1) {
		rc = -errno;
		free(r);
		goto out;
	}
	if (r != NULL) {
		r->reqid = la->reqid;	/* the reqid b was built with */
		r->want = want;
		r->sh = sh;
		r->cb = cb;
		r->arg = arg;
		TAILQ_INSERT_TAIL(&la->reqs, r, entry);
		la->npending++;
	}
out:
	msgbuf_dispose(b);
	return rc;
}

int
lockc_async_acquire(struct lockc_async *la, uint32_t owner, uint32_t domid,
    uint32_t which, uint32_t flags, uint32_t timeout_ms, lockc_cb cb,
    void *arg)
{
	struct lock_acquire a = { owner, domid, which, flags, timeout_ms };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	msgbuf_init_buf(&b, MSG_LOCK_ACQUIRE, ++la->reqid, store, sizeof(store));
	lock_acquire_put(&b, &a);
	return async_send(la, &b, MSG_COMMON_OK, SH_GEN, cb, arg);
}

int
lockc_async_release(struct lockc_async *la, uint32_t owner, uint32_t domid,
    uint32_t which)
{
	struct lock_release r = { owner, domid, which };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	msgbuf_init_buf(&b, MSG_LOCK_RELEASE, ++la->reqid, store, sizeof(store));
	lock_release_put(&b, &r);
	return async_send(la, &b, 0, SH_EMPTY, NULL, NULL);
}

int
lockc_async_config_read(struct lockc_async *la, uint32_t owner,
    uint32_t domid, lockc_cb cb, void *arg)
{
	struct lock_config_read r = { owner, domid };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	msgbuf_init_buf(&b, MSG_LOCK_CONFIG_READ, ++la->reqid, store, sizeof(store));
	lock_config_read_put(&b, &r);
	return async_send(la, &b, MSG_LOCK_CONFIG, SH_CONFIG, cb, arg);
}

int
lockc_async_config_write(struct lockc_async *la, uint32_t owner,
    uint32_t domid, const char *json, uint64_t expect_gen, lockc_cb cb,
    void *arg)
{
	struct lock_config_write w = { owner, domid, expect_gen,
	    json ? json : "", json ? strlen(json) : 0 };
	struct msgbuf b;

	msgbuf_init(&b, MSG_LOCK_CONFIG_WRITE, ++la->reqid);
	lock_config_write_put(&b, &w);
	return async_send(la, &b, MSG_COMMON_OK, SH_GEN, cb, arg);
}

int
lockc_async_dm_gone(struct lockc_async *la, uint32_t domid, lockc_cb cb,
    void *arg)
{
	struct lock_dm_gone g = { domid };
	uint8_t store[LOCKC_SMALL];
	struct msgbuf b;

	msgbuf_init_buf(&b, MSG_LOCK_DM_GONE, ++la->reqid, store, sizeof(store));
	lock_dm_gone_put(&b, &g);
	return async_send(la, &b, MSG_COMMON_OK, SH_EMPTY, cb, arg);
}
