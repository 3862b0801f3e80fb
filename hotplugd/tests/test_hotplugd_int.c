/*
 * test_hotplugd_int proves, against the real devsep-hotplugd (bin/), with
 * scripts written here into a temporary script dir, that:
 *  - a job runs the script with exactly the Linux hotplug calling
 *    convention (argv add / online type_if=vif; env PATH, script,
 *    XENBUS_TYPE, XENBUS_PATH, XENBUS_BASE_PATH, vif, netdev,
 *    XENSTORED_PATH and nothing else), stdin /dev/null, stdout/stderr a
 *    pipe, no other inherited fd, in its own session; DONE carries exit
 *    status, duration and the last output line;
 *  - exit 1 is reported as EXITED code 1; a background grandchild that
 *    keeps the output pipe open does not hang the job;
 *  - a hung script that forked a grandchild is TIMED_OUT and its whole
 *    process group is gone; one ignoring SIGTERM is SIGKILLed after the
 *    grace period (code 9); a grandchild that left the group (setsid) is
 *    killed with it (the job's cgroup);
 *  - 100 MB of output is bounded: the daemon's RSS stays small, the
 *    excess is counted in STATS and not logged;
 *  - scripts outside the script dir ("..", absolute, symlink escape), not
 *    executable, world-writable, directories, nonexistent, and bad
 *    kind/action/backend path are REFUSED with a reason, never run;
 *  - 50 jobs with max_jobs=4 never run more than 4 at once (and the
 *    daemon does reach 4); two jobs on one device never overlap while another device's job
 *    runs in parallel;
 *  - a root (admin) peer sending RUN is dropped and nothing runs; a
 *    malformed RUN or an unknown type drops only that peer, the daemon
 *    keeps serving others; admin STATUS/STATS work;
 *  - CANCEL kills a running job's group (DONE CANCELLED);
 *  - a job survives its watcherd disconnecting, and a re-sent RUN (same
 *    job id) on a new connection gets the single run's DONE;
 *  - a restarted hotplugd kills the jobs a SIGKILLed predecessor left
 *    running (their cgroups);
 *  - SIGTERM with a script running (a unit stop or restart) lets the
 *    script finish and report EXITED 0, then hotplugd exits 0: it is
 *    never killed mid-run (fails when SIGTERM kills the groups).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "msg.h"
#include "proto_hotplug.h"
#include "hp_harness.h"

#define BE(d, n)	"/local/domain/0/backend/vbd/" #d "/" #n
#define DONE_WAIT	15000
#define SKIP_EXIT	77	/* tests/run-tests: a skip, never a pass */

static int W;		/* the watcherd connection */

static int
send_cancel(int fd, uint32_t reqid, uint64_t id)
{
	struct hotplug_cancel c = { .id = id };
	struct msgbuf b;
	int rc;

	msgbuf_init(&b, MSG_HOTPLUG_CANCEL, reqid);
	hotplug_cancel_put(&b, &c);
	rc = msg_send_fd(fd, &b);
	msgbuf_dispose(&b);
	return rc;
}
static uint64_t next_id = 1;

/* Sends one job and waits for its DONE. */
static int
run1(struct hp_run *r, struct hp_done *d)
{
	r->id = next_id++;
	if (send_run(W, (uint32_t)r->id, r) == -1 ||
	    recv_done(W, DONE_WAIT, d) == -1) {
		failf("job %llu (%s): no DONE", (unsigned long long)r->id,
		    r->script);
		return -1;
	}
	if (d->id != r->id || d->reqid != (uint32_t)r->id)
		failf("DONE for job %llu has id %llu reqid %u",
		    (unsigned long long)r->id, (unsigned long long)d->id,
		    d->reqid);
	return 0;
}

static void
write_scripts(void)
{
	char b[2048];

	snprintf(b, sizeof(b),
	    "o=%s/ok.${XENBUS_PATH##*/}\n"
	    "env | sort > $o.env\n"
	    "echo \"$1|$2|$#\" > $o.argv\n"
	    /* a child lists the script shell's fds: a redirection on the
	     * shell's own command line would show dash's saved fds */
	    "sh -c \"ls -l /proc/\\$PPID/fd > $o.fds\"\n"
	    "cut -d' ' -f6 /proc/$$/stat > $o.sid; echo $$ > $o.pid\n"
	    "echo hello from ok\necho \"last line $1\"", OUT);
	write_script("ok.sh", b);
	write_script("fail.sh", "echo 'boom: it failed' >&2\nexit 1");
	snprintf(b, sizeof(b), "d=${XENBUS_PATH##*/}\nsleep 987 &\n"
	    "echo $! > %s/hang.$d.gc\necho $$ > %s/hang.$d.pid\nsleep 987",
	    OUT, OUT);
	write_script("hang.sh", b);
	snprintf(b, sizeof(b), "trap '' TERM\nd=${XENBUS_PATH##*/}\n"
	    "sleep 987 &\necho $! > %s/hang.$d.gc\necho $$ > %s/hang.$d.pid\n"
	    "sleep 987", OUT, OUT);
	write_script("hangterm.sh", b);
	snprintf(b, sizeof(b), "sleep 0.5\necho done > %s/slow.done\n"
	    "echo slow finished", OUT);
	write_script("slow.sh", b);
	/* the grandchild leaves the script's process group (setsid) */
	snprintf(b, sizeof(b), "d=${XENBUS_PATH##*/}\nsetsid sleep 987 &\n"
	    "echo $! > %s/hang.$d.gc\necho $$ > %s/hang.$d.pid\nsleep 987",
	    OUT, OUT);
	write_script("hangesc.sh", b);
	write_script("big.sh", "yes 0123456789abcdefghijklmnopqrstuvwxyz"
	    "0123456789abcdefghijklmnopqrstuvwxyz | head -c 100000000\n"
	    "echo big-done");
	snprintf(b, sizeof(b), "d=${XENBUS_PATH##*/}\ns=$(date +%%s%%N)\n"
	    "sleep ${SLEEP:-0.1}\ne=$(date +%%s%%N)\necho \"$s $e\" >> %s/conc.$d",
	    OUT);
	write_script("conc.sh", b);
	snprintf(b, sizeof(b), "d=${XENBUS_PATH##*/}\ns=$(date +%%s%%N)\n"
	    "sleep 0.3\ne=$(date +%%s%%N)\necho \"$s $e\" >> %s/dev.$d", OUT);
	write_script("dev.sh", b);
	snprintf(b, sizeof(b), "echo run >> %s/count\nsleep 0.5\necho counted",
	    OUT);
	write_script("count.sh", b);
	snprintf(b, sizeof(b), "touch %s/admin-ran", OUT);
	write_script("marker.sh", b);
}

static void
check_env(const char *kind, const char *env, const char *want)
{
	EXPECT(strcmp(env, want) == 0, "%s env is exactly the calling "
	    "convention", kind);
	if (strcmp(env, want) != 0)
		printf("--- got:\n%s--- want:\n%s", env, want);
}

/* fds of the script shell: 0 /dev/null, 1+2 one pipe, else the script. */
static void
check_fds(const char *fds)
{
	char line[512];
	const char *p = fds, *e;
	int n = 0, bad = 0, fd;

	while ((e = strchr(p, '\n')) != NULL) {
		snprintf(line, sizeof(line), "%.*s", (int)(e - p), p);
		p = e + 1;
		char *arrow = strstr(line, " -> ");
		if (arrow == NULL)
			continue;
		*arrow = '\0';
		fd = atoi(strrchr(line, ' ') + 1);	/* test code */
		arrow += 4;
		n++;
		if ((fd == 0 && strcmp(arrow, "/dev/null") != 0) ||
		    ((fd == 1 || fd == 2) && strncmp(arrow, "pipe:", 5) != 0) ||
		    (fd > 2 && strstr(arrow, "/ok.sh") == NULL)) {
			printf("unexpected fd %d -> %s\n", fd, arrow);
			bad++;
		}
	}
	EXPECT(n >= 3 && bad == 0, "script fds: stdin /dev/null, stdout+stderr "
	    "pipe, nothing else inherited (%d fds)", n);
}

static void
t_ok(void)
{
	struct hp_run r = { .script = "ok.sh", .be_path = BE(5, 51712),
	    .xs_path = "/run/devsep/xs/job-1.sock" };
	struct hp_done d;
	char buf[4096], want[1024], p[256];
	long sid, pid;

	if (run1(&r, &d) == -1)
		return;
	EXPECT(d.outcome == HOTPLUG_EXITED && d.code == 0, "ok.sh: EXITED 0 "
	    "(got %s %lld)", hotplug_outcome_name(d.outcome),
	    (long long)d.code);
	EXPECT(strcmp(d.msg, "last line add") == 0, "DONE message is the last "
	    "output line ('%s')", d.msg);
	EXPECT(d.dur_us > 0 && d.dur_us < 5000000, "duration %llu us",
	    (unsigned long long)d.dur_us);
	snprintf(p, sizeof(p), "%s/ok.51712.argv", OUT);
	EXPECT(strcmp(read_file(p, buf, sizeof(buf)), "add||1\n") == 0,
	    "vbd argv: add (%s)", strtok(buf, "\n"));
	snprintf(p, sizeof(p), "%s/ok.51712.env", OUT);
	snprintf(want, sizeof(want),
	    "PATH=/usr/local/sbin:/usr/local/bin:"
	    "/usr/sbin:/usr/bin:/sbin:/bin\nPWD=/\nXENBUS_BASE_PATH=backend\n"
	    "XENBUS_PATH=backend/vbd/5/51712\nXENBUS_TYPE=vbd\n"
	    "XENSTORED_PATH=/run/devsep/xs/job-1.sock\nscript=ok.sh\n");
	check_env("vbd", read_file(p, buf, sizeof(buf)), want);
	snprintf(p, sizeof(p), "%s/ok.51712.fds", OUT);
	check_fds(read_file(p, buf, sizeof(buf)));
	snprintf(p, sizeof(p), "%s/ok.51712.sid", OUT);
	sid = atol(read_file(p, buf, sizeof(buf)));
	snprintf(p, sizeof(p), "%s/ok.51712.pid", OUT);
	pid = atol(read_file(p, buf, sizeof(buf)));
	EXPECT(sid == pid && pid > 0, "script leads its own session (sid %ld "
	    "pid %ld)", sid, pid);
}

static void
t_vif(void)
{
	struct hp_run r = { .kind = "vif", .action = "online",
	    .script = "ok.sh", .be_path = "/local/domain/0/backend/vif/5/0",
	    .vif = "vif5.0" };
	struct hp_done d;
	char buf[4096], p[256], want[1024];

	if (run1(&r, &d) == -1)
		return;
	EXPECT(d.outcome == HOTPLUG_EXITED && d.code == 0, "vif job EXITED 0");
	snprintf(p, sizeof(p), "%s/ok.0.argv", OUT);
	EXPECT(strcmp(read_file(p, buf, sizeof(buf)),
	    "online|type_if=vif|2\n") == 0, "vif argv: online type_if=vif");
	snprintf(p, sizeof(p), "%s/ok.0.env", OUT);
	snprintf(want, sizeof(want),
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"
	    "PWD=/\nXENBUS_BASE_PATH=backend\nXENBUS_PATH=backend/vif/5/0\n"
	    "XENBUS_TYPE=vif\nnetdev=\nscript=ok.sh\nvif=vif5.0\n");
	check_env("vif", read_file(p, buf, sizeof(buf)), want);
}

static void
t_fail(void)
{
	struct hp_run r = { .script = "fail.sh", .be_path = BE(5, 51713) };
	struct hp_done d;

	if (run1(&r, &d) == -1)
		return;
	EXPECT(d.outcome == HOTPLUG_EXITED && d.code == 1, "fail.sh: EXITED 1");
	EXPECT(strcmp(d.msg, "boom: it failed") == 0, "stderr captured in "
	    "DONE message ('%s')", d.msg);
}

static pid_t
pid_from(const char *name, int devid)
{
	char p[256], buf[64];

	snprintf(p, sizeof(p), "%s/hang.%d.%s", OUT, devid, name);
	return (pid_t)atol(read_file(p, buf, sizeof(buf)));
}

static void
t_timeout(const char *script, int devid, int64_t want_sig)
{
	struct hp_run r = { .script = script, .timeout_ms = 500 };
	char be[128];
	struct hp_done d;
	uint64_t t0 = mono_ms(), el;
	pid_t main_pid, gc;

	snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/5/%d", devid);
	r.be_path = be;
	if (run1(&r, &d) == -1)
		return;
	el = mono_ms() - t0;
	EXPECT(d.outcome == HOTPLUG_TIMED_OUT && d.code == want_sig,
	    "%s: TIMED_OUT by signal %lld (got %s %lld)", script,
	    (long long)want_sig, hotplug_outcome_name(d.outcome),
	    (long long)d.code);
	/* 490: libevent arms timers from its cached loop time, which can be
	 * a few ms older than this process's t0. */
	EXPECT(el >= 490 && el < 500 + 300 + 2000, "%s: DONE after %llu ms "
	    "(timeout 500, grace 300)", script, (unsigned long long)el);
	main_pid = pid_from("pid", devid);
	gc = pid_from("gc", devid);
	EXPECT(main_pid > 1 && pid_gone(main_pid, 2000), "%s: script %d gone",
	    script, (int)main_pid);
	EXPECT(gc > 1 && pid_gone(gc, 2000), "%s: grandchild %d gone too",
	    script, (int)gc);
}

/* A background grandchild keeps stdout open after the script exited: the
 * job still ends when the script is reaped, and the grandchild goes with
 * the job (its cgroup is killed at every end: nothing of a job survives
 * it, issue 14). */
static void
t_grandchild_holds_pipe(void)
{
	struct hp_run r = { .script = "bg.sh", .be_path = BE(5, 51725) };
	struct hp_done d;
	char b[256], p[256], buf[32];
	uint64_t t0;
	pid_t gc;

	snprintf(b, sizeof(b), "sleep 30 &\necho $! > %s/bg.gc\n"
	    "echo script done", OUT);
	write_script("bg.sh", b);
	t0 = mono_ms();
	if (run1(&r, &d) == -1)
		return;
	EXPECT(d.outcome == HOTPLUG_EXITED && d.code == 0 &&
	    mono_ms() - t0 < 2000, "grandchild holding the pipe does not hang "
	    "the job (%llu ms)", (unsigned long long)(mono_ms() - t0));
	snprintf(p, sizeof(p), "%s/bg.gc", OUT);
	gc = (pid_t)atol(read_file(p, buf, sizeof(buf)));
	EXPECT(gc > 1 && pid_gone(gc, 2000), "a normal exit kills what the "
	    "script left behind");
	if (gc > 1)
		kill(gc, SIGKILL);
}

static json_t *
stats(void)
{
	int a = connect_admin();
	char *s = admin_json(a, MSG_COMMON_STATS);
	json_t *j = s ? json_loads(s, 0, NULL) : NULL;

	free(s);
	close(a);
	return j;
}

static long long
stat_int(const char *key)
{
	json_t *j = stats();
	long long v = j ? json_integer_value(json_object_get(j, key)) : -1;

	json_decref(j);
	return v;
}

static void
t_output(void)
{
	struct hp_run r = { .script = "big.sh", .be_path = BE(5, 51730) };
	struct hp_done d;
	char log[256], cmd[512], buf[64];
	long rss0 = rss_kb(hpd_pid), rss1;
	uint64_t t0 = mono_ms();

	if (run1(&r, &d) == -1)
		return;
	rss1 = rss_kb(hpd_pid);
	EXPECT(d.outcome == HOTPLUG_EXITED && d.code == 0, "100 MB of output: "
	    "EXITED 0 in %llu ms", (unsigned long long)(mono_ms() - t0));
	EXPECT(rss1 > 0 && rss1 < 64 * 1024 && rss1 - rss0 < 4096, "daemon RSS "
	    "stays small (%ld kB -> %ld kB)", rss0, rss1);
	EXPECT(stat_int("output_dropped") >= 100000000LL - 65536,
	    "dropped output counted (%lld bytes)", stat_int("output_dropped"));
	snprintf(log, sizeof(log), "%s/hotplugd.log", T);
	snprintf(cmd, sizeof(cmd), "grep -c 'job=%llu .* out: ' %s",
	    (unsigned long long)r.id, log);
	FILE *f = popen(cmd, "r");
	long n = f && fgets(buf, sizeof(buf), f) ? atol(buf) : -1;
	if (f)
		pclose(f);
	EXPECT(n > 0 && n <= 65536 / 73 + 2, "logged lines bounded by "
	    "script_output_max (%ld lines)", n);
}

static void
refuse(const char *script, const char *kind, const char *action,
    const char *be, const char *why)
{
	struct hp_run r = { .script = script, .kind = kind, .action = action,
	    .be_path = be ? be : BE(5, 51740),
	    .vif = kind && !strcmp(kind, "vif") ? "vif5.0" : "" };
	struct hp_done d;

	if (run1(&r, &d) == -1)
		return;
	EXPECT(d.outcome == HOTPLUG_REFUSED && strstr(d.msg, why) != NULL,
	    "REFUSED %s (%s/%s): '%s'", script, kind ? kind : "vbd",
	    action ? action : "add", d.msg);
}

static void
t_refusals(void)
{
	char p[256], q[256];
	struct hp_run r = { .be_path = BE(5, 51741) };
	struct hp_done d;
	long long before = stat_int("runs");

	snprintf(p, sizeof(p), "%s/outside.sh", T);
	write_file(p, 0755, "#!/bin/sh\ntouch %s/outside-ran\n", OUT);
	refuse("../outside.sh", NULL, NULL, NULL, "\"..\"");
	refuse(p, NULL, NULL, NULL, "outside the script directory");
	snprintf(q, sizeof(q), "%s/link.sh", SCRIPTS);
	symlink(p, q);
	refuse("link.sh", NULL, NULL, NULL, "outside the script directory");
	refuse("sub/../ok.sh", NULL, NULL, NULL, "\"..\"");
	snprintf(q, sizeof(q), "%s/noexec.sh", SCRIPTS);
	write_file(q, 0644, "#!/bin/sh\ntrue\n");
	refuse("noexec.sh", NULL, NULL, NULL, "not executable");
	snprintf(q, sizeof(q), "%s/ww.sh", SCRIPTS);
	write_file(q, 0777, "#!/bin/sh\ntrue\n");
	refuse("ww.sh", NULL, NULL, NULL, "writable by others");
	snprintf(q, sizeof(q), "%s/adir", SCRIPTS);
	mkdir(q, 0755);
	refuse("adir", NULL, NULL, NULL, "not a regular file");
	refuse("nonexistent.sh", NULL, NULL, NULL, "does not exist");
	refuse("", NULL, NULL, NULL, "empty");
	refuse("ok.sh", NULL, NULL, "/local/domain/0/backend/vbd/5", "backend");
	refuse("ok.sh", "vif", "online", BE(5, 1), "kind differs");
	refuse("ok.sh", "vif", "attach", "/local/domain/0/backend/vif/5/1",
	    "invalid action");
	refuse("ok.sh", NULL, "online", NULL, "invalid action");
	snprintf(p, sizeof(p), "%s/outside-ran", OUT);
	EXPECT(access(p, F_OK) == -1 && stat_int("runs") == before,
	    "no refused script ran");
	snprintf(q, sizeof(q), "%s/ok.sh", SCRIPTS);
	r.script = q;
	if (run1(&r, &d) == 0)
		EXPECT(d.outcome == HOTPLUG_EXITED && d.code == 0,
		    "absolute path inside the script dir runs");
}

/* Max number of [s,e] intervals overlapping at one instant. */
static int
max_overlap(long long (*iv)[2], int n)
{
	int i, k, cur, best = 0;

	for (i = 0; i < n; i++) {
		for (cur = 0, k = 0; k < n; k++)
			if (iv[k][0] <= iv[i][0] && iv[i][0] < iv[k][1])
				cur++;
		if (cur > best)
			best = cur;
	}
	return best;
}

static int
read_intervals(const char *name, long long (*iv)[2], int max)
{
	char p[256];
	FILE *f;
	int n = 0;

	snprintf(p, sizeof(p), "%s/%s", OUT, name);
	if ((f = fopen(p, "r")) == NULL)
		return 0;
	while (n < max && fscanf(f, "%lld %lld", &iv[n][0], &iv[n][1]) == 2)
		n++;
	fclose(f);
	return n;
}

static void
t_concurrency(void)
{
	struct hp_run r = { .script = "conc.sh" };
	struct hp_done d;
	char be[50][96], name[64];
	long long iv[50][2];
	int i, n = 0, got = 0, bad = 0;

	for (i = 0; i < 50; i++) {
		snprintf(be[i], sizeof(be[i]),
		    "/local/domain/0/backend/vbd/7/%d", 1000 + i);
		r.be_path = be[i];
		r.id = next_id++;
		send_run(W, (uint32_t)r.id, &r);
	}
	for (i = 0; i < 50; i++) {
		if (recv_done(W, DONE_WAIT, &d) == -1)
			break;
		got++;
		if (d.outcome != HOTPLUG_EXITED || d.code != 0)
			bad++;
	}
	EXPECT(got == 50 && bad == 0, "50 jobs done, all EXITED 0 (%d, %d "
	    "bad)", got, bad);
	for (i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "conc.%d", 1000 + i);
		n += read_intervals(name, iv + n, 50 - n);
	}
	/* The scripts' own timestamps prove the bound; the daemon's
	 * high-water mark proves the bound was reached (the scripts' view of
	 * "4 at once" depends on machine load). */
	EXPECT(n == 50 && max_overlap(iv, n) <= 4, "max_jobs=4: never more "
	    "than 4 scripts at once (max seen by the scripts: %d)",
	    max_overlap(iv, n));
	EXPECT(stat_int("max_running") == 4, "STATS max_running == 4");
}

static void
t_same_device(void)
{
	struct hp_run r = { .script = "dev.sh", .be_path = BE(8, 1) };
	struct hp_run o = { .script = "dev.sh", .be_path = BE(8, 2) };
	struct hp_done d;
	long long a[2][2], b[1][2];
	int i, na, nb;

	for (i = 0; i < 2; i++) {
		r.id = next_id++;
		send_run(W, (uint32_t)r.id, &r);
	}
	o.id = next_id++;
	send_run(W, (uint32_t)o.id, &o);
	for (i = 0; i < 3; i++)
		if (recv_done(W, DONE_WAIT, &d) == -1)
			failf("same-device: missing DONE");
	na = read_intervals("dev.1", a, 2);
	nb = read_intervals("dev.2", b, 1);
	EXPECT(na == 2 && (a[0][1] <= a[1][0] || a[1][1] <= a[0][0]),
	    "two jobs on one device never overlap");
	EXPECT(na == 2 && nb == 1 && b[0][0] < a[0][1] && a[0][0] < b[0][1],
	    "a job on another device ran in parallel with the first");
}

static void
t_peers(void)
{
	struct hp_run r = { .script = "marker.sh", .be_path = BE(5, 51750),
	    .id = 9999 };
	char p[256], *s;
	int a = connect_admin(), w2;
	uint8_t junk[6] = { 0, 0, 0, 1, 2, 3 };

	send_run(a, 1, &r);
	EXPECT(peer_closed(a, 2000), "admin (root) peer sending RUN dropped");
	close(a);
	usleep(200000);
	snprintf(p, sizeof(p), "%s/admin-ran", OUT);
	EXPECT(access(p, F_OK) == -1, "admin's RUN did not run anything");

	w2 = connect_watcherd();
	send_raw(w2, MSG_HOTPLUG_RUN, 5, junk, sizeof(junk));
	EXPECT(peer_closed(w2, 2000), "malformed RUN drops that watcherd peer");
	close(w2);
	w2 = connect_watcherd();
	send_raw(w2, 999, 5, NULL, 0);
	EXPECT(peer_closed(w2, 2000), "unknown message type drops the peer");
	close(w2);
	w2 = connect_watcherd();
	send_raw(w2, MSG_COMMON_STATUS, 5, NULL, 0);
	EXPECT(peer_closed(w2, 2000), "watcherd may not ask STATUS");
	close(w2);

	a = connect_admin();
	s = admin_json(a, MSG_COMMON_STATUS);
	EXPECT(s && strstr(s, "\"daemon\":\"hotplugd\"") &&
	    strstr(s, "\"max_jobs\":4"), "admin STATUS: %s", s ? s : "(none)");
	free(s);
	close(a);
	r.script = "ok.sh";
	r.be_path = BE(5, 51751);
	struct hp_done d;
	if (run1(&r, &d) == 0)
		EXPECT(d.outcome == HOTPLUG_EXITED, "daemon still serves the "
		    "first watcherd");
}

static void
t_cancel(void)
{
	struct hp_run r = { .script = "hang.sh", .be_path = BE(5, 51760),
	    .timeout_ms = 60000 };
	struct hp_done d;
	uint64_t id = next_id++;
	struct msg m;
	pid_t pid = 0, gc;
	int i;

	r.id = id;
	send_run(W, 1, &r);
	for (i = 0; i < 200 && (pid = pid_from("pid", 51760)) <= 1; i++)
		usleep(10000);
	send_cancel(W, 2, id);
	EXPECT(recv_skip_started(W, &m, 5000) == 0 &&
	    m.hdr.type == MSG_COMMON_OK && m.hdr.reqid == 2,
	    "CANCEL answered OK");
	msg_dispose(&m);
	EXPECT(recv_done(W, DONE_WAIT, &d) == 0 && d.id == id &&
	    d.outcome == HOTPLUG_CANCELLED, "DONE CANCELLED (%s)",
	    hotplug_outcome_name(d.outcome));
	gc = pid_from("gc", 51760);
	EXPECT(pid_gone(pid, 2000) && pid_gone(gc, 2000), "cancelled group "
	    "gone");
	send_cancel(W, 3, 123456);
	EXPECT(recv_skip_started(W, &m, 5000) == 0 &&
	    m.hdr.type == MSG_COMMON_ERROR, "CANCEL of unknown job: ERROR");
	msg_dispose(&m);
}

static void
t_reattach(void)
{
	struct hp_run r = { .script = "count.sh", .be_path = BE(5, 51770) };
	struct hp_done d;
	char p[256], buf[256];
	int w1 = connect_watcherd(), w2;

	r.id = next_id++;
	send_run(w1, 1, &r);
	usleep(100000);
	close(w1);		/* watcherd "crashes" mid-job */
	w2 = connect_watcherd();
	send_run(w2, 42, &r);	/* and re-sends after restarting */
	EXPECT(recv_done(w2, DONE_WAIT, &d) == 0 && d.id == r.id &&
	    d.reqid == 42 && d.outcome == HOTPLUG_EXITED && d.code == 0,
	    "re-sent job's DONE arrives on the new connection");
	snprintf(p, sizeof(p), "%s/count", OUT);
	EXPECT(strcmp(read_file(p, buf, sizeof(buf)), "run\n") == 0,
	    "the script ran exactly once");
	close(w2);
}

static void
t_restart(void)
{
	struct hp_run r = { .script = "hang.sh", .be_path = BE(5, 51780),
	    .timeout_ms = 60000 };
	pid_t pid = 0, gc = 0;
	int i;

	r.id = next_id++;
	send_run(W, 1, &r);
	/* both pids: the grandchild writes its own a moment after the script */
	for (i = 0; i < 200 && ((pid = pid_from("pid", 51780)) <= 1 ||
	    (gc = pid_from("gc", 51780)) <= 1); i++)
		usleep(10000);
	close(W);
	daemon_kill(SIGKILL);
	EXPECT(pid > 1 && !pid_gone(pid, 100), "script outlives a SIGKILLed "
	    "hotplugd");
	daemon_start_cfg("max_jobs = 4\nscript_kill_grace = 300ms\n");
	EXPECT(pid_gone(pid, 2000) && pid_gone(gc, 2000), "restarted hotplugd "
	    "killed the stale job (its cgroup)");
	W = connect_watcherd();
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Measurement (printed, loosely asserted): 200 trivial jobs, 4 at a time. */
static void
t_bench(void)
{
	struct hp_run r = { .script = "true.sh" };
	struct hp_done d;
	char be[96];
	uint64_t dur[200], t0 = mono_ms(), el;
	int i, n = 0;

	write_script("true.sh", "exit 0");
	for (i = 0; i < 200; i++) {
		snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/9/%d", i);
		r.be_path = be;
		r.id = next_id++;
		send_run(W, (uint32_t)r.id, &r);
	}
	for (i = 0; i < 200 && recv_done(W, DONE_WAIT, &d) == 0; i++)
		if (d.outcome == HOTPLUG_EXITED && d.code == 0)
			dur[n++] = d.dur_us;
	el = mono_ms() - t0;
	qsort(dur, (size_t)n, sizeof(dur[0]), cmp_u64);
	EXPECT(n == 200, "bench: 200 trivial jobs in %llu ms (%.0f jobs/s), "
	    "script run time p50 %llu us p99 %llu us", (unsigned long long)el,
	    el ? 200000.0 / (double)el : 0.0,
	    n ? (unsigned long long)dur[n / 2] : 0ULL,
	    n ? (unsigned long long)dur[n * 99 / 100] : 0ULL);
}

/* SIGTERM while a script runs: it finishes and reports, then hotplugd
 * exits 0 (the unit's KillMode=mixed relies on this).  Ends the daemon. */
static void
t_term_drains(void)
{
	struct hp_run r = { .script = "slow.sh", .be_path = BE(5, 51760),
	    .xs_path = "" };
	struct hp_done d;
	char p[256], buf[64];
	int st;

	r.id = next_id++;
	EXPECT(send_run(W, (uint32_t)r.id, &r) == 0, "slow.sh sent");
	usleep(200000);			/* it is running */
	kill(hpd_pid, SIGTERM);
	EXPECT(recv_done(W, DONE_WAIT, &d) == 0 && d.id == r.id &&
	    d.outcome == HOTPLUG_EXITED && d.code == 0, "SIGTERM: the running "
	    "script finished and reported (%s %lld)",
	    hotplug_outcome_name(d.outcome), (long long)d.code);
	snprintf(p, sizeof(p), "%s/slow.done", OUT);
	EXPECT(strcmp(read_file(p, buf, sizeof(buf)), "done\n") == 0,
	    "SIGTERM: the script ran to its end");
	st = daemon_kill(0);
	EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "then hotplugd exits 0 "
	    "(status 0x%x)", st);
}

/* SIGTERM: clean exit 0 (an ASan/UBSan build reports leaks and errors by
 * a non-zero status and a log line). */
static void
t_clean_exit(void)
{
	char cmd[512];
	int st = daemon_kill(SIGTERM);

	EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exits 0 on "
	    "SIGTERM (status 0x%x)", st);
	snprintf(cmd, sizeof(cmd), "grep -E 'Sanitizer|runtime error' "
	    "%s/hotplugd.log", T);
	EXPECT(system(cmd) != 0, "no sanitizer report in the daemon log");
}

int
main(void)
{
	json_t *j;

	if (geteuid() != 0) {
		printf("SKIP: needs root (to connect as %s)\n", USER_WATCHERD);
		return SKIP_EXIT;
	}
	harness_init();
	write_scripts();
	daemon_start_cfg("max_jobs = 4\nscript_kill_grace = 300ms\n");
	if ((W = connect_watcherd()) == -1) {
		printf("FAIL: cannot connect as %s\n", USER_WATCHERD);
		return 1;
	}
	t_ok();
	t_vif();
	t_fail();
	t_grandchild_holds_pipe();
	t_timeout("hang.sh", 51720, SIGTERM);
	t_timeout("hangterm.sh", 51721, SIGKILL);
	t_timeout("hangesc.sh", 51722, SIGTERM);
	t_output();
	t_refusals();
	t_concurrency();
	t_same_device();
	t_peers();
	t_cancel();
	t_reattach();
	t_bench();
	j = stats();
	EXPECT(j && json_integer_value(json_object_get(j, "timeouts")) == 3 &&
	    json_integer_value(json_object_get(j, "refusals")) == 13 &&
	    json_integer_value(json_object_get(j, "cancelled")) == 1,
	    "STATS counts timeouts=3 refusals=13 cancelled=1");
	json_decref(j);
	t_restart();
	close(W);
	t_clean_exit();
	daemon_start_cfg("");
	if ((W = connect_watcherd()) == -1)
		failf("cannot reconnect as %s", USER_WATCHERD);
	else
		t_term_drains();
	harness_cleanup();
	if (fails) {
		printf("%d assertion(s) failed\n", fails);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
