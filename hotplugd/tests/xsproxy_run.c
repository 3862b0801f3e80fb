/*
 * xsproxy-run: test driver for watcherd/xsproxy.c against a real xenstored.
 *
 *   xsproxy-run [-e VAR=VAL]... BACKEND_PATH SOCKPATH CMD [ARGS...]
 *
 * Opens its own xenstore handle (XENSTORED_PATH of the environment: the
 * test world's real xenstored), serves a proxy with the default scope of
 * BACKEND_PATH (xsproxy_scope_for_backend) at SOCKPATH, runs CMD with
 * XENSTORED_PATH=SOCKPATH (plus -e variables) and serves until CMD exits.
 * Prints "xsproxy: requests=N denied=N unsupported=N malformed=N" to
 * stderr and exits with CMD's exit status (128+sig when signalled).
 *
 * This is what proves, with the unmodified xenstore-* CLI and the real Xen
 * hotplug scripts, that the proxy serves the scope and refuses the rest.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <xenstore.h>

#include "log.h"
#include "msg.h"
#include "watcherd/xsproxy.h"

static pid_t child;
static int child_status = -1;

static void
chld_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct event_base *base = arg;
	int st;

	if (waitpid(child, &st, WNOHANG) == child) {
		child_status = st;
		event_base_loopexit(base, NULL);
	}
}

static pid_t
run(char **cmd, const char *sock)
{
	pid_t pid = fork();

	if (pid == 0) {
		setenv("XENSTORED_PATH", sock, 1);
		signal(SIGPIPE, SIG_DFL);
		execvp(cmd[0], cmd);
		fprintf(stderr, "exec %s: %s\n", cmd[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int
main(int argc, char **argv)
{
	struct xsproxy_scope scope;
	struct event_base *base;
	struct event *ev;
	struct xs_handle *xs;
	struct xsproxy *px;
	const struct xsproxy_stats *st;
	int c, rc;

	log_init("xsproxy-run", 1, getenv("XSPROXY_DEBUG") ? LOG_LEVEL_DEBUG :
	    LOG_LEVEL_INFO);
	peer_init();	/* scripts may connect as devsep-hotplugd */
	while ((c = getopt(argc, argv, "+e:")) != -1) {
		if (c != 'e' || strchr(optarg, '=') == NULL)
			goto usage;
		putenv(optarg);
	}
	if (argc - optind < 3)
		goto usage;
	if ((xs = xs_open(0)) == NULL)
		fatal("xs_open");
	if (xsproxy_scope_for_backend(&scope, 1, argv[optind]) == -1)
		fatalx("not a backend path: %s", argv[optind]);
	base = event_base_new();
	signal(SIGPIPE, SIG_IGN);
	ev = evsignal_new(base, SIGCHLD, chld_cb, base);
	evsignal_add(ev, NULL);
	if ((px = xsproxy_open(base, xs, argv[optind + 1], &scope)) == NULL)
		fatal("xsproxy_open");
	/* the job's uid (watcherd learns it from MSG_HOTPLUG_STARTED): the
	 * command's own, or XSPROXY_CLIENT_UID when the command asks hotplugd
	 * to run a script (hp-send), which runs it as a job uid */
	xsproxy_set_client(px, getenv("XSPROXY_CLIENT_UID") ?
	    (uid_t)strtoul(getenv("XSPROXY_CLIENT_UID"), NULL, 10) : getuid());
	child = run(argv + optind + 2, argv[optind + 1]);
	if (child == -1)
		fatal("fork");
	chld_cb(SIGCHLD, 0, base);	/* in case it is already gone */
	if (child_status == -1)
		event_base_dispatch(base);
	st = xsproxy_stats(px);
	fprintf(stderr, "xsproxy: requests=%llu denied=%llu unsupported=%llu "
	    "malformed=%llu\n", (unsigned long long)st->requests,
	    (unsigned long long)st->denied,
	    (unsigned long long)st->unsupported,
	    (unsigned long long)st->malformed);
	xsproxy_close(px);
	if (access(argv[optind + 1], F_OK) == 0)
		fatalx("socket not unlinked by xsproxy_close");
	event_free(ev);
	event_base_free(base);
	xs_close(xs);
	rc = WIFEXITED(child_status) ? WEXITSTATUS(child_status) :
	    128 + WTERMSIG(child_status);
	return rc;
usage:
	fprintf(stderr, "usage: xsproxy-run [-e VAR=VAL]... BACKEND_PATH "
	    "SOCKPATH CMD [ARGS...]\n");
	return 2;
}
