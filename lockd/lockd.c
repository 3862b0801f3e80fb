/*
 * devsep-lockd: per-domain slow/fast locks and the per-domain JSON config
 * store (seed 002).  Holds no xenstore connection, execs nothing, speaks
 * no QMP.  Startup order: config -> state dir (load the store) -> listening
 * socket -> daemonize -> sandbox_enter -> event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "domain.h"
#include "lockd.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "policy.h"
#include "proto_lock.h"
#include "sandbox.h"
#include "store.h"
#include "xlk.h"

struct lockd *lockd;

static int
opt_statedir(void *arg, const char *val)
{
	struct lockd *l = arg;

	if (strlen(val) >= CONFIG_PATH_MAX || val[0] != '/')
		return -1;
	l->statedir = val;
	return 0;
}

static int
opt_no_user(void *arg, const char *val)
{
	((struct lockd *)arg)->no_user = 1;
	return 0;
}

static int
opt_libxl_dir(void *arg, const char *val)
{
	struct lockd *l = arg;

	if (strlen(val) >= CONFIG_PATH_MAX || val[0] != '/')
		return -1;
	l->libxl_dir = val;
	return 0;
}

static const struct daemon_extra_opt extra_opts[] = {
	{ "libxl-dir", 1, "--libxl-dir DIR libxl's userdata dir (default: "
	  "libxl_dir)", opt_libxl_dir },
	{ "statedir", 1, "--statedir DIR  JSON store (default: state_dir)",
	  opt_statedir },
	{ "no-user", 0, "--no-user       keep the current uid (tests)",
	  opt_no_user },
};

/* The state dir belongs to the lockd user, who alone writes it. */
static void
statedir_own(int dfd)
{
	struct passwd *pw;

	if (lockd->no_user || getuid() != 0 ||
	    (pw = getpwnam(USER_LOCKD)) == NULL)
		return;
	if (fchown(dfd, pw->pw_uid, pw->pw_gid) == -1)
		fatal("chown state dir %s", lockd->cfg.state_dir);
}

static void
open_store(void)
{
	int n;

	if (lockd->statedir != NULL)
		strcpy(lockd->cfg.state_dir, lockd->statedir);
	if ((lockd->statefd = store_open(lockd->cfg.state_dir)) == -1)
		fatal("state dir %s", lockd->cfg.state_dir);
	statedir_own(lockd->statefd);
	if ((n = dom_init(lockd->statefd, lockd->lt, now_us())) < 0)
		fatalx("state dir %s: scan: %s", lockd->cfg.state_dir,
		    strerror(-n));
	log_info("store %s: %d domain(s)", lockd->cfg.state_dir, n);
}

/*
 * xl mode (lockd/xlk.h): libxl's dir is bind-mounted onto
 * <state_dir>/LOCKD_LIBXL_MNT in lockd's private mount namespace, so that
 * after the chroot it is the only place outside lockd's own store that
 * lockd can reach (no directory fd outside the chroot is ever open).
 * Returns 1 when xl mode is on.
 */
static int
libxl_prepare(void)
{
	struct stat st, mst;

	if (lockd->libxl_dir != NULL)
		strcpy(lockd->cfg.libxl_dir, lockd->libxl_dir);
	if (stat(lockd->cfg.libxl_dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		log_info("libxl dir %s absent: xl mode off (every domain uses "
		    "lockd's own store)", lockd->cfg.libxl_dir);
		return 0;
	}
	if (xsnprintf(lockd->libxl_mnt, sizeof(lockd->libxl_mnt), "%s/%s",
	    lockd->cfg.state_dir, LOCKD_LIBXL_MNT) == -1)
		fatalx("state dir path too long");
	if (mkdirat(lockd->statefd, LOCKD_LIBXL_MNT, 0755) == -1 &&
	    errno != EEXIST)
		fatal("mkdir %s", lockd->libxl_mnt);
	if (getuid() != 0 || lockd->no_user)
		return 1;	/* no chroot: the real dir is used */
	/* already bound there by whoever started us (the systemd unit's
	 * BindPaths=): no namespace of our own, no CAP_SYS_ADMIN needed */
	if (stat(lockd->libxl_mnt, &mst) == 0 && mst.st_dev == st.st_dev &&
	    mst.st_ino == st.st_ino) {
		log_info("libxl dir %s already bound on %s", lockd->cfg.libxl_dir,
		    lockd->libxl_mnt);
		return 1;
	}
	/* a private mount namespace (needs CAP_SYS_ADMIN here, at setup) */
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1 ||
	    mount(lockd->cfg.libxl_dir, lockd->libxl_mnt, NULL, MS_BIND,
	    NULL) == -1) {
		log_warn("libxl dir %s: cannot bind it into the chroot: xl "
		    "mode off", lockd->cfg.libxl_dir);
		return 0;
	}
	return 1;
}

/* After sandbox_enter: the bind mount (chrooted), or the real dir. */
static void
libxl_open(int chrooted)
{
	const char *path = chrooted ? "/" LOCKD_LIBXL_MNT :
	    lockd->cfg.libxl_dir;
	int fd;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		fatal("libxl dir %s", path);
	if (xlk_init(lockd->base, fd, lockd_xlk_done) == -1)
		fatalx("xl mode setup");
	log_info("xl mode: libxl's locks and JSON in %s", lockd->cfg.libxl_dir);
}

/* 0660 root:devsep: the broker (group) and root; SO_PEERCRED and the
 * handler table decide the rest (instance lock: daemon_lock_instance). */
static void
open_socket(void)
{
	if ((lockd->listenfd = daemon_listen(&lockd->cfg, SOCK_LOCKD,
	    lockd->sockpath, sizeof(lockd->sockpath))) == -1)
		fatal("listen %s", lockd->sockpath);
}

static void
on_term(void *arg)
{
	event_base_loopbreak(lockd->base);
}

/*
 * The config file's directory stays open across the chroot so that SIGHUP
 * can re-read the file (also when an editor replaced it) with openat.
 */
static void
open_confdir(void)
{
	char dir[CONFIG_PATH_MAX * 2], *slash;

	if (xsnprintf(dir, sizeof(dir), "%s", lockd->opts.config_path) == -1)
		fatalx("config path too long");
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	lockd->confbase = strrchr(lockd->opts.config_path, '/');
	lockd->confbase = lockd->confbase ? lockd->confbase + 1 :
	    lockd->opts.config_path;
	lockd->confdirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lockd->confdirfd == -1)
		log_warn("config dir %s: SIGHUP reload disabled", dir);
}

/* Reads the config file through confdirfd.  0, or -1 with err set. */
static int
reload_read(struct devsep_config *c, char *err, size_t errsz)
{
	char *buf;
	ssize_t n;
	int fd, rc = -1;

	fd = openat(lockd->confdirfd, lockd->confbase, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT &&
		    strcmp(lockd->opts.config_path, DEVSEP_CONF_PATH) == 0)
			return 0;	/* default path may be absent */
		snprintf(err, errsz, "%s: %s", lockd->opts.config_path,
		    strerror(errno));
		return -1;
	}
	if ((buf = malloc(CONFIG_FILE_MAX)) == NULL)
		goto out;
	n = read(fd, buf, CONFIG_FILE_MAX);
	if (n < 0 || n == CONFIG_FILE_MAX)
		snprintf(err, errsz, "%s: unreadable or too large",
		    lockd->opts.config_path);
	else
		rc = config_parse_buf(c, buf, (size_t)n,
		    lockd->opts.config_path, err, errsz);
out:
	free(buf);
	close(fd);
	return rc;
}

static void
on_hup(void *arg)
{
	struct devsep_config c;
	char err[512];

	config_defaults(&c);
	if (lockd->confdirfd == -1 || reload_read(&c, err, sizeof(err)) == -1) {
		log_warnx("reload: %s (keeping the old settings)", err);
		return;
	}
	config_reload_runtime(&lockd->cfg, &c);
	log_setlevel(lockd->opts.debug ? LOG_LEVEL_DEBUG : lockd->cfg.log_level);
	log_info("reloaded %s: lock_timeout=%ums", lockd->opts.config_path,
	    lockd->cfg.lock_timeout_ms);
}

static void
setup_events(void)
{
	const struct msg_handler *t;
	size_t n;

	if ((lockd->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	t = lockd_handlers(&n);
	lockd->listen = msglisten_new(lockd->base, lockd->listenfd,
	    LOCKD_MAX_CONNS, "lockd", lockd_accept, NULL);
	if (lockd->listen != NULL)
		msglisten_set_classes(lockd->listen, msg_table_peers(t, n),
		    LOCKD_MAX_PER_CLASS);
	lockd->ev_timer = evtimer_new(lockd->base, lockd_timer_cb, NULL);
	if (lockd->listen == NULL || lockd->ev_timer == NULL)
		fatalx("event setup");
	daemon_signals(lockd->base, on_term, on_hup, NULL, NULL);
}

int
main(int argc, char **argv)
{
	static struct lockd l;
	int i, xl, chrooted;

	lockd = &l;
	l.statefd = l.listenfd = l.confdirfd = -1;
	l.timer_at = LT_NO_DEADLINE;
	i = daemon_parse_args("devsep-lockd", argc, argv, &l.opts, extra_opts,
	    sizeof(extra_opts) / sizeof(extra_opts[0]), &l);
	if (i != argc)
		fatalx("unexpected argument %s", argv[i]);
	daemon_setup("devsep-lockd", &l.opts, &l.cfg);
	daemon_lock_instance("devsep-lockd", &l.cfg);
	peer_init();
	l.start_us = now_us();
	if ((l.lt = lt_new(lockd_lt_done, NULL)) == NULL)
		fatalx("no memory");
	open_store();
	xl = libxl_prepare();
	open_socket();
	open_confdir();
	l.opts.user = policy_find("lockd")->user;
	daemon_start(&l.opts);
	setup_events();
	chrooted = getuid() == 0 && !l.no_user;
	/* chroot into the state dir: the store dirfd (and, in xl mode,
	 * libxl's dir bind-mounted inside it) is all lockd touches */
	if (sandbox_enter(&(struct sandbox_spec){ .daemon = "lockd",
	    .chroot_dir = l.cfg.state_dir, .seccomp_log = l.cfg.seccomp_log,
	    .no_user = l.no_user }) == -1)
		fatalx("sandbox_enter failed");
	if (xl)
		libxl_open(chrooted);
	else
		xlk_init(l.base, -1, lockd_xlk_done);
	log_info("ready: socket %s, state dir %s, uid %u", l.sockpath,
	    l.cfg.state_dir, (unsigned)getuid());
	daemon_ready("answering on lockd.sock");
	event_base_dispatch(l.base);
	unlink(l.sockpath);
	pidfile_remove(&l.opts);
	xlk_shutdown();
	dom_shutdown();
	lt_free(l.lt);
	log_info("stopped");
	return 0;
}
