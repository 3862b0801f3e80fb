/*
 * The xenstore side of a CD-ROM change (backend params/type/mode) is
 * written by watcherd, the only xenstore writer: MSG_WATCHER_CDROM_UPDATE
 * on a short-lived connection, sent inside the slow-lock section (after
 * QEMU took the medium on insert, before the JSON entry goes on eject).
 * Never fatal to the operation: the outcome string goes into the reply.
 *
 *   watcherd.sock   event                 -> op->xs
 *   absent          -                     -> "skipped: watcherd not running"
 *   present         OK                    -> "updated"
 *   present         ERROR {errno, msg}    -> "failed: <msg>"
 *   present         no reply in time,
 *                   hang-up, garbage      -> "failed: ..."
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "codec.h"
#include "log.h"
#include "parse.h"
#include "proto_watcher.h"
#include "reply.h"

struct xsreq {
	struct op	*op;
	void		(*next)(struct op *);
	struct msgchan	*chan;
	struct event	*timer;
	int		 done;
};

static void
xs_done(struct xsreq *x, const char *prefix, const char *detail)
{
	struct op *op = x->op;

	if (x->done)
		return;
	x->done = 1;
	snprintf(op->xs, sizeof(op->xs), "%s%s", prefix, detail);
	if (strcmp(op->xs, "updated") == 0)
		B->st.xs_updates++;
	event_del(x->timer);
	msgchan_drop(x->chan, NULL);	/* on_close frees the request */
	x->next(op);
}

static void
xs_msg(struct msgchan *c, struct msg *m, void *arg)
{
	struct xsreq *x = arg;
	char emsg[96] = "?";
	uint32_t err;

	if ((msgchan_peer(c) & PEER_WATCHERD) == 0)
		xs_done(x, "failed: ", "peer is not watcherd");
	else if (m->hdr.type == MSG_COMMON_OK)
		xs_done(x, "updated", "");
	else if (m->hdr.type == MSG_COMMON_ERROR &&
	    reply_error_get(m, &err, emsg, sizeof(emsg)) == 0)
		xs_done(x, "failed: ", emsg);
	else
		xs_done(x, "failed: ", "unexpected reply");
}

static void
xs_close(struct msgchan *c, void *arg)
{
	struct xsreq *x = arg;

	xs_done(x, "failed: ", "watcherd hung up");
	msgchan_free(c);
	event_free(x->timer);
	free(x);
}

static void
xs_timeout(evutil_socket_t fd, short ev, void *arg)
{
	xs_done(arg, "failed: ", "watcherd did not answer in time");
}

void
xs_cdrom_update(struct op *op, const char *params, void (*next)(struct op *))
{
	struct timeval tv = { B->cfg.qmp_cmd_timeout_ms / 1000,
	    (B->cfg.qmp_cmd_timeout_ms % 1000) * 1000 };
	char path[CONFIG_PATH_MAX + 32];
	struct watcher_cdrom_update u;
	struct msgbuf b;
	struct xsreq *x;
	uid_t uid;
	int fd;

	if (xsnprintf(path, sizeof(path), "%s/%s", B->cfg.run_dir,
	    SOCK_WATCHERD) == -1 ||
	    (fd = msg_connect_server(path, PEER_WATCHERD, &uid)) == -1) {
		if (errno == EPERM)
			log_warnx("%s answered by uid %u, not root or %s: an "
			    "impostor, not talking to it", path,
			    (unsigned)uid, USER_WATCHERD);
		snprintf(op->xs, sizeof(op->xs),
		    "skipped: watcherd not running");
		B->st.xs_skipped++;
		log_info("domid=%u kind=cdrom devid=%u xenstore update skipped: "
		    "watcherd not running", op->domid, op->devid);
		next(op);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->timer = evtimer_new(B->base, xs_timeout, x)) == NULL ||
	    (x->chan = msgchan_new(B->base, fd, NULL, xs_msg, xs_close,
	    x)) == NULL)
		fatal("xs_cdrom_update");
	msgchan_set_peer(x->chan, PEER_WATCHERD);	/* verified at connect */
	x->op = op;
	x->next = next;
	event_add(x->timer, &tv);
	u.domid = op->domid;
	u.devid = op->devid;
	/* too long a path: the put fails, and so the send, as "failed: send" */
	CODEC_SET_STR(u.params, params);
	/* an xl domain: libxl's params ("aio:<path>", as libxl writes for a
	 * raw medium), and its type and mode stay as libxl wrote them */
	CODEC_SET_STR(u.type, *params && !op->xl ? "file" : "");
	CODEC_SET_STR(u.mode, *params && !op->xl ? "r" : "");
	msgbuf_init(&b, MSG_WATCHER_CDROM_UPDATE, 1);
	watcher_cdrom_update_put(&b, &u);
	if (msgchan_send(x->chan, &b) == -1)
		xs_done(x, "failed: ", "send");
	msgbuf_dispose(&b);
}
