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
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "policy.h"
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
 * group root, mode 0710, so hotplugd's scripts (root, but without
 * CAP_DAC_OVERRIDE) can reach the sockets and nobody else can.
 */
static void
make_jobdir(void)
{
	struct passwd *pw;

	if (xsnprintf(wd.jobdir, sizeof(wd.jobdir), "%s/watcherd-jobs",
	    wd.cfg.run_dir) == -1)
		fatalx("run_dir too long");
	if (daemon_mkdir(wd.cfg.run_dir, 0755) == -1 ||
	    daemon_mkdir(wd.jobdir, 0710) == -1 ||
	    chmod(wd.jobdir, 0710) == -1)
		fatal("mkdir %s", wd.jobdir);
	if (getuid() == 0 && (pw = getpwnam(USER_WATCHERD)) != NULL &&
	    chown(wd.jobdir, pw->pw_uid, 0) == -1)
		fatal("chown %s", wd.jobdir);
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

int
main(int argc, char **argv)
{
	daemon_parse_args("devsep-watcherd", argc, argv, &opts, extra,
	    sizeof(extra) / sizeof(extra[0]), NULL);
	daemon_setup("devsep-watcherd", &opts, &wd.cfg);
	peer_init();
	if ((wd.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	wd.start_ms = now_ms();
	make_jobdir();
	if (control_listen() == -1)
		exit(1);
	opts.user = policy_find("watcherd")->user;
	daemon_start(&opts);
	devtab_init();
	hpjobs_init();
	xsio_start();		/* retried with backoff until it works */
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
