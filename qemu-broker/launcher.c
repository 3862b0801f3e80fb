/*
 * The privileged launcher (see launcher.h): a blocking poll loop over the
 * broker's socket and a signalfd for SIGCHLD.
 *
 *   event                         -> action
 *   SPAWN, valid, uid free        -> prepare chroot, fork, jail, execveat;
 *                                    OK {pid, uid, chroot} once exec worked
 *   SPAWN, invalid / uid busy     -> ERROR (EINVAL / EEXIST)
 *   KILL, our pid                 -> kill(pid, sig)
 *   ADOPT pid, uids = base+domid  -> track it by pidfd (a previous
 *                                    launcher's QEMU, now init's child)
 *   SIGCHLD                       -> waitpid loop, EXITED {pid, status}
 *   pidfd of an adopted QEMU      -> EXITED {pid, 0} (init reaps it)
 *   broker EOF / bad message      -> exit; every QEMU keeps running
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "launcher.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "proto.h"
#include "reply.h"
#include "sandbox.h"

#define LSOCK	3	/* the launcher's socket, moved here */
#define CH_QMP	3	/* in a QEMU child: its QMP socket */
#define CH_STAT	4	/* in a QEMU child: exec status pipe */
#define CH_BIN	5	/* in a QEMU child: the QEMU binary (O_PATH) */

struct kid {
	pid_t		pid;
	uid_t		uid;
	int		pidfd;		/* adopted (not our child), else -1 */
};

static struct kid kids[LAUNCH_MAX_CHILDREN];
static const struct devsep_config *lcfg;
static const struct launch_opts *lopts;
static int binfd = -1;

static void
reply_err(uint32_t reqid, int err, const char *what)
{
	if (reply_error_send(LSOCK, reqid, err, what) == -1)
		log_warn("launcher: reply");
}

static int
dir_is_empty_root_dir(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 0022))
		return 0;
	if ((d = opendir(path)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n == 0;
}

/* qemu_chroot when it is an empty root-owned directory, else a fresh
 * per-domain one under the run dir. */
static int
chroot_prepare(uint32_t domid, char *out, size_t outsz)
{
	char parent[CONFIG_PATH_MAX + 16];

	if (dir_is_empty_root_dir(lcfg->qemu_chroot))
		return xsnprintf(out, outsz, "%s", lcfg->qemu_chroot);
	if (xsnprintf(parent, sizeof(parent), "%s/qemu-root",
	    lcfg->run_dir) == -1 ||
	    xsnprintf(out, outsz, "%s/%u", parent, domid) == -1)
		return -1;
	if ((mkdir(parent, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(out, 0555) == -1 && errno != EEXIST))
		return -1;
	if (chmod(out, 0555) == -1 || !dir_is_empty_root_dir(out)) {
		errno = ENOTEMPTY;
		return -1;
	}
	return 0;
}

static struct kid *
kid_find(pid_t pid, uid_t uid)
{
	size_t i;

	for (i = 0; i < LAUNCH_MAX_CHILDREN; i++)
		if (kids[i].pid > 0 && (kids[i].pid == pid ||
		    (pid == 0 && kids[i].uid == uid)))
			return &kids[i];
	return NULL;
}

static void
reset_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE,
	    SIGCHLD };
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static void __attribute__((noreturn))
child_exec(int qmpfd, int statfd, uid_t uid, char **argv)
{
	char *envp[] = { NULL };
	int rc;

	if (dup2(qmpfd, CH_QMP) == -1 || dup2(statfd, CH_STAT) == -1 ||
	    dup2(binfd, CH_BIN) == -1)
		goto fail;
	close_range(CH_BIN + 1, ~0u, 0);
	if (fcntl(CH_STAT, F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(CH_BIN, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	reset_signals();
	if ((rc = jail_enter(uid)) != 0) {
		errno = -rc;
		goto fail;
	}
	/*
	 * No PR_SET_PDEATHSIG: a QEMU outlives the launcher and the broker.
	 * listen() here, as QEMU's uid: SO_PEERCRED of a QMP connection then
	 * names this process (the broker checks it when it adopts).
	 */
	if (listen(CH_QMP, 1) == -1)
		goto fail;
	execveat(CH_BIN, "", argv, envp, AT_EMPTY_PATH);
fail:
	rc = errno;
	(void)!write(CH_STAT, &rc, sizeof(rc));
	_exit(127);
}

/* fork + exec; returns the pid, or -errno (child reaped). */
static pid_t
spawn(int qmpfd, uid_t uid, char **argv)
{
	int sp[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(sp, O_CLOEXEC) == -1)
		return -errno;
	if ((pid = fork()) == -1) {
		err = errno;
		close(sp[0]);
		close(sp[1]);
		return -err;
	}
	if (pid == 0)
		child_exec(qmpfd, sp[1], uid, argv);
	close(sp[1]);
	do
		n = read(sp[0], &err, sizeof(err));
	while (n == -1 && errno == EINTR);
	close(sp[0]);
	if (n == 0)
		return pid;	/* EOF: execveat succeeded */
	waitpid(pid, NULL, 0);
	return -(err ? err : EIO);
}

static struct kid *
kid_slot(void)
{
	size_t i;

	for (i = 0; i < LAUNCH_MAX_CHILDREN; i++)
		if (kids[i].pid == 0)
			return &kids[i];
	return NULL;
}

static void
do_spawn(struct msg *m)
{
	struct launch_req r;
	struct launch_spawned ok;
	char abuf[4096], *chroot_dir = ok.chroot;
	char *argv[LAUNCH_ARGV_MAX];
	struct kid *k;
	struct msgbuf b;
	int64_t uid;
	pid_t pid;
	int qmpfd = msg_take_fd(m);

	if (qmpfd == -1 || launch_spawn_get(m, &r) == -1 ||
	    (uid = qemu_uid(lcfg->qemu_uid_base, r.domid)) == -1) {
		reply_err(m->hdr.reqid, EINVAL, "bad spawn request");
		goto out;
	}
	if (kid_find(0, (uid_t)uid) != NULL || (k = kid_slot()) == NULL) {
		reply_err(m->hdr.reqid, EEXIST, "a QEMU already runs as that uid");
		goto out;
	}
	if (chroot_prepare(r.domid, chroot_dir, sizeof(ok.chroot)) == -1) {
		reply_err(m->hdr.reqid, errno, "cannot prepare the chroot");
		goto out;
	}
	if (qemu_args_build(&r, lopts, lcfg->qemu_binary, chroot_dir, CH_QMP,
	    abuf, sizeof(abuf), argv, LAUNCH_ARGV_MAX) == -1) {
		reply_err(m->hdr.reqid, EINVAL, "bad QEMU arguments");
		goto out;
	}
	if ((pid = spawn(qmpfd, (uid_t)uid, argv)) < 0) {
		log_warnx("launcher: domid=%u exec %s: %s", r.domid,
		    lcfg->qemu_binary, strerror(-pid));
		reply_err(m->hdr.reqid, -pid, "cannot start QEMU");
		goto out;
	}
	k->pid = pid;
	k->uid = (uid_t)uid;
	k->pidfd = -1;
	log_info("launcher: domid=%u QEMU pid=%d uid=%lld chroot=%s",
	    r.domid, (int)pid, (long long)uid, chroot_dir);
	ok.pid = (uint32_t)pid;
	ok.uid = (uint32_t)uid;
	msgbuf_init(&b, MSG_COMMON_OK, m->hdr.reqid);
	launch_spawned_put(&b, &ok);
	if (msg_send_fd(LSOCK, &b) == -1)
		log_warn("launcher: reply");
	msgbuf_dispose(&b);
out:
	if (qmpfd != -1)
		close(qmpfd);
}

static int
do_kill(struct msg *m)
{
	struct launch_kill r;
	uint32_t pid, sig;
	struct kid *k;

	if (launch_kill_get(m, &r) == -1 ||
	    (r.signal != SIGTERM && r.signal != SIGKILL))
		return -1;
	pid = r.pid;
	sig = r.signal;
	if (pid == 0 || (k = kid_find((pid_t)pid, 0)) == NULL)
		return 0;	/* already reaped: the EXITED is on its way */
	if ((k->pidfd != -1 ? (int)syscall(SYS_pidfd_send_signal, k->pidfd,
	    (int)sig, NULL, 0) : kill(k->pid, (int)sig)) == -1)
		log_warn("launcher: kill %u", pid);
	return 0;
}

static void
send_exited(pid_t pid, int st)
{
	struct launch_exited e = { (uint32_t)pid, st };
	struct msgbuf b;

	msgbuf_init(&b, MSG_LAUNCH_EXITED, 0);
	launch_exited_put(&b, &e);
	if (msg_send_fd(LSOCK, &b) == -1)
		log_warn("launcher: exited notice");
	msgbuf_dispose(&b);
}

static void
reap(void)
{
	struct kid *k;
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((k = kid_find(pid, 0)) == NULL)
			continue;
		k->pid = 0;
		log_info("launcher: QEMU pid=%d exited status=0x%x", (int)pid,
		    st);
		send_exited(pid, st);
	}
}

static void __attribute__((noreturn))
shutdown_all(void)
{
	size_t i, n = 0;

	for (i = 0; i < LAUNCH_MAX_CHILDREN; i++)
		n += kids[i].pid > 0;
	log_info("launcher: broker gone; %zu QEMU(s) left running for the "
	    "next broker", n);
	_exit(0);
}

/* Every uid of /proc/<pid>/status ("Uid:\tr\te\ts\tfs") is uid. */
static int
proc_uid_is(pid_t pid, uid_t uid)
{
	char path[64], buf[2048], *p;
	unsigned long u[4];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nUid:")) == NULL || sscanf(p + 5,
	    "%lu %lu %lu %lu", &u[0], &u[1], &u[2], &u[3]) != 4)
		return 0;
	for (i = 0; i < 4; i++)
		if (u[i] != uid)
			return 0;
	return 1;
}

/* ADOPT: the pidfd is taken first, so the uid check is of that process
 * (a pid reused after the check is no longer the one the pidfd names). */
static int
do_adopt(struct msg *m)
{
	struct launch_adopt a;
	uint32_t pid, domid;
	int64_t uid;
	struct kid *k;
	int pfd;

	if (launch_adopt_get(m, &a) == -1)
		return -1;
	pid = a.pid;
	domid = a.domid;
	if (pid == 0 ||
	    (uid = qemu_uid(lcfg->qemu_uid_base, domid)) == -1)
		return -1;
	if (kid_find((pid_t)pid, 0) != NULL)
		return 0;
	if ((pfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0)) == -1 ||
	    !proc_uid_is((pid_t)pid, (uid_t)uid) ||
	    (k = kid_slot()) == NULL) {
		log_warnx("launcher: domid=%u pid=%u is not QEMU's uid %lld: "
		    "not adopted", domid, pid, (long long)uid);
		if (pfd != -1)
			close(pfd);
		return 0;
	}
	*k = (struct kid){ (pid_t)pid, (uid_t)uid, pfd };
	log_info("launcher: domid=%u adopted QEMU pid=%u", domid, pid);
	return 0;
}

/* An adopted QEMU's pidfd is readable: it exited (init reaps it). */
static void
adopted_exited(struct kid *k)
{
	log_info("launcher: adopted QEMU pid=%d exited", (int)k->pid);
	send_exited(k->pid, 0);
	close(k->pidfd);
	k->pid = 0;
	k->pidfd = -1;
}

/* XLQMP: libxl's QMP socket is root's; the broker gets the connection. */
static int
do_xlqmp(struct msg *m)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct launch_xlqmp r;
	struct launch_xlqmp_ok ok;
	struct msgbuf b;
	uint32_t domid;
	int fd;

	if (launch_xlqmp_get(m, &r) == -1 || r.domid > DOMID_MAX)
		return -1;
	domid = r.domid;
	if (xsnprintf(sa.sun_path, sizeof(sa.sun_path), "%s/qmp-libxl-%u",
	    lcfg->libxl_run_dir, domid) == -1) {
		reply_err(m->hdr.reqid, ENAMETOOLONG, "libxl_run_dir too long");
		return 0;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == -1) {
		reply_err(m->hdr.reqid, errno, "cannot connect to libxl's "
		    "QMP socket");
		if (fd != -1)
			close(fd);
		return 0;
	}
	ok = (struct launch_xlqmp_ok){ (uint32_t)cr.pid, (uint32_t)cr.uid };
	msgbuf_init(&b, MSG_COMMON_OK, m->hdr.reqid);
	launch_xlqmp_ok_put(&b, &ok);
	msgbuf_set_fd(&b, fd);
	if (msg_send_fd(LSOCK, &b) == -1)
		log_warn("launcher: reply");
	msgbuf_dispose(&b);
	close(fd);
	return 0;
}

static int
handle_msg(void)
{
	struct msg m;
	int rc = 0;

	if (msg_recv_fd(LSOCK, &m, 1024, 1, 1000) == -1)
		return -1;
	if (m.hdr.type == MSG_LAUNCH_SPAWN)
		do_spawn(&m);
	else if (m.hdr.type == MSG_LAUNCH_KILL)
		rc = do_kill(&m);
	else if (m.hdr.type == MSG_LAUNCH_ADOPT)
		rc = do_adopt(&m);
	else if (m.hdr.type == MSG_LAUNCH_XLQMP)
		rc = do_xlqmp(&m);
	else
		rc = -1;
	msg_dispose(&m);
	return rc;
}

/* pfd[2..]: the pidfds of adopted QEMUs; returns the count of pfds. */
static nfds_t
poll_set(struct pollfd *pfd, struct kid **who)
{
	nfds_t n = 2;
	size_t i;

	for (i = 0; i < LAUNCH_MAX_CHILDREN; i++)
		if (kids[i].pid > 0 && kids[i].pidfd != -1) {
			who[n] = &kids[i];
			pfd[n].fd = kids[i].pidfd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
	return n;
}

static void __attribute__((noreturn))
launcher_loop(void)
{
	struct pollfd pfd[2 + LAUNCH_MAX_CHILDREN];
	struct kid *who[2 + LAUNCH_MAX_CHILDREN];
	struct signalfd_siginfo si;
	sigset_t set;
	nfds_t i, n;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[0].fd = LSOCK;
	pfd[0].events = POLLIN;
	if ((pfd[1].fd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		shutdown_all();
	pfd[1].events = POLLIN;
	for (;;) {
		n = poll_set(pfd, who);
		if (poll(pfd, n, -1) == -1 && errno != EINTR)
			shutdown_all();
		if (pfd[1].revents & POLLIN) {
			(void)!read(pfd[1].fd, &si, sizeof(si));
			reap();
		}
		for (i = 2; i < n; i++)
			if (pfd[i].revents & (POLLIN | POLLHUP))
				adopted_exited(who[i]);
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    handle_msg() == -1)
			shutdown_all();
	}
}

int
launcher_fork(const struct devsep_config *cfg, const struct launch_opts *o,
    pid_t *pidp)
{
	int fd;

	/* the broker's launcher follows the broker, not signals */
	if ((fd = daemon_fork_launcher("broker-launch", pidp)) == -1 ||
	    *pidp != 0)
		return fd;
	lcfg = cfg;
	lopts = o;
	if (dup3(fd, LSOCK, O_CLOEXEC) == -1 && fd != LSOCK)
		_exit(1);
	close_range(LSOCK + 1, ~0u, 0);
	/* high fd: the QEMU child moves its fds to 3..5 below it */
	if ((binfd = open(cfg->qemu_binary, O_PATH | O_CLOEXEC)) == -1 ||
	    dup3(binfd, 100, O_CLOEXEC) == -1)
		log_warn("launcher: %s", cfg->qemu_binary);
	else {
		close(binfd);
		binfd = 100;
	}
	/* policy/launcher.policy: keeps SETUID/SETGID/SETPCAP/SYS_CHROOT/KILL;
	 * its seccomp filter is inherited by every QEMU (outer filter) */
	if (sandbox_enter(&(struct sandbox_spec){ .daemon = "launcher",
	    .seccomp_log = cfg->seccomp_log }) == -1)
		_exit(1);
	launcher_loop();
}
