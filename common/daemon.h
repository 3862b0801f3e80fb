/*
 * Daemon conventions shared by every devsep daemon:
 *   -F / --foreground    stay in the foreground, log to stderr
 *   -d / --debug         debug logging (repeatable is the same as once)
 *   -p / --pidfile FILE  write and lock a pid file
 *   -c / --config FILE   configuration (default /etc/devsep/devsep.conf)
 *   --rundir DIR         sockets (default /run/devsep)
 *   --seccomp=kill|log   seccomp failure action (log: development only)
 *   -h / --help, -V / --version
 * Daemon-specific long options are passed in `extra`.
 */
#ifndef DEVSEP_DAEMON_H
#define DEVSEP_DAEMON_H

#include "config.h"

#define DEVSEP_VERSION "0.1.0"

struct event_base;

struct daemon_opts {
	int		 foreground;
	int		 debug;
	const char	*pidfile;
	const char	*config_path;
	const char	*rundir;	/* NULL: from config */
	int		 seccomp_log;
	int		 pidfd;
	int		 piddirfd;	/* parent of pidfile (unlinkat at exit) */
	const char	*user;		/* user the daemon drops to (policy) */
};

struct daemon_extra_opt {
	const char	*name;		/* long option name */
	int		 has_arg;
	const char	*help;		/* "--domid N   own domain id" */
	/* returns 0, or -1 to reject the value */
	int		(*fn)(void *arg, const char *val);
};

/*
 * Parses argv into o (defaults first).  Exits with usage on error or
 * --help.  Returns the index of the first non-option argument.
 */
int	daemon_parse_args(const char *prog, int argc, char **argv,
	    struct daemon_opts *o, const struct daemon_extra_opt *extra,
	    size_t nextra, void *arg);
/*
 * Loads o->config_path (missing file is fine only for the default path),
 * applies --rundir / -d / --seccomp overrides, inits logging.  Exits with a
 * line-numbered message on a bad config.
 */
void	daemon_setup(const char *prog, struct daemon_opts *o,
	    struct devsep_config *c);
/*
 * One instance per daemon and run dir, right after daemon_setup and before
 * any socket or file in the run dir is touched: opens the run dir
 * (daemon_opendir, RUNDIR_MODE) and locks <run_dir>/<prog>.lock (flock,
 * O_NOFOLLOW, held for the process's life, with or without -p); exits
 * "already running" if another process holds it.
 */
void	daemon_lock_instance(const char *prog, const struct devsep_config *c);
#define RUNDIR_MODE	0755	/* run dir: root writes, peers traverse */
#define SOCK_MODE	0660	/* daemon sockets: root:GROUP_PEERS */

/*
 * A directory a root daemon can trust: created if missing (mkdirat), opened
 * relative to atfd without following a symlink (O_NOFOLLOW|O_DIRECTORY),
 * refused (EPERM) unless owned by us or by uid, then brought to mode and
 * uid:gid ((uid_t)/(gid_t)-1: ours / unchanged) with fchmod/fchown (the
 * mode while it is ours: no CAP_FOWNER needed; nothing at all when it is
 * already right) and verified.  Returns an O_PATH directory fd (cloexec:
 * for openat/mkdirat/fstat), or -1 with errno (ENOTDIR or ELOOP: a
 * symlink, ENOTDIR: another file).  Never a chown/chmod by path.
 */
int	daemon_opendir(int atfd, const char *path, mode_t mode, uid_t uid,
	    gid_t gid);
/* daemon_opendir(AT_FDCWD, path, mode, ours) without keeping the fd. */
int	daemon_mkdir(const char *path, mode_t mode);
/*
 * <run_dir>/<sock>: path filled in, the socket made race-free SOCK_MODE,
 * group GROUP_PEERS when we are root (missing group: ENOENT, logged); a
 * live socket is never replaced (EADDRINUSE).  The listening fd, or -1.
 */
int	daemon_listen(const struct devsep_config *, const char *sock,
	    char *path, size_t pathsz);
/*
 * Daemonizes unless o->foreground; then writes the pid file if asked.
 * The pid file must be removable after the daemon dropped to o->user:
 * started as root, a missing parent directory is created (0755) owned by
 * o->user; an existing one not writable by o->user is warned about (the
 * file would be left behind).  The parent stays open (piddirfd), so a
 * chrooted daemon can still unlink the file at exit.
 */
void	daemon_start(struct daemon_opts *o);
/* Locked, O_EXCL-safe pid file; exits if another instance holds it. */
int	pidfile_create(const char *path);
void	pidfile_remove(struct daemon_opts *o);

/*
 * systemd readiness (the sd_notify(3) protocol, without libsystemd).
 * daemon_setup() connects to $NOTIFY_SOCKET when set (before any chroot
 * or seccomp filter) and removes it from the environment, so children do
 * not inherit it; daemon_ready() sends "READY=1" and a status line once
 * the daemon answers on its socket, daemon_stopping() "STOPPING=1".
 * Without $NOTIFY_SOCKET both do nothing.
 */
void	daemon_ready(const char *status);
void	daemon_stopping(void);

/*
 * SIGTERM/SIGINT -> on_term, SIGHUP -> on_hup (may be NULL), SIGPIPE
 * ignored, SIGCHLD -> on_chld when given.  All run from the event loop.
 */
void	daemon_signals(struct event_base *, void (*on_term)(void *),
	    void (*on_hup)(void *), void (*on_chld)(void *), void *arg);
/* Frees the signal events (call before event_base_free; optional at exit). */
void	daemon_signals_free(void);

/* Monotonic milliseconds. */
/*
 * Forks a launcher: a root helper joined to its daemon by a SOCK_SEQPACKET
 * pair, which follows the daemon through that socket, not through signals
 * (TERM, INT, HUP and PIPE ignored in the child), named `name` (PR_SET_NAME).
 * Parent: returns its end, *pidp = the child.  Child: returns its end,
 * *pidp = 0.  -1 on error (nothing forked).
 */
int	daemon_fork_launcher(const char *name, pid_t *pidp);

uint64_t now_ms(void);
uint64_t now_us(void);

#endif
