/* Helpers for test_hotplugd_int.c (see hp_harness.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "msg.h"
#include "proto_hotplug.h"
#include "reply.h"
#include "hp_harness.h"

char	T[64], SCRIPTS[128], RUNDIR[128], OUT[128];
pid_t	hpd_pid = -1;
int	fails;

void
ok(const char *fmt, ...)
{
	va_list ap;

	printf("ok: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void
failf(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	fails++;
}

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
write_file(const char *path, mode_t mode, const char *fmt, ...)
{
	va_list ap;
	FILE *f;

	unlink(path);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
	chmod(path, mode);
}

void
write_script(const char *name, const char *body)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", SCRIPTS, name);
	write_file(p, 0755, "#!/bin/sh\n%s\n", body);
}

char *
read_file(const char *path, char *buf, size_t sz)
{
	ssize_t n = 0;
	int fd = open(path, O_RDONLY);

	if (fd != -1) {
		n = read(fd, buf, sz - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

void
harness_init(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	peer_init();
	snprintf(T, sizeof(T), "/tmp/hpt.XXXXXX");
	if (mkdtemp(T) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(T, 0755);
	snprintf(SCRIPTS, sizeof(SCRIPTS), "%s/scripts", T);
	snprintf(RUNDIR, sizeof(RUNDIR), "%s/run", T);
	snprintf(OUT, sizeof(OUT), "%s/out", T);
	mkdir(SCRIPTS, 0755);
	mkdir(RUNDIR, 0755);
	/* scripts run as per-job uids (hotplugd/launch.h): they write here */
	mkdir(OUT, 01777);
	chmod(OUT, 01777);
}

void
harness_cleanup(void)
{
	char cmd[256];

	daemon_kill(SIGTERM);
	if (getenv("HP_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", T);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", T);
	} else
		fprintf(stderr, "kept %s\n", T);
}

int
daemon_kill(int sig)
{
	int st = -1;

	if (hpd_pid <= 0)
		return -1;
	kill(hpd_pid, sig);
	waitpid(hpd_pid, &st, 0);
	hpd_pid = -1;
	return st;
}

/* Starts bin/devsep-hotplugd -F on T's dirs; waits for its socket. */
void
daemon_start_cfg(const char *extra)
{
	char conf[256], sock[256], log[256], bin[256];
	const char *bindir = getenv("BIN") ? getenv("BIN") : "bin";
	int i, fd;

	snprintf(conf, sizeof(conf), "%s/devsep.conf", T);
	snprintf(sock, sizeof(sock), "%s/hotplugd.sock", RUNDIR);
	snprintf(log, sizeof(log), "%s/hotplugd.log", T);
	snprintf(bin, sizeof(bin), "%s/devsep-hotplugd", bindir);
	write_file(conf, 0644, "script_dir = %s\nlog_level = debug\n%s\n",
	    SCRIPTS, extra);
	unlink(sock);
	if ((hpd_pid = fork()) == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 2);
		dup2(fd, 1);
		/* --seccomp=log: the test scripts use tools (env, ls, sort,
		 * yes) outside the set policy/hotplugd.policy was measured
		 * on (the upstream scripts); the policy is not under test
		 * here. */
		/* HP_STRACE=FILE: measure the daemon's own syscalls (no -f:
		 * the scripts are not hotplugd) for policy/hotplugd.policy. */
		if (getenv("HP_STRACE") != NULL)
			execl("/usr/bin/strace", "strace", "-qq", "-A", "-o",
			    getenv("HP_STRACE"), bin, "-F", "-c", conf,
			    "--rundir", RUNDIR, "--seccomp=log", (char *)NULL);
		execl(bin, bin, "-F", "-c", conf, "--rundir", RUNDIR,
		    "--seccomp=log", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500; i++) {
		if ((fd = msg_connect(sock)) != -1) {
			close(fd);
			return;
		}
		usleep(10000);
	}
	fprintf(stderr, "daemon did not come up, see %s\n", log);
	exit(1);
}

static int
sockpath(char *buf, size_t sz)
{
	return snprintf(buf, sz, "%s/hotplugd.sock", RUNDIR);
}

/* Connects as the devsep-watcherd user in a child, receives the fd. */
int
connect_watcherd(void)
{
	struct passwd *pw = getpwnam(USER_WATCHERD);
	struct group *gr = getgrnam(GROUP_PEERS);
	struct msgbuf b;
	struct msg m;
	char path[256];
	int sp[2], fd, st;
	pid_t pid;

	if (pw == NULL || socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp) == -1)
		return -1;
	sockpath(path, sizeof(path));
	if ((pid = fork()) == 0) {
		close(sp[0]);
		/* as watcherd runs: its user, the socket group GROUP_PEERS */
		if (gr == NULL || setgroups(1, &gr->gr_gid) == -1 ||
		    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1)
			_exit(1);
		if ((fd = msg_connect(path)) == -1)
			_exit(2);
		msgbuf_init(&b, 1, 0);
		msgbuf_set_fd(&b, fd);
		_exit(msg_send_fd(sp[1], &b) == -1 ? 3 : 0);
	}
	close(sp[1]);
	fd = -1;
	if (msg_recv_fd(sp[0], &m, 64, 1, 5000) == 0) {
		fd = msg_take_fd(&m);
		msg_dispose(&m);
	}
	close(sp[0]);
	waitpid(pid, &st, 0);
	return fd;
}

int
connect_admin(void)
{
	char path[256];

	sockpath(path, sizeof(path));
	return msg_connect(path);
}

/* Copies s (NULL: def) into a RUN field; -1 when it does not fit. */
static int
run_field(char *dst, size_t size, const char *s, const char *def)
{
	if (s == NULL)
		s = def;
	if (strlen(s) >= size) {
		fprintf(stderr, "send_run: field \"%.32s...\" over %zu bytes\n",
		    s, size - 1);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Sends r through the codec watcherd uses (common/proto_hotplug.c). */
int
send_run(int fd, uint32_t reqid, const struct hp_run *r)
{
	struct hotplug_run run = { .id = r->id, .timeout_ms = r->timeout_ms };
	struct msgbuf b;
	int rc;

	if (run_field(run.kind, sizeof(run.kind), r->kind, "vbd") == -1 ||
	    run_field(run.action, sizeof(run.action), r->action, "add") == -1 ||
	    run_field(run.script, sizeof(run.script), r->script, "") == -1 ||
	    run_field(run.be_path, sizeof(run.be_path), r->be_path, "") == -1 ||
	    run_field(run.xs_path, sizeof(run.xs_path), r->xs_path, "") == -1 ||
	    run_field(run.vif, sizeof(run.vif), r->vif, "") == -1 ||
	    run_field(run.netdev, sizeof(run.netdev), r->netdev, "") == -1)
		return -1;
	msgbuf_init(&b, MSG_HOTPLUG_RUN, reqid);
	hotplug_run_put(&b, &run);
	rc = msg_send_fd(fd, &b);
	msgbuf_dispose(&b);
	return rc;
}

int
send_raw(int fd, uint32_t type, uint32_t reqid, const void *p, size_t len)
{
	struct msgbuf b;
	int rc;

	msgbuf_init(&b, type, reqid);
	if (len)
		msgbuf_put_blob(&b, p, len);
	rc = msg_send_fd(fd, &b);
	msgbuf_dispose(&b);
	return rc;
}

int
recv_skip_started(int fd, struct msg *m, int timeout_ms)
{
	for (;;) {
		if (msg_recv_fd(fd, m, MSG_MAX_DEFAULT, 0, timeout_ms) == -1)
			return -1;
		if (m->hdr.type != MSG_HOTPLUG_STARTED)
			return 0;
		msg_dispose(m);
	}
}

int
recv_done(int fd, int timeout_ms, struct hp_done *d)
{
	struct hotplug_done done;
	struct msg m;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	/* STARTED (the script's uid) precedes its DONE */
	if (recv_skip_started(fd, &m, timeout_ms) == -1)
		return -1;
	d->reqid = m.hdr.reqid;
	if (hotplug_done_get(&m, &done) == 0) {
		d->id = done.id;
		d->outcome = done.outcome;
		d->code = done.code;
		d->dur_us = done.duration_us;
		memcpy(d->msg, done.message, sizeof(d->msg));
		rc = 0;
	} else
		fprintf(stderr, "unexpected message type %u\n", m.hdr.type);
	msg_dispose(&m);
	return rc;
}

char *
admin_json(int fd, uint32_t type)
{
	struct reply_json r;
	struct msg m;
	char *s;

	if (send_raw(fd, type, 77, NULL, 0) == -1 ||
	    msg_recv_fd(fd, &m, MSG_MAX_DEFAULT, 0, 5000) == -1)
		return NULL;
	if (reply_json_get(&m, type == MSG_COMMON_STATS ?
	    MSG_COMMON_STATS_REPLY : MSG_COMMON_STATUS_REPLY, MSG_MAX_DEFAULT,
	    &r) == -1)
		r = (struct reply_json){ "", 0 };
	s = strndup(r.json, r.len);
	msg_dispose(&m);
	return s;
}

int
peer_closed(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char c[64];

	if (poll(&p, 1, timeout_ms) <= 0)
		return 0;
	return recv(fd, c, sizeof(c), MSG_DONTWAIT) <= 0;
}

static char
proc_state(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	read_file(path, buf, sizeof(buf));
	if ((p = strrchr(buf, ')')) == NULL || p[1] == '\0')
		return 0;
	return p[2];
}

int
pid_gone(pid_t pid, int timeout_ms)
{
	uint64_t end = mono_ms() + (uint64_t)timeout_ms;
	char s;

	do {
		s = proc_state(pid);
		if (s == 0 || s == 'Z' || s == 'X')
			return 1;
		usleep(10000);
	} while (mono_ms() < end);
	return 0;
}

long
rss_kb(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	read_file(path, buf, sizeof(buf));
	if ((p = strstr(buf, "VmRSS:")) == NULL)
		return -1;
	return strtol(p + 6, NULL, 10);
}
