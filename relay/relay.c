/*
 * devsep-relay: the hotplug script libxl runs, for backends in its own
 * domain (dom0), when the backend's `script` is devsep-<script>: a
 * symlink /etc/xen/scripts/devsep-<script> -> this program.  It runs
 * nothing itself.  It asks devsep-watcherd (MSG_WATCHER_RELAY_RUN,
 * common/proto_watcher.h) to have devsep-hotplugd run the real <script>
 * from script_dir, in hotplugd's sandbox, with the backend's scoped
 * xenstore socket, waits, prints the script's last output line on stderr
 * (which libxl gives to xl's stderr) and exits with the script's status,
 * which is what libxl reads.
 *
 * Calling convention, exactly what libxl_linux.c passes:
 *   argv: devsep-<script> add|remove | online|offline [type_if=vif|tap]
 *   env:  XENBUS_PATH=backend/<kind>/<domid>/<devid>, XENBUS_TYPE, script,
 *         XENBUS_BASE_PATH; a vif also vif, netdev (and INTERFACE)
 * Configuration: DEVSEP_CONF (default /etc/devsep/devsep.conf) for
 * run_dir.  Authentication: watcherd takes RELAY_RUN only from uid 0
 * (SO_PEERCRED: libxl runs scripts as root).
 *
 * It reads devsep.conf, then drops every capability and sets
 * NO_NEW_PRIVS (drop_rights) before it connects: it stays uid 0 only for
 * watcherd's SO_PEERCRED check.
 *
 * devsep not running, a refusal, or watcherd going away: a message on
 * stderr and exit 1; the script is never run any other way (never
 * unsandboxed).  libxl killing us at its timeout (SIGKILL) closes the
 * connection, and watcherd has hotplugd kill the script's whole process
 * group.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "codec.h"
#include "config.h"
#include "msg.h"
#include "parse.h"
#include "proto_hotplug.h"
#include "proto_watcher.h"
#include "reply.h"

#define RELAY_EXIT_FAIL		1	/* refused, not run, or no result */
#define RELAY_EXIT_USAGE	2
#define RELAY_EXIT_SIGBASE	128	/* 128 + signal, as a shell says */
#define RELAY_REPLY_MAX		(HOTPLUG_MSG_MAX + 64)

struct relay {
	char		 script[HOTPLUG_SCRIPT_MAX];	/* the real script */
	const char	*action, *xbpath, *vif, *netdev;
	char		 sock[CONFIG_PATH_MAX + 32];
};

static void say(const struct relay *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr (xl's): "devsep-relay: <script> <action> <path>: ". */
static void
say(const struct relay *r, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "devsep-relay: %s %s %s: ", r->script[0] ? r->script :
	    "?", r->action ? r->action : "?", r->xbpath ? r->xbpath : "?");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL ? v : dflt;
}

/* argv[0] = .../devsep-<script>; argv[2], if any, agrees with argv[1]. */
static int
parse_args(struct relay *r, int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	size_t pl = strlen(RELAY_PREFIX);
	int tapact;

	base = base != NULL ? base + 1 : argv[0];
	if (strncmp(base, RELAY_PREFIX, pl) != 0 || base[pl] == '\0' ||
	    strcmp(base + pl, "relay") == 0 ||
	    xsnprintf(r->script, sizeof(r->script), "%s", base + pl) == -1) {
		fprintf(stderr, "devsep-relay: called as %s: install it as "
		    "/etc/xen/scripts/devsep-<script> (a symlink), and name "
		    "that as the device's script; see devsep-relay(8)\n",
		    base);
		return -1;
	}
	if (argc < 2 || argc > 3) {
		say(r, "usage: %s%s add|remove|online|offline [type_if=vif|tap]"
		    " (libxl's calling convention)", RELAY_PREFIX, r->script);
		return -1;
	}
	r->action = argv[1];
	tapact = strcmp(r->action, "add") == 0 ||
	    strcmp(r->action, "remove") == 0;
	if (argc == 3 && !(strcmp(argv[2], "type_if=tap") == 0 && tapact) &&
	    !(strcmp(argv[2], "type_if=vif") == 0 && !tapact)) {
		say(r, "%s does not go with action %s", argv[2], r->action);
		return -1;
	}
	return 0;
}

static int
parse_env(struct relay *r)
{
	struct devsep_config cfg;
	char err[512];

	r->xbpath = getenv("XENBUS_PATH");
	r->vif = env_or("vif", "");
	r->netdev = env_or("netdev", "");
	if (r->xbpath == NULL) {
		say(r, "XENBUS_PATH is not set: libxl runs this as a hotplug "
		    "script");
		return -1;
	}
	if (strcmp(env_or("XENBUS_TYPE", ""), "vbd") == 0)
		r->vif = "";	/* libxl sets vif for a vif only */
	config_defaults(&cfg);
	if (config_load(&cfg, env_or("DEVSEP_CONF", DEVSEP_CONF_PATH), 1, err,
	    sizeof(err)) == -1) {
		say(r, "%s", err);
		return -1;
	}
	if (xsnprintf(r->sock, sizeof(r->sock), "%s/%s", cfg.run_dir,
	    SOCK_WATCHERD) == -1) {
		say(r, "run_dir too long");
		return -1;
	}
	return 0;
}

/* The script's status as libxl should see it. */
static int
exit_code(const struct relay *r, uint32_t outcome, int64_t code,
    const char *text)
{
	char c[32];

	snprintf(c, sizeof(c), "%lld", (long long)code);
	if (outcome == HOTPLUG_EXITED && code == 0) {
		if (text[0] != '\0')
			say(r, "ok: %s", text);
		return 0;
	}
	say(r, "%s %s", hotplug_outcome_name(outcome), c);
	if (text[0] != '\0')
		say(r, "last output: %s", text);
	if (outcome == HOTPLUG_EXITED && code > 0 && code < 256)
		return (int)code;
	if (outcome == HOTPLUG_SIGNALED && code > 0 && code < 64)
		return RELAY_EXIT_SIGBASE + (int)code;
	return RELAY_EXIT_FAIL;
}

static int
reply(const struct relay *r, struct msg *m)
{
	struct watcher_relay_done d;
	char text[RELAY_REPLY_MAX];
	uint32_t err;

	if (m->hdr.type == MSG_COMMON_ERROR &&
	    reply_error_get(m, &err, text, sizeof(text)) == 0) {
		say(r, "refused by devsep-watcherd: %s (%s); the script was "
		    "not run", text, strerror((int)err));
		return RELAY_EXIT_FAIL;
	}
	if (watcher_relay_done_get(m, &d) == -1) {
		say(r, "malformed reply from devsep-watcherd");
		return RELAY_EXIT_FAIL;
	}
	return exit_code(r, d.outcome, d.code, d.message);
}

static int
ask(const struct relay *r)
{
	struct watcher_relay_run q;
	struct msgbuf b;
	struct msg m;
	uid_t uid;
	int fd, rc;

	memset(&q, 0, sizeof(q));
	if (CODEC_SET_STR(q.script, r->script) == -1 ||
	    CODEC_SET_STR(q.action, r->action) == -1 ||
	    CODEC_SET_STR(q.xenbus_path, r->xbpath) == -1 ||
	    CODEC_SET_STR(q.vif, r->vif) == -1 ||
	    CODEC_SET_STR(q.netdev, r->netdev) == -1) {
		say(r, "an argument or environment value is too long");
		return RELAY_EXIT_USAGE;
	}

	if ((fd = msg_connect_server(r->sock, PEER_WATCHERD, &uid)) == -1 &&
	    errno == EPERM) {
		say(r, "%s is answered by uid %u, not root or devsep-watcherd: "
		    "an impostor; the script was not run", r->sock,
		    (unsigned)uid);
		return RELAY_EXIT_FAIL;
	}
	if (fd == -1) {
		say(r, "devsep-watcherd is not running (%s: %s): the script "
		    "was not run; start devsep.target, or name the script "
		    "itself instead of the relay", r->sock, strerror(errno));
		return RELAY_EXIT_FAIL;
	}
	msgbuf_init(&b, MSG_WATCHER_RELAY_RUN, 1);
	watcher_relay_run_put(&b, &q);
	rc = msg_send_fd(fd, &b);
	msgbuf_dispose(&b);
	/* No timeout of our own: libxl kills us at LIBXL_HOTPLUG_TIMEOUT,
	 * watcherd ends a job hotplugd does not answer. */
	if (rc == -1 || msg_recv_fd(fd, &m, RELAY_REPLY_MAX, 0, -1) == -1) {
		say(r, "devsep-watcherd went away (%s): the script's result is "
		    "unknown", strerror(errno));
		close(fd);
		return RELAY_EXIT_FAIL;
	}
	rc = reply(r, &m);
	msg_dispose(&m);
	close(fd);
	return rc;
}

/*
 * Before talking to watcherd: no capability at all (uid 0 stays, which is
 * what watcherd's SO_PEERCRED check wants, and root owns watcherd.sock),
 * and no way to gain any (NO_NEW_PRIVS).  What is left of root cannot
 * override a file permission, signal another user, or bind anything.
 */
static int
drop_rights(const struct relay *r)
{
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_apply(CAPNG_SELECT_BOTH) != 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		say(r, "cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct relay r;

	memset(&r, 0, sizeof(r));
	if (argc < 1 || parse_args(&r, argc, argv) == -1)
		return RELAY_EXIT_USAGE;
	if (parse_env(&r) == -1)
		return RELAY_EXIT_USAGE;
	if (drop_rights(&r) == -1)
		return RELAY_EXIT_FAIL;
	return ask(&r);
}
