/*
 * test_daemon: proves the daemon conventions of common/daemon.c:
 *  - pidfile_create writes our pid and holds a lock: a second instance (a
 *    forked child, since it calls fatal) exits 1 saying "already running
 *    (pid N)"; after the holder closes it a new instance gets it; a symlink
 *    is refused; pidfile_remove unlinks it; daemon_start daemonizes and a
 *    relative pid file lands where it was asked for (not in "/");
 *  - daemon_parse_args: every common option, extra long options with and
 *    without values, the index of the first operand, repeated calls; bad
 *    values, unknown options and --seccomp=bogus exit 2, -h / -V exit 0;
 *  - daemon_setup: overrides from the command line (a relative --rundir is
 *    made absolute), a bad config file exits
 *    1 with "file:line:", a missing non-default config exits 1;
 *  - daemon_mkdir: creates, accepts an existing dir, ENOTDIR on a file;
 *  - daemon_opendir (issue 14, attack 2): a symlink planted at the name is
 *    refused (ELOOP) and its target left alone, a directory owned by
 *    another uid is refused (EPERM) unless it is the intended owner, the
 *    mode is exact whatever the umask, owner and group are set by fd;
 *  - daemon_lock_instance (attack 7): a second instance on the same run
 *    dir exits 1 "already running" while the first holds the lock;
 *  - daemon_signals: SIGHUP / SIGTERM reach their callbacks via libevent;
 *  - now_ms / now_us are monotonic and consistent.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "daemon.h"
#include "log.h"

static char tmpdir[64];

/* Runs fn(arg) in a child; returns its exit status, output in out. */
static int
in_child(void (*fn)(void *), void *arg, char *out, size_t outsz)
{
	int p[2], st;
	pid_t pid;
	ssize_t n;
	size_t len = 0;

	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		fn(arg);
		fflush(NULL);
		_exit(0);
	}
	close(p[1]);
	while (len < outsz - 1 &&
	    (n = read(p[0], out + len, outsz - 1 - len)) > 0)
		len += n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
child_pidfile(void *arg)
{
	pidfile_create(arg);
}

static void
test_pidfile(void **state)
{
	char path[128], link[128], out[512], buf[32], want[64];
	int fd, n;

	snprintf(path, sizeof(path), "%s/d.pid", tmpdir);
	fd = pidfile_create(path);
	assert_true(fd >= 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	snprintf(want, sizeof(want), "%d\n", (int)getpid());
	assert_string_equal(buf, want);

	/* a second instance refuses to start */
	assert_int_equal(in_child(child_pidfile, path, out, sizeof(out)), 1);
	snprintf(want, sizeof(want), "already running (pid %d)", (int)getpid());
	if (strstr(out, want) == NULL)
		fail_msg("child said: %s", out);
	/* ... and did not clobber the file */
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	assert_int_equal(atoi(buf), getpid());

	/* once released, the next instance takes it */
	close(fd);
	assert_int_equal(in_child(child_pidfile, path, out, sizeof(out)), 0);

	/* pidfile_remove unlinks and closes */
	{
		struct daemon_opts o = { .pidfile = path, .piddirfd = -1 };

		o.pidfd = pidfile_create(path);
		pidfile_remove(&o);
		assert_int_equal(o.pidfd, -1);
		assert_int_equal(access(path, F_OK), -1);
		pidfile_remove(&o);	/* twice is harmless */
	}

	/* a symlink planted at the path is not followed */
	snprintf(link, sizeof(link), "%s/l.pid", tmpdir);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(in_child(child_pidfile, link, out, sizeof(out)), 1);
	assert_int_equal(access(path, F_OK), -1);
	unlink(link);
}

static void
child_daemonize(void *arg)
{
	struct daemon_opts o;

	memset(&o, 0, sizeof(o));
	o.pidfd = -1;
	o.pidfile = "rel.pid";
	if (chdir(arg) == -1)
		_exit(3);
	daemon_start(&o);	/* the daemonized grandchild returns */
	_exit(o.pidfd >= 0 && strcmp(o.pidfile, "rel.pid") != 0 ? 0 : 4);
}

static void
test_daemon_start(void **state)
{
	char path[128], out[256], buf[32];
	int i, fd = -1, n;

	/* daemon() chdirs to "/": a relative pid file still lands in the
	 * directory it was given in */
	snprintf(path, sizeof(path), "%s/rel.pid", tmpdir);
	assert_int_equal(in_child(child_daemonize, tmpdir, out, sizeof(out)),
	    0);
	for (i = 0; i < 200 && fd == -1; i++) {
		if ((fd = open(path, O_RDONLY)) == -1)
			usleep(10000);
	}
	assert_true(fd >= 0);
	for (i = 0; i < 200; i++) {	/* written after the lock */
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n > 0 && buf[n - 1] == '\n')
			break;
		usleep(10000);
	}
	buf[n > 0 ? n : 0] = '\0';
	assert_true(atoi(buf) > 1 && atoi(buf) != getpid());
	close(fd);
	assert_int_equal(access("/rel.pid", F_OK), -1);
	unlink(path);
}

static int
set_domid(void *arg, const char *v)
{
	int *p = arg;

	if (v == NULL || strcmp(v, "bad") == 0)
		return -1;
	p[0] = atoi(v);	/* test only: the value is ours */
	return 0;
}

static int
set_flag(void *arg, const char *v)
{
	int *p = arg;

	p[1]++;
	return v == NULL ? 0 : -1;
}

static const struct daemon_extra_opt extra[] = {
	{ "domid", 1, "--domid N   test", set_domid },
	{ "flag", 0, "--flag      test", set_flag },
};

struct argcase {
	int	 argc;
	char	*argv[12];
};

static void
child_args(void *arg)
{
	struct argcase *a = arg;
	struct daemon_opts o;
	int v[2] = { 0, 0 };

	daemon_parse_args("testd", a->argc, a->argv, &o, extra, 2, v);
	exit(42);
}

static void
test_parse_args(void **state)
{
	char *argv[] = { "testd", "-F", "-d", "-p", "/run/x.pid", "-c",
	    "/etc/x.conf", "--rundir", "/tmp/r", "--seccomp=log", "--domid",
	    "7", "--flag", "operand", NULL };
	struct daemon_opts o;
	struct argcase a;
	char out[1024];
	int v[2] = { 0, 0 }, i;

	i = daemon_parse_args("testd", 14, argv, &o, extra, 2, v);
	assert_int_equal(o.foreground, 1);
	assert_int_equal(o.debug, 1);
	assert_string_equal(o.pidfile, "/run/x.pid");
	assert_string_equal(o.config_path, "/etc/x.conf");
	assert_string_equal(o.rundir, "/tmp/r");
	assert_int_equal(o.seccomp_log, 1);
	assert_int_equal(o.pidfd, -1);
	assert_int_equal(v[0], 7);
	assert_int_equal(v[1], 1);
	assert_int_equal(i, 13);
	assert_string_equal(argv[i], "operand");

	/* a second call starts from scratch (defaults, optind) */
	{
		char *argv2[] = { "testd", "--seccomp", "kill", NULL };

		i = daemon_parse_args("testd", 3, argv2, &o, NULL, 0, NULL);
		assert_int_equal(i, 3);
		assert_int_equal(o.foreground, 0);
		assert_null(o.pidfile);
		assert_string_equal(o.config_path, DEVSEP_CONF_PATH);
		assert_null(o.rundir);
		assert_int_equal(o.seccomp_log, 0);
	}
	{
		char *argv3[] = { "testd", NULL };

		assert_int_equal(daemon_parse_args("testd", 1, argv3, &o,
		    NULL, 0, NULL), 1);
		assert_int_equal(o.seccomp_log, -1);	/* from config */
	}

	/* bad values / options exit 2 with a message */
	memset(&a, 0, sizeof(a));
	a.argv[0] = "testd";
	a.argv[1] = "--domid";
	a.argv[2] = "bad";
	a.argc = 3;
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "bad value for --domid"));
	a.argv[1] = "--nosuch";
	a.argc = 2;
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 2);
	assert_non_null(strstr(out, "usage: testd"));
	a.argv[1] = "--seccomp=bogus";
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 2);
	a.argv[1] = "-p";		/* missing argument */
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 2);
	a.argv[1] = "-h";
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--domid N"));
	a.argv[1] = "-V";
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "testd " DEVSEP_VERSION));
	a.argv[1] = "-F";
	assert_int_equal(in_child(child_args, &a, out, sizeof(out)), 42);
}

struct setupcase {
	struct daemon_opts	o;
};

static void
child_setup(void *arg)
{
	struct daemon_opts *o = arg;
	struct devsep_config c;

	daemon_setup("testd", o, &c);
	exit(42);
}

static void
test_setup(void **state)
{
	struct daemon_opts o;
	struct devsep_config c;
	char path[128], out[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/d.conf", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "run_dir = /from/conf\nseccomp_log = yes\nmax_jobs = 5\n");
	fclose(f);
	memset(&o, 0, sizeof(o));
	o.config_path = path;
	o.foreground = 1;
	o.seccomp_log = -1;
	daemon_setup("testd", &o, &c);
	assert_string_equal(c.run_dir, "/from/conf");
	assert_int_equal(c.seccomp_log, 1);
	assert_int_equal(c.max_jobs, 5);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	o.rundir = "/from/cmdline";
	o.debug = 1;
	o.seccomp_log = 0;
	daemon_setup("testd", &o, &c);
	assert_string_equal(c.run_dir, "/from/cmdline");
	assert_int_equal(c.seccomp_log, 0);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	/* a relative --rundir is anchored at the cwd (daemon() chdirs) */
	{
		char cwd[256], want[300];

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		o.rundir = "rel/run";
		daemon_setup("testd", &o, &c);
		snprintf(want, sizeof(want), "%s/rel/run", cwd);
		assert_string_equal(c.run_dir, want);
		o.rundir = "/from/cmdline";
	}
	log_setlevel(LOG_LEVEL_WARN);

	/* a bad line: exit 1 naming file and line */
	f = fopen(path, "w");
	fprintf(f, "max_jobs = 5\nmax_jobs = 6\n");
	fclose(f);
	o.rundir = NULL;
	assert_int_equal(in_child(child_setup, &o, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "d.conf:2: duplicate key"));
	/* a missing explicit config is an error */
	unlink(path);
	assert_int_equal(in_child(child_setup, &o, out, sizeof(out)), 1);
	assert_non_null(strstr(out, "No such file"));
}

static void
test_mkdir(void **state)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/sub", tmpdir);
	assert_int_equal(daemon_mkdir(path, 0700), 0);
	assert_int_equal(daemon_mkdir(path, 0700), 0);	/* exists: fine */
	assert_int_equal(rmdir(path), 0);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	errno = 0;
	assert_int_equal(daemon_mkdir(path, 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	unlink(path);
	snprintf(path, sizeof(path), "%s/no/such", tmpdir);
	assert_int_equal(daemon_mkdir(path, 0700), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_opendir(void **state)
{
	char victim[128], link[128], dir[128];
	struct stat st;
	int fd;

	snprintf(victim, sizeof(victim), "%s/victim", tmpdir);
	snprintf(link, sizeof(link), "%s/jobs", tmpdir);
	assert_int_equal(mkdir(victim, 0755), 0);
	assert_int_equal(symlink(victim, link), 0);
	errno = 0;
	assert_int_equal(daemon_opendir(AT_FDCWD, link, 0710, 65534, 0), -1);
	assert_true(errno == ENOTDIR || errno == ELOOP);
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);	/* not followed */
	assert_int_equal(st.st_uid, getuid());
	unlink(link);

	/* exact mode whatever the umask */
	snprintf(dir, sizeof(dir), "%s/exact", tmpdir);
	umask(027);
	fd = daemon_opendir(AT_FDCWD, dir, 0775, (uid_t)-1, (gid_t)-1);
	umask(022);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0775);
	close(fd);
	if (getuid() != 0)
		return;		/* owner checks need root */
	/* someone else's directory is refused, the intended owner's taken */
	assert_int_equal(chown(victim, 65534, 65534), 0);
	errno = 0;
	assert_int_equal(daemon_opendir(AT_FDCWD, victim, 0710, (uid_t)-1,
	    (gid_t)-1), -1);
	assert_int_equal(errno, EPERM);
	fd = daemon_opendir(AT_FDCWD, victim, 0710, 65534, 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_gid, 0);
	assert_int_equal(st.st_mode & 07777, 0710);
	close(fd);
}

static void
child_lock(void *arg)
{
	struct daemon_opts o;
	struct devsep_config c;

	memset(&o, 0, sizeof(o));
	o.pidfd = -1;
	config_defaults(&c);
	snprintf(c.run_dir, sizeof(c.run_dir), "%s", (const char *)arg);
	log_init("testd", 1, LOG_LEVEL_INFO);
	daemon_lock_instance("testd", &c);
	_exit(0);
}

static void
test_lock_instance(void **state)
{
	char run[128], out[512];
	int p[2], i;
	pid_t pid;
	char ch;

	snprintf(run, sizeof(run), "%s/run", tmpdir);
	/* nobody holds it: taken */
	assert_int_equal(in_child(child_lock, run, out, sizeof(out)), 0);
	/* a first instance holds it: the second exits "already running" */
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		struct daemon_opts o;
		struct devsep_config c;

		memset(&o, 0, sizeof(o));
		o.pidfd = -1;
		config_defaults(&c);
		snprintf(c.run_dir, sizeof(c.run_dir), "%s", run);
		daemon_lock_instance("testd", &c);
		(void)write(p[1], "x", 1);
		pause();	/* until the parent kills it */
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &ch, 1), 1);
	i = in_child(child_lock, run, out, sizeof(out));
	if (i != 1)
		fail_msg("second instance exited %d: %s", i, out);
	if (strstr(out, "already running") == NULL)
		fail_msg("second instance said: %s", out);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(p[0]);
	/* the first is gone: a new one takes it */
	assert_int_equal(in_child(child_lock, run, out, sizeof(out)), 0);
}

static int terms, hups;

static void
on_term(void *arg)
{
	terms++;
	event_base_loopbreak(arg);
}

static void
on_hup(void *arg)
{
	hups++;
}

static void
test_signals(void **state)
{
	struct event_base *base = event_base_new();
	struct timeval tv = { 2, 0 };

	assert_non_null(base);
	daemon_signals(base, on_term, on_hup, NULL, base);
	assert_int_equal(kill(getpid(), SIGPIPE), 0);	/* ignored */
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_int_equal(kill(getpid(), SIGTERM), 0);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_int_equal(hups, 1);
	assert_int_equal(terms, 1);
	daemon_signals_free();
	event_base_free(base);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
}

static void
test_clock(void **state)
{
	uint64_t a = now_us(), m = now_ms(), b;

	usleep(20000);
	b = now_us();
	assert_true(b - a >= 19000);
	assert_true(m <= now_ms());
	assert_true(now_ms() - m >= 19);
}

static int
make_tmp(void **state)
{
	strcpy(tmpdir, "/tmp/test_daemon.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
rm_tmp(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pidfile),
		cmocka_unit_test(test_daemon_start),
		cmocka_unit_test(test_opendir),
		cmocka_unit_test(test_lock_instance),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_mkdir),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_clock),
	};

	log_init("test_daemon", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, make_tmp, rm_tmp);
}
