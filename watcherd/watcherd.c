/*
 * devsep-watcherd: the only xenstore writer.  Watches this domain's
 * backend directory, runs one state machine per device (fsm.c), asks
 * devsep-hotplugd to run hotplug scripts through per-job scoped xenstore
 * sockets, hands qdisk to devsep-qemu-broker, answers devsepctl.
 *
 * Start-up order: config -> listening socket and job-socket dir (as
 * root) -> daemonize -> xenstore connection -> sandbox_enter (drops to
 * devsep-watcherd) -> connect to hotplugd (so it sees PEER_WATCHERD) ->
 * event loop.  See docs/WATCHERD.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "policy.h"
#include "liveness.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "reload.h"
#include "sandbox.h"
#include "wd.h"

#define SHUTDOWN_POLL_MS 100

struct wd wd;

static struct daemon_opts	 opts;
static struct event		*ev_shutdown;
static uint64_t			 shutdown_deadline;

static int
opt_domid(void *arg, const char *v)
{
	if (parse_domid(v, &wd.self) == -1)
		return -1;
	wd.self_forced = 1;
	return 0;
}

static const struct daemon_extra_opt extra[] = {
	{ "domid", 1, "--domid N      own domain id (default: read `domid`)",
	    opt_domid },
};

/*
 * The directory for the jobs' proxy sockets: owned by our future user,
 * group devsep-script (the gid of every hotplug script, hotplugd/launch.h),
 * mode 0710, so the scripts can reach the sockets (not list them) and no
 * other user can; which job's script may use which socket is then decided
 * by xsproxy.c from the peer's uid.  Opened below the run dir without
 * following a symlink and changed through the fd (daemon_opendir): a link
 * planted in the run dir is refused, never followed as root.
 */
static void
make_jobdir(void)
{
	struct passwd *pw;
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int rfd, jfd;
	struct group *gr;

	if (xsnprintf(wd.jobdir, sizeof(wd.jobdir), "%s/watcherd-jobs",
	    wd.cfg.run_dir) == -1)
		fatalx("run_dir too long");
	if (getuid() == 0 && (pw = getpwnam(USER_WATCHERD)) != NULL) {
		uid = pw->pw_uid;
		gid = 0;
		if ((gr = getgrnam(SCRIPT_GROUP)) != NULL)
			gid = gr->gr_gid;
		else
			log_warnx("no group %s: hotplug scripts cannot reach "
			    "%s", SCRIPT_GROUP, wd.jobdir);
	}
	if ((rfd = daemon_opendir(AT_FDCWD, wd.cfg.run_dir, RUNDIR_MODE,
	    (uid_t)-1, (gid_t)-1)) == -1 ||
	    (jfd = daemon_opendir(rfd, "watcherd-jobs", 0710, uid, gid)) == -1)
		fatal("job dir %s", wd.jobdir);
	close(jfd);
	close(rfd);
}

static void
shutdown_poll(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 0, SHUTDOWN_POLL_MS * 1000 };

	if (hpjobs_outstanding() == 0 || now_ms() >= shutdown_deadline ||
	    wd.hp == NULL) {
		if (hpjobs_outstanding())
			log_warnx("exiting with %zu jobs outstanding; the "
			    "next start reconciles them", hpjobs_outstanding());
		event_base_loopbreak(wd.base);
		return;
	}
	evtimer_add(ev_shutdown, &tv);
}

/* SIGTERM: start nothing new, let running scripts finish (bounded). */
static void
on_term(void *arg)
{
	if (wd.shutting_down)
		return;
	wd.shutting_down = 1;
	log_info("shutting down: %zu jobs outstanding", hpjobs_outstanding());
	shutdown_deadline = now_ms() + wd.cfg.hotplug_timeout_ms +
	    wd.cfg.script_kill_grace_ms + 1000;
	ev_shutdown = evtimer_new(wd.base, shutdown_poll, NULL);
	shutdown_poll(-1, 0, NULL);
}

/* SIGHUP: the runtime keys (timeouts, busy retry, max_jobs, log_level). */
static void
on_hup(void *arg)
{
	if (daemon_reload_config(&wd.cfg, opts.config_path) == 0)
		log_info("configuration reloaded");
}

/*
 * The upward calls of the lower files, wired here so that no watcherd
 * file calls one above it (docs/WATCHERD.md, "Files").
 */
static void
xs_connected(void)
{
	relay_mode_resolve();
	guests_forget();	/* "seen introduced" was the old connection's */
	hint_connected();
	hpjobs_xs_back();
}

static const struct xsio_ops xs_ops = {
	.connected = xs_connected,
	.lost = hpjobs_xs_lost,
	.event = hint_event,
};

static const struct devtab_eval dev_eval = {
	.pre = device_eval_pre,
	.read = input_read_devs,
	.eval = device_eval_in,
};

static const struct hpjobs_ops job_ops = {
	.done = device_job_done,
	.error_text = device_set_error,
	.relay_done = relay_reply_done,
};

int
main(int argc, char **argv)
{
	daemon_parse_args("devsep-watcherd", argc, argv, &opts, extra,
	    sizeof(extra) / sizeof(extra[0]), NULL);
	daemon_setup("devsep-watcherd", &opts, &wd.cfg);
	daemon_lock_instance("devsep-watcherd", &wd.cfg);
	peer_init();
	if ((wd.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	wd.start_ms = now_ms();
	make_jobdir();
	if (control_listen() == -1)
		exit(1);
	opts.user = policy_find("watcherd")->user;
	daemon_start(&opts);
	devtab_init(&dev_eval);
	hpjobs_init(&job_ops);
	broker_init(device_broker_result);
	xsio_start(&xs_ops);	/* retried with backoff until it works */
	if (sandbox_enter(&(struct sandbox_spec){ .daemon = "watcherd",
	    .seccomp_log = wd.cfg.seccomp_log }) == -1)
		exit(1);
	hpjobs_connect();
	control_start();
	daemon_signals(wd.base, on_term, on_hup, NULL, NULL);
	log_info("devsep-watcherd %s started", DEVSEP_VERSION);
	daemon_ready("answering on watcherd.sock");
	event_base_dispatch(wd.base);
	devtab_dispose();
	pidfile_remove(&opts);
	log_info("exiting");
	return 0;
}
