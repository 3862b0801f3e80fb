/*
 * Pipelined reads for device evaluations: a second, raw connection to
 * xenstored (xen/io/xs_wire.h) on which a batch of XS_READ requests is
 * written at once and the replies read back in order.  libxenstore allows
 * one request in flight per handle, so reading `state`, `online` and
 * `hotplug-status` of 10 000 devices costs 30 000 round trips; pipelined
 * they cost a few hundred.
 *
 * Only reads go here (writes, transactions and watches stay on the
 * libxenstore handle).  The connection is opened before sandbox_enter
 * (the xenstored socket is usually root-only) and again after a xenstore
 * reconnect when allowed; when it is not available (no socket - e.g.
 * /dev/xen/xenbus in a driver domain - or any error) callers fall back to
 * plain xs_read.  Values are bounded: only the first XSB_VAL_MAX-1 bytes
 * are kept, the real length is reported (so a 4 KiB "state" is invalid,
 * not truncated into something valid).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenstore_lib.h>
#include <xen/io/xs_wire.h>

#include "fdio.h"
#include "log.h"
#include "wd.h"
#include "xsbatch.h"

#define HDR	sizeof(struct xsd_sockmsg)

static int	 xsb_fd = -1;
static uint32_t	 next_id = 1;

static const char *
sock_path(void)
{
	const char *p = getenv("XENSTORED_PATH");

	return p != NULL ? p : xs_daemon_socket();
}

int
xsb_open(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = sock_path();
	struct stat sb;
	int fd;

	xsb_close();
	if (stat(path, &sb) == -1 || !S_ISSOCK(sb.st_mode) ||
	    strlen(path) >= sizeof(sun.sun_path))
		return -1;	/* a device (driver domain): no batching */
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_debug("xsbatch: connect %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	xsb_fd = fd;
	return 0;
}

void
xsb_close(void)
{
	if (xsb_fd != -1)
		close(xsb_fd);
	xsb_fd = -1;
}

int
xsb_available(void)
{
	return xsb_fd != -1;
}

/* Reads one reply into v (bounded), discarding the rest of its payload. */
static int
read_reply(uint32_t want_id, struct xsb_val *v)
{
	struct xsd_sockmsg h;
	char skip[512];
	size_t keep, left;

	if (read_all(xsb_fd, &h, HDR) == -1 || h.req_id != want_id ||
	    h.len > XENSTORE_PAYLOAD_MAX)
		return -1;
	keep = h.len < XSB_VAL_MAX - 1 ? h.len : XSB_VAL_MAX - 1;
	if (read_all(xsb_fd, v->buf, keep) == -1)
		return -1;
	v->buf[keep] = '\0';
	for (left = h.len - keep; left > 0; left -= keep) {
		keep = left < sizeof(skip) ? left : sizeof(skip);
		if (read_all(xsb_fd, skip, keep) == -1)
			return -1;
	}
	if (h.type == XS_ERROR) {
		v->len = XSB_ABSENT;	/* ENOENT, EACCES...: not readable */
		return 0;
	}
	if (h.type != XS_READ)
		return -1;
	v->len = (int)h.len;
	return 0;
}

/*
 * Reads n (<= XSB_MAX) paths in one pipelined burst.  Returns 0 with
 * every v[i] filled, or -1 (the connection is then closed: fall back).
 */
int
xsb_read(const char *const *paths, size_t n, struct xsb_val *v)
{
	static uint8_t out[XSB_MAX * (HDR + 256)];
	struct xsd_sockmsg h;
	size_t i, off = 0, plen;
	uint32_t first = next_id;

	if (xsb_fd == -1 || n > XSB_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		plen = strlen(paths[i]) + 1;
		if (plen > 256)
			return -1;
		h = (struct xsd_sockmsg){ XS_READ, next_id++, 0,
		    (uint32_t)plen };
		memcpy(out + off, &h, HDR);
		memcpy(out + off + HDR, paths[i], plen);
		off += HDR + plen;
	}
	if (write_all(xsb_fd, out, off) == -1)
		goto fail;
	for (i = 0; i < n; i++)
		if (read_reply(first + (uint32_t)i, &v[i]) == -1)
			goto fail;
	return 0;
fail:
	log_warnx("xsbatch: pipelined read failed; using single reads");
	xsb_close();
	return -1;
}
