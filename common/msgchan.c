/* Message channels on libevent: non-blocking, bounded queues.  See msg.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"

ssize_t msg_sendraw(int fd, const uint8_t *data, size_t len, int passfd,
    int flags);
ssize_t msg_recvraw(int fd, uint8_t *buf, size_t cap, int *fdp);

struct outmsg {
	TAILQ_ENTRY(outmsg)	 entry;
	uint8_t			*data;
	size_t			 len;
	int			 fd;	/* our dup, closed after sending */
};

struct msgchan {
	int			 fd;
	struct ucred		 cred;
	uint32_t		 peer;
	struct msgchan_opts	 opts;
	struct event		*ev_read;
	struct event		*ev_write;
	struct event		*ev_close;
	struct event		*ev_idle;	/* msgchan_set_idle, or NULL */
	uint32_t		 idle_ms;
	int			(*idle_busy)(struct msgchan *);
	TAILQ_HEAD(, outmsg)	 outq;
	size_t			 nqueued;
	uint8_t			*rbuf;
	size_t			 rcap;
	msgchan_msg_cb		 on_msg;
	msgchan_close_cb	 on_close;
	void			*arg;
	int			 dead;		/* dropped, close pending */
	int			 busy;		/* inside a callback */
	int			 freed;		/* free requested while busy */
	size_t			 read_batch;	/* datagrams per wake-up, >= 1 */
};

static void msgchan_read_cb(evutil_socket_t, short, void *);
static void msgchan_write_cb(evutil_socket_t, short, void *);
static void msgchan_close_ev(evutil_socket_t, short, void *);

struct msgchan *
msgchan_new(struct event_base *base, int fd, const struct msgchan_opts *o,
    msgchan_msg_cb on_msg, msgchan_close_cb on_close, void *arg)
{
	struct msgchan *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->fd = fd;
	if (o != NULL)
		c->opts = *o;
	if (c->opts.maxsize == 0)
		c->opts.maxsize = MSG_MAX_DEFAULT;
	if (c->opts.maxsize > MSG_MAX_LIMIT)
		c->opts.maxsize = MSG_MAX_LIMIT;
	if (c->opts.max_queued == 0)
		c->opts.max_queued = 1024;
	c->read_batch = 1;
	if (msg_peercred(fd, &c->cred) == -1) {
		log_warn("msgchan: SO_PEERCRED");
		free(c);
		return NULL;
	}
	c->peer = peer_classify(&c->cred);
	c->rcap = MSG_HDR_SIZE + c->opts.maxsize + 1;
	c->rbuf = malloc(c->rcap);
	TAILQ_INIT(&c->outq);
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->arg = arg;
	evutil_make_socket_nonblocking(fd);
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST,
	    msgchan_read_cb, c);
	c->ev_write = event_new(base, fd, EV_WRITE, msgchan_write_cb, c);
	c->ev_close = event_new(base, -1, 0, msgchan_close_ev, c);
	if (c->rbuf == NULL || c->ev_read == NULL || c->ev_write == NULL ||
	    c->ev_close == NULL) {
		c->fd = -1;	/* caller still owns fd on failure */
		msgchan_free(c);
		return NULL;
	}
	event_add(c->ev_read, NULL);
	return c;
}

static void
outq_clear(struct msgchan *c)
{
	struct outmsg *om;

	while ((om = TAILQ_FIRST(&c->outq)) != NULL) {
		TAILQ_REMOVE(&c->outq, om, entry);
		if (om->fd != -1)
			close(om->fd);
		free(om->data);
		free(om);
	}
	c->nqueued = 0;
}

void
msgchan_free(struct msgchan *c)
{
	if (c == NULL)
		return;
	if (c->busy) {
		c->freed = 1;
		c->dead = 1;
		return;
	}
	if (c->ev_read)
		event_free(c->ev_read);
	if (c->ev_write)
		event_free(c->ev_write);
	if (c->ev_close)
		event_free(c->ev_close);
	if (c->ev_idle)
		event_free(c->ev_idle);
	outq_clear(c);
	if (c->fd != -1)
		close(c->fd);
	free(c->rbuf);
	free(c);
}

void
msgchan_drop(struct msgchan *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	if (why != NULL)
		log_debug("msgchan: dropping peer pid=%d uid=%u: %s",
		    (int)c->cred.pid, (unsigned)c->cred.uid, why);
	event_del(c->ev_read);
	event_active(c->ev_close, 0, 0);
}

static void
msgchan_close_ev(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan *c = arg;

	if (c->on_close != NULL)
		c->on_close(c, c->arg);
	else
		msgchan_free(c);
}

static int
msgchan_flush(struct msgchan *c)
{
	struct outmsg *om;
	ssize_t n;

	while ((om = TAILQ_FIRST(&c->outq)) != NULL) {
		n = msg_sendraw(c->fd, om->data, om->len, om->fd, MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
			event_add(c->ev_write, NULL);
			return 0;
		}
		if (n != (ssize_t)om->len)
			return -1;
		TAILQ_REMOVE(&c->outq, om, entry);
		c->nqueued--;
		if (om->fd != -1)
			close(om->fd);
		free(om->data);
		free(om);
	}
	return 0;
}

static void
msgchan_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan *c = arg;

	if (msgchan_flush(c) == -1)
		msgchan_drop(c, "write failed");
}

/*
 * Nothing queued: one send straight from b (the kernel takes its own
 * reference to a passed fd), no copy.  1 sent, 0 would block (queue it),
 * -1 failed (the peer is dropped).
 */
static int
msgchan_send_now(struct msgchan *c, const struct msgbuf *b)
{
	ssize_t n;

	if (!TAILQ_EMPTY(&c->outq))
		return 0;	/* keep the order */
	n = msg_sendraw(c->fd, b->data, b->len, b->fd, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n == (ssize_t)b->len ? 1 : -1;
}

int
msgchan_send(struct msgchan *c, struct msgbuf *b)
{
	struct outmsg *om;
	int r;

	if (c->dead) {
		errno = EPIPE;
		return -1;
	}
	if (msgbuf_check(b) == -1)
		return -1;
	if ((r = msgchan_send_now(c, b)) != 0) {
		if (r == 1)
			return 0;
		msgchan_drop(c, "write failed");
		errno = EPIPE;
		return -1;
	}
	if (c->nqueued >= c->opts.max_queued) {
		msgchan_drop(c, "output queue full");
		errno = ENOBUFS;
		return -1;
	}
	if ((om = calloc(1, sizeof(*om))) == NULL ||
	    (om->data = malloc(b->len)) == NULL) {
		free(om);
		errno = ENOMEM;
		return -1;
	}
	memcpy(om->data, b->data, b->len);
	om->len = b->len;
	om->fd = b->fd == -1 ? -1 : fcntl(b->fd, F_DUPFD_CLOEXEC, 3);
	if (b->fd != -1 && om->fd == -1) {
		free(om->data);
		free(om);
		return -1;
	}
	TAILQ_INSERT_TAIL(&c->outq, om, entry);
	c->nqueued++;
	if (msgchan_flush(c) == -1) {
		msgchan_drop(c, "write failed");
		errno = EPIPE;
		return -1;
	}
	return 0;
}

static void
idle_rearm(struct msgchan *c)
{
	struct timeval tv;

	if (c->ev_idle == NULL)
		return;
	tv.tv_sec = c->idle_ms / 1000;
	tv.tv_usec = (c->idle_ms % 1000) * 1000;
	evtimer_add(c->ev_idle, &tv);
}

static void
idle_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan *c = arg;

	if (c->idle_busy != NULL && c->idle_busy(c)) {
		idle_rearm(c);
		return;
	}
	log_info("drop peer pid=%d uid=%u: idle for %u ms (peer_idle_timeout)",
	    (int)c->cred.pid, (unsigned)c->cred.uid, c->idle_ms);
	msgchan_drop(c, "idle");
}

void
msgchan_set_idle(struct msgchan *c, uint32_t ms, int (*busy)(struct msgchan *))
{
	if (c->ev_idle == NULL && ms != 0)
		c->ev_idle = evtimer_new(event_get_base(c->ev_read), idle_cb, c);
	c->idle_ms = ms;
	c->idle_busy = busy;
	if (c->ev_idle == NULL)
		return;
	if (ms == 0)
		evtimer_del(c->ev_idle);
	else
		idle_rearm(c);
}

/* Reads one datagram; returns 1 if a message was delivered, 0 if none, -1 on
 * a misbehaving or vanished peer. */
static int
msgchan_read_one(struct msgchan *c)
{
	struct msg m;
	ssize_t n;
	int pfd;

	n = msg_recvraw(c->fd, c->rbuf, c->rcap, &pfd);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return -1;
	if (msg_parse(&m, c->rbuf, n, c->opts.maxsize) == -1 ||
	    (pfd != -1 && !c->opts.allow_fds)) {
		if (pfd != -1)
			close(pfd);
		log_warnx("drop peer pid=%d uid=%u: malformed message",
		    (int)c->cred.pid, (unsigned)c->cred.uid);
		return -1;
	}
	m.fd = pfd;
	m.peer = c->peer;
	idle_rearm(c);
	c->on_msg(c, &m, c->arg);
	msg_dispose(&m);
	return 1;
}

static void
msgchan_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct msgchan *c = arg;
	size_t i;
	int r;

	c->busy++;
	/*
	 * By default one datagram per wake-up: the event is level-triggered,
	 * so a peer with more queued is called again on the next loop turn,
	 * after every other ready peer (fair), and the common one-message case
	 * costs one recvmsg instead of a second one that only returns EAGAIN.
	 * A channel whose peers pipeline (msgchan_set_read_batch) trades that
	 * for one epoll_wait per read_batch messages.
	 */
	for (i = 0; i < c->read_batch && !c->dead; i++) {
		r = msgchan_read_one(c);
		if (r == -1) {
			msgchan_drop(c, "hangup or malformed");
			break;
		}
		if (r == 0)
			break;
	}
	c->busy--;
	if (c->freed && c->busy == 0) {
		c->freed = 0;
		msgchan_free(c);
	}
}

int
msgchan_fd(const struct msgchan *c)
{
	return c->fd;
}

const struct ucred *
msgchan_cred(const struct msgchan *c)
{
	return &c->cred;
}

uint32_t
msgchan_peer(const struct msgchan *c)
{
	return c->peer;
}

void
msgchan_set_peer(struct msgchan *c, uint32_t peer)
{
	c->peer = peer;
}

void *
msgchan_arg(const struct msgchan *c)
{
	return c->arg;
}

void
msgchan_set_arg(struct msgchan *c, void *arg)
{
	c->arg = arg;
}

void
msgchan_set_read_batch(struct msgchan *c, size_t n)
{
	c->read_batch = n > 0 ? n : 1;
}
