/*
 * <rundir>/watcherd.sock: requests from devsepctl and devsep-relay
 * (PEER_ADMIN: root) and the QEMU broker (PEER_BROKER).  The table below is the permission matrix;
 * msg_dispatch() refuses anything else and the peer is dropped.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <xenstore.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "proto_watcher.h"
#include "reply.h"
#include "wd.h"
#include "xsutil.h"

#define CTL_MAX_CONNS	32
#define CTL_TX_TRIES	16	/* CD-ROM update: commits that may conflict */

static struct msglisten *ctl_listen;

static void
reply_err(struct msgchan *c, uint32_t reqid, int err, const char *text)
{
	struct msgbuf b;

	reply_error_init(&b, reqid, err, text);
	if (msgchan_send(c, &b) == -1)
		msgchan_drop(c, "reply queue full");
	msgbuf_dispose(&b);
}

static void
reply_str(struct msgchan *c, uint32_t type, uint32_t reqid, char *s)
{
	struct reply_json r = { s, s ? strlen(s) : 0 };
	struct msgbuf b;

	if (s == NULL) {
		reply_err(c, reqid, ENOMEM, "cannot build the reply");
		return;
	}
	msgbuf_init(&b, type, reqid);
	reply_json_put(&b, &r);
	if (b.err || msgchan_send(c, &b) == -1)
		msgchan_drop(c, "reply too large or queue full");
	msgbuf_dispose(&b);
	free(s);
}

static int
watcherd_dispatch_admin_status(struct msgchan *c, struct msg *m)
{
	if (msg_end(m) == -1)
		return -1;
	reply_str(c, MSG_COMMON_STATUS_REPLY, m->hdr.reqid, status_json());
	return 0;
}

static int
watcherd_dispatch_admin_stats(struct msgchan *c, struct msg *m)
{
	if (msg_end(m) == -1)
		return -1;
	reply_str(c, MSG_COMMON_STATS_REPLY, m->hdr.reqid, stats_json());
	return 0;
}

static int
watcherd_dispatch_admin_devices(struct msgchan *c, struct msg *m)
{
	struct watcher_devices req;

	if (watcher_devices_get(m, &req) == -1)
		return -1;
	reply_str(c, MSG_WATCHER_DEVICES_REPLY, m->hdr.reqid,
	    devices_json(req.domid));
	return 0;
}

static int
printable(const char *s)
{
	for (; *s; s++)
		if (!isprint((unsigned char)*s))
			return 0;
	return 1;
}

struct cdrom_nodes {
	const char	*be;
	const char	*lx;		/* libxl's copy of params, or NULL */
	const char	*vals[3];	/* params, type, mode */
};

/* One attempt: params always, type and mode only when given. */
static int
cdrom_write_tx(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	static const char *const nodes[3] = { "params", "type", "mode" };
	const struct cdrom_nodes *n = arg;
	char p[256];
	int i;

	for (i = 0; i < 3; i++) {
		if (i > 0 && n->vals[i][0] == '\0')
			continue;	/* keep type/mode */
		snprintf(p, sizeof(p), "%s/%s", n->be, nodes[i]);
		if (!xs_write(xs, t, p, n->vals[i], strlen(n->vals[i])))
			return -1;
	}
	/* libxl keeps params under /libxl/<domid>/device/vbd/<devid> too
	 * and writes both in one transaction (libxl_disk.c cdrom insert) */
	snprintf(p, sizeof(p), "%s/params", n->lx ? n->lx : "");
	if (n->lx != NULL &&
	    !xs_write(xs, t, p, n->vals[0], strlen(n->vals[0])))
		return -1;
	return 0;
}

/* libxl's /libxl/<domid>/device/vbd/<devid> when it has a params node. */
static const char *
libxl_copy(uint32_t domid, uint32_t devid, char *lx, size_t lxsz)
{
	char p[192];
	unsigned len;
	char *v;

	if (xsnprintf(lx, lxsz, "/libxl/%u/device/vbd/%u", domid, devid) == -1 ||
	    xsnprintf(p, sizeof(p), "%s/params", lx) == -1 ||
	    (v = xsio_read(p, &len)) == NULL)
		return NULL;
	free(v);
	return lx;
}

static int
cdrom_write(const char *be, const char *lx, const char *params,
    const char *type, const char *mode)
{
	struct cdrom_nodes n = { be, lx, { params, type, mode } };

	return xsu_transact(wd.xs, CTL_TX_TRIES, cdrom_write_tx, &n);
}

/* The CD-ROM's backend: vbd, or qdisk (libxl's HVM CD-ROMs); 0 or -1. */
static int
cdrom_backend(uint32_t domid, uint32_t devid, char *be, size_t besz,
    char **devtype, unsigned *len)
{
	static const char *const kinds[] = { "vbd", "qdisk" };
	char p[256];
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (xsnprintf(be, besz, "%s/%s/%u/%u", wd.be_root, kinds[i],
		    domid, devid) == -1 ||
		    xsnprintf(p, sizeof(p), "%s/device-type", be) == -1)
			return -1;
		if ((*devtype = xsio_read(p, len)) != NULL)
			return 0;
	}
	return -1;
}

/* Checks the request; 0, or an errno with *why set. */
static int
cdrom_check(uint32_t domid, uint32_t devid, const char *params,
    const char *type, const char *mode, char *be, size_t besz,
    const char **why)
{
	unsigned len;
	char *v;
	int ok;

	*why = "bad field";
	if (domid > DOMID_MAX || devid > (UINT32_MAX >> 1) ||
	    !printable(params) || (strcmp(type, "file") && strcmp(type, "phy") &&
	    *type) || (strcmp(mode, "r") && *mode))
		return EINVAL;
	*why = "xenstore connection down";
	if (wd.xs == NULL)
		return ENOTCONN;
	*why = "no such vbd backend";
	if (cdrom_backend(domid, devid, be, besz, &v, &len) == -1)
		return ENOENT;
	ok = len == 5 && memcmp(v, "cdrom", 5) == 0;
	free(v);
	*why = "not a cdrom";
	return ok ? 0 : EMEDIUMTYPE;
}

static int
watcherd_dispatch_broker_cdrom(struct msgchan *c, struct msg *m)
{
	struct watcher_cdrom_update u;
	char be[192], lx[96];
	const char *why;
	struct msgbuf b;
	int err;

	if (watcher_cdrom_update_get(m, &u) == -1)
		return -1;
	err = cdrom_check(u.domid, u.devid, u.params, u.type, u.mode, be,
	    sizeof(be), &why);
	if (err == 0 && cdrom_write(be, libxl_copy(u.domid, u.devid, lx,
	    sizeof(lx)), u.params, u.type, u.mode) == -1) {
		err = errno ? errno : EIO;
		why = "xenstore write failed";
	}
	if (err) {
		log_warnx("domid=%u kind=vbd devid=%u cdrom update refused: %s",
		    u.domid, u.devid, why);
		reply_err(c, m->hdr.reqid, err, why);
		return 0;
	}
	log_info("domid=%u kind=vbd devid=%u cdrom params=\"%s\"", u.domid,
	    u.devid, u.params);
	msgbuf_init(&b, MSG_COMMON_OK, m->hdr.reqid);
	if (msgchan_send(c, &b) == -1)
		msgchan_drop(c, "reply queue full");
	msgbuf_dispose(&b);
	return 0;
}

/* The permission matrix of watcherd.sock. */
static const struct msg_handler watcherd_handlers[] = {
	{ MSG_COMMON_STATUS, "STATUS", PEER_ADMIN,
	    watcherd_dispatch_admin_status },
	{ MSG_COMMON_STATS, "STATS", PEER_ADMIN,
	    watcherd_dispatch_admin_stats },
	{ MSG_WATCHER_DEVICES, "DEVICES", PEER_ADMIN,
	    watcherd_dispatch_admin_devices },
	{ MSG_WATCHER_CDROM_UPDATE, "CDROM_UPDATE", PEER_BROKER | PEER_ADMIN,
	    watcherd_dispatch_broker_cdrom },
	{ MSG_WATCHER_RELAY_RUN, "RELAY_RUN", PEER_ADMIN,
	    watcherd_dispatch_admin_relay },
};

static void
ctl_msg(struct msgchan *c, struct msg *m, void *arg)
{
	if (msg_dispatch(watcherd_handlers,
	    MSG_NHANDLERS(watcherd_handlers), c, m) == -1)
		msgchan_drop(c, "refused message");
}

static void
ctl_close(struct msgchan *c, void *arg)
{
	hpjobs_relay_gone(c);	/* a relay's job, if any, is cancelled */
	msglisten_closed_peer(ctl_listen, msgchan_peer(c));
	msgchan_free(c);
}

/* A new connection (msglisten counts and limits them). */
static int
ctl_accept(int fd, void *arg)
{
	struct msgchan_opts o = { WATCHER_MSG_MAX, 0, 0 };
	struct msgchan *c;

	if ((c = msgchan_new(wd.base, fd, &o, ctl_msg, ctl_close, NULL)) ==
	    NULL)
		return -1;
	/* devsepctl: one request; a relay waiting for its job is not idle */
	if (msgchan_peer(c) & PEER_ADMIN)
		msgchan_set_idle(c, wd.cfg.peer_idle_timeout_ms,
		    hpjobs_relay_waiting);
	return 0;
}

int
control_listen(void)
{
	char path[CONFIG_PATH_MAX + 32];

	/* 0660 root:devsep: the broker (group) and root */
	if ((wd.ctl_fd = daemon_listen(&wd.cfg, SOCK_WATCHERD, path,
	    sizeof(path))) == -1) {
		log_warn("control: listen %s", path);
		return -1;
	}
	return 0;
}

void
control_start(void)
{
	ctl_listen = msglisten_new(wd.base, wd.ctl_fd, CTL_MAX_CONNS,
	    "control", ctl_accept, NULL);
	if (ctl_listen == NULL)
		fatalx("control: cannot accept on watcherd.sock");
	msglisten_set_classes(ctl_listen, msg_table_peers(watcherd_handlers,
	    sizeof(watcherd_handlers) / sizeof(watcherd_handlers[0])), CTL_MAX_CONNS);
}
