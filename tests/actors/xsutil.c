/* xsutil.c - see xsutil.h. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "xsutil.h"

int xsu_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;	/* no leading blanks or '+' */
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

struct xs_handle *xsu_open(const char *dir)
{
	char path[PATH_MAX];

	if (dir) {
		if (snprintf(path, sizeof(path), "%s/socket", dir) >=
		    (int)sizeof(path))
			return NULL;
		setenv("XENSTORED_PATH", path, 1);
	}
	return xs_open(0);
}

char *xsu_read(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
	unsigned int len;
	char *v = xs_read(xs, t, path, &len);

	return v;	/* libxenstore NUL-terminates values */
}

int xsu_read_long(struct xs_handle *xs, xs_transaction_t t, const char *path,
		  long min, long max, long *out)
{
	unsigned int len;
	char *v = xs_read(xs, t, path, &len);
	int rc;

	if (!v)
		return -1;
	rc = strlen(v) == len ? xsu_parse_long(v, min, max, out) : -1;
	if (rc)
		errno = EINVAL;	/* malformed, e.g. embedded NUL */
	free(v);
	return rc;
}

int xsu_write(struct xs_handle *xs, xs_transaction_t t, const char *path,
	      const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(buf)) {
		errno = E2BIG;
		return -1;
	}
	return xs_write(xs, t, path, buf, (unsigned int)n) ? 0 : -1;
}

int xsu_mknod(struct xs_handle *xs, xs_transaction_t t, const char *path,
	      struct xs_permissions *perms, unsigned int n)
{
	if (!xs_write(xs, t, path, "", 0))
		return -1;
	return xs_set_permissions(xs, t, path, perms, n) ? 0 : -1;
}

int xsu_ctl(const char *dir, const char *line, char *buf, size_t cap)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0;
	ssize_t r;
	int fd, rc = -1;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/control.sock",
		     dir) >= (int)sizeof(sa.sun_path) || cap < 2)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    dprintf(fd, "%s\n", line) < 0)
		goto out;
	while (len < cap - 1) {
		r = read(fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = 0;
	if (len && buf[len - 1] == '\n') {
		buf[len - 1] = 0;
		rc = 0;
	}
out:
	close(fd);
	return rc;
}

long long xsu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

volatile sig_atomic_t xsu_stop;

static void on_stop_signal(int sig)
{
	xsu_stop = 1;
}

void xsu_stop_on_signals(void)
{
	signal(SIGTERM, on_stop_signal);
	signal(SIGINT, on_stop_signal);
}
