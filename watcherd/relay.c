/*
 * Backends that libxl drives (backend_mode, devsep.conf(5)).
 *
 * libxl runs the hotplug scripts of the backends in its own domain
 * itself, always (tools/libs/light/libxl_device.c device_hotplug: the
 * script is skipped only when the backend is in another domain), and
 * removes their dirs, and its device model serves their qdisks.  In that
 * domain watcherd must leave their lifecycle to libxl: it only tracks them
 * for `devsepctl devices` (device.c observes, runs no state machine; no
 * orphan or guest-death clean-up, scan.c), and runs the scripts that
 * devsep-relay asks for.
 *
 * devsep-relay (relay/) is what libxl execs when a backend's `script`
 * node names /etc/xen/scripts/devsep-<script>: it sends
 * MSG_WATCHER_RELAY_RUN here and waits.  The request is checked against
 * xenstore (the backend is ours and its `script` node names that relay),
 * then run like any job (jobs.c): in hotplugd's sandbox, with the
 * backend's scoped xenstore socket, the whole process group killed on
 * timeout or when the relay hangs up.
 *
 * Mode rule (auto): libxl in domain 0, where xl runs; devsep anywhere
 * else (a driver domain: libxl leaves its scripts to the backend domain).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "parse.h"
#include "proto_hotplug.h"
#include "proto_watcher.h"
#include "reply.h"
#include "wd.h"

#define RELAY_IFNAME_MAX	15	/* IFNAMSIZ - 1 */

/* Resolves backend_mode once our domid is known (every xenstore connect;
 * logged when it changes). */
void
relay_mode_resolve(void)
{
	int m = wd.cfg.backend_mode, libxl;
	const char *why = "backend_mode set in the configuration";

	if (m == BACKEND_MODE_AUTO) {
		libxl = wd.self == 0;
		why = libxl ? "auto: domain 0, where libxl runs the hotplug "
		    "scripts of its own backends" : "auto: not domain 0, "
		    "libxl leaves this domain's backends to it";
	} else
		libxl = m == BACKEND_MODE_LIBXL;
	if (wd.mode_why != NULL && libxl == wd.libxl)
		return;
	wd.libxl = libxl;
	wd.mode_why = why;
	if (libxl)
		log_info("backend_mode=libxl (%s): libxl runs the scripts, "
		    "removes the backends and serves qdisks; watcherd only "
		    "tracks them and runs what devsep-relay asks for", why);
	else
		log_info("backend_mode=devsep (%s): watcherd drives every "
		    "backend of this domain", why);
}

const char *
relay_mode_name(void)
{
	return backend_mode_name(wd.libxl ? BACKEND_MODE_LIBXL :
	    BACKEND_MODE_DEVSEP);
}

void
relay_reply_done(struct msgchan *c, uint32_t reqid, uint32_t outcome,
    int64_t code, uint64_t dur_us, const char *msg)
{
	struct watcher_relay_done d = { outcome, code, dur_us, "" };
	struct msgbuf b;

	snprintf(d.message, sizeof(d.message), "%s", msg);	/* may cut */
	msgbuf_init(&b, MSG_WATCHER_RELAY_DONE, reqid);
	watcher_relay_done_put(&b, &d);
	if (b.err || msgchan_send(c, &b) == -1)
		msgchan_drop(c, "reply queue full");
	msgbuf_dispose(&b);
}

static int
ifname_ok(const char *s, int empty_ok)
{
	size_t n = strlen(s);

	if (n == 0)
		return empty_ok;
	return n <= RELAY_IFNAME_MAX && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* argv[1] as libxl_linux.c passes it: vbd add/remove; vif online/offline
 * (type_if=vif) or add/remove (type_if=tap). */
static int
action_parse(const char *kind, const char *action, struct relay_req *r)
{
	int vif = strcmp(kind, "vif") == 0;

	r->remove = strcmp(action, "remove") == 0 ||
	    strcmp(action, "offline") == 0;
	r->tap = vif && (strcmp(action, "add") == 0 ||
	    strcmp(action, "remove") == 0);
	if (strcmp(action, "add") == 0 || strcmp(action, "remove") == 0)
		return 0;
	if (vif && (strcmp(action, "online") == 0 ||
	    strcmp(action, "offline") == 0))
		return 0;
	return -1;
}

/* The fields alone (no xenstore): 0 or EINVAL with *why. */
static int
relay_fields(const char *action, const char *xbpath, struct relay_req *r,
    const char **why)
{
	struct backend_path bp;
	char abs[256];
	int k;

	*why = "script must be a bare name in script_dir, not a relay";
	if (!valid_component(r->script) || strncmp(r->script, RELAY_PREFIX,
	    strlen(RELAY_PREFIX)) == 0)
		return EINVAL;
	*why = "XENBUS_PATH is not backend/<vbd|vif>/<domid>/<devid>";
	if (strncmp(xbpath, "backend/", 8) != 0 ||
	    xsnprintf(abs, sizeof(abs), "/local/domain/%u/%s", wd.self,
	    xbpath) == -1 || parse_backend_path(abs, &bp) == -1 ||
	    *bp.rest != '\0' || (strcmp(bp.kind, "vbd") != 0 &&
	    strcmp(bp.kind, "vif") != 0) || (k = kind_index(bp.kind, 1)) < 0)
		return EINVAL;
	r->kind = (unsigned)k;
	r->domid = bp.domid;
	r->devid = bp.devid;
	*why = "action is not one libxl passes for this kind";
	if (action_parse(bp.kind, action, r) == -1)
		return EINVAL;
	*why = "vif (required for a vif, empty for a vbd) or netdev invalid";
	if ((strcmp(bp.kind, "vif") == 0 ? !ifname_ok(r->vif, 0) :
	    r->vif[0] != '\0') || !ifname_ok(r->netdev, 1))
		return EINVAL;
	return 0;
}

/* The backend's `script` node must name this relay: ".../devsep-<s>". */
static int
relay_script_node(const struct relay_req *r, const char **why)
{
	char p[256], want[sizeof(r->script) + 16];
	const char *base;
	unsigned len;
	char *v;
	int ok;

	*why = "no such backend, or it has no script node";
	if (xsnprintf(p, sizeof(p), "%s/%s/%u/%u/script", wd.be_root,
	    wd.kinds[r->kind], r->domid, r->devid) == -1 ||
	    (v = xsio_read(p, &len)) == NULL)
		return wd.xs != NULL ? ENOENT : ENOTCONN;
	snprintf(want, sizeof(want), "%s%s", RELAY_PREFIX, r->script);
	base = memrchr(v, '/', len);
	base = base != NULL ? base + 1 : v;
	ok = memchr(v, '\0', len) == NULL &&
	    (size_t)(v + len - base) == strlen(want) &&
	    memcmp(base, want, strlen(want)) == 0;
	free(v);
	*why = "the backend's script node does not name this relay";
	return ok ? 0 : EACCES;
}

static int
relay_check(const char *action, const char *xbpath, struct relay_req *r,
    const char **why)
{
	int err;

	*why = "backend_mode is devsep: watcherd runs this domain's scripts "
	    "itself, libxl must not (set backend_mode = libxl if libxl "
	    "drives these backends)";
	if (!wd.libxl)
		return EPERM;
	*why = "xenstore not connected";
	if (wd.xs == NULL)
		return ENOTCONN;
	*why = "devsep-hotplugd is not running";
	if (!hpjobs_connected())
		return ENOTCONN;
	if ((err = relay_fields(action, xbpath, r, why)) != 0)
		return err;
	return relay_script_node(r, why);
}

/* MSG_WATCHER_RELAY_RUN (proto_watcher.h), from devsep-relay (admin). */
int
watcherd_dispatch_admin_relay(struct msgchan *c, struct msg *m)
{
	struct watcher_relay_run q;
	struct relay_req r;
	const char *why = NULL, *action = q.action, *xbpath = q.xenbus_path;
	struct msgbuf b;
	int err;

	memset(&r, 0, sizeof(r));
	if (watcher_relay_run_get(m, &q) == -1)
		return -1;
	memcpy(r.script, q.script, sizeof(q.script));
	memcpy(r.vif, q.vif, sizeof(q.vif));
	memcpy(r.netdev, q.netdev, sizeof(q.netdev));
	if ((err = relay_check(action, xbpath, &r, &why)) == 0 &&
	    (err = hpjobs_relay_start(&r, c, m->hdr.reqid)) != 0)
		why = err == EBUSY ? "this script is already running for "
		    "that device and action" : "out of memory";
	if (err == 0) {
		log_info("domid=%u kind=%s devid=%u relay: %s %s (pid %d)",
		    r.domid, wd.kinds[r.kind], r.devid, r.script, action,
		    (int)msgchan_cred(c)->pid);
		return 0;
	}
	wd.st.relay_refused++;
	log_warnx("relay (pid %d): %s %s %.64s refused: %s",
	    (int)msgchan_cred(c)->pid, r.script, action, xbpath, why);
	reply_error_init(&b, m->hdr.reqid, err, why);
	if (msgchan_send(c, &b) == -1)
		msgchan_drop(c, "reply queue full");
	msgbuf_dispose(&b);
	return 0;
}
