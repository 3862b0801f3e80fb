/*
 * watcherd's xenstore transport, and nothing above it: one libxenstore
 * handle (XENSTORED_PATH is honoured by xs_open), ONE watch on
 * /local/domain/<self>/backend, one on @releaseDomain and one on
 * @introduceDomain; reads, writes, removals and the removal transactions.
 * What the events mean is the caller's: each is handed to the callbacks
 * watcherd.c set (struct xsio_ops: hint.c routes them), as are the
 * connection's coming and going (the jobs' scoped proxies, the relay
 * mode, the guests' evidence).  This file calls no other watcherd file
 * but xsbatch.c (its pipelined second connection).
 *
 * Connection loss (xenstored restarted): every failing call lands in
 * xsio_lost(), which tells ops->lost, closes the handle and retries
 * xs_open with exponential backoff (100 ms .. 5 s).  A keep-alive read
 * every second notices a silent loss.  On reconnect the watches are
 * registered again; xenstored fires each new watch once, and that first
 * backend-dir event runs the full scan (hint.c -> scan.c): every device
 * is reconciled from what xenstore says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <xenstore.h>

#include "daemon.h"
#include "log.h"
#include "parse.h"
#include "wd.h"
#include "xsbatch.h"
#include "xsutil.h"

#define TOK_BACKEND	"b"
#define TOK_RELEASE	"r"
#define TOK_INTRODUCE	"i"
#define XS_BACKOFF_MIN	100
#define XS_BACKOFF_MAX	5000
#define XS_PING_MS	1000
#define WATCH_BATCH	4096	/* events handled per loop turn */
#define XSIO_TX_TRIES	16	/* removal clean-up: commits that may conflict */
#define RM_PATH_MAX	256

static struct event *ev_ping;
static const struct xsio_ops *ops;

static void watch_cb(evutil_socket_t, short, void *);
static void retry_cb(evutil_socket_t, short, void *);
static void ping_cb(evutil_socket_t, short, void *);

static int
conn_errno(int e)
{
	return e == EINVAL || e == EPIPE || e == ECONNRESET || e == EBADF ||
	    e == ENOTCONN || e == EIO || e == ECONNREFUSED;
}

static void
check_err(const char *what)
{
	int e = errno;

	if (conn_errno(e)) {
		log_warnx("xenstore: %s: %s", what, strerror(e));
		xsio_lost(what);
	}
	errno = e;
}

static int
find_self(void)
{
	unsigned len;
	char *v;
	uint32_t id;

	if (wd.self_forced)
		return 0;
	v = xs_read(wd.xs, XBT_NULL, "domid", &len);
	if (v == NULL || memchr(v, '\0', len) || parse_domid(v, &id) == -1) {
		log_warnx("xenstore: cannot read our domid node; use --domid");
		free(v);
		return -1;
	}
	free(v);
	wd.self = id;
	return 0;
}

static int unprivileged;

/* XS_IS_DOMAIN_INTRODUCED is privileged: EACCES means a driver domain. */
static void
probe_privilege(void)
{
	errno = 0;
	if (xs_is_domain_introduced(wd.xs, wd.self) || errno != EACCES)
		return;
	if (!unprivileged)
		log_info("xenstore: not privileged (driver domain): guest "
		    "death is seen by polling the frontend dirs");
	unprivileged = 1;
}

static void
timer_ms(struct event *ev, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

	event_add(ev, &tv);
}

/* First connection; on failure keep retrying with backoff. */
void
xsio_start(const struct xsio_ops *o)
{
	ops = o;
	wd.ev_xsretry = evtimer_new(wd.base, retry_cb, NULL);
	ev_ping = evtimer_new(wd.base, ping_cb, NULL);
	if (xsio_connect() == 0)
		return;
	wd.xs_backoff_ms = XS_BACKOFF_MIN;
	timer_ms(wd.ev_xsretry, wd.xs_backoff_ms);
}

/* The pair of xsio_start: frees its timers (tests; the daemon just exits). */
void
xsio_stop(void)
{
	if (wd.ev_xsretry != NULL)
		event_free(wd.ev_xsretry);
	if (ev_ping != NULL)
		event_free(ev_ping);
	wd.ev_xsretry = ev_ping = NULL;
}

int
xsio_connect(void)
{
	if ((wd.xs = xs_open(0)) == NULL) {
		log_warn("xenstore: xs_open");
		return -1;
	}
	if (find_self() == -1)
		goto fail;
	probe_privilege();
	if (xsnprintf(wd.be_root, sizeof(wd.be_root),
	    "/local/domain/%u/backend", wd.self) == -1)
		goto fail;
	if (!xs_watch(wd.xs, wd.be_root, TOK_BACKEND) ||
	    !xs_watch(wd.xs, "@releaseDomain", TOK_RELEASE) ||
	    !xs_watch(wd.xs, "@introduceDomain", TOK_INTRODUCE)) {
		log_warn("xenstore: xs_watch");
		goto fail;
	}
	wd.ev_watch = event_new(wd.base, xs_fileno(wd.xs), EV_READ | EV_PERSIST,
	    watch_cb, NULL);
	event_add(wd.ev_watch, NULL);
	timer_ms(ev_ping, XS_PING_MS);
	wd.xs_backoff_ms = 0;
	if (!xsb_available() && xsb_open() == 0)
		log_info("xenstore: pipelined reads enabled");
	ops->connected();
	log_info("xenstore: connected, self domid=%u, watching %s", wd.self,
	    wd.be_root);
	return 0;
fail:
	xs_close(wd.xs);
	wd.xs = NULL;
	return -1;
}

void
xsio_lost(const char *why)
{
	if (wd.xs == NULL)
		return;
	log_warnx("xenstore: connection lost (%s); reconnecting", why);
	wd.st.xs_reconnects++;
	ops->lost();
	xsb_close();
	event_free(wd.ev_watch);
	wd.ev_watch = NULL;
	event_del(ev_ping);
	xs_close(wd.xs);
	wd.xs = NULL;
	wd.xs_backoff_ms = XS_BACKOFF_MIN;
	timer_ms(wd.ev_xsretry, wd.xs_backoff_ms);
}

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	if (wd.shutting_down || xsio_connect() == 0)
		return;
	wd.xs_backoff_ms = wd.xs_backoff_ms * 2;
	if (wd.xs_backoff_ms > XS_BACKOFF_MAX)
		wd.xs_backoff_ms = XS_BACKOFF_MAX;
	if (wd.xs_backoff_ms < XS_BACKOFF_MIN)
		wd.xs_backoff_ms = XS_BACKOFF_MIN;
	timer_ms(wd.ev_xsretry, wd.xs_backoff_ms);
}

static void
ping_cb(evutil_socket_t fd, short ev, void *arg)
{
	unsigned len;
	char *v;

	if (wd.xs == NULL)
		return;
	errno = 0;
	v = xs_read(wd.xs, XBT_NULL, "domid", &len);
	if (v == NULL && errno != ENOENT && errno != EACCES) {
		xsio_lost("keep-alive");
		return;
	}
	free(v);
	timer_ms(ev_ping, XS_PING_MS);
}

static int
watch_of(const char *token)
{
	if (strcmp(token, TOK_INTRODUCE) == 0)
		return XW_INTRODUCE;
	if (strcmp(token, TOK_RELEASE) == 0)
		return XW_RELEASE;
	return XW_BACKEND;
}

static void
watch_cb(evutil_socket_t fd, short ev, void *arg)
{
	char **vec;
	unsigned n = 0;

	while (wd.xs && n++ < WATCH_BATCH) {
		errno = 0;
		if ((vec = xs_check_watch(wd.xs)) == NULL) {
			if (errno != EAGAIN && errno != 0)
				check_err("watch");
			return;
		}
		wd.st.watch_events++;
		ops->event(watch_of(vec[XS_WATCH_TOKEN]), vec[XS_WATCH_PATH]);
		free(vec);
	}
}

/* ---- reads and writes (NULL/-1 with errno; connection loss handled) ---- */

char *
xsio_read(const char *path, unsigned *len)
{
	char *v;

	if (wd.xs == NULL) {
		errno = ENOTCONN;
		return NULL;
	}
	if ((v = xs_read(wd.xs, XBT_NULL, path, len)) == NULL)
		check_err(path);
	return v;
}

int
xsio_exists(const char *path)
{
	unsigned len;
	char *v = xsio_read(path, &len);

	free(v);
	return v != NULL;
}

int
xsio_write(const char *path, const char *val)
{
	if (wd.xs == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	if (!xs_write(wd.xs, XBT_NULL, path, val, strlen(val))) {
		log_warn("xenstore: write %s", path);
		check_err(path);
		return -1;
	}
	return 0;
}

int
xsio_rm(const char *path)
{
	if (wd.xs == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	if (!xs_rm(wd.xs, XBT_NULL, path) && errno != ENOENT) {
		log_warn("xenstore: rm %s", path);
		check_err(path);
		return -1;
	}
	return 0;
}

int
xsio_unprivileged(void)
{
	return unprivileged;
}

/*
 * Is domid introduced (XS_IS_DOMAIN_INTRODUCED)?  1 yes, 0 no, -1 unknown
 * (errno; EACCES: not privileged, remembered for xsio_unprivileged).
 */
int
xsio_introduced(uint32_t domid)
{
	if (wd.xs == NULL) {
		errno = ENOTCONN;
		return -1;
	}
	errno = 0;
	if (xs_is_domain_introduced(wd.xs, domid))
		return 1;
	if (errno == 0 || errno == ENOENT || errno == ESRCH)
		return 0;
	if (errno == EACCES)
		unprivileged = 1;
	else
		check_err("is_domain_introduced");
	return -1;
}

/* rm path (unless `self` is 0), then its parents while they are empty,
 * stopping above `stop` (libxl__xs_path_cleanup), in one transaction so a
 * sibling created meanwhile is never removed. */
struct rm_up {
	const char	*path;
	size_t		 stoplen;
	int		 self;
};

static int
rm_up_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct rm_up *a = arg;
	char p[RM_PATH_MAX], **v;
	unsigned n;
	char *slash;

	snprintf(p, sizeof(p), "%s", a->path);	/* length checked */
	if (a->self && !xs_rm(xs, t, p) && errno != ENOENT)
		return -1;
	while ((slash = strrchr(p, '/')) != NULL &&
	    (size_t)(slash - p) > a->stoplen) {
		*slash = '\0';
		if ((v = xs_directory(xs, t, p, &n)) == NULL)
			return errno == ENOENT ? 0 : -1;
		free(v);
		if (n > 0)
			break;
		if (!xs_rm(xs, t, p) && errno != ENOENT)
			return -1;
	}
	return 0;
}

/*
 * Several rm_up in ONE transaction: the emptied parents of a removal, or
 * (with `anchor` set) a whole orphan removal, only if the node `anchor`
 * (a frontend's `backend`) still says `want` and `want` (the backend dir)
 * is absent: the orphan check is in the same transaction as the removal.
 * `self` = also remove the paths themselves.
 */
struct rm_set {
	const struct xsio_rmpath	*v;
	size_t				 n;
	const char			*anchor, *want;
	int				 self;
};

static int
orphan_tx(struct xs_handle *xs, xs_transaction_t t, const struct rm_set *a)
{
	unsigned len;
	char *v;
	int same;

	if ((v = xs_read(xs, t, a->anchor, &len)) == NULL)
		return -1;
	same = len == strlen(a->want) && memcmp(v, a->want, len) == 0;
	free(v);
	if (!same) {
		errno = ESRCH;
		return -1;
	}
	if ((v = xs_read(xs, t, a->want, &len)) != NULL) {
		free(v);
		errno = EEXIST;
		return -1;
	}
	return errno == ENOENT ? 0 : -1;
}

static int
rm_set_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct rm_set *a = arg;
	struct rm_up u;
	size_t i;

	if (a->anchor != NULL && orphan_tx(xs, t, a) == -1)
		return -1;
	for (i = 0; i < a->n; i++) {
		u.path = a->v[i].path;
		u.stoplen = a->v[i].stoplen;
		u.self = a->self;
		if ((u.self || u.stoplen < strlen(u.path)) &&
		    rm_up_tx(xs, t, &u) == -1)
			return -1;
	}
	return 0;
}

static int
paths_ok(const struct xsio_rmpath *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i].path) >= RM_PATH_MAX)
			return 0;
	return 1;
}

/* Does any path ask for its emptied parents to be removed? */
static int
wants_parents(const struct xsio_rmpath *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].stoplen < strlen(v[i].path))
			return 1;
	return 0;
}

/*
 * Removes the paths with plain RMs, in the given order, then their
 * emptied parents in one transaction.  The caller puts the backend dir,
 * the start-up scan's anchor, last: a crash in between leaves a backend
 * whose removal the next scan finds and redoes, never an orphan frontend
 * (RELIABILITY bug 1).  Not one transaction for all (libxl's way): in
 * xenstored 4.17 removing device dirs inside a transaction cost ~5x the
 * plain RMs (issue 8: 18 s of xenstored CPU for a 10 000-device reconcile
 * with 3000 removals, 3.7 s without).  The parents stay in a transaction:
 * a child created between a listing and an RM must not be removed.
 */
int
xsio_rm_paths(const struct xsio_rmpath *v, size_t n)
{
	struct rm_set a = { v, n, NULL, NULL, 0 };
	size_t i;

	for (i = 0; i < n; i++)
		if (xsio_rm(v[i].path) == -1)
			return -1;	/* xenstore lost: the rescan redoes it */
	if (!wants_parents(v, n))
		return 0;
	if (wd.xs == NULL || !paths_ok(v, n)) {
		errno = wd.xs == NULL ? ENOTCONN : ENAMETOOLONG;
		return -1;
	}
	return xsu_transact(wd.xs, XSIO_TX_TRIES, rm_set_tx, &a);
}

/* 1: removed; 0: not an orphan (any more); -1: error (errno). */
int
xsio_rm_orphan(const char *anchor, const char *want,
    const struct xsio_rmpath *v, size_t n)
{
	struct rm_set a = { v, n, anchor, want, 1 };

	if (wd.xs == NULL || !paths_ok(v, n)) {
		errno = wd.xs == NULL ? ENOTCONN : ENAMETOOLONG;
		return -1;
	}
	if (xsu_transact(wd.xs, XSIO_TX_TRIES, rm_set_tx, &a) == 0)
		return 1;
	return errno == ESRCH || errno == EEXIST || errno == ENOENT ? 0 : -1;
}
