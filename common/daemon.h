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
/* Creates (0755) a directory if missing; -1 with errno otherwise. */
int	daemon_mkdir(const char *path, mode_t mode);
/* Daemonizes unless o->foreground; then writes the pid file if asked. */
void	daemon_start(struct daemon_opts *o);
/* Locked, O_EXCL-safe pid file; exits if another instance holds it. */
int	pidfile_create(const char *path);
void	pidfile_remove(struct daemon_opts *o);

/*
 * SIGTERM/SIGINT -> on_term, SIGHUP -> on_hup (may be NULL), SIGPIPE
 * ignored, SIGCHLD -> on_chld when given.  All run from the event loop.
 */
void	daemon_signals(struct event_base *, void (*on_term)(void *),
	    void (*on_hup)(void *), void (*on_chld)(void *), void *arg);
/* Frees the signal events (call before event_base_free; optional at exit). */
void	daemon_signals_free(void);

/* Monotonic milliseconds. */
uint64_t now_ms(void);
uint64_t now_us(void);

#endif
