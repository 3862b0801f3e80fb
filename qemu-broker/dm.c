/*
 * QEMU instances.  Life cycle of one struct dm:
 *
 *   state      event                         -> action / next
 *   (none)     DM_START / first QDISK_ATTACH -> socketpair, SPAWN / STARTING
 *   STARTING   launcher ERROR                -> reply error, free / (none)
 *   STARTING   QMP ready (caps negotiated)   -> reply OK / RUNNING
 *   STARTING   QMP dead, timeout             -> reply EIO / BROKEN
 *   RUNNING    QMP dead (EOF, garbage)       -> waiters EPIPE / BROKEN
 *   RUNNING    DM_DESTROY, last QDISK_DETACH -> "quit", kill timer / STOPPING
 *   BROKEN     DM_DESTROY                    -> SIGKILL / STOPPING
 *   STOPPING   kill timer                    -> SIGKILL / STOPPING
 *   any        launcher EXITED               -> waiters EPIPE, lockd
 *                                               DM_GONE (dm kind), reply
 *                                               destroyer / EXITED, unlisted
 *   EXITED     last op done                  -> free
 *   (none)     DM_DESTROY                    -> nothing to reap: DM_GONE, OK
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "broker.h"
#include "daemon.h"
#include "lockd_client.h"
#include "log.h"
#include "parse.h"
#include "proto_broker.h"
#include "qmp.h"
#include "reply.h"

struct dm_waiter {
	LIST_ENTRY(dm_waiter)	 entry;
	struct dm		*dm;
	char			 qdev[64];
	dm_cb			 cb;
	void			*arg;
	struct event		*timer;
};

struct tramp {
	struct dm	*dm;
	dm_cb		 cb;
	void		*arg;
};

static void confirm_gone(uint32_t, uint32_t, pid_t, int, struct client *,
    uint32_t);
static void qmp_attach(struct dm *);
static void xl_replied(struct dm *, struct msg *);

static const char *state_names[] = { "starting", "running", "broken",
    "stopping", "exited" };

const char *
dm_state_name(enum dm_state s)
{
	return state_names[s];
}

/* xl's device models while the broker talks to them (never in B->dms). */
static LIST_HEAD(, dm) xl_dms = LIST_HEAD_INITIALIZER(xl_dms);

struct dm *
dm_find(uint32_t domid, uint32_t kind)
{
	struct dm *d;

	LIST_FOREACH(d, &B->dms, entry)
		if (d->domid == domid && d->kind == kind)
			return d;
	return NULL;
}

static void
dm_free(struct dm *d)
{
	if (d->qmp != NULL)
		qmp_free(d->qmp);
	if (d->qmpfd != -1)
		close(d->qmpfd);
	if (d->ev_kill != NULL)
		event_free(d->ev_kill);
	client_unref(d->req);
	free(d);
}

/* Frees an exited dm once no operation holds it. */
static void
dm_maybe_free(struct dm *d)
{
	if (d->state == DM_EXITED && d->ops == 0)
		dm_free(d);
}

static void
send_kill(struct dm *d, int sig)
{
	struct launch_kill k = { (uint32_t)d->pid, (uint32_t)sig };
	struct msgbuf b;

	if (d->pid <= 0)
		return;
	msgbuf_init(&b, MSG_LAUNCH_KILL, 0);
	launch_kill_put(&b, &k);
	if (msgchan_send(B->launcher, &b) == -1)
		log_warn("domid=%u cannot ask the launcher to kill", d->domid);
	msgbuf_dispose(&b);
}

/* The start is over with an error; clean: no QEMU process is left. */
static void
start_failed(struct dm *d, int err, int clean, const char *msg)
{
	dm_started_fn fn = d->on_started;

	if (fn != NULL) {
		d->on_started = NULL;
		fn(d, -err, clean, msg, d->started_arg);
		return;
	}
	client_reply_err(d->req, d->req_reqid, err, "%s", msg);
	client_unref(d->req);
	d->req = NULL;
}

static void
reply_started(struct dm *d)
{
	dm_started_fn fn = d->on_started;
	struct msgbuf b;

	if (fn != NULL) {
		d->on_started = NULL;
		fn(d, 0, 0, NULL, d->started_arg);
		return;
	}

	msgbuf_init(&b, MSG_COMMON_OK, d->req_reqid);
	if (d->kind == LAUNCH_KIND_QDISK) {
		struct broker_qdisk_attached q = { d->nqdevs,
		    (uint32_t)d->pid };

		broker_qdisk_attached_put(&b, &q);
	} else {
		struct broker_dm_started s = { (uint32_t)d->pid,
		    (uint32_t)d->uid };

		broker_dm_started_put(&b, &s);
	}
	client_reply_ok(d->req, &b);
	msgbuf_dispose(&b);
	client_unref(d->req);
	d->req = NULL;
}

static void
cont_replied(struct qmp *q, int rc, json_t *ret, const char *errdesc,
    void *arg)
{
	struct dm *d = arg;

	if (rc != 0)
		log_warnx("domid=%u cont: %s", d->domid, errdesc ? errdesc :
		    strerror(-rc));
	if ((d->req != NULL || d->on_started) && d->state == DM_RUNNING)
		reply_started(d);
}

static void
on_ready(struct qmp *q, int rc, void *arg)
{
	struct dm *d = arg;

	d->state = DM_RUNNING;
	B->st.dm_started++;
	log_info("domid=%u kind=%s QEMU pid=%d ready (QMP negotiated)%s",
	    d->domid, d->kind ? "qdisk" : "dm", (int)d->pid,
	    d->adopting ? ", adopted" : "");
	if (d->adopting) {
		adopt_reconcile(d);	/* clears adopting when done */
		return;
	}
	if ((d->flags & BROKER_DM_RUN) &&
	    qmp_cmd(q, "cont", NULL, -1, cont_replied, d) == 0)
		return;	/* reply once the VM runs */
	if (d->req != NULL || d->on_started)
		reply_started(d);
}

static void
waiters_fail(struct dm *d, int rc)
{
	struct dm_waiter *w;

	while ((w = LIST_FIRST(&d->waiters)) != NULL) {
		LIST_REMOVE(w, entry);
		event_free(w->timer);
		w->cb(rc, NULL, "QEMU went away", w->arg);
		free(w);
	}
}

static void
on_dead(struct qmp *q, int rc, void *arg)
{
	struct dm *d = arg;

	log_warnx("domid=%u QMP lost (%s) pid=%d", d->domid, strerror(-rc),
	    (int)d->pid);
	waiters_fail(d, -EPIPE);
	if (d->state == DM_STARTING && (d->req != NULL || d->on_started)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "QEMU did not complete the QMP "
		    "handshake: %s", strerror(-rc));
		start_failed(d, EIO, 0, msg);	/* it still runs: not clean */
	}
	/* kept (not killed) until DM_DESTROY: the destroyer decides */
	if (d->state == DM_STARTING || d->state == DM_RUNNING)
		d->state = DM_BROKEN;
}

static void
on_event(struct qmp *q, const char *event, json_t *data, void *arg)
{
	struct dm *d = arg;
	struct dm_waiter *w, *tw;
	const char *dev;

	log_debug("domid=%u QMP event %s", d->domid, event);
	if (strcmp(event, "DEVICE_DELETED") != 0 || data == NULL ||
	    (dev = json_string_value(json_object_get(data, "device"))) == NULL)
		return;
	LIST_FOREACH_SAFE(w, &d->waiters, entry, tw) {
		if (strcmp(w->qdev, dev) != 0)
			continue;
		LIST_REMOVE(w, entry);
		event_free(w->timer);
		w->cb(0, NULL, NULL, w->arg);
		free(w);
	}
}

_Static_assert(sizeof(((struct dm *)0)->chroot) == LAUNCH_CHROOT_MAX,
    "dm.chroot holds a SPAWN reply's chroot");

static void
launcher_replied(struct dm *d, struct msg *m)
{
	struct launch_spawned ok;
	uint32_t err;
	char msg[256];

	if (m->hdr.type == MSG_COMMON_ERROR) {
		if (reply_error_get(m, &err, msg, sizeof(msg)) == -1)
			strcpy(msg, "?"), err = EIO;
		if (d->state == DM_STOPPING)	/* destroyed meanwhile */
			confirm_gone(d->domid, d->kind, 0, 0, d->req,
			    d->req_reqid);
		else {
			char full[300];

			snprintf(full, sizeof(full), "launch failed: %s", msg);
			start_failed(d, (int)err, 1, full);
		}
		LIST_REMOVE(d, entry);
		dm_free(d);
		return;
	}
	if (launch_spawned_get(m, &ok) == -1)
		fatalx("launcher sent a malformed reply");
	memcpy(d->chroot, ok.chroot, sizeof(d->chroot));
	d->pid = (pid_t)ok.pid;
	d->uid = (uid_t)ok.uid;
	if (d->state == DM_STOPPING) {	/* destroyed while launching */
		send_kill(d, SIGKILL);
		return;
	}
	qmp_attach(d);
}

/* Connects to the QEMU's QMP socket and starts the handshake. */
static void
qmp_attach(struct dm *d)
{
	struct ucred peer;
	int fd;

	if ((fd = qmpsock_connect(d->kind, d->domid, &peer)) < 0) {
		on_dead(NULL, fd, d);
		return;
	}
	d->qmp = qmp_new(B->base, fd, B->cfg.qmp_cmd_timeout_ms, on_ready,
	    on_dead, on_event, d);
	if (d->qmp == NULL)
		fatal("qmp_new");
}

static void
dm_send_gone_reply(uint32_t kind, pid_t pid, int status, int gone_sent,
    struct client *c, uint32_t reqid)
{
	struct broker_dm_destroyed r = { (uint32_t)pid, status,
	    (uint32_t)gone_sent };
	struct broker_qdisk_detached q = { 0 };
	struct msgbuf b;

	msgbuf_init(&b, MSG_COMMON_OK, reqid);
	if (kind == LAUNCH_KIND_QDISK)		/* QDISK_DETACH: refs 0 */
		broker_qdisk_detached_put(&b, &q);
	else
		broker_dm_destroyed_put(&b, &r);
	client_reply_ok(c, &b);
	msgbuf_dispose(&b);
}

struct gone {
	uint32_t	 domid;
	pid_t		 pid;
	int		 status;
	struct client	*c;
	uint32_t	 reqid;
	uint32_t	 kind;
};

static void
gone_replied(int rc, const struct lockc_reply *r, void *arg)
{
	struct gone *g = arg;

	if (rc != 0)
		log_info("domid=%u lockd DM_GONE: %s (%s)", g->domid,
		    strerror(-rc), r != NULL ? r->errmsg : "");
	if (g->c != NULL)
		dm_send_gone_reply(g->kind, g->pid, g->status, rc == 0, g->c,
		    g->reqid);
	client_unref(g->c);
	free(g);
}

/* Confirms to lockd that this domain's QEMU is gone, then replies. */
static void
confirm_gone(uint32_t domid, uint32_t kind, pid_t pid, int status,
    struct client *c, uint32_t reqid)
{
	struct lockc_async *l;
	struct gone *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		fatal("calloc");
	*g = (struct gone){ domid, pid, status, client_ref(c), reqid, kind };
	if (kind == LAUNCH_KIND_DM && (l = broker_lockd()) != NULL &&
	    lockc_async_dm_gone(l, domid, gone_replied, g) == 0)
		return;
	gone_replied(-ENOTCONN, NULL, g);
}

static void
dm_exited(struct dm *d, int status)
{
	log_info("domid=%u kind=%s QEMU pid=%d reaped status=0x%x", d->domid,
	    d->kind ? "qdisk" : "dm", (int)d->pid, status);
	B->st.dm_exited++;
	d->status = status;
	qmpsock_remove(d->kind, d->domid);
	if (d->qmp != NULL) {
		qmp_free(d->qmp);	/* pending commands fail with EPIPE */
		d->qmp = NULL;
	}
	waiters_fail(d, -EPIPE);
	if (d->ev_kill != NULL)
		event_del(d->ev_kill);
	if (d->state == DM_STARTING && (d->req != NULL || d->on_started)) {
		char msg[128];

		snprintf(msg, sizeof(msg), "QEMU exited during start (status "
		    "0x%x)", status);
		start_failed(d, EIO, 1, msg);
	}
	/* a destroy requester (or none: QEMU died by itself) */
	if (d->state == DM_STOPPING || d->req == NULL)
		confirm_gone(d->domid, d->kind, d->pid, status, d->req,
		    d->req_reqid);
	client_unref(d->req);
	d->req = NULL;
	d->state = DM_EXITED;
	LIST_REMOVE(d, entry);
	dm_maybe_free(d);
}

void
dm_launcher_msg(struct msg *m)
{
	struct launch_exited e;
	struct dm *d;

	if (m->hdr.type == MSG_LAUNCH_EXITED) {
		if (launch_exited_get(m, &e) == -1)
			fatalx("launcher sent a malformed EXITED");
		LIST_FOREACH(d, &B->dms, entry)
			if (d->pid == (pid_t)e.pid) {
				dm_exited(d, (int)e.status);
				return;
			}
		return;
	}
	LIST_FOREACH(d, &B->dms, entry)
		if (d->pid == 0 && d->launch_reqid == m->hdr.reqid) {
			launcher_replied(d, m);
			return;
		}
	LIST_FOREACH(d, &xl_dms, entry)
		if (d->qmp == NULL && d->launch_reqid == m->hdr.reqid) {
			xl_replied(d, m);
			return;
		}
	log_warnx("launcher reply reqid=%u matches nothing", m->hdr.reqid);
}

int
dm_start(struct client *c, uint32_t reqid, const struct launch_req *r,
    uint32_t flags)
{
	struct msgbuf b;
	struct dm *d;
	int lfd, rc;

	if (dm_find(r->domid, r->kind) != NULL)
		return -EEXIST;
	if (launch_req_valid(r) == -1)
		return -EINVAL;
	/* QEMU's QMP listens on a path, so that a restarted broker can
	 * connect again (qmpsock.c) */
	if ((lfd = qmpsock_bind(r->kind, r->domid)) < 0)
		return lfd;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		close(lfd);
		return -ENOMEM;
	}
	d->domid = r->domid;
	d->kind = r->kind;
	d->state = DM_STARTING;
	d->flags = flags;
	d->qmpfd = -1;
	d->req = client_ref(c);
	d->req_reqid = reqid;
	d->started_ms = now_ms();
	d->launch_reqid = ++B->next_reqid;
	LIST_INIT(&d->waiters);
	msgbuf_init(&b, MSG_LAUNCH_SPAWN, d->launch_reqid);
	launch_spawn_put(&b, r);
	msgbuf_set_fd(&b, lfd);
	rc = msgchan_send(B->launcher, &b) == -1 ? -errno : 0;
	msgbuf_dispose(&b);
	close(lfd);
	if (rc != 0) {
		qmpsock_remove(r->kind, r->domid);
		dm_free(d);
		return rc;
	}
	LIST_INSERT_HEAD(&B->dms, d, entry);
	return 0;
}

/*
 * A QEMU a previous broker started (its QMP socket is still there): the
 * peer of a connection must be QEMU's uid for that domain.  The launcher
 * tracks it by pidfd from now on (MSG_LAUNCH_ADOPT), so DM_DESTROY and
 * EXITED work as for our own children.  Returns 0 or -errno.
 */
int
dm_adopt(uint32_t kind, uint32_t domid)
{
	int64_t uid = qemu_uid(B->cfg.qemu_uid_base, domid);
	struct ucred peer;
	struct msgbuf b;
	struct dm *d;
	int fd;

	if (dm_find(domid, kind) != NULL)
		return -EEXIST;
	if ((fd = qmpsock_connect(kind, domid, &peer)) < 0) {
		log_info("domid=%u kind=%s: QMP socket left but no QEMU "
		    "(%s): removed", domid, kind ? "qdisk" : "dm",
		    strerror(-fd));
		qmpsock_remove(kind, domid);
		return fd;
	}
	if (uid == -1 || peer.uid != (uid_t)uid) {
		log_warnx("domid=%u QMP socket served by uid %u pid %d, not "
		    "QEMU's uid: not adopted", domid, (unsigned)peer.uid,
		    (int)peer.pid);
		close(fd);
		return -EPERM;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		close(fd);
		return -ENOMEM;
	}
	*d = (struct dm){ .domid = domid, .kind = kind, .state = DM_STARTING,
	    .pid = peer.pid, .uid = peer.uid, .qmpfd = -1, .adopting = 1,
	    .started_ms = now_ms() };
	LIST_INIT(&d->waiters);
	msgbuf_init(&b, MSG_LAUNCH_ADOPT, 0);
	launch_adopt_put(&b, &(struct launch_adopt){ (uint32_t)peer.pid,
	    domid });
	if (msgchan_send(B->launcher, &b) == -1)
		log_warn("domid=%u cannot hand pid %d to the launcher", domid,
		    (int)peer.pid);
	msgbuf_dispose(&b);
	if ((d->qmp = qmp_new(B->base, fd, B->cfg.qmp_cmd_timeout_ms,
	    on_ready, on_dead, on_event, d)) == NULL)
		fatal("qmp_new");
	LIST_INSERT_HEAD(&B->dms, d, entry);
	log_info("domid=%u kind=%s adopting QEMU pid=%d uid=%u", domid,
	    kind ? "qdisk" : "dm", (int)peer.pid, (unsigned)peer.uid);
	return 0;
}

static void
xl_gone(struct dm *d)
{
	LIST_REMOVE(d, entry);
	d->state = DM_EXITED;
	dm_maybe_free(d);
}

/* The launcher connected to libxl's QMP socket (or could not). */
static void
xl_replied(struct dm *d, struct msg *m)
{
	struct launch_xlqmp_ok ok;
	uint32_t err;
	char msg[256], full[300];
	int fd;

	if (m->hdr.type == MSG_COMMON_ERROR) {
		if (reply_error_get(m, &err, msg, sizeof(msg)) == -1)
			strcpy(msg, "?"), err = EIO;
		snprintf(full, sizeof(full), "xl's QEMU of domain %u: %s",
		    d->domid, msg);
		start_failed(d, (int)err, 1, full);
		xl_gone(d);
		return;
	}
	if (launch_xlqmp_ok_get(m, &ok) == -1 || (fd = msg_take_fd(m)) == -1)
		fatalx("launcher sent a malformed XLQMP reply");
	d->pid = (pid_t)ok.pid;
	d->uid = (uid_t)ok.uid;
	if ((d->qmp = qmp_new(B->base, fd, B->cfg.qmp_cmd_timeout_ms,
	    on_ready, on_dead, on_event, d)) == NULL)
		fatal("qmp_new");
}

int
dm_xl_connect(uint32_t domid, dm_started_fn fn, void *arg)
{
	struct msgbuf b;
	struct dm *d;
	int rc;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return -ENOMEM;
	*d = (struct dm){ .domid = domid, .kind = LAUNCH_KIND_DM,
	    .state = DM_STARTING, .qmpfd = -1, .xl = 1, .on_started = fn,
	    .started_arg = arg, .launch_reqid = ++B->next_reqid,
	    .started_ms = now_ms() };
	LIST_INIT(&d->waiters);
	msgbuf_init(&b, MSG_LAUNCH_XLQMP, d->launch_reqid);
	launch_xlqmp_put(&b, &(struct launch_xlqmp){ domid });
	rc = msgchan_send(B->launcher, &b) == -1 ? -errno : 0;
	msgbuf_dispose(&b);
	if (rc != 0) {
		free(d);
		return rc;
	}
	LIST_INSERT_HEAD(&xl_dms, d, entry);
	return 0;
}

static void
xl_close_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct dm *d = arg;

	if (d->qmp != NULL) {
		qmp_free(d->qmp);	/* hang up: xl may connect again */
		d->qmp = NULL;
	}
	waiters_fail(d, -EPIPE);
	xl_gone(d);
	dm_put(d);
}

void
dm_xl_close(struct dm *d)
{
	static const struct timeval now = { 0, 0 };

	dm_hold(d);	/* until the callback: not inside a QMP callback */
	if (event_base_once(B->base, -1, EV_TIMEOUT, xl_close_cb, d,
	    &now) == -1)
		fatalx("event_base_once");
}

static void
kill_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct dm *d = arg;

	log_warnx("domid=%u QEMU pid=%d did not quit in time: SIGKILL",
	    d->domid, (int)d->pid);
	send_kill(d, SIGKILL);
}

/* No QEMU for that domain: nothing to reap, confirm to lockd at once. */
void
dm_destroy_absent(uint32_t domid, struct client *c, uint32_t reqid)
{
	confirm_gone(domid, LAUNCH_KIND_DM, 0, 0, c, reqid);
}

int
dm_destroy(struct dm *d, struct client *c, uint32_t reqid,
    uint32_t timeout_ms)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

	if (d->state == DM_STOPPING)
		return -EBUSY;
	if (d->req != NULL || d->on_started)	/* a start still waiting */
		start_failed(d, ECANCELED, 0, "destroyed during start");
	d->req = client_ref(c);
	d->req_reqid = reqid;
	d->state = DM_STOPPING;
	if ((d->ev_kill = evtimer_new(B->base, kill_timer, d)) == NULL)
		fatal("evtimer_new");
	event_add(d->ev_kill, &tv);
	log_info("domid=%u destroying QEMU pid=%d", d->domid, (int)d->pid);
	if (d->qmp != NULL && qmp_is_ready(d->qmp) &&
	    qmp_cmd(d->qmp, "quit", NULL, -1, NULL, NULL) == 0)
		return 0;
	if (d->pid > 0)
		send_kill(d, SIGKILL);
	return 0;
}

void
dm_hold(struct dm *d)
{
	d->ops++;
}

void
dm_put(struct dm *d)
{
	d->ops--;
	dm_maybe_free(d);
}

static void
tramp_cb(struct qmp *q, int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct tramp *t = arg;

	t->cb(rc, ret, errdesc, t->arg);
	free(t);
}

int
dm_qmp(struct dm *d, const char *cmd, json_t *args, int fd, dm_cb cb,
    void *arg)
{
	struct tramp *t;
	int rc;

	if (d->state != DM_RUNNING || d->qmp == NULL || d->adopting) {
		json_decref(args);
		return -ESRCH;
	}
	if ((t = malloc(sizeof(*t))) == NULL) {
		json_decref(args);
		return -ENOMEM;
	}
	*t = (struct tramp){ d, cb, arg };
	if ((rc = qmp_cmd(d->qmp, cmd, args, fd, tramp_cb, t)) != 0)
		free(t);
	return rc;
}

static void
waiter_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct dm_waiter *w = arg;

	LIST_REMOVE(w, entry);
	event_free(w->timer);
	w->cb(-ETIMEDOUT, NULL, "no DEVICE_DELETED in time", w->arg);
	free(w);
}

int
dm_wait_deleted(struct dm *d, const char *qdev, uint32_t timeout_ms,
    dm_cb cb, void *arg)
{
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	struct dm_waiter *w;

	if (d->state != DM_RUNNING)
		return -ESRCH;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return -ENOMEM;
	if (xsnprintf(w->qdev, sizeof(w->qdev), "%s", qdev) == -1 ||
	    (w->timer = evtimer_new(B->base, waiter_timeout, w)) == NULL) {
		free(w);
		return -EINVAL;
	}
	w->dm = d;
	w->cb = cb;
	w->arg = arg;
	event_add(w->timer, &tv);
	LIST_INSERT_HEAD(&d->waiters, w, entry);
	return 0;
}

/* Removes a waiter without calling it (its op moved on). */
void
dm_cancel_waiter(struct dm *d, void *arg)
{
	struct dm_waiter *w, *tw;

	LIST_FOREACH_SAFE(w, &d->waiters, entry, tw)
		if (w->arg == arg) {
			LIST_REMOVE(w, entry);
			event_free(w->timer);
			free(w);
		}
}

json_t *
dm_json(const struct dm *d)
{
	json_t *o, *refs;
	uint32_t i;

	refs = json_array();
	for (i = 0; i < d->nqdevs; i++)
		json_array_append_new(refs, json_integer(d->qdevs[i]));
	o = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s, s:I, s:i, s:o}",
	    "domid", (json_int_t)d->domid,
	    "kind", d->kind ? "qdisk" : "dm",
	    "pid", (json_int_t)d->pid, "uid", (json_int_t)d->uid,
	    "state", dm_state_name(d->state), "chroot", d->chroot,
	    "age_ms", (json_int_t)(now_ms() - d->started_ms),
	    "ops", d->ops, "qdisk_devids", refs);
	if (o != NULL && d->qmp != NULL) {
		const struct qmp_counters *c = qmp_counters(d->qmp);
		json_object_set_new(o, "qmp", json_pack(
		    "{s:I, s:I, s:I, s:I, s:I}", "cmds", (json_int_t)c->cmds,
		    "errors", (json_int_t)c->errors,
		    "timeouts", (json_int_t)c->timeouts,
		    "lies", (json_int_t)c->lies,
		    "events", (json_int_t)c->events));
	}
	return o;
}

json_t *
dm_status_json(void)
{
	json_t *a = json_array();
	struct dm *d;

	LIST_FOREACH(d, &B->dms, entry)
		json_array_append_new(a, dm_json(d));
	return a;
}

/* ---- OP_DM_START: the device model is a "qmp thing" too (seed 002) ---- */
static void
op_dm_started(struct dm *d, int rc, int clean, const char *msg, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {
		op_fail(op, -rc, "%s", msg);
		op->qemu_clean = clean;
	} else {
		op->dm = d;
		dm_hold(d);
	}
	op_qmp_done(op);
}

void
dm_start_qmp(struct op *op)
{
	struct dm *d;
	int rc;

	if ((rc = dm_start(NULL, 0, &op->lr, op->dmflags)) != 0) {
		op_fail(op, -rc, "DM_START: %s", strerror(-rc));
		op->qemu_clean = 1;
		op_qmp_done(op);
		return;
	}
	d = dm_find(op->domid, LAUNCH_KIND_DM);
	d->on_started = op_dm_started;
	d->started_arg = op;
}
