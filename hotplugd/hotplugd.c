/*
 * devsep-hotplugd main: listens on <rundir>/hotplugd.sock, takes jobs from
 * watcherd only, answers STATUS/STATS to the admin.  No xenstore here.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <pwd.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "policy.h"
#include "hotplugd.h"
#include "listen.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "reload.h"
#include "reply.h"
#include "sandbox.h"

#define HP_MAX_PEERS	32
#define HP_USER		"devsep-hotplugd"	/* policy/hotplugd.policy */

struct hotplugd *hp;
static struct hotplugd hp_store;
static struct daemon_opts opts;

static int hotplugd_dispatch_watcherd_run(struct msgchan *, struct msg *);
static int hotplugd_dispatch_watcherd_cancel(struct msgchan *, struct msg *);
static int hotplugd_dispatch_admin_status(struct msgchan *, struct msg *);
static int hotplugd_dispatch_admin_stats(struct msgchan *, struct msg *);

/* Who may ask what (auditors: this table is the whole permission matrix). */
static const struct msg_handler hotplugd_handlers[] = {
	{ MSG_HOTPLUG_RUN, "HOTPLUG_RUN", PEER_WATCHERD,
	    hotplugd_dispatch_watcherd_run },
	{ MSG_HOTPLUG_CANCEL, "HOTPLUG_CANCEL", PEER_WATCHERD,
	    hotplugd_dispatch_watcherd_cancel },
	{ MSG_COMMON_STATUS, "STATUS", PEER_ADMIN,
	    hotplugd_dispatch_admin_status },
	{ MSG_COMMON_STATS, "STATS", PEER_ADMIN,
	    hotplugd_dispatch_admin_stats },
};
#define N_HANDLERS (sizeof(hotplugd_handlers) / sizeof(hotplugd_handlers[0]))

/* The job's fields from a RUN (common/proto_hotplug.c decodes it). */
#define SAME_SIZE(f) _Static_assert(sizeof(((struct job *)0)->f) == \
	sizeof(((struct hotplug_run *)0)->f), #f " as in struct hotplug_run")
SAME_SIZE(kind);
SAME_SIZE(action);
SAME_SIZE(script);
SAME_SIZE(be_path);
SAME_SIZE(xs_path);
SAME_SIZE(vif);
SAME_SIZE(netdev);

static int
get_run(struct msg *m, struct job *j)
{
	struct hotplug_run r;

	if (hotplug_run_get(m, &r) == -1)
		return -1;
	j->id = r.id;
	memcpy(j->kind, r.kind, sizeof(j->kind));
	memcpy(j->action, r.action, sizeof(j->action));
	memcpy(j->script, r.script, sizeof(j->script));
	memcpy(j->be_path, r.be_path, sizeof(j->be_path));
	memcpy(j->xs_path, r.xs_path, sizeof(j->xs_path));
	memcpy(j->vif, r.vif, sizeof(j->vif));
	memcpy(j->netdev, r.netdev, sizeof(j->netdev));
	j->timeout_ms = r.timeout_ms;
	return 0;
}

/* A re-sent RUN of a job we still have: the result goes to the new sender. */
static int
reattach(struct msgchan *c, struct msg *m, const struct job *nj)
{
	struct job *j = job_find(nj->id);

	if (j == NULL)
		return 0;
	if (strcmp(j->be_path, nj->be_path) != 0 ||
	    strcmp(j->action, nj->action) != 0)
		return -1;
	log_info("job=%llu domid=%u kind=%s devid=%u: re-sent, result goes to "
	    "the new sender", (unsigned long long)j->id, j->domid, j->kind,
	    j->devid);
	j->chan = c;
	j->reqid = m->hdr.reqid;
	if (j->state == JOB_RUNNING || j->state == JOB_KILLING)
		job_send_started(j);	/* the new proxy learns the uid */
	return 1;
}

static int
hotplugd_dispatch_watcherd_run(struct msgchan *c, struct msg *m)
{
	struct job *j;
	const char *why = NULL;
	int r;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("calloc");
	j->out_fd = -1;
	if (get_run(m, j) == -1) {
		free(j);
		return -1;
	}
	j->chan = c;
	j->reqid = m->hdr.reqid;
	if (j->timeout_ms == 0)
		j->timeout_ms = hp->cfg.hotplug_timeout_ms;
	if ((r = reattach(c, m, j)) != 0) {
		if (r == 1) {
			free(j);
			return 0;
		}
		errno = EEXIST;
		why = "job id in use by another device or action";
	}
	if (why != NULL || hp_job_check(j, &why) == -1) {
		r = errno;
		hp->st.refusals++;
		log_warnx("job=%llu domid=%u kind=%s devid=%u script=%s: refused:"
		    " %s", (unsigned long long)j->id, j->domid, j->kind,
		    j->devid, j->script, why);
		job_finish(j, HOTPLUG_REFUSED, r, why);
		return 0;
	}
	job_submit(j);
	return 0;
}

static void
reply_error(struct msgchan *c, uint32_t reqid, int err, const char *s)
{
	struct msgbuf b;

	reply_error_init(&b, reqid, err, s);
	msgchan_send(c, &b);
	msgbuf_dispose(&b);
}

static int
hotplugd_dispatch_watcherd_cancel(struct msgchan *c, struct msg *m)
{
	struct hotplug_cancel cancel;
	struct msgbuf b;
	struct job *j;

	if (hotplug_cancel_get(m, &cancel) == -1)
		return -1;
	if ((j = job_find(cancel.id)) == NULL) {
		reply_error(c, m->hdr.reqid, ENOENT, "no such job");
		return 0;
	}
	msgbuf_init(&b, MSG_COMMON_OK, m->hdr.reqid);
	msgchan_send(c, &b);
	msgbuf_dispose(&b);
	job_cancel(j);
	return 0;
}

static int
reply_json(struct msgchan *c, struct msg *m, uint32_t type, char *s)
{
	struct reply_json r = { s ? s : "{}", s ? strlen(s) : 2 };
	struct msgbuf b;

	if (msg_end(m) == -1) {
		free(s);
		return -1;
	}
	msgbuf_init(&b, type, m->hdr.reqid);
	reply_json_put(&b, &r);
	msgchan_send(c, &b);
	msgbuf_dispose(&b);
	free(s);
	return 0;
}

static int
hotplugd_dispatch_admin_status(struct msgchan *c, struct msg *m)
{
	return reply_json(c, m, MSG_COMMON_STATUS_REPLY, status_json());
}

static int
hotplugd_dispatch_admin_stats(struct msgchan *c, struct msg *m)
{
	return reply_json(c, m, MSG_COMMON_STATS_REPLY, stats_json());
}

static void
peer_msg(struct msgchan *c, struct msg *m, void *arg)
{
	if (msg_dispatch(hotplugd_handlers, N_HANDLERS, c, m) == -1)
		msgchan_drop(c, "refused or malformed message");
}

static void
peer_close(struct msgchan *c, void *arg)
{
	if (msgchan_peer(c) & PEER_WATCHERD)
		log_info("watcherd (pid %d) disconnected",
		    (int)msgchan_cred(c)->pid);
	job_chan_gone(c);
	msglisten_closed_peer(hp->listen, msgchan_peer(c));
	msgchan_free(c);
}

/* A new peer (msglisten counts and limits them). */
static int
peer_accept(int fd, void *arg)
{
	struct msgchan *c;

	if ((c = msgchan_new(hp->base, fd, NULL, peer_msg, peer_close,
	    NULL)) == NULL)
		return -1;
	if (msgchan_peer(c) & PEER_ADMIN)	/* devsepctl: one request */
		msgchan_set_idle(c, hp->cfg.peer_idle_timeout_ms, NULL);
	log_debug("peer %s pid=%d connected",
	    peer_class_name(msgchan_peer(c)), (int)msgchan_cred(c)->pid);
	return 0;
}

/*
 * SIGTERM: no new script starts; the running ones finish (each still
 * bounded by its timeout and killed after it) and report, then hotplugd
 * exits (job_reap_all); queued jobs are dropped: watcherd sends them again
 * to the next hotplugd.  A second SIGTERM kills the running groups at
 * once.  The unit's KillMode=mixed and TimeoutStopSec rely on this: a
 * restart or an upgrade never kills a script mid-run.
 */
static void
on_term(void *arg)
{
	if (hp->terminating || hp->n_running == 0) {
		hp->terminating = 1;
		job_kill_all();
		event_base_loopexit(hp->base, NULL);
		return;
	}
	hp->terminating = 1;
	job_drop_queued();
	log_info("shutting down: waiting for %u running script(s) (at most "
	    "hotplug_timeout + script_kill_grace); SIGTERM again kills them",
	    hp->n_running);
}

static void
on_hup(void *arg)
{
	if (daemon_reload_config(&hp->cfg, opts.config_path) == -1)
		return;
	log_setlevel(opts.debug ? LOG_LEVEL_DEBUG : hp->cfg.log_level);
	log_info("configuration reloaded (max_jobs=%u)", hp->cfg.max_jobs);
	job_schedule();
}

/* ---- the launcher ---- */
static void
launcher_msg(struct msgchan *ch, struct msg *m, void *arg)
{
	job_launcher_msg(m);
}

static void
launcher_close(struct msgchan *ch, void *arg)
{
	fatalx("the script launcher went away");
}

static int
setup_socket(void)
{
	char path[CONFIG_PATH_MAX + 32];

	/* 0660 root:devsep: watcherd (group) and root; a peer whose class
	 * may send nothing is refused at accept, the rest is checked against
	 * hotplugd_handlers before a payload is decoded. */
	if ((hp->listen_fd = daemon_listen(&hp->cfg, SOCK_HOTPLUGD, path,
	    sizeof(path))) == -1)
		fatal("listen %s", path);
	return 0;
}

/* As root: the delegated cgroup subtree, owned by our sandbox user. */
static void
setup_cgroups(void)
{
	struct passwd *pw;

	hp->cg_fd = -1;
	if (getuid() != 0) {
		log_warnx("not root: no per-job cgroups, no per-job uids; "
		    "scripts are killed by process group only");
		return;
	}
	if ((pw = getpwnam(HP_USER)) == NULL)
		fatalx("no user %s (scripts/create-users)", HP_USER);
	if (hpcg_setup(hp->cfg.run_dir, pw->pw_uid, pw->pw_gid) == -1)
		fatalx("cannot set up the job cgroups (cgroup v2 with "
		    "cgroup.kill is required)");
}

static void
start_launcher(void)
{
	struct hpl_ids ids = { .uid_base = hp->cfg.script_uid_base };

	if (getuid() == 0 && launcher_ids(hp->cfg.script_uid_base, &ids) == -1)
		fatalx("script uids");
	if ((hp->launcher_fd = launcher_fork(&ids, hp->cfg.seccomp_log,
	    hp->script_dir_real, &hp->launcher_pid)) == -1)
		fatal("launcher");
	log_info("launcher pid %d: scripts run as uid %u + slot",
	    (int)hp->launcher_pid, hp->cfg.script_uid_base);
}

int
main(int argc, char **argv)
{
	char real[PATH_MAX];

	hp = &hp_store;
	TAILQ_INIT(&hp->queued);
	TAILQ_INIT(&hp->running);
	daemon_parse_args("devsep-hotplugd", argc, argv, &opts, NULL, 0, NULL);
	daemon_setup("devsep-hotplugd", &opts, &hp->cfg);
	daemon_lock_instance("devsep-hotplugd", &hp->cfg);
	peer_init();
	if (realpath(hp->cfg.script_dir, real) == NULL ||
	    xsnprintf(hp->script_dir_real, sizeof(hp->script_dir_real), "%s",
	    real) == -1)
		fatal("script_dir %s", hp->cfg.script_dir);
	setup_socket();
	opts.user = policy_find("hotplugd")->user;
	daemon_start(&opts);
	hp->start_ms = now_ms();
	setup_cgroups();
	start_launcher();
	if ((hp->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	if ((hp->launcher = msgchan_new(hp->base, hp->launcher_fd,
	    &(struct msgchan_opts){ .allow_fds = 1 }, launcher_msg,
	    launcher_close, NULL)) == NULL)
		fatalx("launcher channel");
	daemon_signals(hp->base, on_term, on_hup, NULL, NULL);
	if ((hp->listen = msglisten_new(hp->base, hp->listen_fd, HP_MAX_PEERS,
	    "hotplugd", peer_accept, NULL)) == NULL)
		fatalx("listen event");
	msglisten_set_classes(hp->listen, msg_table_peers(hotplugd_handlers,
	    N_HANDLERS), HP_MAX_PEERS);
	/* policy/hotplugd.policy: no capability, no exec; the scripts are
	 * the launcher's (policy/scripts.policy) */
	if (sandbox_enter(&(struct sandbox_spec){ .daemon = "hotplugd",
	    .seccomp_log = hp->cfg.seccomp_log }) == -1)
		fatalx("sandbox");
	/* with no more rights than the jobs had: only our own subtree */
	hpcg_kill_stale();
	log_info("ready: script_dir=%s max_jobs=%u", hp->script_dir_real,
	    hp->cfg.max_jobs);
	daemon_ready("answering on hotplugd.sock");
	event_base_dispatch(hp->base);
	pidfile_remove(&opts);
	return 0;
}
