/*
 * The xenstore side of watcherd: one libxenstore handle (XENSTORED_PATH is
 * honoured by xs_open), ONE watch on /local/domain/<self>/backend, one on
 * @releaseDomain and one on @introduceDomain (guest death: scan.c).
 * Watch events are hints: the path is mapped to its device, which is
 * queued (coalesced) for re-evaluation.
 *
 * Connection loss (xenstored restarted): every failing call lands in
 * xsio_lost(), which closes the handle, closes the jobs' scoped proxies,
 * and retries xs_open with exponential backoff (100 ms .. 5 s).  A
 * keep-alive read every second notices a silent loss.  On reconnect the
 * watches are registered again; xenstored fires each new watch once, and
 * that first backend-dir event runs the full scan (scan.c): every device
 * is reconciled from what xenstore says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <xenstore.h>

#include "daemon.h"
#include "liveness.h"
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
xsio_start(void)
{
	wd.ev_xsretry = evtimer_new(wd.base, retry_cb, NULL);
	ev_ping = evtimer_new(wd.base, ping_cb, NULL);
	if (xsio_connect() == 0)
		return;
	wd.xs_backoff_ms = XS_BACKOFF_MIN;
	timer_ms(wd.ev_xsretry, wd.xs_backoff_ms);
}

static int scanned, release_seen;	/* since connect, see watch_cb */

int
xsio_connect(void)
{
	if ((wd.xs = xs_open(0)) == NULL) {
		log_warn("xenstore: xs_open");
		return -1;
	}
	if (find_self() == -1)
		goto fail;
	relay_mode_resolve();
	probe_privilege();
	if (xsnprintf(wd.be_root, sizeof(wd.be_root),
	    "/local/domain/%u/backend", wd.self) == -1)
		goto fail;
	guests_forget();	/* "seen introduced" was the old connection's */
	if (!xs_watch(wd.xs, wd.be_root, TOK_BACKEND) ||
	    !xs_watch(wd.xs, "@releaseDomain", TOK_RELEASE) ||
	    !xs_watch(wd.xs, "@introduceDomain", TOK_INTRODUCE)) {
		log_warn("xenstore: xs_watch");
		goto fail;
	}
	scanned = release_seen = 0;
	wd.ev_watch = event_new(wd.base, xs_fileno(wd.xs), EV_READ | EV_PERSIST,
	    watch_cb, NULL);
	event_add(wd.ev_watch, NULL);
	timer_ms(ev_ping, XS_PING_MS);
	wd.xs_backoff_ms = 0;
	if (!xsb_available() && xsb_open() == 0)
		log_info("xenstore: pipelined reads enabled");
	hpjobs_xs_back();
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
	hpjobs_xs_lost();
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

/* A hint for a path above device level: re-check the devices below it. */
struct prefix_arg { int kind; int has_domid; uint32_t domid; };

static void
mark_prefix(struct wdev *d, void *arg)
{
	struct prefix_arg *p = arg;

	if ((p->kind < 0 || d->kind == p->kind) &&
	    (!p->has_domid || d->domid == p->domid))
		dev_mark_dirty(d);
}

/*
 * xenstored fires every watch once when it is registered.  The backend
 * dir's first event runs scan_all(), which ends with scan_guests(); the
 * @releaseDomain registration event right after it would only ask every
 * guest again (issue 8: IS_DOMAIN_INTRODUCED twice per guest at start-up),
 * so the first @releaseDomain event after a connect is skipped when that
 * scan ran.  xenstored queues events in order, so a real release after
 * the registration comes after it and is not lost.
 */
static void
hint_above(const char *rest)
{
	struct prefix_arg p = { -1, 0, 0 };
	char kind[16];
	const char *slash;
	size_t n;

	if (*rest == '\0') {
		scan_all();
		scanned = 1;
		return;
	}
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n >= sizeof(kind))
		return;
	memcpy(kind, rest, n);
	kind[n] = '\0';
	if ((p.kind = kind_index(kind, 0)) < 0)
		return;		/* nothing tracked of that kind */
	if (slash && parse_domid(slash + 1, &p.domid) == 0)
		p.has_domid = 1;
	else if (slash)
		return;
	devtab_foreach(mark_prefix, &p);
}

/*
 * An event below a tracked device names what changed: `state`, `online`
 * and `hotplug-status` are the state machine's inputs and only that node
 * is read; `shutdown-request` and `shutdown-done` are read by the
 * evaluation itself (vbd, closing); the device dir itself (created, removed) reads all.  Anything
 * else (the backend's feature-* nodes, script, vifname...) is no input:
 * no evaluation.  A hotplug-status event caused by a write of ours whose
 * value is known (xsio_own_hs) is used up without a read.  For a device
 * not tracked, only an event below its dir adds it (xsio_hint): the dir's
 * own event is its removal (most often watcherd's own, the device just
 * freed) or a bare mkdir, while every node written fires its own event.
 */
static void
hint_node(struct wdev *d, const char *rest)
{
	if (*rest == '\0')
		dev_mark_dirty(d);
	else if (strcmp(rest, "state") == 0)
		dev_mark(d, WANT_STATE);
	else if (strcmp(rest, "online") == 0)
		dev_mark(d, WANT_ONLINE);
	else if (strcmp(rest, "hotplug-status") == 0 && d->hs_own > 0) {
		d->hs_own--;
		wd.st.hs_from_job++;
	} else if (strcmp(rest, "hotplug-status") == 0)
		dev_mark(d, WANT_HS);
	else if (strcmp(rest, "shutdown-done") == 0 ||
	    strcmp(rest, "shutdown-request") == 0)
		dev_mark(d, 0);
	else
		wd.st.hints_unused++;
}

void
xsio_hint(const char *path)
{
	struct backend_path bp;
	struct wdev *d;
	size_t rl = strlen(wd.be_root);
	int k;

	if (parse_backend_path(path, &bp) == 0 && bp.bdomid == wd.self) {
		if ((k = kind_index(bp.kind, 1)) < 0) {
			wd.st.hints_ignored++;
			return;
		}
		if ((d = dev_find((unsigned)k, bp.domid, bp.devid)) != NULL)
			hint_node(d, bp.rest);
		else if (*bp.rest == '\0')
			wd.st.hints_unused++;	/* see hint_node() */
		else if ((d = dev_add((unsigned)k, bp.domid, bp.devid)))
			dev_mark_dirty(d);
		return;
	}
	if (strncmp(path, wd.be_root, rl) == 0 &&
	    (path[rl] == '\0' || path[rl] == '/')) {
		hint_above(path[rl] == '/' ? path + rl + 1 : "");
		return;
	}
	wd.st.hints_ignored++;
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
		if (strcmp(vec[XS_WATCH_TOKEN], TOK_INTRODUCE) == 0)
			scan_guests(GUESTS_UNSEEN);
		else if (strcmp(vec[XS_WATCH_TOKEN], TOK_RELEASE) != 0)
			xsio_hint(vec[XS_WATCH_PATH]);
		else if (!release_seen++ && scanned)
			wd.st.hints_coalesced++;	/* registration event */
		else
			scan_guests(GUESTS_NOT_DEAD);
		if (release_seen > 1)
			release_seen = 1;
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
 * What xenstore says now about guest domid (enum guest_evidence; the rule
 * that turns it into dead or alive is liveness.c).  dom0: introduced ->
 * LIFE; not introduced: /local/domain/<domid> absent -> GONE, present ->
 * NONE.  XS_IS_DOMAIN_INTRODUCED is privileged: a driver domain (EACCES,
 * remembered) reads the frontend dir of device d instead, which the
 * toolstack makes readable to the backend domain: readable -> LIFE,
 * ENOENT -> GONE, EACCES -> NONE (xenstored answers EACCES for a missing
 * node under an unreadable parent - a dead guest's frontend - and for a
 * node it may not read: no proof of absence).  The guest owns its
 * frontend dir and could hide it; that only affects its own devices.
 */
static int
evidence_dir(uint32_t domid)
{
	char p[64];
	unsigned len;
	char *v;

	if (xsnprintf(p, sizeof(p), "/local/domain/%u", domid) == -1)
		return E_UNKNOWN;
	errno = 0;
	if ((v = xsio_read(p, &len)) != NULL) {
		free(v);
		return E_NONE;
	}
	return errno == ENOENT ? E_GONE : E_UNKNOWN;
}

static int
evidence_frontend(const struct wdev *d)
{
	char p[192];
	unsigned len;
	char *v;

	if (d == NULL || dev_fe_path(d, p, sizeof(p)) == -1)
		return E_UNKNOWN;
	errno = 0;
	if ((v = xsio_read(p, &len)) != NULL) {
		free(v);
		return E_LIFE;
	}
	return errno == ENOENT ? E_GONE : errno == EACCES ? E_NONE : E_UNKNOWN;
}

int
xsio_guest_evidence(uint32_t domid, const struct wdev *d)
{
	if (wd.xs == NULL)
		return E_UNKNOWN;
	if (!unprivileged) {
		errno = 0;
		if (xs_is_domain_introduced(wd.xs, domid))
			return E_LIFE;
		if (errno == 0 || errno == ENOENT || errno == ESRCH)
			return evidence_dir(domid);
		if (errno != EACCES) {
			check_err("is_domain_introduced");
			return E_UNKNOWN;
		}
		unprivileged = 1;
	}
	return evidence_frontend(d);
}

int
dev_be_path(const struct wdev *d, char *buf, size_t sz)
{
	return xsnprintf(buf, sz, "%s/%s/%u/%u", wd.be_root, dev_kind(d),
	    d->domid, d->devid);
}

/* libxl's frontend path: qdisk's frontend is a vbd. */
int
dev_fe_path(const struct wdev *d, char *buf, size_t sz)
{
	const char *k = dev_kind(d);

	if (strcmp(k, "qdisk") == 0)
		k = "vbd";
	return xsnprintf(buf, sz, "/local/domain/%u/device/%s/%u", d->domid,
	    k, d->devid);
}

/* ---- one device's nodes ---- */

/* Value parsers: v may be NULL (absent); len is the value's real length. */
static void
val_state(const char *v, int len, int *out)
{
	*out = XS_ABSENT;
	if (v == NULL || len < 0)
		return;
	if (parse_xenbus_state(v, (size_t)len, out) == -1) {
		*out = XS_INVALID;
		wd.st.invalid_values++;
	}
}

static void
val_online(const char *v, int len, int *out)
{
	*out = XS_ABSENT;
	if (v == NULL || len < 0)
		return;
	if (len == 1 && (v[0] == '0' || v[0] == '1'))
		*out = v[0] - '0';
	else
		*out = XS_INVALID;
}

static void
val_hs(const char *v, int len, int *out)
{
	*out = HS_NONE;
	if (v == NULL || len <= 0)
		return;
	if (len == 9 && memcmp(v, "connected", 9) == 0)
		*out = HS_CONNECTED;
	else if (len == 5 && memcmp(v, "error", 5) == 0)
		*out = HS_ERROR;
	else if (len == 4 && memcmp(v, "busy", 4) == 0)
		*out = HS_BUSY;
	else
		*out = HS_OTHER;
}

/* Reads dir/node with libxenstore into the parser; -1 when xenstore went. */
static int
read_node(const char *dir, const char *node,
    void (*parse)(const char *, int, int *), int *out)
{
	char p[256];
	unsigned len;
	char *v;

	parse(NULL, -1, out);
	if (xsnprintf(p, sizeof(p), "%s/%s", dir, node) == -1)
		return 0;
	if ((v = xsio_read(p, &len)) == NULL)
		return wd.xs ? 0 : -1;
	parse(v, (int)len, out);
	free(v);
	return 0;
}

static int
read_state(const char *dir, const char *node, int *out)
{
	return read_node(dir, node, val_state, out);
}

/*
 * The I/O-done signal (seed 003) is a request and an answer: the toolstack
 * writes `shutdown-request` into a vbd backend, and a backend that speaks
 * the protocol (XenServer's blkback and tapback, asked by xenopsd's
 * Device.Vbd.request_shutdown) writes `shutdown-done` once its outstanding
 * I/O completed.  Where nobody asked (libxl and xl never write the
 * request; Linux's xen-blkback never writes the answer) state 6 is the
 * signal: xen-blkback switches to Closed after xen_blkif_disconnect()
 * stopped its rings, and a request still in flight holds the physical
 * device until it completes (docs/WATCHERD.md "I/O done before release").
 * Other kinds have no disk I/O.  io_drain_timeout = 0 disables the wait.
 */
static int
read_io_done(const struct wdev *d, const char *dir, int be_state, int *out)
{
	char p[256];

	*out = 1;
	if (wd.cfg.io_drain_timeout_ms == 0 ||
	    strncmp(dev_kind(d), "vbd", 3) != 0)
		return 0;
	*out = 0;
	if (be_state != XenbusStateClosed && d->st.phase != P_IO_DRAIN)
		return 0;	/* not closed: not drained either */
	if (xsnprintf(p, sizeof(p), "%s/shutdown-request", dir) == -1)
		return 0;
	if (!xsio_exists(p)) {
		*out = 1;	/* not asked: state 6 is the signal */
		return wd.xs ? 0 : -1;
	}
	if (xsnprintf(p, sizeof(p), "%s/shutdown-done", dir) == -1)
		return 0;
	*out = xsio_exists(p);
	return wd.xs ? 0 : -1;
}

/*
 * A write of the device's hotplug-status that watcherd made or proxied for
 * the job's script (xsproxy_track) and saw succeed: xenstore now holds
 * `written`, so that becomes the value last read, and the watch event the
 * write fires is used up without reading the node back (hint_node).
 * NULL = in doubt (removed, failed, written twice in one transaction...):
 * forget the pending own events and read the node at the next evaluation.
 */
void
xsio_own_hs(struct wdev *d, const char *written)
{
	int hs;

	if (written == NULL) {
		d->hs_own = 0;
		d->want |= WANT_HS;
		return;
	}
	val_hs(written, (int)strlen(written), &hs);
	d->hs = (uint8_t)hs;
	if (d->hs_own < UINT8_MAX)
		d->hs_own++;
}

/*
 * The inputs of an evaluation: the values last read, then the nodes of
 * `want` read afresh.  A backend without `state` is gone: nothing else is
 * read.  `online` is read with the rest on a full read even when the
 * device is attached: a removal written while watcherd was away (or
 * disconnected) must be seen whatever the backend did to `state` since
 * (RELIABILITY bug 5).
 */
static void
in_cached(const struct wdev *d, struct fsm_in *in)
{
	memset(in, 0, sizeof(*in));
	in->be_state = d->be_state;
	in->online = d->online;
	in->hs = d->hs;
}

/* Fills in from xenstore; -1 when the connection went away meanwhile. */
int
xsio_read_dev(struct wdev *d, struct fsm_in *in, unsigned want)
{
	char dir[192];

	in_cached(d, in);
	if (dev_be_path(d, dir, sizeof(dir)) == -1)
		return -1;
	if ((want & WANT_STATE) &&
	    read_state(dir, "state", &in->be_state) == -1)
		return -1;
	if (in->be_state == XS_ABSENT)
		return 0;	/* gone: nothing else to read */
	if (((want & WANT_ONLINE) &&
	    read_node(dir, "online", val_online, &in->online) == -1) ||
	    ((want & WANT_HS) &&
	    read_node(dir, "hotplug-status", val_hs, &in->hs) == -1) ||
	    read_io_done(d, dir, in->be_state, &in->io_done) == -1)
		return -1;
	wd.st.node_reads += (unsigned)__builtin_popcount(want);
	return 0;
}

/* One pipelined burst of `node` for the devices whose flag is set. */
static int
burst(struct wdev **d, size_t n, const char *node, const int *want,
    struct xsb_val *v)
{
	static char paths[XSB_DEVS][192];
	const char *pp[XSB_DEVS];
	struct xsb_val tmp[XSB_DEVS];
	char dir[160];
	size_t i, np = 0;

	for (i = 0; i < n; i++) {
		v[i].len = XSB_ABSENT;
		if (!want[i])
			continue;
		if (dev_be_path(d[i], dir, sizeof(dir)) == -1 ||
		    xsnprintf(paths[np], sizeof(paths[np]), "%s/%s", dir,
		    node) == -1)
			return -1;
		pp[np] = paths[np];
		np++;
	}
	if (np == 0)
		return 0;
	if (xsb_read(pp, np, tmp) == -1)
		return -1;
	for (i = 0, np = 0; i < n; i++)
		if (want[i])
			v[i] = tmp[np++];
	return 0;
}

static const char *
val_ptr(const struct xsb_val *v)
{
	return v->len < 0 ? NULL : v->buf;
}

/* One burst of `node` for the devices whose want has `bit`. */
static int
burst_want(struct wdev **d, size_t n, const unsigned *want, unsigned bit,
    const char *node, int *wanted, struct xsb_val *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		wanted[i] = (want[i] & bit) != 0;
	return burst(d, n, node, wanted, v);
}

/* The pipelined values into in[i]; 0, or -1 if a read_io_done failed. */
static int
burst_apply(struct wdev *d, struct fsm_in *in, unsigned want,
    const struct xsb_val *vs, const struct xsb_val *vo,
    const struct xsb_val *vh)
{
	char dir[160];

	in_cached(d, in);
	if (want & WANT_STATE)
		val_state(val_ptr(vs), vs->len, &in->be_state);
	if (in->be_state == XS_ABSENT)
		return 0;
	if (want & WANT_ONLINE)
		val_online(val_ptr(vo), vo->len, &in->online);
	if (want & WANT_HS)
		val_hs(val_ptr(vh), vh->len, &in->hs);
	wd.st.node_reads += (unsigned)__builtin_popcount(want);
	return dev_be_path(d, dir, sizeof(dir)) == -1 ||
	    read_io_done(d, dir, in->be_state, &in->io_done) == -1 ? -1 : 0;
}

/*
 * Reads the wanted nodes of n (<= XSB_DEVS) devices in pipelined bursts
 * (one per node); ok[i] = 0 when device i's read failed (xenstore lost).
 * Falls back to xsio_read_dev per device when the batch connection is
 * unavailable.  A device whose state turns out absent ignores the rest.
 */
void
xsio_read_devs(struct wdev **d, size_t n, const unsigned *want,
    struct fsm_in *in, int *ok)
{
	static struct xsb_val vs[XSB_DEVS], vo[XSB_DEVS], vh[XSB_DEVS];
	unsigned w[XSB_DEVS];
	int wanted[XSB_DEVS] = { 0 };
	size_t i;
	int r = -1;

	memcpy(w, want, n * sizeof(w[0]));
	if (xsb_available() &&
	    burst_want(d, n, w, WANT_STATE, "state", wanted, vs) == 0) {
		for (i = 0; i < n; i++)
			if ((w[i] & WANT_STATE) && vs[i].len == XSB_ABSENT)
				w[i] = WANT_STATE;	/* gone */
		if (burst_want(d, n, w, WANT_ONLINE, "online", wanted,
		    vo) == 0 && burst_want(d, n, w, WANT_HS,
		    "hotplug-status", wanted, vh) == 0)
			r = 0;
	}
	for (i = 0; i < n; i++) {
		if (r == -1)
			ok[i] = xsio_read_dev(d[i], &in[i], want[i]) == 0;
		else
			ok[i] = burst_apply(d[i], &in[i], w[i], &vs[i],
			    &vo[i], &vh[i]) == 0;
	}
}

/* The frontend's state, for listings only (not an input of the FSM: the
 * backend reflects what the frontend does). */
int
xsio_fe_state(const struct wdev *d)
{
	char fe[192];
	int st;

	if (dev_fe_path(d, fe, sizeof(fe)) == -1 ||
	    read_state(fe, "state", &st) == -1)
		return XS_ABSENT;
	return st;
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
