/* Message framing, typed getters, blocking helpers.  See msg.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "msg.h"

/* ---------------------------------------------------------------- peers */

static uid_t peer_uids[5] = { -1, -1, -1, -1, -1 };
static const char *const peer_names[5] = {
	"watcherd", "hotplugd", "lockd", "broker", "admin"
};
static const char *const peer_users[4] = {
	USER_WATCHERD, USER_HOTPLUGD, USER_LOCKD, USER_BROKER
};

void
peer_init(void)
{
	struct passwd *pw;
	size_t i;

	for (i = 0; i < 4; i++) {
		pw = getpwnam(peer_users[i]);
		if (pw != NULL && peer_uids[i] == (uid_t)-1)
			peer_uids[i] = pw->pw_uid;
	}
}

void
peer_set_uid(enum peer_class c, uid_t uid)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (c == (1u << i))
			peer_uids[i] = uid;
}

uid_t
peer_uid(uint32_t cls)
{
	size_t i;

	if (cls == PEER_ADMIN)
		return 0;
	for (i = 0; i < 4; i++)
		if (cls == (1u << i))
			return peer_uids[i];
	return (uid_t)-1;
}

uint32_t
peer_classify(const struct ucred *cr)
{
	uint32_t c = 0;
	size_t i;

	for (i = 0; i < 4; i++)
		if (peer_uids[i] != (uid_t)-1 && cr->uid == peer_uids[i])
			c |= 1u << i;
	if (cr->uid == 0)
		c |= PEER_ADMIN;
	return c;
}

const char *
peer_class_name(uint32_t c)
{
	size_t i;

	for (i = 0; i < 5; i++)
		if (c & (1u << i))
			return peer_names[i];
	return "unknown";
}

uint32_t
peer_class_parse(const char *s)
{
	size_t i;

	for (i = 0; i < 5; i++)
		if (strcmp(s, peer_names[i]) == 0)
			return 1u << i;
	return 0;
}

/* ------------------------------------------------------------- builder */

static void self_pid_reset(void);

static void
self_pid_atfork(void)
{
	pthread_atfork(NULL, NULL, self_pid_reset);
}

/* The sender pid for headers, without a getpid() per message; reset in a
 * forked child. */
static pid_t self_pid;

static void
self_pid_reset(void)
{
	self_pid = 0;
}

static uint32_t
msg_self_pid(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (self_pid == 0) {
		pthread_once(&once, self_pid_atfork);
		self_pid = getpid();
	}
	return (uint32_t)self_pid;
}

void
msgbuf_init(struct msgbuf *b, uint32_t type, uint32_t reqid)
{
	struct msg_hdr h = { type, 0, reqid, msg_self_pid() };

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->cap = 256;
	b->data = malloc(b->cap);
	if (b->data == NULL) {
		b->err = ENOMEM;
		return;
	}
	memcpy(b->data, &h, sizeof(h));
	b->len = MSG_HDR_SIZE;
}

void
msgbuf_init_buf(struct msgbuf *b, uint32_t type, uint32_t reqid, void *buf,
    size_t cap)
{
	struct msg_hdr h = { type, 0, reqid, msg_self_pid() };

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->fixed = 1;
	if (cap < MSG_HDR_SIZE) {
		b->err = EMSGSIZE;
		return;
	}
	b->data = buf;
	b->cap = cap;
	memcpy(b->data, &h, sizeof(h));
	b->len = MSG_HDR_SIZE;
}

void
msgbuf_dispose(struct msgbuf *b)
{
	if (!b->fixed)
		free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

static void
msgbuf_put(struct msgbuf *b, const void *p, size_t n)
{
	uint8_t *nd;
	size_t ncap;
	uint32_t plen;

	if (b->err)
		return;
	if (b->data == NULL) {		/* disposed, or never initialised */
		b->err = EINVAL;
		return;
	}
	if (n == 0)
		return;
	if (n > MSG_MAX_LIMIT || b->len + n > MSG_HDR_SIZE + MSG_MAX_LIMIT) {
		b->err = EMSGSIZE;
		return;
	}
	if (b->len + n > b->cap && b->fixed) {
		b->err = EMSGSIZE;
		return;
	}
	if (b->len + n > b->cap) {
		ncap = b->cap;
		while (ncap < b->len + n)
			ncap *= 2;
		if ((nd = realloc(b->data, ncap)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	plen = (uint32_t)(b->len - MSG_HDR_SIZE);	/* buf may be unaligned */
	memcpy(b->data + offsetof(struct msg_hdr, len), &plen, sizeof(plen));
}

void
msgbuf_put_u32(struct msgbuf *b, uint32_t v)
{
	msgbuf_put(b, &v, sizeof(v));
}

void
msgbuf_put_u64(struct msgbuf *b, uint64_t v)
{
	msgbuf_put(b, &v, sizeof(v));
}

void
msgbuf_put_i64(struct msgbuf *b, int64_t v)
{
	msgbuf_put(b, &v, sizeof(v));
}

void
msgbuf_put_blob(struct msgbuf *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (n > MSG_MAX_LIMIT) {	/* also keeps the u32 prefix exact */
		b->err = EMSGSIZE;
		return;
	}
	msgbuf_put_u32(b, (uint32_t)n);
	msgbuf_put(b, p, n);
}

void
msgbuf_put_str(struct msgbuf *b, const char *s)
{
	msgbuf_put_blob(b, s, s ? strlen(s) : 0);
}

void
msgbuf_set_fd(struct msgbuf *b, int fd)
{
	b->fd = fd;
}

/* ------------------------------------------------------------- getters */

static int
msg_get(struct msg *m, void *out, size_t n)
{
	if (m->left < n)
		return -1;
	memcpy(out, m->p, n);
	m->p += n;
	m->left -= n;
	return 0;
}

int
msg_get_u32(struct msg *m, uint32_t *v)
{
	return msg_get(m, v, sizeof(*v));
}

int
msg_get_u64(struct msg *m, uint64_t *v)
{
	return msg_get(m, v, sizeof(*v));
}

int
msg_get_i64(struct msg *m, int64_t *v)
{
	return msg_get(m, v, sizeof(*v));
}

int
msg_get_blob(struct msg *m, const void **p, size_t *len, size_t max)
{
	uint32_t n;
	const uint8_t *save = m->p;
	size_t saveleft = m->left;

	if (msg_get_u32(m, &n) == -1)
		return -1;
	if (n > max || n > m->left) {
		m->p = save;
		m->left = saveleft;
		return -1;
	}
	*p = m->p;
	*len = n;
	m->p += n;
	m->left -= n;
	return 0;
}

int
msg_get_str(struct msg *m, char *buf, size_t bufsz)
{
	const void *p;
	size_t n;
	const uint8_t *save = m->p;
	size_t saveleft = m->left;

	if (bufsz == 0 || msg_get_blob(m, &p, &n, bufsz - 1) == -1)
		return -1;
	if (memchr(p, '\0', n) != NULL) {
		m->p = save;
		m->left = saveleft;
		return -1;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 0;
}

int
msg_end(const struct msg *m)
{
	return m->left == 0 ? 0 : -1;
}

int
msg_take_fd(struct msg *m)
{
	int fd = m->fd;

	m->fd = -1;
	return fd;
}

void
msg_dispose(struct msg *m)
{
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	free(m->buf);
	m->buf = NULL;
}

int
msg_parse(struct msg *m, const uint8_t *data, size_t len, size_t maxsize)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (len < MSG_HDR_SIZE)
		return -1;
	memcpy(&m->hdr, data, MSG_HDR_SIZE);
	if (m->hdr.len != len - MSG_HDR_SIZE || m->hdr.len > maxsize)
		return -1;
	m->p = data + MSG_HDR_SIZE;
	m->left = m->hdr.len;
	return 0;
}

/* ------------------------------------------------------------- sockets */

static int
sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/*
 * Is a daemon answering on the socket at path?  A refused or missing
 * connection means a stale socket; anything else (accepted, backlog full)
 * means a live one.
 */
static int
sock_alive(const struct sockaddr_un *sun)
{
	int fd, r, e;

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	e = errno;
	close(fd);
	if (r == 0)
		return 1;
	return e == ECONNREFUSED || e == ENOENT ? 0 : 1;
}

/* Removes a stale socket at path; never a live one or another file. */
static int
sock_replace(const struct sockaddr_un *sun)
{
	struct stat st;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	if (sock_alive(sun) != 0) {
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/* After bind: group, then what is there must be our socket, exact mode. */
static int
sock_verify(const char *path, mode_t mode, gid_t gid)
{
	struct stat st;

	if (gid != (gid_t)-1 &&
	    fchownat(AT_FDCWD, path, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (lstat(path, &st) == -1)
		return -1;
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != (mode & 07777) ||
	    (gid != (gid_t)-1 && st.st_gid != gid)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
msg_listen_group(const char *path, mode_t mode, gid_t gid)
{
	struct sockaddr_un sun;
	int fd, r, e;
	mode_t old;

	if (sun_fill(&sun, path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (sock_replace(&sun) == -1)
		goto fail;
	/* born with mode (root's group until sock_verify: never wider) */
	old = umask(0777 & ~mode);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r == -1)
		goto fail;
	if (sock_verify(path, mode, gid) == -1 || listen(fd, 128) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
msg_listen(const char *path, mode_t mode)
{
	return msg_listen_group(path, mode, (gid_t)-1);
}

int
msg_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, e;

	if (sun_fill(&sun, path) == -1)
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
msg_check_server(int fd, uint32_t server, uid_t *uidp)
{
	struct ucred cr;

	if (msg_peercred(fd, &cr) == -1)
		return -1;
	if (uidp != NULL)
		*uidp = cr.uid;
	/* getuid, not geteuid: the daemons' seccomp filters allow only it
	 * (after their uid change both are the same) */
	if (cr.uid == 0 || cr.uid == getuid() ||
	    (peer_uid(server) != (uid_t)-1 && cr.uid == peer_uid(server)))
		return 0;
	errno = EPERM;
	return -1;
}

int
msg_connect_server(const char *path, uint32_t server, uid_t *uidp)
{
	int fd, e;

	if ((fd = msg_connect(path)) == -1)
		return -1;
	if (msg_check_server(fd, server, uidp) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
msg_peercred(int fd, struct ucred *cr)
{
	socklen_t len = sizeof(*cr);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len);
}

/* ---------------------------------------------------- blocking helpers */

/* Room for the kernel's per-datagram overhead when sizing SO_SNDBUF. */
#define SNDBUF_SLACK	4096

/*
 * A datagram must fit the socket's send buffer (default ~208 KiB),
 * MSG_MAX_LIMIT does not: grow it once to fit.  0, or -1 with EMSGSIZE.
 */
static int
sndbuf_grow(int fd, size_t len)
{
	int sz = (int)(len + SNDBUF_SLACK);

	if (len > MSG_HDR_SIZE + MSG_MAX_LIMIT ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == -1) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Without an fd to pass: send(2), retried once after sndbuf_grow(). */
static ssize_t
msg_send_plain(int fd, const uint8_t *data, size_t len, int flags)
{
	ssize_t n = send(fd, data, len, flags);

	if (n == -1 && errno == EMSGSIZE && sndbuf_grow(fd, len) == 0)
		n = send(fd, data, len, flags);
	return n;
}

/* Sends one datagram (with an optional fd).  Shared with the channel. */
ssize_t msg_sendraw(int fd, const uint8_t *data, size_t len, int passfd,
    int flags);

ssize_t
msg_sendraw(int fd, const uint8_t *data, size_t len, int passfd, int flags)
{
	struct iovec iov = { (void *)data, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct cmsghdr *c;
	ssize_t n;

	if (passfd == -1)	/* send(2) costs ~0.2 us less than sendmsg(2) */
		return msg_send_plain(fd, data, len, flags | MSG_NOSIGNAL);
	memset(&cm, 0, sizeof(cm));
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &passfd, sizeof(int));
	n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
	if (n == -1 && errno == EMSGSIZE && sndbuf_grow(fd, len) == 0)
		n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
	return n;
}

/*
 * Receives one datagram into buf (size cap).  Returns the byte count, 0 on
 * EOF, -1 on error.  *fdp gets the first passed fd or -1; any further fds
 * are closed and, like a truncated datagram, reported as EBADMSG.
 */
ssize_t msg_recvraw(int fd, uint8_t *buf, size_t cap, int *fdp);

ssize_t
msg_recvraw(int fd, uint8_t *buf, size_t cap, int *fdp)
{
	struct iovec iov = { buf, cap };
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 8)];
	} cm;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
	    .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf) };
	struct cmsghdr *c;
	ssize_t n;
	int bad = 0, nfd, i, *fds;

	*fdp = -1;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n == -1)
		return -1;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)(void *)CMSG_DATA(c);
		for (i = 0; i < nfd; i++) {
			if (*fdp == -1)
				*fdp = fds[i];
			else {
				close(fds[i]);
				bad = 1;
			}
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		bad = 1;
	if (n == 0 && *fdp != -1) {	/* empty datagram: EOF to callers */
		close(*fdp);
		*fdp = -1;
	}
	if (bad) {
		if (*fdp != -1)
			close(*fdp);
		*fdp = -1;
		errno = EBADMSG;
		return -1;
	}
	return n;
}

int
msgbuf_check(const struct msgbuf *b)
{
	if (b->err) {
		errno = b->err;
		return -1;
	}
	if (b->data == NULL || b->len < MSG_HDR_SIZE) {	/* disposed */
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
msg_send_fd(int fd, struct msgbuf *b)
{
	ssize_t n;

	if (msgbuf_check(b) == -1)
		return -1;
	do
		n = msg_sendraw(fd, b->data, b->len, b->fd, 0);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return -1;
	if (n != (ssize_t)b->len) {	/* cannot happen on SEQPACKET */
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

static int
wait_readable(int fd, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

int
msg_recv_fd(int fd, struct msg *m, size_t maxsize, int allow_fd,
    int timeout_ms)
{
	size_t cap;
	uint8_t *buf;
	ssize_t n;
	int pfd;

	if (maxsize > MSG_MAX_LIMIT)
		maxsize = MSG_MAX_LIMIT;
	cap = MSG_HDR_SIZE + maxsize + 1;
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (wait_readable(fd, timeout_ms) == -1)
		return -1;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	n = msg_recvraw(fd, buf, cap, &pfd);
	if (n <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		free(buf);
		return -1;
	}
	if (msg_parse(m, buf, n, maxsize) == -1 || (pfd != -1 && !allow_fd)) {
		if (pfd != -1)
			close(pfd);
		free(buf);
		errno = EBADMSG;
		return -1;
	}
	m->buf = buf;
	m->fd = pfd;
	return 0;
}

/* ------------------------------------------------------------ dispatch */

uint32_t
msg_table_peers(const struct msg_handler *t, size_t n)
{
	uint32_t peers = 0;
	size_t i;

	for (i = 0; i < n; i++)
		peers |= t[i].peers;
	return peers;
}

const struct msg_handler *
msg_handler_find(const struct msg_handler *t, size_t n, uint32_t type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].type == type)
			return &t[i];
	return NULL;
}

int
msg_dispatch(const struct msg_handler *t, size_t n, struct msgchan *c,
    struct msg *m)
{
	const struct msg_handler *h;
	unsigned uid = c != NULL ? (unsigned)msgchan_cred(c)->uid : -1u;

	h = msg_handler_find(t, n, m->hdr.type);
	if (h == NULL) {
		log_warnx("drop peer pid=%u uid=%u: unknown message type %u",
		    m->hdr.pid, uid, m->hdr.type);
		return -1;
	}
	if ((h->peers & m->peer) == 0) {
		log_warnx("drop peer pid=%u uid=%u class=%s: %s not permitted",
		    m->hdr.pid, uid, peer_class_name(m->peer), h->name);
		return -1;
	}
	return h->fn(c, m);
}
