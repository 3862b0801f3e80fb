/*
 * The script launcher (see launch.h): a blocking poll loop over hotplugd's
 * socket and a signalfd for SIGCHLD.
 *
 *   event                          -> action
 *   SPAWN, valid, slot free        -> fork; child: session, cgroup, fds,
 *                                     limits, uid, caps; execve;
 *                                     OK {pid, uid} + output fd once exec worked
 *   SPAWN, invalid / slot busy     -> ERROR (EINVAL / EEXIST)
 *   SIGNAL, our pid                -> kill(-pid, sig)
 *   SIGCHLD                        -> waitpid loop, EXITED {pid, status}
 *                                     (orphans reparented to us: reaped, ignored)
 *   hotplugd EOF / bad message     -> exit (hotplugd kills the job cgroups)
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cap-ng.h>
#include <seccomp.h>
#include <linux/capability.h>

#include "daemon.h"
#include "hotplugd.h"
#include "launch.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "policy.h"
#include "proto.h"
#include "reply.h"
#include "sandbox.h"

#define LSOCK		3	/* the launcher's socket, moved here */
#define CG2_MAGIC	0x63677270
#define SCRIPT_UMASK	002	/* xen-hotplug lock files are shared by the
				 * jobs' group devsep-script (locking.sh) */

struct spawn_req {
	uint64_t	 id;
	uint32_t	 slot;
	char		 exe[HPL_STR_MAX];
	char		 store[HPL_MSG_MAX];
	char		*argv[HPL_ARGS_MAX + 1];
	char		*envp[HPL_ENV_MAX + 1];
};

static pid_t kids[HPL_SLOTS];	/* main script pid per slot, 0 = free */
static struct hpl_ids ids;
static void *drop_launcher;	/* scripts.policy minus its @launcher group */

static void
reply_err(uint32_t reqid, int err, const char *what)
{
	if (reply_error_send(LSOCK, reqid, err, what) == -1)
		log_warn("launcher: reply");
}

/* n strings into store (at *used), pointers in v[], v[n] = NULL. */
static int
get_strs(struct msg *m, struct spawn_req *r, size_t *used, char **v,
    size_t max)
{
	uint32_t n, i;
	size_t len;

	if (msg_get_u32(m, &n) == -1 || n == 0 || n > max)
		return -1;
	for (i = 0; i < n; i++) {
		if (*used >= sizeof(r->store) ||
		    msg_get_str(m, r->store + *used,
		    sizeof(r->store) - *used) == -1)
			return -1;
		v[i] = r->store + *used;
		len = strlen(v[i]);
		*used += len + 1;
	}
	v[n] = NULL;
	return 0;
}

static int
read_req(struct msg *m, struct spawn_req *r)
{
	size_t used = 0;

	if (msg_get_u64(m, &r->id) == -1 || msg_get_u32(m, &r->slot) == -1 ||
	    r->slot >= HPL_SLOTS ||
	    msg_get_str(m, r->exe, sizeof(r->exe)) == -1 || r->exe[0] != '/' ||
	    get_strs(m, r, &used, r->argv, HPL_ARGS_MAX) == -1 ||
	    get_strs(m, r, &used, r->envp, HPL_ENV_MAX) == -1)
		return -1;
	return msg_end(m);
}

static void
reset_signals(void)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Bounding set {NET_ADMIN} (needs CAP_SETPCAP, still held). */
static int
bounding_net_admin(void)
{
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if (c == CAP_NET_ADMIN)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL)
			return -1;
	}
	return 0;
}

/* No supplementary group (never `disk`: dom0's own disks are root:disk),
 * gid devsep-script (which owns the loop devices), uid base + slot; then
 * NET_ADMIN only, ambient.  Without root (tests) nothing changes. */
static int
become(uint32_t slot)
{
	uid_t uid = ids.uid_base + slot;

	if (getuid() != 0)
		return 0;
	if (bounding_net_admin() == -1 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
	    setgroups(0, NULL) == -1 ||
	    setresgid(ids.gid, ids.gid, ids.gid) == -1 ||
	    setresuid(uid, uid, uid) == -1 ||
	    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		return -1;
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_INHERITABLE, CAP_NET_ADMIN) == -1 ||
	    capng_apply(CAPNG_SELECT_CAPS) == -1) {
		errno = EPERM;
		return -1;
	}
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0,
	    0) == -1)
		return -1;
	return 0;
}

/* The job's cgroup.procs fd: must be a cgroup2 file; "0" moves us. */
static int
enter_cgroup(int cgfd)
{
	struct statfs sf;

	if (cgfd == -1)
		return 0;
	if (fstatfs(cgfd, &sf) == -1 || sf.f_type != CG2_MAGIC) {
		errno = EBADF;
		return -1;
	}
	if (write(cgfd, "0", 1) != 1)
		return -1;
	return close(cgfd);
}

static void __attribute__((noreturn))
child_exec(const struct spawn_req *r, int cgfd, int outfd, int statfd)
{
	struct rlimit nproc = { HPL_NPROC, HPL_NPROC };
	int rc, devnull, sfd = statfd;

	reset_signals();
	if (setsid() == -1 || enter_cgroup(cgfd) == -1)
		goto fail;
	if ((devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    dup2(devnull, 0) == -1 || dup2(outfd, 1) == -1 ||
	    dup2(outfd, 2) == -1 || dup2(statfd, 3) == -1)
		goto fail;
	sfd = 3;
	close_range(4, ~0u, 0);
	if (fcntl(3, F_SETFD, FD_CLOEXEC) == -1)
		goto fail;
	umask(SCRIPT_UMASK);
	if ((getuid() == 0 && setrlimit(RLIMIT_NPROC, &nproc) == -1) ||
	    become(r->slot) == -1)
		goto fail;
	/* last: from here on the launcher's own calls kill (scripts.policy
	 * @launcher), so the script runs under the scripts' filter only */
	if ((rc = seccomp_load(drop_launcher)) != 0) {
		errno = -rc;
		goto fail;
	}
	execve(r->exe, r->argv, r->envp);
fail:
	rc = errno;
	(void)!write(sfd, &rc, sizeof(rc));
	_exit(127);
}

/* fork + exec; returns the pid (*outfd: read end), or -errno. */
static pid_t
spawn(const struct spawn_req *r, int cgfd, int *outfd)
{
	int sp[2], op[2], err = 0;
	pid_t pid;
	ssize_t n;

	if (pipe2(sp, O_CLOEXEC) == -1)
		return -errno;
	if (pipe2(op, O_CLOEXEC) == -1) {
		err = errno;
		close(sp[0]);
		close(sp[1]);
		return -err;
	}
	if ((pid = fork()) == 0)
		child_exec(r, cgfd, op[1], sp[1]);
	err = errno;
	close(sp[1]);
	close(op[1]);
	if (pid == -1) {
		close(sp[0]);
		close(op[0]);
		return -err;
	}
	do
		n = read(sp[0], &err, sizeof(err));
	while (n == -1 && errno == EINTR);
	close(sp[0]);
	if (n == 0) {	/* EOF: execve succeeded */
		*outfd = op[0];
		return pid;
	}
	close(op[0]);
	waitpid(pid, NULL, 0);
	return -(err ? err : EIO);
}

static void
do_spawn(struct msg *m)
{
	static struct spawn_req r;
	struct msgbuf b;
	pid_t pid;
	int outfd = -1, cgfd = msg_take_fd(m);

	memset(&r, 0, sizeof(r));
	if (read_req(m, &r) == -1) {
		reply_err(m->hdr.reqid, EINVAL, "bad spawn request");
		goto out;
	}
	if (kids[r.slot] != 0) {
		reply_err(m->hdr.reqid, EEXIST, "job slot in use");
		goto out;
	}
	if ((pid = spawn(&r, cgfd, &outfd)) < 0) {
		log_warnx("launcher: job=%llu exec %s: %s",
		    (unsigned long long)r.id, r.exe, strerror(-pid));
		reply_err(m->hdr.reqid, -pid, strerror(-pid));
		goto out;
	}
	kids[r.slot] = pid;
	msgbuf_init(&b, MSG_COMMON_OK, m->hdr.reqid);
	msgbuf_put_u32(&b, (uint32_t)pid);
	msgbuf_put_u32(&b, getuid() == 0 ? ids.uid_base + r.slot : getuid());
	msgbuf_set_fd(&b, outfd);
	if (msg_send_fd(LSOCK, &b) == -1)
		log_warn("launcher: reply");
	msgbuf_dispose(&b);
	close(outfd);
out:
	if (cgfd != -1)
		close(cgfd);
}

static int
slot_of(pid_t pid)
{
	int i;

	for (i = 0; i < HPL_SLOTS; i++)
		if (kids[i] == pid)
			return i;
	return -1;
}

static int
do_signal(struct msg *m)
{
	uint32_t pid, sig;

	if (msg_get_u32(m, &pid) == -1 || msg_get_u32(m, &sig) == -1 ||
	    msg_end(m) == -1 || (sig != SIGTERM && sig != SIGKILL))
		return -1;
	if (pid == 0 || slot_of((pid_t)pid) == -1)
		return 0;	/* already reaped: the EXITED is on its way */
	if (kill(-(pid_t)pid, (int)sig) == -1 && errno != ESRCH)
		log_warn("launcher: kill -%u", pid);
	return 0;
}

static void
reap(void)
{
	struct msgbuf b;
	int st, slot;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((slot = slot_of(pid)) == -1)
			continue;	/* an orphan reparented to us */
		kids[slot] = 0;
		msgbuf_init(&b, MSG_HPL_EXITED, 0);
		msgbuf_put_u32(&b, (uint32_t)pid);
		msgbuf_put_i64(&b, st);
		if (msg_send_fd(LSOCK, &b) == -1)
			log_warn("launcher: exited notice");
		msgbuf_dispose(&b);
	}
}

static int
handle_msg(void)
{
	struct msg m;
	int rc = 0;

	if (msg_recv_fd(LSOCK, &m, HPL_MSG_MAX, 1, 1000) == -1)
		return -1;
	if (m.hdr.type == MSG_HPL_SPAWN)
		do_spawn(&m);
	else if (m.hdr.type == MSG_HPL_SIGNAL)
		rc = do_signal(&m);
	else
		rc = -1;
	msg_dispose(&m);
	return rc;
}

static void __attribute__((noreturn))
launcher_loop(void)
{
	struct pollfd pfd[2];
	struct signalfd_siginfo si;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pfd[0].fd = LSOCK;
	pfd[0].events = POLLIN;
	if ((pfd[1].fd = signalfd(-1, &set, SFD_CLOEXEC)) == -1)
		_exit(1);
	pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			_exit(1);
		if (pfd[1].revents & POLLIN) {
			(void)!read(pfd[1].fd, &si, sizeof(si));
			reap();
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR) &&
		    handle_msg() == -1) {
			log_info("launcher: hotplugd gone, exiting");
			_exit(0);
		}
	}
}

int
launcher_ids(uint32_t uid_base, struct hpl_ids *out)
{
	struct group *g;

	out->uid_base = uid_base;
	if ((g = getgrnam(HPL_SCRIPT_GROUP)) == NULL) {
		log_warnx("no group %s (scripts/create-users)", HPL_SCRIPT_GROUP);
		return -1;
	}
	out->gid = g->gr_gid;
	return 0;
}

int
launcher_fork(const struct hpl_ids *in, int seccomp_log, const char *exec_dir,
    pid_t *pidp)
{
	int fd;

	/* hotplugd's launcher follows hotplugd, not signals */
	if ((fd = daemon_fork_launcher("hotplugd-launch", pidp)) == -1 ||
	    *pidp != 0)
		return fd;
	ids = *in;
	if (hpcg_enter_launcher() == -1)
		log_warn("launcher: cannot enter its cgroup");
	if ((drop_launcher = policy_seccomp_build_drop(policy_find("scripts"),
	    "@launcher")) == NULL)
		_exit(1);
	if (dup3(fd, LSOCK, O_CLOEXEC) == -1 && fd != LSOCK)
		_exit(1);
	close_range(LSOCK + 1, ~0u, 0);
	/* orphans of scripts are reparented here and reaped (reap()) */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("launcher: PR_SET_CHILD_SUBREAPER");
	/* policy/scripts.policy: keeps SETUID/SETGID/SETPCAP/KILL/NET_ADMIN;
	 * its seccomp filter, Landlock and mount namespace are every
	 * script's */
	if (sandbox_enter(&(struct sandbox_spec){ .daemon = "scripts",
	    .exec_dir = exec_dir, .seccomp_log = seccomp_log }) == -1)
		_exit(1);
	launcher_loop();
}
