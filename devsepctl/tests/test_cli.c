/*
 * Proves devsepctl's argument handling and its client side of the
 * protocol (devsepctl/cli.c, client.c, cmd_*.c argument parsing):
 *  - global options: --rundir/--json/-t/-c are applied, a bad timeout, a
 *    missing command, an unknown command and a config file with an error
 *    are usage errors (exit 2), the config's run_dir is used by default;
 *  - command arguments: wrong counts and bad numbers are exit 2 before any
 *    daemon is contacted;
 *  - connecting: no socket -> exit 3 with "is not running here" and what
 *    to do; a stale socket (nobody listening) -> exit 3 "stale socket";
 *  - one exchange: the reply must carry our reqid and the expected type;
 *    MSG_COMMON_ERROR is decoded (errno + message, exit 1); a wrong reqid,
 *    a wrong type, a malformed error and silence (timeout) are exit 5;
 *  - a daemon's error text reaches the terminal without control bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "devsepctl/ctl.h"
#include "proto.h"

static char tmpdir[64];

static int
setup(void **state)
{
	strcpy(tmpdir, "/tmp/ctltest.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
parse(struct ctl *c, int *rc, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	memset(c, 0, sizeof(*c));
	c->prog = "devsepctl";
	argv[argc++] = "devsepctl";
	va_start(ap, rc);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return ctl_parse_global(c, argc, argv, rc);
}

static void
test_global_ok(void **state)
{
	struct ctl c;
	int rc, i;

	i = parse(&c, &rc, "--rundir", "/tmp/x", "--json", "-t", "250ms",
	    "status", "lockd", NULL);
	assert_int_equal(i, 6);
	assert_int_equal(rc, CTL_OK);
	assert_string_equal(c.rundir, "/tmp/x");
	assert_int_equal(c.json, 1);
	assert_int_equal(c.timeout_ms, 250);
	/* default: the config's run_dir (file absent is fine for the default) */
	i = parse(&c, &rc, "status", NULL);
	assert_int_equal(i, 1);
	assert_int_equal(c.timeout_ms, -1);
	assert_int_equal(ctl_timeout(&c, 1234), 1234);
}

static void
test_global_bad(void **state)
{
	char conf[128];
	struct ctl c;
	FILE *f;
	int rc;

	assert_int_equal(parse(&c, &rc, "-t", "soon", "status", NULL), -1);
	assert_int_equal(rc, CTL_USAGE);
	assert_int_equal(parse(&c, &rc, "--json", NULL), -1);
	assert_int_equal(rc, CTL_USAGE);
	assert_int_equal(parse(&c, &rc, "--rundir", "rel", "status", NULL),
	    -1);
	assert_int_equal(rc, CTL_USAGE);
	snprintf(conf, sizeof(conf), "%s/bad.conf", tmpdir);
	f = fopen(conf, "w");
	fputs("# ok\nmax_jobs = 4\nno_such_key = 1\n", f);
	fclose(f);
	assert_int_equal(parse(&c, &rc, "-c", conf, "status", NULL), -1);
	assert_int_equal(rc, CTL_USAGE);
	/* an explicitly named config that is missing is an error too */
	assert_int_equal(parse(&c, &rc, "-c", "/nonexistent.conf", "status",
	    NULL), -1);
	assert_int_equal(rc, CTL_USAGE);
}

static void
test_config_rundir(void **state)
{
	char conf[128];
	struct ctl c;
	FILE *f;
	int rc;

	snprintf(conf, sizeof(conf), "%s/ok.conf", tmpdir);
	f = fopen(conf, "w");
	fputs("run_dir = /tmp/from-config\n", f);
	fclose(f);
	assert_int_equal(parse(&c, &rc, "-c", conf, "status", NULL), 3);
	assert_string_equal(c.rundir, "/tmp/from-config");
	/* --rundir wins over the config */
	assert_int_equal(parse(&c, &rc, "-c", conf, "--rundir", "/r",
	    "status", NULL), 5);
	assert_string_equal(c.rundir, "/r");
}

static int
run(struct ctl *c, ...)
{
	char *argv[16];
	int argc = 0;
	va_list ap;

	va_start(ap, c);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	return ctl_run(c, argc, argv);
}

static void
test_command_usage(void **state)
{
	struct ctl c;
	int rc;

	parse(&c, &rc, "--rundir", tmpdir, "status", NULL);
	assert_int_equal(run(&c, "frobnicate", NULL), CTL_USAGE);
	assert_int_equal(run(&c, "cd-insert", "1", "2", NULL), CTL_USAGE);
	assert_int_equal(run(&c, "cd-insert", "x", "2", "/i.iso", NULL),
	    CTL_USAGE);
	assert_int_equal(run(&c, "cd-insert", "-1", "2", "/i.iso", NULL),
	    CTL_USAGE);
	assert_int_equal(run(&c, "cd-eject", "1", "2", "3", NULL), CTL_USAGE);
	assert_int_equal(run(&c, "disk-add", "1", "2", "/d", "--bus", "ide",
	    NULL), CTL_USAGE);
	assert_int_equal(run(&c, "disk-remove", "1", "02", NULL), CTL_USAGE);
	assert_int_equal(run(&c, "locks", "--domid", "99999", NULL),
	    CTL_USAGE);
	assert_int_equal(run(&c, "locks", "extra", NULL), CTL_USAGE);
	assert_int_equal(run(&c, "status", "nosuchd", NULL), CTL_USAGE);
	assert_int_equal(run(&c, "devices", "--domid", "x", NULL), CTL_USAGE);
}

static void
test_connect_absent(void **state)
{
	struct ctl c;
	char why[640];
	int rc, fd = -1;

	parse(&c, &rc, "--rundir", tmpdir, "status", NULL);
	rc = ctl_connect(&c, ctl_daemon_find("lockd"), &fd, why, sizeof(why));
	assert_int_equal(rc, CTL_NODAEMON);
	assert_non_null(strstr(why, "devsep-lockd is not running here (no "));
	assert_non_null(strstr(why, "driver domain"));
	rc = ctl_connect(&c, ctl_daemon_find("watcherd"), &fd, why,
	    sizeof(why));
	assert_int_equal(rc, CTL_NODAEMON);
	assert_non_null(strstr(why, "devsep-driverdomain.target"));
	/* the commands map it to exit 3 */
	assert_int_equal(run(&c, "locks", NULL), CTL_NODAEMON);
	assert_int_equal(run(&c, "cd-eject", "1", "768", NULL), CTL_NODAEMON);
	/* options may follow the operands */
	assert_int_equal(run(&c, "disk-add", "1", "2", "/d.img", "--ro",
	    "--bus", "scsi", NULL), CTL_NODAEMON);
	assert_int_equal(run(&c, "dm-start", "1", "--cdrom", "768", "--run",
	    NULL), CTL_NODAEMON);
	/* a relative image path is made absolute, then the broker is asked */
	assert_int_equal(run(&c, "cd-insert", "1", "768", "rel.iso", NULL),
	    CTL_NODAEMON);
	assert_int_equal(run(&c, "status", NULL), CTL_NODAEMON);
}

static void
test_connect_stale(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl c;
	char why[640];
	int rc, fd, s;

	parse(&c, &rc, "--rundir", tmpdir, "status", NULL);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s", tmpdir,
	    SOCK_LOCKD);
	s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(s);	/* bound, never listened: connect is refused */
	rc = ctl_connect(&c, ctl_daemon_find("lockd"), &fd, why, sizeof(why));
	assert_int_equal(rc, CTL_NODAEMON);
	assert_non_null(strstr(why, "stale socket"));
	unlink(sun.sun_path);
}

/* Queues `reply` on the peer end, runs one exchange on the other. */
static int
exchange(struct msgbuf *reply, uint32_t reqid, struct ctl_reply *r,
    int timeout_ms, struct msg *seen)
{
	struct ctl c = { .prog = "t" };
	struct msgbuf req;
	int sv[2], rc;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	if (reply != NULL)
		assert_int_equal(msg_send_fd(sv[1], reply), 0);
	msgbuf_init(&req, MSG_COMMON_STATUS, reqid);
	rc = ctl_exchange(&c, ctl_daemon_find("lockd"), sv[0], &req,
	    MSG_COMMON_STATUS_REPLY, timeout_ms, r);
	msgbuf_dispose(&req);
	assert_int_equal(msg_recv_fd(sv[1], seen, 64, 0, 100), 0);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

static void
test_exchange(void **state)
{
	struct ctl_reply r;
	struct msgbuf b;
	struct msg seen;
	json_t *j;

	/* good reply */
	msgbuf_init(&b, MSG_COMMON_STATUS_REPLY, 7);
	msgbuf_put_str(&b, "{\"daemon\":\"lockd\"}");
	assert_int_equal(exchange(&b, 7, &r, 100, &seen), CTL_OK);
	assert_int_equal(seen.hdr.type, MSG_COMMON_STATUS);
	assert_int_equal(seen.hdr.reqid, 7);
	assert_int_equal(ctl_get_json(&r.m, &j), 0);
	assert_string_equal(json_string_value(json_object_get(j, "daemon")),
	    "lockd");
	json_decref(j);
	ctl_reply_dispose(&r);
	msg_dispose(&seen);
	msgbuf_dispose(&b);
	/* the daemon's error */
	msgbuf_init(&b, MSG_COMMON_ERROR, 8);
	msgbuf_put_u32(&b, ESRCH);
	msgbuf_put_str(&b, "domain 5 is being destroyed");
	assert_int_equal(exchange(&b, 8, &r, 100, &seen), CTL_FAILED);
	assert_int_equal(r.err, ESRCH);
	assert_string_equal(r.errmsg, "domain 5 is being destroyed");
	ctl_reply_dispose(&r);
	msg_dispose(&seen);
	msgbuf_dispose(&b);
}

static void
test_exchange_bad(void **state)
{
	struct ctl_reply r;
	struct msgbuf b;
	struct msg seen;

	/* wrong reqid */
	msgbuf_init(&b, MSG_COMMON_STATUS_REPLY, 99);
	msgbuf_put_str(&b, "{}");
	assert_int_equal(exchange(&b, 9, &r, 100, &seen), CTL_NOANSWER);
	assert_non_null(strstr(r.why, "reqid"));
	ctl_reply_dispose(&r);
	msg_dispose(&seen);
	msgbuf_dispose(&b);
	/* wrong type */
	msgbuf_init(&b, MSG_COMMON_STATS_REPLY, 10);
	assert_int_equal(exchange(&b, 10, &r, 100, &seen), CTL_NOANSWER);
	ctl_reply_dispose(&r);
	msg_dispose(&seen);
	msgbuf_dispose(&b);
	/* malformed error (no message string) */
	msgbuf_init(&b, MSG_COMMON_ERROR, 11);
	msgbuf_put_u32(&b, EIO);
	assert_int_equal(exchange(&b, 11, &r, 100, &seen), CTL_NOANSWER);
	ctl_reply_dispose(&r);
	msg_dispose(&seen);
	msgbuf_dispose(&b);
	/* silence */
	assert_int_equal(exchange(NULL, 12, &r, 50, &seen), CTL_NOANSWER);
	assert_non_null(strstr(r.why, "did not answer within 50 ms"));
	ctl_reply_dispose(&r);
	msg_dispose(&seen);
}

/* A daemon's error text is printed without its control bytes. */
static void
test_report_sanitized(void **state)
{
	struct ctl c = { .prog = "devsepctl" };
	struct ctl_reply r;
	char path[128], buf[512] = "";
	int fd, saved;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.err = EACCES;
	strcpy(r.errmsg, "not in image_dirs: /x\033]0;owned\007\n.iso");
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	ctl_report(&c, ctl_daemon_find("broker"), CTL_FAILED, &r);
	fflush(stderr);
	dup2(saved, 2);
	close(fd);
	close(saved);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "devsepctl: devsep-qemu-broker: not in "
	    "image_dirs: /x?]0;owned??.iso (Permission denied)\n");
}

static void
test_json_payload(void **state)
{
	struct msgbuf b;
	struct msg m;
	json_t *j;

	/* trailing bytes after the JSON string are refused */
	msgbuf_init(&b, MSG_COMMON_STATUS_REPLY, 1);
	msgbuf_put_str(&b, "{}");
	msgbuf_put_u32(&b, 0);
	assert_int_equal(msg_parse(&m, b.data, b.len, 1024), 0);
	assert_int_equal(ctl_get_json(&m, &j), -1);
	msgbuf_dispose(&b);
	/* not JSON */
	msgbuf_init(&b, MSG_COMMON_STATUS_REPLY, 1);
	msgbuf_put_str(&b, "{\"a\":");
	assert_int_equal(msg_parse(&m, b.data, b.len, 1024), 0);
	assert_int_equal(ctl_get_json(&m, &j), -1);
	msgbuf_dispose(&b);
}

static void
test_duration(void **state)
{
	char b[32];

	ctl_fmt_duration(12, b, sizeof(b));
	assert_string_equal(b, "12s");
	ctl_fmt_duration(247, b, sizeof(b));
	assert_string_equal(b, "4m07s");
	ctl_fmt_duration(7500, b, sizeof(b));
	assert_string_equal(b, "2h05m");
	ctl_fmt_duration(273600, b, sizeof(b));
	assert_string_equal(b, "3d04h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global_ok),
		cmocka_unit_test(test_global_bad),
		cmocka_unit_test(test_config_rundir),
		cmocka_unit_test(test_command_usage),
		cmocka_unit_test(test_connect_absent),
		cmocka_unit_test(test_connect_stale),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_exchange_bad),
		cmocka_unit_test(test_report_sanitized),
		cmocka_unit_test(test_json_payload),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
