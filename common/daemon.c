/* Daemon conventions.  See daemon.h. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <pwd.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "parse.h"

#define MAX_LONGOPTS 32
enum { OPT_RUNDIR = 1000, OPT_SECCOMP, OPT_EXTRA };

static void	instance_lock(const char *prog, const char *rundir);

static void
usage(const char *prog, const struct daemon_extra_opt *extra, size_t nextra,
    int code)
{
	size_t i;

	fprintf(code ? stderr : stdout,
	    "usage: %s [-dFhV] [-c config] [-p pidfile] [--rundir dir] "
	    "[--seccomp=kill|log]%s\n", prog, nextra ? " [options]" : "");
	for (i = 0; i < nextra; i++)
		fprintf(code ? stderr : stdout, "  %s\n", extra[i].help);
	exit(code);
}

static int
parse_seccomp(struct daemon_opts *o, const char *v)
{
	if (strcmp(v, "kill") == 0)
		o->seccomp_log = 0;
	else if (strcmp(v, "log") == 0)
		o->seccomp_log = 1;
	else
		return -1;
	return 0;
}

int
daemon_parse_args(const char *prog, int argc, char **argv,
    struct daemon_opts *o, const struct daemon_extra_opt *extra,
    size_t nextra, void *arg)
{
	struct option lo[MAX_LONGOPTS] = {
		{ "foreground",	no_argument,		NULL, 'F' },
		{ "debug",	no_argument,		NULL, 'd' },
		{ "pidfile",	required_argument,	NULL, 'p' },
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "rundir",	required_argument,	NULL, OPT_RUNDIR },
		{ "seccomp",	required_argument,	NULL, OPT_SECCOMP },
	};
	size_t base = 8, i;
	int ch;

	optind = 0;	/* full getopt reset: may be called more than once */
	memset(o, 0, sizeof(*o));
	o->config_path = DEVSEP_CONF_PATH;
	o->pidfd = -1;
	o->piddirfd = -1;
	o->seccomp_log = -1;
	if (nextra > MAX_LONGOPTS - base - 1)
		fatalx("too many options");
	for (i = 0; i < nextra; i++) {
		lo[base + i].name = extra[i].name;
		lo[base + i].has_arg = extra[i].has_arg;
		lo[base + i].val = OPT_EXTRA + (int)i;
	}
	while ((ch = getopt_long(argc, argv, "Fdp:c:hV", lo, NULL)) != -1) {
		switch (ch) {
		case 'F': o->foreground = 1; break;
		case 'd': o->debug = 1; break;
		case 'p': o->pidfile = optarg; break;
		case 'c': o->config_path = optarg; break;
		case 'h': usage(prog, extra, nextra, 0); break;
		case 'V': printf("%s %s\n", prog, DEVSEP_VERSION); exit(0);
		case OPT_RUNDIR: o->rundir = optarg; break;
		case OPT_SECCOMP:
			if (parse_seccomp(o, optarg) == -1)
				usage(prog, extra, nextra, 2);
			break;
		default:
			if (ch >= OPT_EXTRA && ch < OPT_EXTRA + (int)nextra) {
				if (extra[ch - OPT_EXTRA].fn(arg, optarg) == -1) {
					fprintf(stderr, "%s: bad value for "
					    "--%s\n", prog,
					    extra[ch - OPT_EXTRA].name);
					exit(2);
				}
				break;
			}
			usage(prog, extra, nextra, 2);
		}
	}
	return optind;
}

/* A relative --rundir is made absolute now: daemon() and the sandbox
 * chdir("/") later, and the sockets must still be found. */
static int
set_rundir(struct devsep_config *c, const char *dir)
{
	char cwd[CONFIG_PATH_MAX];

	if (dir[0] == '/')
		return xsnprintf(c->run_dir, sizeof(c->run_dir), "%s", dir) ==
		    -1 ? -1 : 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return xsnprintf(c->run_dir, sizeof(c->run_dir), "%s/%s", cwd, dir) ==
	    -1 ? -1 : 0;
}

/* The $NOTIFY_SOCKET datagram socket, connected; -1 when not under
 * systemd (Type=notify). */
static int notify_fd = -1;

static void
notify_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@'))
		return;
	len = strlen(path);
	if (len >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')	/* abstract namespace */
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return;
	if (connect(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) == -1) {
		close(fd);
		return;
	}
	notify_fd = fd;
	unsetenv("NOTIFY_SOCKET");
}

static void
notify_send(const char *msg)
{
	if (notify_fd == -1)
		return;
	if (send(notify_fd, msg, strlen(msg), MSG_NOSIGNAL) == -1)
		log_warn("sd_notify");
}

void
daemon_ready(const char *status)
{
	char msg[256];

	if (notify_fd == -1)
		return;
	snprintf(msg, sizeof(msg), "READY=1\nMAINPID=%d\nSTATUS=%s",
	    (int)getpid(), status);
	notify_send(msg);
}

void
daemon_stopping(void)
{
	notify_send("STOPPING=1");
}

void
daemon_setup(const char *prog, struct daemon_opts *o, struct devsep_config *c)
{
	char err[512];
	int missing_ok = strcmp(o->config_path, DEVSEP_CONF_PATH) == 0;

	config_defaults(c);
	if (config_load(c, o->config_path, missing_ok, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(1);
	}
	if (o->rundir != NULL && set_rundir(c, o->rundir) == -1) {
		fprintf(stderr, "%s: --rundir %s: too long or no cwd\n", prog,
		    o->rundir);
		exit(1);
	}
	if (o->debug)
		c->log_level = LOG_LEVEL_DEBUG;
	if (o->seccomp_log != -1)
		c->seccomp_log = o->seccomp_log;
	log_init(prog, o->foreground, c->log_level);
	notify_open();
}

void
daemon_lock_instance(const char *prog, const struct devsep_config *c)
{
	instance_lock(prog, c->run_dir);
}

/* Who may own a directory we are about to use: us, or its future owner. */
static int
dir_owner_ok(const struct stat *st, uid_t uid)
{
	return st->st_uid == geteuid() ||
	    (uid != (uid_t)-1 && st->st_uid == uid);
}

/* After fchown/fchmod: exactly what was asked, or EPERM. */
static int
dir_verify(int fd, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode) || (st.st_mode & 07777) != mode ||
	    st.st_uid != (uid != (uid_t)-1 ? uid : geteuid()) ||
	    (gid != (gid_t)-1 && st.st_gid != gid)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* fchmod through an O_PATH fd (fchmod itself refuses one). */
static int
dir_chmod(int fd, mode_t mode)
{
	int rfd, r;

	if ((rfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	r = fchmod(rfd, mode);
	close(rfd);
	return r;
}

/*
 * Brings a directory (an O_PATH fd) to mode and uid:gid.  Nothing when it
 * already is: a restart needs no capability, not even to read a 0700 dir
 * its owner holds.  Else a dir its future owner holds is taken back first
 * (CAP_CHOWN), the mode is set while it is ours (root needs no CAP_FOWNER
 * for that, which the units do not give), then the owner.
 */
static int
dir_fix(int fd, const struct stat *st, mode_t mode, uid_t uid, gid_t gid)
{
	uid_t me = geteuid();

	if ((st->st_mode & 07777) == mode &&
	    st->st_uid == (uid != (uid_t)-1 ? uid : me) &&
	    (gid == (gid_t)-1 || st->st_gid == gid))
		return 0;
	if (st->st_uid != me &&
	    fchownat(fd, "", me, (gid_t)-1, AT_EMPTY_PATH) == -1)
		return -1;
	if ((st->st_mode & 07777) != mode && dir_chmod(fd, mode) == -1)
		return -1;
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) &&
	    fchownat(fd, "", uid, gid, AT_EMPTY_PATH) == -1)
		return -1;
	return 0;
}

int
daemon_opendir(int atfd, const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st;
	int fd, e;

	if (mkdirat(atfd, path, mode) == -1 && errno != EEXIST)
		return -1;
	/* O_PATH: no read right needed on a dir another user holds 0700;
	 * a planted symlink fails (ENOTDIR or ELOOP), so does a file */
	fd = openat(atfd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		goto fail;
	}
	if (!dir_owner_ok(&st, uid)) {
		log_warnx("%s: owned by uid %u, not by us: refusing it", path,
		    (unsigned)st.st_uid);
		errno = EPERM;
		goto fail;
	}
	if (dir_fix(fd, &st, mode, uid, gid) == -1 ||
	    dir_verify(fd, mode, uid, gid) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
daemon_mkdir(const char *path, mode_t mode)
{
	int fd;

	if ((fd = daemon_opendir(AT_FDCWD, path, mode, (uid_t)-1,
	    (gid_t)-1)) == -1)
		return -1;
	close(fd);
	return 0;
}

/*
 * One instance per daemon and run dir: <rundir>/<prog>.lock, flock'ed for
 * the process's life (the fd is inherited by daemon()'s child, closed on
 * exec).  Taken before any socket is touched, with or without -p.
 */
static int instance_fd = -1;

static void
instance_lock(const char *prog, const char *rundir)
{
	char name[64];
	struct stat st;
	int dfd, fd;

	if ((dfd = daemon_opendir(AT_FDCWD, rundir, RUNDIR_MODE, (uid_t)-1,
	    (gid_t)-1)) == -1)
		fatal("run dir %s", rundir);
	if (xsnprintf(name, sizeof(name), "%s.lock", prog) == -1)
		fatalx("%s: name too long", prog);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 || fstat(fd, &st) == -1)
		fatal("%s/%s", rundir, name);
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		fatalx("%s/%s: not our regular file", rundir, name);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			fatalx("already running (%s/%s is locked by another "
			    "%s)", rundir, name, prog);
		fatal("%s/%s: flock", rundir, name);
	}
	close(dfd);
	instance_fd = fd;
}

int
daemon_listen(const struct devsep_config *c, const char *sock, char *path,
    size_t pathsz)
{
	struct group *gr;
	gid_t gid = (gid_t)-1;

	if (xsnprintf(path, pathsz, "%s/%s", c->run_dir, sock) == -1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (geteuid() == 0) {
		if ((gr = getgrnam(GROUP_PEERS)) == NULL) {
			log_warnx("no group %s (scripts/create-users, "
			    "sysusers.d/devsep.conf)", GROUP_PEERS);
			errno = ENOENT;
			return -1;
		}
		gid = gr->gr_gid;
	}
	return msg_listen_group(path, SOCK_MODE, gid);
}

int
pidfile_create(const char *path)
{
	char buf[32];
	int fd, n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		fatal("pidfile %s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fatalx("pidfile %s: already running (pid %s)", path, buf);
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, n, 0) != n)
		fatal("pidfile %s: write", path);
	return fd;
}

void
pidfile_remove(struct daemon_opts *o)
{
	char tmp[CONFIG_PATH_MAX];

	if (o->pidfile == NULL || o->pidfd == -1)
		return;
	if (o->piddirfd != -1 &&
	    xsnprintf(tmp, sizeof(tmp), "%s", o->pidfile) != -1) {
		if (unlinkat(o->piddirfd, basename(tmp), 0) == -1)
			log_warn("pidfile %s: not removed", o->pidfile);
	} else if (unlink(o->pidfile) == -1)
		log_warn("pidfile %s: not removed", o->pidfile);
	if (o->piddirfd != -1)
		close(o->piddirfd);
	o->piddirfd = -1;
	close(o->pidfd);
	o->pidfd = -1;
}

/*
 * Makes sure o->user can remove the pid file once the daemon dropped to
 * it (see daemon.h); opens the parent for unlinkat.
 */
static void
pidfile_dir(struct daemon_opts *o)
{
	char tmp[CONFIG_PATH_MAX], *dir;
	struct passwd *pw = NULL;
	struct stat st;
	int fd;

	if (xsnprintf(tmp, sizeof(tmp), "%s", o->pidfile) == -1)
		fatalx("pidfile %s: path too long", o->pidfile);
	dir = dirname(tmp);
	if (getuid() == 0 && o->user != NULL && strcmp(o->user, "root") != 0)
		pw = getpwnam(o->user);
	if (pw != NULL && stat(dir, &st) == -1 && errno == ENOENT) {
		/* by fd: never a chown of whatever the path names by then */
		if ((fd = daemon_opendir(AT_FDCWD, dir, 0755, pw->pw_uid,
		    pw->pw_gid)) == -1)
			fatal("pidfile directory %s", dir);
		close(fd);
	} else if (pw != NULL && stat(dir, &st) == 0 &&
	    st.st_uid != pw->pw_uid)
		log_warnx("pidfile %s: directory %s is not owned by %s, so the "
		    "file cannot be removed at exit; use a directory of its "
		    "own (created owned by %s when missing)", o->pidfile, dir,
		    o->user, o->user);
	o->piddirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (o->piddirfd == -1)
		fatal("pidfile directory %s", dir);
}

void
daemon_start(struct daemon_opts *o)
{
	static char abspid[CONFIG_PATH_MAX];
	char cwd[CONFIG_PATH_MAX];

	/* daemon() chdirs to "/": anchor a relative pid file first */
	if (o->pidfile != NULL && o->pidfile[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    xsnprintf(abspid, sizeof(abspid), "%s/%s", cwd,
		    o->pidfile) == -1)
			fatalx("pidfile %s: path too long", o->pidfile);
		o->pidfile = abspid;
	}
	if (!o->foreground && daemon(0, 0) == -1)
		fatal("daemon");
	if (o->pidfile != NULL) {
		pidfile_dir(o);
		o->pidfd = pidfile_create(o->pidfile);
	}
}

struct sigctx {
	void	(*on_term)(void *);
	void	(*on_hup)(void *);
	void	(*on_chld)(void *);
	void	*arg;
};

static void
signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct sigctx *s = arg;

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("signal %d: shutting down", (int)sig);
		daemon_stopping();
		s->on_term(s->arg);
		break;
	case SIGHUP:
		if (s->on_hup)
			s->on_hup(s->arg);
		break;
	case SIGCHLD:
		if (s->on_chld)
			s->on_chld(s->arg);
		break;
	}
}

static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
#define NSIGS (sizeof(sigs) / sizeof(sigs[0]))
static struct event *sigevs[NSIGS];	/* kept: freed by daemon_signals_free */

void
daemon_signals_free(void)
{
	size_t i;

	for (i = 0; i < NSIGS; i++) {
		if (sigevs[i] != NULL)
			event_free(sigevs[i]);
		sigevs[i] = NULL;
	}
}

void
daemon_signals(struct event_base *base, void (*on_term)(void *),
    void (*on_hup)(void *), void (*on_chld)(void *), void *arg)
{
	static struct sigctx s;
	struct event *ev;
	size_t i;

	daemon_signals_free();

	s.on_term = on_term;
	s.on_hup = on_hup;
	s.on_chld = on_chld;
	s.arg = arg;
	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < NSIGS; i++) {
		if (sigs[i] == SIGCHLD && on_chld == NULL)
			continue;
		ev = evsignal_new(base, sigs[i], signal_cb, &s);
		if (ev == NULL || evsignal_add(ev, NULL) == -1)
			fatalx("cannot install signal handler %d", sigs[i]);
		sigevs[i] = ev;
	}
}


int
daemon_fork_launcher(const char *name, pid_t *pidp)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	*pidp = pid;
	if (pid != 0) {
		close(sv[1]);
		return sv[0];
	}
	close(sv[0]);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, name, 0, 0, 0);
	return sv[1];
}
