/*
 * devsep-qemu-broker: drives deprivileged QEMUs over QMP, opens images and
 * passes fds.  No xenstore connection, no hotplug scripts.
 *
 * Start-up order: config -> daemonize -> fork the privileged launcher
 * (launcher.c) -> event base, listening socket -> sandbox_enter (drop to
 * devsep-broker) -> event loop.  lockd and watcherd are connected to
 * lazily, after the drop, so they see PEER_BROKER.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "broker.h"
#include "daemon.h"
#include "policy.h"
#include "listen.h"
#include "lockd_client.h"
#include "log.h"
#include "parse.h"
#include "proto_broker.h"
#include "qmp.h"
#include "reload.h"
#include "sandbox.h"
#include "reply.h"
#include "status.h"

/* Requesters per peer class at once (watcherd, admin): a flood by one
 * class leaves the other its slots; far below rlimit NOFILE. */
#define BROKER_MAX_PER_CLASS	64

static struct broker broker;
struct broker *B = &broker;
static struct daemon_opts opts;
static struct msglisten *listener;

static void
lockd_free_cb(evutil_socket_t fd, short ev, void *arg)
{
	lockc_async_free(arg);
}

static void
lockd_lost(void *arg)
{
	log_warnx("lockd connection lost: every lock of ours went with it");
	/* freed from the loop: we are inside its callback */
	event_base_once(B->base, -1, EV_TIMEOUT, lockd_free_cb, B->lockd,
	    NULL);
	B->lockd = NULL;
}

/* The lockd connection, made on first use; NULL when lockd is absent. */
struct lockc_async *
broker_lockd(void)
{
	if (B->lockd == NULL) {
		B->lockd = lockc_async_new(B->base, B->cfg.run_dir, lockd_lost,
		    NULL);
		if (B->lockd == NULL && errno == EPERM)
			log_warnx("%s/%s is answered by neither root nor %s: "
			    "an impostor, not talking to it", B->cfg.run_dir,
			    SOCK_LOCKD, USER_LOCKD);
		else if (B->lockd == NULL)
			log_debug("lockd not reachable: %s", strerror(errno));
	}
	return B->lockd;
}

/* ---- STATUS / STATS ---- */
static int
reply_json(struct msgchan *ch, struct msg *m, uint32_t type, json_t *o)
{
	struct reply_json r;
	struct msgbuf b;
	char *s;

	if (msg_end(m) == -1) {
		json_decref(o);
		return -1;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	r = (struct reply_json){ s ? s : "{}", s ? strlen(s) : 2 };
	msgbuf_init(&b, type, m->hdr.reqid);
	reply_json_put(&b, &r);
	client_reply_ok(msgchan_arg(ch), &b);
	msgbuf_dispose(&b);
	free(s);
	return 0;
}

int
broker_dispatch_admin_status(struct msgchan *ch, struct msg *m)
{
	json_t *o;

	o = status_json_new("qemu-broker", (now_ms() - B->start_ms) / 1000,
	    json_pack("{s:I, s:b, s:o}",
	    "launcher_pid", (json_int_t)B->launcher_pid,
	    "lockd_connected", B->lockd != NULL, "qemus", dm_status_json()));
	return reply_json(ch, m, MSG_COMMON_STATUS_REPLY, o);
}

int
broker_dispatch_admin_stats(struct msgchan *ch, struct msg *m)
{
	const struct qmp_counters *q = qmp_totals();
	json_t *o;

	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:{s:I, s:I}, s:{s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I, s:o}}}",
	    "requests", (json_int_t)B->st.requests,
	    "replies_ok", (json_int_t)B->st.ok,
	    "replies_error", (json_int_t)B->st.errors,
	    "dm_started", (json_int_t)B->st.dm_started,
	    "dm_exited", (json_int_t)B->st.dm_exited,
	    "lock_errors", (json_int_t)B->st.lock_errors,
	    "xs_updates", (json_int_t)B->st.xs_updates,
	    "xs_skipped", (json_int_t)B->st.xs_skipped,
	    "op_latency_us", "sum", (json_int_t)B->st.op_lat_us_sum,
	    "max", (json_int_t)B->st.op_lat_us_max,
	    "qmp", "commands", (json_int_t)q->cmds,
	    "errors", (json_int_t)q->errors, "timeouts", (json_int_t)q->timeouts,
	    "lies", (json_int_t)q->lies, "events", (json_int_t)q->events,
	    "latency_us", "sum", (json_int_t)q->latency_us.sum,
	    "max", (json_int_t)q->latency_us.max,
	    "histogram", hist_json(&q->latency_us));
	return reply_json(ch, m, MSG_COMMON_STATS_REPLY, o);
}

/* ---- requesters ---- */
static void
client_msg(struct msgchan *ch, struct msg *m, void *arg)
{
	B->st.requests++;
	if (msg_dispatch(broker_handlers, broker_nhandlers, ch, m) == -1)
		msgchan_drop(ch, "bad request");
}

static void
client_close(struct msgchan *ch, void *arg)
{
	struct client *c = arg;

	c->dead = 1;
	msglisten_closed_peer(listener, msgchan_peer(ch));
	msgchan_free(ch);
	client_unref(c);
}

/* An admin connection waiting for an operation's reply is not idle. */
static int
client_busy(struct msgchan *ch)
{
	struct client *c = msgchan_arg(ch);

	return c != NULL && c->refs > 1;
}

/* A new requester (msglisten accepts, refuses classes that may send
 * nothing here, and bounds each class to BROKER_MAX_PER_CLASS). */
static int
client_accept(int fd, void *arg)
{
	struct msgchan_opts o = { .maxsize = BROKER_MSG_MAX };
	struct client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->chan = msgchan_new(B->base, fd, &o, client_msg, client_close,
	    c)) == NULL) {
		log_warn("new client");
		free(c);
		return -1;
	}
	c->refs = 1;
	if (msgchan_peer(c->chan) & PEER_ADMIN)
		msgchan_set_idle(c->chan, B->cfg.peer_idle_timeout_ms,
		    client_busy);
	return 0;
}

/* ---- the launcher ---- */
static void
launcher_msg(struct msgchan *ch, struct msg *m, void *arg)
{
	dm_launcher_msg(m);
}

static void
launcher_close(struct msgchan *ch, void *arg)
{
	fatalx("the launcher went away (QEMUs keep running; a restarted broker adopts them)");
}

static void
on_term(void *arg)
{
	log_info("terminating: QEMUs keep running (the next broker adopts them)");
	event_base_loopexit(B->base, NULL);
}

static void
on_hup(void *arg)
{
	if (daemon_reload_config(&B->cfg, opts.config_path) == 0)
		log_info("configuration reloaded");
}

static int
opt_qdisk_test(void *arg, const char *val)
{
	B->lopts.qdisk_test_machine = 1;
	return 0;
}

static const struct daemon_extra_opt extra[] = {
	{ "qdisk-test-machine", 0, "--qdisk-test-machine  qdisk QEMUs as "
	    "-machine pc (tests: no hypervisor)", opt_qdisk_test },
};

/* The launcher passes libxl's QMP connections (MSG_LAUNCH_XLQMP). */
static const struct msgchan_opts launcher_opts = { .allow_fds = 1 };

/* <run_dir>/qmp belongs to the broker's user (it binds sockets there). */
static void
qmp_dir_prepare(void)
{
	struct passwd *pw = getuid() == 0 && opts.user != NULL ?
	    getpwnam(opts.user) : NULL;

	if (qmpsock_dir_prepare(pw ? pw->pw_uid : getuid(),
	    pw ? pw->pw_gid : getgid()) == -1)
		fatal("%s/qmp", B->cfg.run_dir);
}

int
main(int argc, char **argv)
{
	char path[CONFIG_PATH_MAX + 32];
	int lfd, fd;

	daemon_parse_args("devsep-qemu-broker", argc, argv, &opts, extra, 1,
	    NULL);
	daemon_setup("devsep-qemu-broker", &opts, &B->cfg);
	daemon_lock_instance("devsep-qemu-broker", &B->cfg);
	opts.user = policy_find("broker")->user;
	qmp_dir_prepare();
	daemon_start(&opts);
	peer_init();
	B->start_ms = now_ms();
	LIST_INIT(&B->dms);
	if ((fd = launcher_fork(&B->cfg, &B->lopts, &B->launcher_pid)) == -1)
		fatal("launcher");
	if ((B->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((B->launcher = msgchan_new(B->base, fd, &launcher_opts, launcher_msg,
	    launcher_close, NULL)) == NULL)
		fatalx("launcher channel");
	/* 0660 root:devsep: watcherd (group) and root */
	if ((lfd = daemon_listen(&B->cfg, SOCK_BROKER, path, sizeof(path))) ==
	    -1)
		fatal("listen %s", path);
	if ((listener = msglisten_new(B->base, lfd, 0, "broker", client_accept,
	    NULL)) == NULL)
		fatalx("listen event");
	adopt_scan();		/* the QMP dir is listed before the drop */
	msglisten_set_classes(listener, msg_table_peers(broker_handlers,
	    broker_nhandlers), BROKER_MAX_PER_CLASS);
	if (sandbox_enter(&(struct sandbox_spec){ .daemon = "broker",
	    .seccomp_log = B->cfg.seccomp_log }) == -1)
		fatalx("sandbox");
	adopt_all();		/* QEMUs a previous broker left running */
	daemon_signals(B->base, on_term, on_hup, NULL, NULL);
	log_info("ready: socket %s, launcher pid %d", path,
	    (int)B->launcher_pid);
	daemon_ready("answering on broker.sock");
	event_base_dispatch(B->base);
	msgchan_free(B->launcher);	/* the launcher exits; QEMUs stay */
	unlink(path);
	pidfile_remove(&opts);
	return 0;
}
