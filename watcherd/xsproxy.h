/*
 * xsproxy: a scoped xenstore for one hotplug job (runs inside watcherd).
 *
 * watcherd creates one proxy per job before sending MSG_HOTPLUG_RUN and
 * passes its socket path as the job's xenstored_path; hotplugd sets
 * XENSTORED_PATH to it, so the unmodified Xen scripts' xenstore-read /
 * -write / -list / -exists / -rm talk to the proxy, which speaks the
 * xenstore wire protocol (xen/io/xs_wire.h) and forwards what the scope
 * allows to watcherd's own xenstore handle.  Everything else gets the
 * xenstore error "EACCES" and one log_warnx line (job, op, path, reason).
 *
 * Served: XS_READ, XS_WRITE, XS_DIRECTORY (+ XS_DIRECTORY_PART for lists
 * over 4096 bytes), XS_RM, XS_MKDIR, XS_GET_PERMS, XS_TRANSACTION_START/END,
 * XS_GET_DOMAIN_PATH.  Others: "ENOSYS".
 * Transactions are emulated: reads go through at once (not isolated),
 * writes/rm/mkdir are checked at once and buffered (bounded), then applied
 * at TRANSACTION_END(commit) inside one real transaction on watcherd's
 * handle (retried on EAGAIN); abort or disconnect discards them.  Ops
 * outside a transaction are applied at once.
 *
 * Paths: relative paths resolve against scope.home ("/local/domain/<B>"),
 * as xenstored does for the backend domain's own connection.  Then a path
 * must be absolute, <= XSPROXY_PATH_MAX, only xenstored's characters
 * [A-Za-z0-9-/_@], no "//", no trailing '/', no "."/".." component.
 *
 * Clients: at most XSPROXY_MAX_CONNS at once, and only uid 0 (the scripts
 * hotplugd runs) by SO_PEERCRED; the socket itself is mode 0666 because
 * hotplugd's children may lack CAP_DAC_OVERRIDE.  Accepting is
 * common/listen's (out of file descriptors it pauses 1 s, not spins).
 *
 * The proxy uses watcherd's xs handle synchronously (libxenstore is
 * blocking), from the libevent loop; each request is one or a few short
 * round trips to xenstored.
 */
#ifndef DEVSEP_XSPROXY_H
#define DEVSEP_XSPROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct xs_handle;

#define XSPROXY_PATH_MAX	256	/* longest path accepted (xenstored: 3072) */
#define XSPROXY_MAX_RULES	16
#define XSPROXY_MAX_CONNS	4	/* concurrent client connections per job */
#define XSPROXY_TX_MAX_OPS	32	/* buffered ops per emulated transaction */

/* Rule flags. */
#define XSP_READ	0x1	/* READ, DIRECTORY, GET_PERMS */
#define XSP_WRITE	0x2	/* WRITE, RM, MKDIR (implies nothing about READ) */
#define XSP_TREE	0x4	/* rule covers the path and everything below it;
				 * writes under a TREE rule only STRICTLY below */

/*
 * A rule's path may use "*" as a whole component to match any one
 * component ("/local/domain/ * /vm" without the spaces).
 */
struct xsproxy_rule {
	char		path[XSPROXY_PATH_MAX];
	unsigned	flags;
};

struct xsproxy_scope {
	char		home[64];	/* "/local/domain/<B>" */
	/* log fields */
	uint64_t	job_id;
	uint32_t	domid;
	uint32_t	devid;
	char		kind[16];
	size_t		n_rules;
	struct xsproxy_rule rules[XSPROXY_MAX_RULES];
};

/*
 * Fills *s with the default scope for a hotplug job on backend dir be_path
 * ("/local/domain/<B>/backend/<kind>/<D>/<N>"), derived from what the real
 * scripts touch (/etc/xen/scripts/block, block-common.sh, vif-common.sh,
 * vif-bridge, xen-network-common.sh):
 *   read+write  <be_path> (tree; writes strictly below)
 *   read        /local/domain/<B>/backend/<kind> (tree: block's sharing
 *               check lists and reads every sibling backend)
 *   read        /local/domain/ * /vm, /local/domain/ * /target (block's
 *               same_vm() for the frontend and the sharing domains)
 *   vif only:   read+write /local/domain/<D>/device/vif/<N>/mtu (exact:
 *               set_mtu() in xen-network-common.sh)
 * Returns 0, or -1 (errno EINVAL) when be_path is not a backend dir.
 */
int	xsproxy_scope_for_backend(struct xsproxy_scope *s, uint64_t job_id,
	    const char *be_path);
/* Adds one rule; -1 (errno ENOSPC/EINVAL) when full or path invalid. */
int	xsproxy_scope_add(struct xsproxy_scope *s, const char *path,
	    unsigned flags);

struct xsproxy_stats {
	uint64_t	conns;		/* connections accepted */
	uint64_t	conns_refused;	/* over XSPROXY_MAX_CONNS */
	uint64_t	requests;
	uint64_t	denied;		/* EACCES: outside scope / bad path */
	uint64_t	unsupported;	/* ENOSYS: op not served */
	uint64_t	malformed;	/* connection dropped: bad framing */
	uint64_t	errors;		/* xenstored errors passed through */
	uint64_t	writes;		/* write/mkdir/rm served or buffered */
	uint64_t	write_bytes;	/* their paths + values */
	uint64_t	over_bounds;	/* ENOSPC: over the job's bounds */
};

struct xsproxy;

/*
 * Creates the listening socket at sockpath (unlinks a stale one first;
 * mode 0600; the parent directory must exist) and serves it on base using
 * xs for the real operations.  The scope is copied.  NULL (logged, errno
 * set) on failure.
 */
struct xsproxy	*xsproxy_open(struct event_base *base, struct xs_handle *xs,
		    const char *sockpath, const struct xsproxy_scope *scope);
/* Closes every connection (aborting their transactions), unlinks the
 * socket, frees.  NULL is fine. */
void		 xsproxy_close(struct xsproxy *);
/*
 * The uid of the job's script (hotplugd's MSG_HOTPLUG_STARTED): from now on
 * only connections of that uid are served; connections that arrived before
 * (parked, unread) are served or dropped accordingly.
 */
void		 xsproxy_set_client(struct xsproxy *, uid_t uid);
/*
 * The job will run again (hotplugd went away; its successor re-runs it as
 * a new uid): the old uid is forgotten, its connections are dropped, and
 * new ones are parked until the next xsproxy_set_client().
 */
void		 xsproxy_clear_client(struct xsproxy *);
const struct xsproxy_stats *xsproxy_stats(const struct xsproxy *);
/*
 * Reports what the job's script does to one node (its backend dir's
 * hotplug-status) as it happens, so watcherd knows the value without
 * reading it back: cb(arg, value) after each successful plain write of the
 * node, cb(arg, NULL) after anything else touching it or a parent (remove,
 * mkdir, a failed write, a write inside a transaction is reported at its
 * commit, in order).  Called before the proxy replies to the script, so
 * before xenstored's watch event for the change is processed.
 */
typedef void	 xsproxy_track_cb(void *arg, const char *value);
int		 xsproxy_track(struct xsproxy *, const char *path,
		    xsproxy_track_cb *cb, void *arg);
const char	*xsproxy_path(const struct xsproxy *);

/* ---- pure parts, exposed for unit tests and the fuzzer ---- */

/*
 * Wire framing: given the bytes buffered so far, returns the total size of
 * the first complete message (header + payload) when one is there, 0 when
 * more bytes are needed, -1 when the header is invalid (payload length >
 * XENSTORE_PAYLOAD_MAX): the connection must be dropped.
 */
long	xsproxy_frame(const uint8_t *buf, size_t len);

/*
 * Splits a request payload into its NUL-terminated path and the rest
 * (XS_WRITE's value).  Returns 0, or -1 when there is no NUL-terminated
 * path within the payload.
 */
int	xsproxy_split(const uint8_t *payload, size_t len, const char **path,
	    const uint8_t **rest, size_t *restlen);

/*
 * Normalises a request path: resolves a relative path against s->home,
 * validates it (see above) into out.  Returns 0 or -1 with *why set.
 */
int	xsproxy_norm(const struct xsproxy_scope *s, const char *path,
	    char *out, size_t outsz, const char **why);

/* 1 when the normalised path is allowed for want (XSP_READ/XSP_WRITE). */
int	xsproxy_allowed(const struct xsproxy_scope *s, const char *normpath,
	    unsigned want);

#endif
