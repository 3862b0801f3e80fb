/*
 * control.c - DIR/control.sock, the "hypervisor console" of a world.
 *
 * Line protocol, one command per line, one reply line each:
 *   create N [hvm]      -> ok | err EEXIST   (hvm: XEN_DOMINF_hvm_guest)
 *   shutdown N REASON   -> ok   (REASON: poweroff reboot suspend crash
 *   crash N             -> ok    watchdog soft_reset or a number)
 *   destroy N           -> ok   (dying, then gone)
 *   info N              -> ok <exists> <dying> <shutdown> <reason>
 *   ping                -> ok
 * State changes raise VIRQ_DOM_EXC and the reply is sent only after
 * xenstored has unmasked that port, i.e. after its check_domains() ran.
 * Other processes under the shim reach this channel through
 * shim_control_call() (hyp.c: the destroydomain hypercall).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/xen.h>
#include <xen/sched.h>

#include "shim.h"

#define VIRQ_WAIT_MS 5000
#define LINE_MAX_LEN 256

static pthread_once_t ctl_once = PTHREAD_ONCE_INIT;

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s)
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || *out > max || *s == '-')
		return -1;
	return 0;
}

static int parse_reason(const char *s, unsigned long *r)
{
	static const char *const names[] = { "poweroff", "reboot", "suspend",
					     "crash", "watchdog", "soft_reset" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (s && strcmp(s, names[i]) == 0) {
			*r = i;
			return 0;
		}
	}
	return parse_uint(s, DOMW_REASON_MASK, r);
}

static int sync_virq(void)
{
	return shim_virq_wait(shim_virq_raise(), VIRQ_WAIT_MS);
}

static void cmd_reply(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void cmd_reply(int fd, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(fd, line, (size_t)n);
}

/*
 * Xen's domain_kill(): the domain is dying (VIRQ_DOM_EXC: xenstored drops
 * its connection, fires @releaseDomain), then gone (VIRQ again).  Returns
 * once xenstored has seen both; 0, -ESRCH or -ETIMEDOUT.
 */
int shim_domain_destroy(unsigned int domid)
{
	_Atomic uint32_t *w;

	if (domid == 0 || domid >= SHIM_MAX_DOMS || !shim_doms)
		return -ESRCH;
	w = &shim_doms[domid];
	if (!(atomic_fetch_or(w, DOMW_DYING) & DOMW_EXISTS)) {
		atomic_fetch_and(w, ~DOMW_DYING);
		return -ESRCH;
	}
	if (sync_virq())
		return -ETIMEDOUT;
	*w = 0;
	if (sync_virq())
		return -ETIMEDOUT;
	shim_guest_stop(domid);
	shim_ring_drop(domid);
	return 0;
}

static const struct {
	const char *name;
	int err;
} reply_errs[] = {
	{ "ESRCH", ESRCH }, { "EEXIST", EEXIST }, { "EINVAL", EINVAL },
	{ "ETIMEDOUT", ETIMEDOUT },
};

/* "ok" -> 0, "err NAME ..." -> -errno (EIO when unknown). */
static int reply_errno(const char *reply)
{
	size_t i, n;

	if (!strcmp(reply, "ok") || !strncmp(reply, "ok ", 3))
		return 0;
	for (i = 0; i < sizeof(reply_errs) / sizeof(reply_errs[0]); i++) {
		n = strlen(reply_errs[i].name);
		if (!strncmp(reply, "err ", 4) &&
		    !strncmp(reply + 4, reply_errs[i].name, n) &&
		    (reply[4 + n] == 0 || reply[4 + n] == ' '))
			return -reply_errs[i].err;
	}
	return -EIO;
}

/* One command on DIR/control.sock from any process; 0 or -errno. */
int shim_control_call(const char *line)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = shim_dir();
	char reply[LINE_MAX_LEN];
	size_t len = 0;
	ssize_t r;
	int fd, rc = -EIO;

	if (!dir || snprintf(sa.sun_path, sizeof(sa.sun_path),
			     "%s/control.sock", dir) >= (int)sizeof(sa.sun_path))
		return -ENOENT;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    dprintf(fd, "%s\n", line) < 0) {
		rc = -errno;
		goto out;
	}
	while (len < sizeof(reply) - 1) {
		r = read(fd, reply + len, sizeof(reply) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(reply, '\n', len))
			break;
	}
	reply[len] = 0;
	if (len && reply[len - 1] == '\n') {
		reply[len - 1] = 0;
		rc = reply_errno(reply);
	}
out:
	close(fd);
	return rc;
}

static void do_cmd(int fd, char *line)
{
	char *save = NULL, *verb, *a1, *a2;
	unsigned long dom, reason;
	_Atomic uint32_t *w;
	uint32_t v;

	verb = strtok_r(line, " \t", &save);
	a1 = strtok_r(NULL, " \t", &save);
	a2 = strtok_r(NULL, " \t", &save);
	if (!verb)
		return cmd_reply(fd, "err EINVAL empty");
	if (!strcmp(verb, "ping"))
		return cmd_reply(fd, "ok");
	if (parse_uint(a1, SHIM_MAX_DOMS - 1, &dom) || dom == 0 || !shim_doms)
		return cmd_reply(fd, "err EINVAL bad domid");
	w = &shim_doms[dom];
	v = *w;
	if (!strcmp(verb, "info"))
		return cmd_reply(fd, "ok %u %u %u %u", !!(v & DOMW_EXISTS),
				 !!(v & DOMW_DYING), !!(v & DOMW_SHUTDOWN),
				 (v >> DOMW_REASON_SHIFT) & DOMW_REASON_MASK);
	if (!strcmp(verb, "create")) {
		if (v & DOMW_EXISTS)
			return cmd_reply(fd, "err EEXIST");
		if (a2 && strcmp(a2, "hvm"))
			return cmd_reply(fd, "err EINVAL bad flag");
		*w = DOMW_EXISTS | (a2 ? DOMW_HVM : 0);
		return cmd_reply(fd, "ok");
	}
	if (!(v & DOMW_EXISTS))
		return cmd_reply(fd, "err ESRCH");
	if (!strcmp(verb, "shutdown") || !strcmp(verb, "crash")) {
		if (!strcmp(verb, "crash"))
			reason = SHUTDOWN_crash;
		else if (parse_reason(a2, &reason))
			return cmd_reply(fd, "err EINVAL bad reason");
		*w = DOMW_EXISTS | DOMW_SHUTDOWN |
			((uint32_t)reason << DOMW_REASON_SHIFT);
		return cmd_reply(fd, sync_virq() ? "err ETIMEDOUT" : "ok");
	}
	if (!strcmp(verb, "destroy")) {
		switch (shim_domain_destroy((unsigned int)dom)) {
		case 0:
			return cmd_reply(fd, "ok");
		case -ESRCH:
			return cmd_reply(fd, "err ESRCH");
		default:
			return cmd_reply(fd, "err ETIMEDOUT");
		}
	}
	cmd_reply(fd, "err EINVAL unknown command");
}

static void serve(int fd)
{
	char buf[LINE_MAX_LEN];
	size_t len = 0;
	ssize_t r;
	char *nl;

	for (;;) {
		r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			return;
		len += (size_t)r;
		buf[len] = 0;
		while ((nl = strchr(buf, '\n'))) {
			*nl = 0;
			do_cmd(fd, buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len >= sizeof(buf) - 1)
			return;		/* line too long */
	}
}

static void *control_main(void *arg)
{
	int lfd = (int)(intptr_t)arg, fd;

	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		serve(fd);
		close(fd);
	}
}

static void control_start_once(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = shim_dir();
	pthread_t th;
	int lfd;

	struct rlimit rl;

	/* Every guest socket costs xenstored's process two fds. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (!dir || snprintf(sa.sun_path, sizeof(sa.sun_path),
			     "%s/control.sock", dir) >= (int)sizeof(sa.sun_path))
		return;
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return;
	unlink(sa.sun_path);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 16) ||
	    pthread_create(&th, NULL, control_main, (void *)(intptr_t)lfd)) {
		close(lfd);
		return;
	}
	pthread_detach(th);
}

void shim_control_start(void)
{
	pthread_once(&ctl_once, control_start_once);
}
