/*
 * xsproxy: the scoped xenstore socket of one hotplug job.  See xsproxy.h.
 *
 * Layout: pure helpers (scope, path normalisation, framing: fuzzed and unit
 * tested) first, then the operations on the real xenstore handle, then the
 * connection I/O on libevent.
 *
 * Connection handling, per client connection:
 *
 *  state        event                      action
 *  -----------  -------------------------  -----------------------------------
 *  reading      bytes arrive               append (bounded to one max message)
 *  reading      complete frame             serve it, queue the reply
 *  reading      header len > 4096          drop connection (malformed)
 *  reading      reply cannot be sent now   stop reading until flushed
 *  any          EOF / error                abort emulated tx, close
 *  any          xsproxy_close()            abort emulated tx, close
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "listen.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "xsproxy.h"
#include "xsutil.h"

#define HDR		sizeof(struct xsd_sockmsg)
#define MAXMSG		(HDR + XENSTORE_PAYLOAD_MAX)
#define OUT_MAX		(2 * MAXMSG)
#define TX_RETRIES	5
/* Per-job bounds (issue 14, attack 6): the real block writes ~5 nodes in
 * ~30 requests, vif-bridge ~3 in ~15; dom0 has no xenstored quota. */
#define XSP_MAX_REQUESTS	4096	/* of any kind, per job */
#define XSP_MAX_WRITES		256	/* write/mkdir/rm, per job */
#define XSP_MAX_WRITE_BYTES	(64 * 1024)	/* path + value, per job */

/* ------------------------------------------------------------------ */
/* pure helpers                                                        */

static int
path_chars_ok(const char *p)
{
	return strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-/_@") == strlen(p);
}

int
xsproxy_norm(const struct xsproxy_scope *s, const char *path, char *out,
    size_t outsz, const char **why)
{
	size_t n = strnlen(path, XENSTORE_PAYLOAD_MAX + 1);

	*why = NULL;
	if (n == 0 || n > XENSTORE_PAYLOAD_MAX)
		return *why = "empty or over-long path", -1;
	if (path[0] == '@')
		return *why = "special paths are not served", -1;
	if (strchr(path, '.') != NULL)
		return *why = "'.' or '..' in path", -1;
	if (path[0] == '/') {
		if (xsnprintf(out, outsz, "%s", path) == -1)
			return *why = "path too long", -1;
	} else if (xsnprintf(out, outsz, "%s/%s", s->home, path) == -1)
		return *why = "path too long", -1;
	if (strlen(out) >= XSPROXY_PATH_MAX)
		return *why = "path too long", -1;
	if (!path_chars_ok(out))
		return *why = "invalid character in path", -1;
	if (strstr(out, "//") != NULL || out[strlen(out) - 1] == '/')
		return *why = "empty path component", -1;
	return 0;
}

/* Length of the component at p (up to '/' or end). */
static size_t
comp_len(const char *p)
{
	return strcspn(p, "/");
}

/*
 * Walks rule and path component by component ("*" in the rule matches any
 * one component).  Returns the number of path components left after the
 * rule's, or -1 when the rule is not a prefix of the path.
 */
static int
rule_prefix(const char *rule, const char *path)
{
	size_t rl, pl;
	int left = 0;

	while (*rule == '/' && *path == '/') {
		rule++;
		path++;
		rl = comp_len(rule);
		pl = comp_len(path);
		if (!(rl == 1 && rule[0] == '*' && pl > 0) &&
		    (rl != pl || strncmp(rule, path, rl) != 0))
			return -1;
		rule += rl;
		path += pl;
	}
	if (*rule != '\0')
		return -1;
	for (; *path == '/'; path += 1 + comp_len(path + 1))
		left++;
	return *path == '\0' ? left : -1;
}

int
xsproxy_allowed(const struct xsproxy_scope *s, const char *normpath,
    unsigned want)
{
	size_t i;
	int left;

	for (i = 0; i < s->n_rules; i++) {
		const struct xsproxy_rule *r = &s->rules[i];

		if (!(r->flags & want))
			continue;
		if ((left = rule_prefix(r->path, normpath)) < 0)
			continue;
		if (left == 0 && !(want == XSP_WRITE && (r->flags & XSP_TREE)))
			return 1;
		if (left > 0 && (r->flags & XSP_TREE))
			return 1;
	}
	return 0;
}

int
xsproxy_scope_add(struct xsproxy_scope *s, const char *path, unsigned flags)
{
	struct xsproxy_rule *r;

	if (s->n_rules >= XSPROXY_MAX_RULES) {
		errno = ENOSPC;
		return -1;
	}
	if (path[0] != '/' || strlen(path) >= XSPROXY_PATH_MAX ||
	    strstr(path, "//") != NULL || strchr(path, '.') != NULL ||
	    (flags & (XSP_READ | XSP_WRITE)) == 0) {
		errno = EINVAL;
		return -1;
	}
	r = &s->rules[s->n_rules++];
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->flags = flags;
	return 0;
}

int
xsproxy_scope_for_backend(struct xsproxy_scope *s, uint64_t job_id,
    const char *be_path)
{
	struct backend_path bp;
	char p[XSPROXY_PATH_MAX];
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (parse_backend_path(be_path, &bp) == -1 || *bp.rest != '\0') {
		errno = EINVAL;
		return -1;
	}
	s->job_id = job_id;
	s->domid = bp.domid;
	s->devid = bp.devid;
	snprintf(s->kind, sizeof(s->kind), "%s", bp.kind);
	snprintf(s->home, sizeof(s->home), "/local/domain/%u", bp.bdomid);
	rc |= xsproxy_scope_add(s, be_path, XSP_READ | XSP_WRITE | XSP_TREE);
	snprintf(p, sizeof(p), "/local/domain/%u/backend/%s", bp.bdomid,
	    bp.kind);
	rc |= xsproxy_scope_add(s, p, XSP_READ | XSP_TREE);
	rc |= xsproxy_scope_add(s, "/local/domain/*/vm", XSP_READ);
	rc |= xsproxy_scope_add(s, "/local/domain/*/target", XSP_READ);
	if (strcmp(bp.kind, "vif") == 0) {
		snprintf(p, sizeof(p), "/local/domain/%u/device/vif/%u/mtu",
		    bp.domid, bp.devid);
		rc |= xsproxy_scope_add(s, p, XSP_READ | XSP_WRITE);
	}
	return rc ? -1 : 0;
}

long
xsproxy_frame(const uint8_t *buf, size_t len)
{
	struct xsd_sockmsg h;

	if (len < HDR)
		return 0;
	memcpy(&h, buf, HDR);
	if (h.len > XENSTORE_PAYLOAD_MAX)
		return -1;
	if (len < HDR + h.len)
		return 0;
	return (long)(HDR + h.len);
}

int
xsproxy_split(const uint8_t *payload, size_t len, const char **path,
    const uint8_t **rest, size_t *restlen)
{
	const uint8_t *nul = memchr(payload, '\0', len);

	if (nul == NULL)
		return -1;
	*path = (const char *)payload;
	*rest = nul + 1;
	*restlen = len - (size_t)(nul + 1 - payload);
	return 0;
}

/* ------------------------------------------------------------------ */
/* proxy state                                                         */

struct txop {
	uint32_t	 type;		/* XS_WRITE, XS_MKDIR, XS_RM */
	char		 path[XSPROXY_PATH_MAX];
	uint8_t		*val;
	size_t		 len;
};

struct xsp_conn {
	struct xsproxy	*px;
	int		 fd;
	uid_t		 uid;		/* SO_PEERCRED at connect */
	pid_t		 pid;
	int		 parked;	/* job's uid not known yet: not read */
	struct event	*ev_read;
	struct event	*ev_write;
	uint8_t		 in[MAXMSG];
	size_t		 inlen;
	uint8_t		 out[OUT_MAX];
	size_t		 outlen;
	uint32_t	 tx_id;		/* emulated transaction, 0 = none */
	size_t		 n_ops;
	struct txop	 ops[XSPROXY_TX_MAX_OPS];
};

struct xsproxy {
	struct event_base	*base;
	struct xs_handle	*xs;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			 lfd;
	struct msglisten	*listen;	/* accepts on lfd */
	struct xsproxy_scope	 scope;
	struct xsproxy_stats	 st;
	struct xsp_conn		*conns[XSPROXY_MAX_CONNS];
	uint32_t		 next_tx;
	char			 tpath[XSPROXY_PATH_MAX];	/* tracked */
	uid_t			 client_uid;	/* the job's script (hotplugd) */
	int			 client_set;
	int			 over_logged;	/* one log line per bound */
	xsproxy_track_cb	*tcb;
	void			*targ;
};

#define SCOPE_FMT	"xsproxy job=%llu domid=%u kind=%s devid=%u"
#define SCOPE_ARGS(px)	(unsigned long long)(px)->scope.job_id, \
			(px)->scope.domid, (px)->scope.kind, (px)->scope.devid

static const char *
op_name(uint32_t t)
{
	switch (t) {
	case XS_READ:			return "read";
	case XS_WRITE:			return "write";
	case XS_DIRECTORY:		return "directory";
	case XS_DIRECTORY_PART:		return "directory-part";
	case XS_RM:			return "rm";
	case XS_MKDIR:			return "mkdir";
	case XS_GET_PERMS:		return "get-perms";
	case XS_SET_PERMS:		return "set-perms";
	case XS_WATCH:			return "watch";
	case XS_TRANSACTION_START:	return "tx-start";
	case XS_TRANSACTION_END:	return "tx-end";
	case XS_GET_DOMAIN_PATH:	return "get-domain-path";
	default:			return "other";
	}
}

static const char *
err_string(int e)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == e)
			return xsd_errors[i].errstring;
	return "EIO";
}

/* Printable, bounded copy of client-supplied text for the log. */
static const char *
logsafe(const char *s, char *buf, size_t bufsz)
{
	size_t i;

	for (i = 0; i + 1 < bufsz && s[i] != '\0'; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* replies                                                             */

static void conn_free(struct xsp_conn *);
static void conn_flush(struct xsp_conn *);

static int
reply(struct xsp_conn *c, const struct xsd_sockmsg *req, uint32_t type,
    const void *data, size_t len)
{
	struct xsd_sockmsg h = { type, req->req_id, req->tx_id, (uint32_t)len };

	if (len > XENSTORE_PAYLOAD_MAX || c->outlen + HDR + len > OUT_MAX)
		return -1;
	memcpy(c->out + c->outlen, &h, HDR);
	memcpy(c->out + c->outlen + HDR, data, len);
	c->outlen += HDR + len;
	return 0;
}

static int
reply_err(struct xsp_conn *c, const struct xsd_sockmsg *req, int e)
{
	const char *s = err_string(e);

	return reply(c, req, XS_ERROR, s, strlen(s) + 1);
}

static int
reply_ok(struct xsp_conn *c, const struct xsd_sockmsg *req)
{
	return reply(c, req, req->type, "OK", 3);
}

static int
deny(struct xsp_conn *c, const struct xsd_sockmsg *req, const char *path,
    const char *why)
{
	char safe[XSPROXY_PATH_MAX];

	c->px->st.denied++;
	log_warnx(SCOPE_FMT ": denied %s %s: %s", SCOPE_ARGS(c->px),
	    op_name(req->type), logsafe(path, safe, sizeof(safe)), why);
	return reply_err(c, req, EACCES);
}

/* ------------------------------------------------------------------ */
/* operations                                                          */

static int
do_read(struct xsp_conn *c, const struct xsd_sockmsg *req, const char *p)
{
	unsigned int len;
	void *v = xs_read(c->px->xs, XBT_NULL, p, &len);
	int r;

	if (v == NULL) {
		c->px->st.errors++;
		return reply_err(c, req, errno);
	}
	r = len > XENSTORE_PAYLOAD_MAX ? reply_err(c, req, E2BIG) :
	    reply(c, req, XS_READ, v, len);
	free(v);
	return r;
}

static int
do_directory(struct xsp_conn *c, const struct xsd_sockmsg *req,
    const char *p)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	unsigned int n, i;
	size_t used = 0, l;
	char **d = xs_directory(c->px->xs, XBT_NULL, p, &n);

	if (d == NULL) {
		c->px->st.errors++;
		return reply_err(c, req, errno);
	}
	for (i = 0; i < n; i++) {
		l = strlen(d[i]) + 1;
		if (used + l > sizeof(buf))
			break;
		memcpy(buf + used, d[i], l);
		used += l;
	}
	free(d);
	if (i < n)
		return reply_err(c, req, E2BIG);
	return reply(c, req, XS_DIRECTORY, buf, used);
}

/*
 * XS_DIRECTORY_PART (libxenstore falls back to it when XS_DIRECTORY is
 * E2BIG): request "path\0offset\0"; reply "generation\0" followed by
 * whole entries of the list "e1\0e2\0...en\0\0" from byte offset on, as
 * many as fit.  The generation is constant: the list is re-read for every
 * part, as xenstored does.
 */
static int
do_directory_part(struct xsp_conn *c, const struct xsd_sockmsg *req,
    const char *p, const uint8_t *rest, size_t restlen)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	unsigned int n, i;
	uint32_t off;
	size_t pos = 0, used, l;
	char **d;

	if (restlen == 0 || rest[restlen - 1] != '\0' ||
	    parse_u32((const char *)rest, UINT32_MAX, &off) == -1)
		return reply_err(c, req, EINVAL);
	if ((d = xs_directory(c->px->xs, XBT_NULL, p, &n)) == NULL) {
		c->px->st.errors++;
		return reply_err(c, req, errno);
	}
	memcpy(buf, "0", 2);
	used = 2;
	for (i = 0; i < n; pos += strlen(d[i]) + 1, i++) {
		l = strlen(d[i]) + 1;
		if (pos < off)
			continue;
		if (used + l > sizeof(buf))
			break;
		memcpy(buf + used, d[i], l);
		used += l;
	}
	free(d);
	if (i == n && pos >= off && used < sizeof(buf))
		buf[used++] = '\0';	/* end of list */
	if (used == 2 && i < n)
		return reply_err(c, req, E2BIG);	/* one huge entry */
	return reply(c, req, XS_DIRECTORY_PART, buf, used);
}

static int
do_get_perms(struct xsp_conn *c, const struct xsd_sockmsg *req,
    const char *p)
{
	static const char letter[] = { 'n', 'r', 'w', 'b' };
	char buf[XENSTORE_PAYLOAD_MAX];
	unsigned int n, i;
	size_t used = 0;
	int w;
	struct xs_permissions *perms = xs_get_permissions(c->px->xs, XBT_NULL,
	    p, &n);

	if (perms == NULL) {
		c->px->st.errors++;
		return reply_err(c, req, errno);
	}
	for (i = 0; i < n; i++) {
		w = snprintf(buf + used, sizeof(buf) - used, "%c%u",
		    letter[perms[i].perms & 3], perms[i].id);
		if (w < 0 || (size_t)w + 1 > sizeof(buf) - used)
			break;
		used += (size_t)w + 1;
	}
	free(perms);
	if (i < n)
		return reply_err(c, req, E2BIG);
	return reply(c, req, XS_GET_PERMS, buf, used);
}

/* One write-class op on the real store (t may be XBT_NULL). */
static int
apply_op(struct xs_handle *xs, xs_transaction_t t, uint32_t type,
    const char *p, const void *val, size_t len)
{
	switch (type) {
	case XS_WRITE:
		return xs_write(xs, t, p, val, (unsigned)len) ? 0 : -1;
	case XS_MKDIR:
		return xs_mkdir(xs, t, p) ? 0 : -1;
	case XS_RM:
		return xs_rm(xs, t, p) ? 0 : -1;
	}
	errno = EINVAL;
	return -1;
}

static void
tx_clear(struct xsp_conn *c)
{
	size_t i;

	for (i = 0; i < c->n_ops; i++)
		free(c->ops[i].val);
	c->n_ops = 0;
	c->tx_id = 0;
}

static int
tx_buffer(struct xsp_conn *c, uint32_t type, const char *p, const void *val,
    size_t len)
{
	struct txop *op;

	if (c->n_ops >= XSPROXY_TX_MAX_OPS) {
		errno = ENOSPC;
		return -1;
	}
	op = &c->ops[c->n_ops];
	op->val = malloc(len ? len : 1);
	if (op->val == NULL)
		return -1;
	memcpy(op->val, val, len);
	op->len = len;
	op->type = type;
	snprintf(op->path, sizeof(op->path), "%s", p);
	c->n_ops++;
	return 0;
}

/* One attempt: every buffered op inside the real transaction t. */
static int
tx_apply(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct xsp_conn *c = arg;
	size_t i;

	for (i = 0; i < c->n_ops; i++)
		if (apply_op(xs, t, c->ops[i].type, c->ops[i].path,
		    c->ops[i].val, c->ops[i].len) == -1)
			return -1;
	return 0;
}

/* Applies the buffered ops in one real transaction; 0 or -1 with errno. */
static int
tx_commit(struct xsp_conn *c)
{
	if (c->n_ops == 0)
		return 0;
	return xsu_transact(c->px->xs, TX_RETRIES, tx_apply, c);
}

/* Is p the tracked node or one of its parents? */
static int
touches(const struct xsproxy *px, const char *p)
{
	size_t n = strlen(p);

	return px->tpath[0] != '\0' && strncmp(px->tpath, p, n) == 0 &&
	    (px->tpath[n] == '\0' || px->tpath[n] == '/');
}

/*
 * After a modify of p that was applied (r = 0) or failed (-1): report a
 * plain write of the tracked node with its value, anything else touching
 * it as doubt (NULL).  Ops of a transaction are tracked at its commit.
 */
static void
track(struct xsproxy *px, uint32_t type, const char *p, const uint8_t *val,
    size_t len, int r)
{
	char v[64];

	if (px->tcb == NULL || !touches(px, p))
		return;
	if (type != XS_WRITE || r == -1 || strcmp(p, px->tpath) != 0 ||
	    len >= sizeof(v) || memchr(val, '\0', len) != NULL) {
		px->tcb(px->targ, NULL);
		return;
	}
	memcpy(v, val, len);
	v[len] = '\0';
	px->tcb(px->targ, v);
}

/*
 * A committed transaction fires one watch event per node it changed,
 * however often it wrote it: one op on the tracked node is reported as
 * such, several are doubt.
 */
static void
track_tx(struct xsp_conn *c, int r)
{
	size_t i, n = 0, last = 0;

	for (i = 0; i < c->n_ops; i++)
		if (touches(c->px, c->ops[i].path)) {
			n++;
			last = i;
		}
	if (n == 1)
		track(c->px, c->ops[last].type, c->ops[last].path,
		    c->ops[last].val, c->ops[last].len, r);
	else if (n > 1 && c->px->tcb != NULL)
		c->px->tcb(c->px->targ, NULL);
}

int
xsproxy_track(struct xsproxy *px, const char *path, xsproxy_track_cb *cb,
    void *arg)
{
	if (px == NULL || xsnprintf(px->tpath, sizeof(px->tpath), "%s",
	    path) == -1)
		return -1;
	px->tcb = cb;
	px->targ = arg;
	return 0;
}

/* A job over its write bounds gets ENOSPC (as a xenstored quota would)
 * and one log line. */
static int
over_bounds(struct xsp_conn *c, const char *p, size_t len)
{
	struct xsproxy *px = c->px;
	const char *what = NULL;

	if (px->st.writes >= XSP_MAX_WRITES)
		what = "nodes written";
	else if (px->st.write_bytes + strlen(p) + len > XSP_MAX_WRITE_BYTES)
		what = "bytes written";
	if (what == NULL) {
		px->st.writes++;
		px->st.write_bytes += strlen(p) + len;
		return 0;
	}
	px->st.over_bounds++;
	if (!px->over_logged) {
		px->over_logged = 1;
		log_warnx(SCOPE_FMT ": uid %u pid %d over the job's bound of %s "
		    "(%u writes, %u bytes): ENOSPC", SCOPE_ARGS(px),
		    (unsigned)c->uid, (int)c->pid, what, XSP_MAX_WRITES,
		    XSP_MAX_WRITE_BYTES);
	}
	return -1;
}

static int
do_modify(struct xsp_conn *c, const struct xsd_sockmsg *req, const char *p,
    const uint8_t *val, size_t len)
{
	int r;

	if (over_bounds(c, p, len) == -1)
		return reply_err(c, req, ENOSPC);
	if (req->tx_id != 0)
		r = tx_buffer(c, req->type, p, val, len);
	else
		r = apply_op(c->px->xs, XBT_NULL, req->type, p, val, len);
	if (req->tx_id == 0)
		track(c->px, req->type, p, val, len, r);
	if (r == -1) {
		c->px->st.errors++;
		return reply_err(c, req, errno);
	}
	return reply_ok(c, req);
}

static int
do_tx_start(struct xsp_conn *c, const struct xsd_sockmsg *req)
{
	char buf[16];

	if (c->tx_id != 0)
		return reply_err(c, req, EBUSY);	/* one per connection */
	if (++c->px->next_tx == 0)
		c->px->next_tx = 1;
	c->tx_id = c->px->next_tx;
	snprintf(buf, sizeof(buf), "%u", c->tx_id);
	return reply(c, req, XS_TRANSACTION_START, buf, strlen(buf) + 1);
}

static int
do_tx_end(struct xsp_conn *c, const struct xsd_sockmsg *req,
    const uint8_t *pl)
{
	int r = 0;

	if (req->tx_id == 0 || req->tx_id != c->tx_id)
		return reply_err(c, req, ENOENT);
	if (req->len != 2 || (pl[0] != 'T' && pl[0] != 'F') || pl[1] != '\0')
		return reply_err(c, req, EINVAL);
	if (pl[0] == 'T') {
		r = tx_commit(c);
		track_tx(c, r);
	}
	tx_clear(c);
	if (r == -1) {
		c->px->st.errors++;
		return reply_err(c, req, errno);
	}
	return reply(c, req, XS_TRANSACTION_END, "OK", 3);
}

static int
do_get_domain_path(struct xsp_conn *c, const struct xsd_sockmsg *req,
    const uint8_t *pl)
{
	char buf[64];
	uint32_t domid;

	if (req->len == 0 || pl[req->len - 1] != '\0' ||
	    parse_domid((const char *)pl, &domid) == -1)
		return reply_err(c, req, EINVAL);
	snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
	return reply(c, req, XS_GET_DOMAIN_PATH, buf, strlen(buf) + 1);
}

/* Path-carrying ops: normalise, check the scope, then serve. */
static int
do_path_op(struct xsp_conn *c, const struct xsd_sockmsg *req,
    const uint8_t *pl)
{
	char norm[XSPROXY_PATH_MAX];
	const char *path, *why;
	const uint8_t *rest;
	size_t restlen;
	unsigned want = (req->type == XS_READ || req->type == XS_DIRECTORY ||
	    req->type == XS_DIRECTORY_PART || req->type == XS_GET_PERMS) ?
	    XSP_READ : XSP_WRITE;

	if (xsproxy_split(pl, req->len, &path, &rest, &restlen) == -1)
		return deny(c, req, "", "no NUL-terminated path");
	if (req->type != XS_WRITE && req->type != XS_DIRECTORY_PART &&
	    restlen != 0)
		return deny(c, req, path, "trailing bytes after path");
	if (xsproxy_norm(&c->px->scope, path, norm, sizeof(norm), &why) == -1)
		return deny(c, req, path, why);
	if (!xsproxy_allowed(&c->px->scope, norm, want))
		return deny(c, req, norm, "outside the job's scope");
	log_debug(SCOPE_FMT ": %s %s", SCOPE_ARGS(c->px), op_name(req->type),
	    norm);
	switch (req->type) {
	case XS_READ:		return do_read(c, req, norm);
	case XS_DIRECTORY:	return do_directory(c, req, norm);
	case XS_DIRECTORY_PART:	return do_directory_part(c, req, norm, rest,
				    restlen);
	case XS_GET_PERMS:	return do_get_perms(c, req, norm);
	default:		return do_modify(c, req, norm, rest, restlen);
	}
}

/* Serves one complete request; -1 drops the connection. */
static int
serve(struct xsp_conn *c, const struct xsd_sockmsg *req, const uint8_t *pl)
{
	if (c->px->st.requests >= XSP_MAX_REQUESTS) {
		c->px->st.over_bounds++;
		if (!c->px->over_logged) {
			c->px->over_logged = 1;
			log_warnx(SCOPE_FMT ": uid %u pid %d over the job's "
			    "bound of %u requests: ENOSPC", SCOPE_ARGS(c->px),
			    (unsigned)c->uid, (int)c->pid, XSP_MAX_REQUESTS);
		}
		return reply_err(c, req, ENOSPC);
	}
	c->px->st.requests++;
	if (req->tx_id != 0 && req->tx_id != c->tx_id &&
	    req->type != XS_TRANSACTION_END)
		return reply_err(c, req, ENOENT);
	switch (req->type) {
	case XS_READ:
	case XS_DIRECTORY:
	case XS_DIRECTORY_PART:
	case XS_GET_PERMS:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
		return do_path_op(c, req, pl);
	case XS_TRANSACTION_START:
		return do_tx_start(c, req);
	case XS_TRANSACTION_END:
		return do_tx_end(c, req, pl);
	case XS_GET_DOMAIN_PATH:
		return do_get_domain_path(c, req, pl);
	}
	c->px->st.unsupported++;
	log_warnx(SCOPE_FMT ": unsupported op %u (%s) refused",
	    SCOPE_ARGS(c->px), req->type, op_name(req->type));
	return reply_err(c, req, ENOSYS);
}

/* ------------------------------------------------------------------ */
/* connection I/O                                                      */

/* Serves every complete frame in c->in while the reply buffer has room. */
static int
conn_process(struct xsp_conn *c)
{
	struct xsd_sockmsg req;
	long n;

	while (c->outlen + MAXMSG <= OUT_MAX &&
	    (n = xsproxy_frame(c->in, c->inlen)) != 0) {
		if (n < 0) {
			c->px->st.malformed++;
			log_warnx(SCOPE_FMT ": malformed frame, connection "
			    "dropped", SCOPE_ARGS(c->px));
			return -1;
		}
		memcpy(&req, c->in, HDR);
		if (serve(c, &req, c->in + HDR) == -1)
			return -1;
		memmove(c->in, c->in + n, c->inlen - (size_t)n);
		c->inlen -= (size_t)n;
	}
	return 0;
}

static void
conn_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct xsp_conn *c = arg;
	ssize_t n;

	if (c->inlen == sizeof(c->in))
		return;		/* a complete frame is waiting: see flush */
	n = read(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->inlen += (size_t)n, conn_process(c) == -1)) {
		conn_free(c);
		return;
	}
	conn_flush(c);
}

static void
conn_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct xsp_conn *c = arg;

	conn_flush(c);
}

/* Writes pending replies; 1 when all went, 0 when the socket is full, -1
 * on error. */
static int
conn_write(struct xsp_conn *c)
{
	ssize_t n;

	while (c->outlen > 0) {
		n = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		memmove(c->out, c->out + n, c->outlen - (size_t)n);
		c->outlen -= (size_t)n;
	}
	return 1;
}

/*
 * Sends replies and serves frames held back while the reply buffer was
 * full, in a loop.  While replies are pending the connection is not read:
 * a client that does not read its replies stalls only itself.
 */
static void
conn_flush(struct xsp_conn *c)
{
	int r;

	for (;;) {
		if ((r = conn_write(c)) == -1) {
			conn_free(c);
			return;
		}
		if (r == 0) {
			event_del(c->ev_read);
			event_add(c->ev_write, NULL);
			return;
		}
		if (xsproxy_frame(c->in, c->inlen) == 0)
			break;
		if (conn_process(c) == -1) {
			conn_free(c);
			return;
		}
	}
	event_add(c->ev_read, NULL);
}

static void
conn_free(struct xsp_conn *c)
{
	size_t i;

	for (i = 0; i < XSPROXY_MAX_CONNS; i++)
		if (c->px->conns[i] == c) {
			c->px->conns[i] = NULL;
			msglisten_closed(c->px->listen);
		}
	tx_clear(c);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->ev_write != NULL)
		event_free(c->ev_write);
	if (c->fd != -1)
		close(c->fd);
	free(c);
}

/*
 * Who may use this job's socket (issue 14, attack 3): only processes of the
 * job's own uid.  Every running job has a uid of its own (hotplugd/launch.h:
 * script_uid_base + slot, reused only once the job's cgroup is empty), so
 * the uid, taken by the kernel at connect (SO_PEERCRED), names the job; no
 * pid is looked up, so there is no pid-reuse race.  hotplugd tells us the
 * uid in MSG_HOTPLUG_STARTED, which may arrive after the script's first
 * connect: until then a connection is accepted but parked (not read).
 */
static int
client_ok(struct xsproxy *px, int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) == -1)
		return 0;
	if (px->client_set && cr->uid != px->client_uid) {
		log_warnx(SCOPE_FMT ": connection from uid %u pid %d refused: "
		    "not the job's uid %u", SCOPE_ARGS(px), (unsigned)cr->uid,
		    (int)cr->pid, (unsigned)px->client_uid);
		return 0;
	}
	return 1;
}

void
xsproxy_set_client(struct xsproxy *px, uid_t uid)
{
	struct xsp_conn *c;
	size_t i;

	px->client_uid = uid;
	px->client_set = 1;
	for (i = 0; i < XSPROXY_MAX_CONNS; i++) {
		if ((c = px->conns[i]) == NULL || !c->parked)
			continue;
		if (c->uid != uid) {
			log_warnx(SCOPE_FMT ": connection from uid %u pid %d "
			    "dropped: not the job's uid %u", SCOPE_ARGS(px),
			    (unsigned)c->uid, (int)c->pid, (unsigned)uid);
			px->st.conns_refused++;
			conn_free(c);
			continue;
		}
		c->parked = 0;
		if (event_add(c->ev_read, NULL) == -1)
			conn_free(c);
		else
			event_active(c->ev_read, EV_READ, 1);
	}
}

void
xsproxy_clear_client(struct xsproxy *px)
{
	size_t i;

	if (!px->client_set)
		return;
	px->client_set = 0;
	for (i = 0; i < XSPROXY_MAX_CONNS; i++) {
		if (px->conns[i] == NULL)
			continue;
		log_warnx(SCOPE_FMT ": connection from uid %u pid %d dropped: "
		    "the job runs again", SCOPE_ARGS(px),
		    (unsigned)px->conns[i]->uid, (int)px->conns[i]->pid);
		conn_free(px->conns[i]);
	}
}

/*
 * A connection accepted by common/listen (non-blocking, close-on-exec; out
 * of fds it pauses).  The limit is the slot table here, so that refusals
 * are counted: -1 refuses (msglisten closes fd).
 */
static int
accept_conn(int fd, void *arg)
{
	struct xsproxy *px = arg;
	struct xsp_conn *c;
	struct ucred cr;
	size_t i;

	for (i = 0; i < XSPROXY_MAX_CONNS && px->conns[i] != NULL; i++)
		;
	if (i == XSPROXY_MAX_CONNS || !client_ok(px, fd, &cr) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		px->st.conns_refused++;
		return -1;
	}
	c->px = px;
	c->fd = fd;
	c->uid = cr.uid;
	c->pid = cr.pid;
	c->parked = !px->client_set;
	c->ev_read = event_new(px->base, fd, EV_READ | EV_PERSIST,
	    conn_read_cb, c);
	c->ev_write = event_new(px->base, fd, EV_WRITE, conn_write_cb, c);
	if (c->ev_read == NULL || c->ev_write == NULL ||
	    (!c->parked && event_add(c->ev_read, NULL) == -1)) {
		c->fd = -1;		/* msglisten closes it */
		conn_free(c);
		px->st.conns_refused++;
		return -1;
	}
	px->conns[i] = c;
	px->st.conns++;
	return 0;
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

static int
listen_at(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* 0666: the scripts' uids are many (one per job); the dir is group
	 * devsep-script 0710, and the job's uid is checked (client_ok). */
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, XSPROXY_MAX_CONNS) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

struct xsproxy *
xsproxy_open(struct event_base *base, struct xs_handle *xs,
    const char *sockpath, const struct xsproxy_scope *scope)
{
	struct xsproxy *px;

	if (strlen(sockpath) >= sizeof(px->path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((px = calloc(1, sizeof(*px))) == NULL)
		return NULL;
	px->base = base;
	px->xs = xs;
	px->scope = *scope;
	strcpy(px->path, sockpath);
	if ((px->lfd = listen_at(sockpath)) == -1) {
		log_warn("xsproxy: listen %s", sockpath);
		free(px);
		return NULL;
	}
	px->listen = msglisten_new(base, px->lfd, 0, "xsproxy", accept_conn,
	    px);
	if (px->listen == NULL) {
		xsproxy_close(px);
		errno = ENOMEM;
		return NULL;
	}
	log_debug(SCOPE_FMT ": serving %s", SCOPE_ARGS(px), sockpath);
	return px;
}

void
xsproxy_close(struct xsproxy *px)
{
	size_t i;

	if (px == NULL)
		return;
	for (i = 0; i < XSPROXY_MAX_CONNS; i++)
		if (px->conns[i] != NULL)
			conn_free(px->conns[i]);
	msglisten_free(px->listen);
	close(px->lfd);
	unlink(px->path);
	log_debug(SCOPE_FMT ": closed (%llu requests, %llu denied)",
	    SCOPE_ARGS(px), (unsigned long long)px->st.requests,
	    (unsigned long long)px->st.denied);
	free(px);
}

const struct xsproxy_stats *
xsproxy_stats(const struct xsproxy *px)
{
	return &px->st;
}

const char *
xsproxy_path(const struct xsproxy *px)
{
	return px->path;
}
