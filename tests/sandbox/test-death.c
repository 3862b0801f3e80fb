/*
 * Death tests: proves that each daemon's sandbox (sandbox_enter() with the
 * compiled policy, as root also uid, capabilities, chroot, mount
 * namespace, Landlock) kills the process with SIGSYS on forbidden system
 * calls, makes other forbidden things fail, and still allows what the
 * daemon needs.  Table-driven: every row says what it proves.  Each row
 * runs in a fresh forked child that enters the sandbox and then makes one
 * call; the parent checks how the child ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"
#include "sandbox.h"

enum expect { DIES, WORKS, FAILS };

struct row {
	const char	*daemon;
	const char	*proves;
	int		(*fn)(void);	/* 0: the call succeeded, else errno */
	enum expect	 expect;
	int		 seccomp_log;	/* enter with --seccomp=log */
};

static char tmpdir[64];		/* a lockd state dir, a unix socket */
static char sockpath[128];

static int ret(long r) { return r == -1 ? (errno ? errno : EIO) : 0; }

static void *thr(void *a) { return a; }
static int do_thread(void)
{
	pthread_t t;
	int r = pthread_create(&t, NULL, thr, NULL);

	return r ? r : pthread_join(t, NULL);
}
static int do_fork(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	return p == -1 ? errno : (waitpid(p, NULL, 0), 0);
}
static int do_execve(void)
{
	char *const argv[] = { "true", NULL };

	execve("/bin/true", argv, NULL);
	return errno;
}
static int do_exec_tmp(void)
{
	char path[128], *const argv[] = { "x", NULL };

	snprintf(path, sizeof(path), "%s/true", tmpdir);
	execve(path, argv, NULL);
	return errno;
}
static int do_exec_usr(void)
{
	pid_t p = fork();
	int st;

	if (p == 0) {
		execl("/usr/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (p == -1 || waitpid(p, &st, 0) == -1)
		return errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : EPERM;
}
static int do_inet(void) { return ret(socket(AF_INET, SOCK_STREAM, 0)); }
static int do_inet_dgram(void) { return ret(socket(AF_INET, SOCK_DGRAM, 0)); }
static int do_unix(void) { return ret(socket(AF_UNIX, SOCK_SEQPACKET, 0)); }
static int do_netlink(void) { return ret(socket(AF_NETLINK, SOCK_RAW, 0)); }
static int do_kill_self(void) { return ret(kill(getpid(), 0)); }
static int sockopt(int opt)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), v = 65536;

	if (fd == -1)
		return errno;
	return ret(setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)));
}
static int do_sndbuf(void) { return sockopt(SO_SNDBUF); }
static int do_reuseaddr(void) { return sockopt(SO_REUSEADDR); }
static int do_ptrace(void) { return ret(ptrace(PTRACE_TRACEME, 0, 0, 0)); }
static int do_mount(void)
{
	return ret(mount("none", tmpdir, "tmpfs", 0, NULL));
}
static int do_kexec(void)
{
	return ret(syscall(SYS_kexec_load, 0, 0, NULL, 0));
}
static int do_bpf(void) { return ret(syscall(SYS_bpf, 0, NULL, 0)); }
static int do_module(void)
{
	return ret(syscall(SYS_finit_module, -1, "", 0));
}
static int do_unshare(void) { return ret(unshare(CLONE_NEWNET)); }
static int do_setuid(void) { return ret(setuid(0)); }
static int do_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? errno : 0;
}
static int do_mmap_rw(void)
{
	void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? errno : munmap(p, 1 << 20);
}
static int do_open_etc(void)
{
	return ret(open("/etc/passwd", O_RDONLY | O_CLOEXEC));
}
static int do_creat(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/new", tmpdir);
	return ret(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
}
static int do_store_file(void)
{
	int fd = openat(AT_FDCWD, "probe.json", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);

	if (fd == -1)
		return errno;
	if (write(fd, "{}", 2) != 2 || fsync(fd) == -1)
		return errno;
	close(fd);
	return ret(renameat(AT_FDCWD, "probe.json", AT_FDCWD, "p2.json")) ||
	    ret(unlinkat(AT_FDCWD, "p2.json", 0));
}
static int do_connect_xs(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd == -1)
		return errno;
	strcpy(sun.sun_path, sockpath);
	return ret(connect(fd, (struct sockaddr *)&sun, sizeof(sun)));
}
static int do_log(void)
{
	log_info("a log line after sandbox_enter");
	return 0;
}
static int do_clone3(void)
{
	long r = syscall(SYS_clone3, NULL, 0);

	return r == -1 && errno == ENOSYS ? 0 : EINVAL;
}

static const struct row rows[] = {
	/* watcherd: xenstore writer, may never run a program */
	{ "watcherd", "execve is fatal in watcherd", do_execve, DIES, 0 },
	{ "watcherd", "fork (clone without CLONE_THREAD) is fatal in watcherd", do_fork, DIES, 0 },
	{ "watcherd", "threads (libxenstore's reader) may still be created", do_thread, WORKS, 0 },
	{ "watcherd", "clone3 fails with ENOSYS (so glibc uses the filtered clone)", do_clone3, WORKS, 0 },
	{ "watcherd", "creating a file is fatal in watcherd", do_creat, DIES, 0 },
	{ "watcherd", "reading an existing file works (config reload)", do_open_etc, WORKS, 0 },
	{ "watcherd", "TCP sockets are fatal in watcherd", do_inet, DIES, 0 },
	{ "watcherd", "unix sockets work in watcherd", do_unix, WORKS, 0 },
	{ "watcherd", "executable mappings are fatal in watcherd", do_mmap_exec, DIES, 0 },
	{ "watcherd", "plain memory mappings work", do_mmap_rw, WORKS, 0 },
	{ "watcherd", "ptrace is fatal", do_ptrace, DIES, 0 },
	{ "watcherd", "logging still works", do_log, WORKS, 0 },
	/* lockd: its state dir only */
	{ "lockd", "execve is fatal in lockd", do_execve, DIES, 0 },
	{ "lockd", "fork is fatal in lockd", do_fork, DIES, 0 },
	{ "lockd", "files outside the state dir are unreachable (chroot)", do_open_etc, FAILS, 0 },
	{ "lockd", "store files can be written, fsynced, renamed, removed", do_store_file, WORKS, 0 },
	{ "lockd", "TCP sockets are fatal in lockd", do_inet, DIES, 0 },
	{ "lockd", "growing a send buffer works (large replies, msg.c)", do_sndbuf, WORKS, 0 },
	{ "lockd", "other socket options are fatal", do_reuseaddr, DIES, 0 },
	{ "lockd", "executable mappings are fatal in lockd", do_mmap_exec, DIES, 0 },
	{ "lockd", "mount is fatal in lockd", do_mount, DIES, 0 },
	{ "lockd", "bpf is fatal in lockd", do_bpf, DIES, 0 },
	/* broker: opens images, never forks or executes */
	{ "broker", "execve is fatal in the broker", do_execve, DIES, 0 },
	{ "broker", "fork is fatal in the broker", do_fork, DIES, 0 },
	{ "broker", "opening a file works (images)", do_open_etc, WORKS, 0 },
	{ "broker", "TCP sockets are fatal in the broker", do_inet, DIES, 0 },
	{ "broker", "unix sockets work", do_unix, WORKS, 0 },
	{ "broker", "growing a send buffer works (msg.c)", do_sndbuf, WORKS, 0 },
	{ "broker", "ptrace is fatal", do_ptrace, DIES, 0 },
	{ "broker", "setuid is fatal in the broker", do_setuid, DIES, 0 },
	/* hotplugd: decides what runs, never runs anything itself */
	{ "hotplugd", "execve is fatal in hotplugd", do_execve, DIES, 0 },
	{ "hotplugd", "fork is fatal in hotplugd", do_fork, DIES, 0 },
	{ "hotplugd", "kill is fatal in hotplugd (cgroup.kill instead)", do_kill_self, DIES, 0 },
	{ "hotplugd", "executable mappings are fatal in hotplugd", do_mmap_exec, DIES, 0 },
	{ "hotplugd", "netlink sockets are fatal in hotplugd", do_netlink, DIES, 0 },
	{ "hotplugd", "datagram inet sockets are fatal in hotplugd", do_inet_dgram, DIES, 0 },
	{ "hotplugd", "unix sockets work in hotplugd", do_unix, WORKS, 0 },
	{ "hotplugd", "connecting to xenstored's socket fails (hidden)", do_connect_xs, FAILS, 0 },
	{ "hotplugd", "ptrace is fatal in hotplugd", do_ptrace, DIES, 0 },
	/* scripts (and hotplugd's launcher): the Xen hotplug scripts */
	{ "scripts", "connecting to xenstored's socket fails (hidden)", do_connect_xs, FAILS, 0 },
	{ "scripts", "programs from /usr/bin can run (scripts' tools)", do_exec_usr, WORKS, 0 },
	{ "scripts", "programs outside the exec-dirs cannot run (Landlock)", do_exec_tmp, FAILS, 0 },
	{ "scripts", "ptrace is fatal in a script", do_ptrace, DIES, 0 },
	{ "scripts", "mount is fatal in a script", do_mount, DIES, 0 },
	{ "scripts", "kexec_load is fatal", do_kexec, DIES, 0 },
	{ "scripts", "bpf is fatal", do_bpf, DIES, 0 },
	{ "scripts", "loading a kernel module is fatal", do_module, DIES, 0 },
	{ "scripts", "new namespaces are fatal", do_unshare, DIES, 0 },
	{ "scripts", "setuid is fatal (the launcher uses setresuid)", do_setuid, DIES, 0 },
	{ "scripts", "TCP sockets are fatal in a script", do_inet, DIES, 0 },
	{ "scripts", "datagram ioctl sockets work (brctl-style tools)", do_inet_dgram, WORKS, 0 },
	{ "scripts", "netlink sockets work (ip link)", do_netlink, WORKS, 0 },
	/* development mode */
	{ "lockd", "--seccomp=log: a forbidden call is logged, not fatal", do_inet, WORKS, 1 },
	{ "watcherd", "--seccomp=log: execve is only logged (the program runs)", do_execve, WORKS, 1 },
};

static void
child(const struct row *r)
{
	struct sandbox_spec s = { .daemon = r->daemon, .chroot_dir = tmpdir,
	    .exec_dir = "/etc/xen/scripts", .seccomp_log = r->seccomp_log };
	int rc;

	if (strcmp(r->daemon, "hotplugd") == 0 ||
	    strcmp(r->daemon, "scripts") == 0)
		setenv("XENSTORED_PATH", sockpath, 1);
	if (sandbox_enter(&s) == -1)
		_exit(111);
	rc = r->fn();
	if (r->expect == DIES)
		_exit(4);		/* survived */
	_exit(rc == 0 ? 0 : 3);
}

static int
run_row(const struct row *r)
{
	const char *got;
	pid_t pid;
	int st, ok;

	fflush(NULL);
	if ((pid = fork()) == 0)
		child(r);
	if (pid == -1 || waitpid(pid, &st, 0) == -1)
		return -1;
	if (WIFSIGNALED(st))
		got = WTERMSIG(st) == SIGSYS ? "SIGSYS" : strsignal(WTERMSIG(st));
	else
		got = WEXITSTATUS(st) == 0 ? "works" : WEXITSTATUS(st) == 3 ?
		    "fails" : WEXITSTATUS(st) == 4 ? "survived" : "error";
	ok = (r->expect == DIES && WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) ||
	    (r->expect == WORKS && WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
	    (r->expect == FAILS && WIFEXITED(st) && WEXITSTATUS(st) == 3);
	printf("%s %-8s %-62s [%s]\n", ok ? "ok  " : "FAIL", r->daemon,
	    r->proves, got);
	return ok ? 0 : -1;
}

static void
setup(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char cmd[256];
	int fd;

	strcpy(tmpdir, "/tmp/sbx-death.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		exit(2);
	chmod(tmpdir, 0777);	/* lockd writes here as devsep-lockd */
	snprintf(cmd, sizeof(cmd), "cp /bin/true %s/true", tmpdir);
	if (system(cmd) != 0)
		exit(2);
	snprintf(sockpath, sizeof(sockpath), "%s/xs.sock", tmpdir);
	strcpy(sun.sun_path, sockpath);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 8) == -1)
		exit(2);
	chmod(sockpath, 0666);
}

int
main(void)
{
	char cmd[128];
	size_t i, fails = 0;

	log_init("test-death", 1, LOG_LEVEL_WARN);
	peer_init();
	setup();
	if (getuid() != 0)
		printf("note: not root: uid/caps/chroot/mountns rows only "
		    "check seccomp\n");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (run_row(&rows[i]) == -1)
			fails++;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fails++;
	printf("%zu rows, %zu failed\n", i, fails);
	return fails ? 1 : 0;
}
