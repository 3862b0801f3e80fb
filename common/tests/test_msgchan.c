/*
 * test_msgchan: proves the libevent message channel (common/msgchan.c) with
 * real SOCK_SEQPACKET socketpairs:
 *  - messages are delivered in order, also more than one read batch;
 *  - a flooding peer does not starve another channel (bounded read batch);
 *  - on_close runs exactly once when the peer hangs up;
 *  - msgchan_drop and msgchan_free from inside on_msg are safe (no further
 *    delivery, no use-after-free: this file also runs under ASan/valgrind);
 *  - a channel without on_close frees itself after a drop;
 *  - the output queue is bounded: a peer that does not read is dropped
 *    (ENOBUFS), and a queue that is only temporarily blocked (EAGAIN) is
 *    flushed in order once the peer reads;
 *  - a MSG_MAX_LIMIT message goes through although it is bigger than the
 *    default socket send buffer;
 *  - fds: received when allowed; when not allowed the peer is dropped and
 *    the fd closed; a sent fd is dup'ed (the caller keeps its own);
 *  - malformed (header len mismatch) and oversize datagrams drop the peer
 *    without delivering anything;
 *  - SO_PEERCRED: a root peer is PEER_ADMIN; cred/fd/arg accessors.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "log.h"
#include "msg.h"

enum { ACT_NONE, ACT_DROP, ACT_FREE, ACT_DROP_FREE, ACT_TAKE_FD };

struct ctx {
	struct event_base	*base;
	struct msgchan		*c;
	int			 peer;		/* the test's end */
	int			 nmsg;
	uint32_t		 next;		/* expected sequence number */
	int			 order_ok;
	int			 closes;
	int			 act;		/* what on_msg does */
	int			 fd;		/* taken fd */
	int			*clock;		/* shared delivery counter */
	int			 seen_at;	/* clock value at first msg */
};

static void
on_msg(struct msgchan *c, struct msg *m, void *arg)
{
	struct ctx *x = arg;
	uint32_t v;

	if (msg_get_u32(m, &v) == -1 || msg_end(m) == -1 || v != x->next)
		x->order_ok = 0;
	x->next++;
	if (x->nmsg++ == 0 && x->clock != NULL)
		x->seen_at = *x->clock;
	if (x->clock != NULL)
		(*x->clock)++;
	switch (x->act) {
	case ACT_DROP:
		msgchan_drop(c, "test");
		break;
	case ACT_FREE:
		msgchan_free(c);
		x->c = NULL;
		break;
	case ACT_DROP_FREE:
		msgchan_drop(c, "test");
		msgchan_free(c);
		x->c = NULL;
		break;
	case ACT_TAKE_FD:
		x->fd = msg_take_fd(m);
		break;
	}
}

static void
on_close(struct msgchan *c, void *arg)
{
	struct ctx *x = arg;

	x->closes++;
	msgchan_free(c);
	x->c = NULL;
}

static void
setup(struct ctx *x, const struct msgchan_opts *o, int act)
{
	int sv[2];

	memset(x, 0, sizeof(*x));
	x->order_ok = 1;
	x->act = act;
	x->fd = -1;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	x->base = event_base_new();
	assert_non_null(x->base);
	x->c = msgchan_new(x->base, sv[0], o, on_msg, on_close, x);
	assert_non_null(x->c);
	x->peer = sv[1];
}

static void
teardown(struct ctx *x)
{
	if (x->c != NULL)
		msgchan_free(x->c);
	if (x->peer != -1)
		close(x->peer);
	if (x->fd != -1)
		close(x->fd);
	event_base_free(x->base);
}

/* Runs the loop for about ms milliseconds. */
static void
spin(struct event_base *base, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
send_seq(int s, uint32_t v, int fd)
{
	struct msgbuf b;

	msgbuf_init(&b, 50, v);
	msgbuf_put_u32(&b, v);
	msgbuf_set_fd(&b, fd);
	assert_int_equal(msg_send_fd(s, &b), 0);
	msgbuf_dispose(&b);
}

static void
big_sndbuf(int s)
{
	int sz = 4 << 20;

	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
}

static void
test_in_order(void **state)
{
	struct ctx x;
	uint32_t i;

	setup(&x, NULL, ACT_NONE);
	big_sndbuf(x.peer);
	for (i = 0; i < 500; i++)	/* ~8 read batches */
		send_seq(x.peer, i, -1);
	for (i = 0; i < 100 && x.nmsg < 500; i++)
		spin(x.base, 10);
	assert_int_equal(x.nmsg, 500);
	assert_true(x.order_ok);
	assert_int_equal(x.closes, 0);
	teardown(&x);
}

static void
test_fairness(void **state)
{
	struct ctx a, b;
	int clock = 0, i;

	setup(&a, NULL, ACT_NONE);
	setup(&b, NULL, ACT_NONE);
	/* b's channel lives on a's base so both share one loop */
	msgchan_free(b.c);
	b.c = NULL;
	{
		int sv[2];

		assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
		close(b.peer);
		b.peer = sv[1];
		b.c = msgchan_new(a.base, sv[0], NULL, on_msg, on_close, &b);
		assert_non_null(b.c);
	}
	a.clock = b.clock = &clock;
	big_sndbuf(a.peer);
	for (i = 0; i < 1000; i++)
		send_seq(a.peer, i, -1);
	send_seq(b.peer, 0, -1);
	for (i = 0; i < 100 && a.nmsg + b.nmsg < 1001; i++)
		spin(a.base, 10);
	assert_int_equal(a.nmsg, 1000);
	assert_int_equal(b.nmsg, 1);
	assert_true(a.order_ok && b.order_ok);
	/* b was served long before a's flood was through */
	assert_true(b.seen_at < 200);
	msgchan_free(b.c);
	b.c = NULL;
	close(b.peer);
	b.peer = -1;
	teardown(&a);
	event_base_free(b.base);
}

static void
test_hangup(void **state)
{
	struct ctx x;

	setup(&x, NULL, ACT_NONE);
	send_seq(x.peer, 0, -1);
	close(x.peer);
	x.peer = -1;
	spin(x.base, 50);
	assert_int_equal(x.nmsg, 1);	/* delivered before the EOF */
	assert_int_equal(x.closes, 1);
	assert_null(x.c);
	spin(x.base, 20);
	assert_int_equal(x.closes, 1);
	teardown(&x);
}

static void
test_callback_drop(void **state)
{
	static const int acts[] = { ACT_DROP, ACT_FREE, ACT_DROP_FREE };
	struct ctx x;
	ssize_t r;
	char c;
	size_t i;

	for (i = 0; i < 3; i++) {
		setup(&x, NULL, acts[i]);
		send_seq(x.peer, 0, -1);
		send_seq(x.peer, 1, -1);
		send_seq(x.peer, 2, -1);
		spin(x.base, 50);
		assert_int_equal(x.nmsg, 1);	/* nothing after the drop */
		assert_int_equal(x.closes, acts[i] == ACT_DROP ? 1 : 0);
		assert_null(x.c);
		/* our end was closed: the peer sees EOF (or a reset, as it
		 * went with unread messages), not EAGAIN */
		r = recv(x.peer, &c, 1, MSG_DONTWAIT);
		assert_true(r == 0 || (r == -1 && errno == ECONNRESET));
		teardown(&x);
	}
}

static void
test_no_close_cb(void **state)
{
	struct event_base *base;
	struct msgchan *c;
	int sv[2];
	char ch;

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	base = event_base_new();
	c = msgchan_new(base, sv[0], NULL, on_msg, NULL, NULL);
	assert_non_null(c);
	msgchan_drop(c, "test");
	msgchan_drop(c, "twice is harmless");
	spin(base, 20);		/* frees c: leak checkers see it */
	assert_int_equal(recv(sv[1], &ch, 1, MSG_DONTWAIT), 0);
	close(sv[1]);
	event_base_free(base);
}

static void
test_queue_bound(void **state)
{
	struct msgchan_opts o = { .max_queued = 4 };
	struct ctx x;
	struct msgbuf b;
	static uint8_t chunk[64 * 1024];
	int i, r = 0, sent = 0;

	setup(&x, &o, ACT_NONE);
	msgbuf_init(&b, 60, 0);
	msgbuf_put_blob(&b, chunk, sizeof(chunk));
	for (i = 0; i < 1000; i++) {
		if ((r = msgchan_send(x.c, &b)) == -1)
			break;
		sent++;
	}
	assert_int_equal(r, -1);
	assert_int_equal(errno, ENOBUFS);
	assert_true(sent >= 4 && sent < 100);
	assert_int_equal(msgchan_send(x.c, &b), -1);	/* dead now */
	assert_int_equal(errno, EPIPE);
	msgbuf_dispose(&b);
	spin(x.base, 20);
	assert_int_equal(x.closes, 1);
	teardown(&x);
}

static void
test_queue_flush(void **state)
{
	struct ctx x;
	struct msgbuf b;
	struct msg m;
	static uint8_t chunk[64 * 1024];
	const void *p;
	size_t n;
	uint32_t i, v, got = 0;

	setup(&x, NULL, ACT_NONE);
	for (i = 0; i < 20; i++) {	/* ~3 fit the kernel, the rest queue */
		msgbuf_init(&b, 61, i);
		msgbuf_put_u32(&b, i);
		msgbuf_put_blob(&b, chunk, sizeof(chunk));
		assert_int_equal(msgchan_send(x.c, &b), 0);
		msgbuf_dispose(&b);
	}
	while (got < 20) {
		spin(x.base, 5);
		while (msg_recv_fd(x.peer, &m, sizeof(chunk) + 8, 0, 0) == 0) {
			assert_int_equal(m.hdr.reqid, got);
			assert_int_equal(msg_get_u32(&m, &v), 0);
			assert_int_equal(v, got);
			assert_int_equal(msg_get_blob(&m, &p, &n, sizeof(chunk)),
			    0);
			assert_int_equal(msg_end(&m), 0);
			msg_dispose(&m);
			got++;
		}
		assert_int_equal(errno, ETIMEDOUT);
	}
	assert_int_equal(x.closes, 0);
	teardown(&x);
}

static void
test_big_message(void **state)
{
	struct ctx x;
	struct msgbuf b;
	struct msg m;
	uint8_t *big = malloc(MSG_MAX_LIMIT - 4);
	const void *p;
	size_t n, i;

	/* bigger than the default send buffer: the channel grows it */
	assert_non_null(big);
	for (i = 0; i < MSG_MAX_LIMIT - 4; i++)
		big[i] = (uint8_t)(i >> 3);
	setup(&x, NULL, ACT_NONE);
	msgbuf_init(&b, 63, 0);
	msgbuf_put_blob(&b, big, MSG_MAX_LIMIT - 4);
	assert_int_equal(msgchan_send(x.c, &b), 0);
	msgbuf_dispose(&b);
	spin(x.base, 10);
	assert_int_equal(msg_recv_fd(x.peer, &m, MSG_MAX_LIMIT, 0, 1000), 0);
	assert_int_equal(msg_get_blob(&m, &p, &n, MSG_MAX_LIMIT), 0);
	assert_int_equal(n, MSG_MAX_LIMIT - 4);
	assert_memory_equal(p, big, n);
	msg_dispose(&m);
	assert_int_equal(x.closes, 0);
	teardown(&x);
	free(big);
}

static void
test_fds(void **state)
{
	struct msgchan_opts o = { .allow_fds = 1 };
	struct ctx x;
	struct msgbuf b;
	struct msg m;
	int p[2];
	char c;

	/* allowed: the handler takes it and it works */
	setup(&x, &o, ACT_TAKE_FD);
	assert_int_equal(pipe(p), 0);
	send_seq(x.peer, 0, p[1]);
	close(p[1]);
	spin(x.base, 30);
	assert_int_equal(x.nmsg, 1);
	assert_int_not_equal(x.fd, -1);
	assert_int_equal(write(x.fd, "k", 1), 1);
	close(x.fd);
	x.fd = -1;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);

	/* sending one: the channel dups it, the caller keeps its own */
	assert_int_equal(pipe(p), 0);
	msgbuf_init(&b, 62, 0);
	msgbuf_set_fd(&b, p[1]);
	assert_int_equal(msgchan_send(x.c, &b), 0);
	msgbuf_dispose(&b);
	assert_int_equal(fcntl(p[1], F_GETFD), 0);
	assert_int_equal(msg_recv_fd(x.peer, &m, 64, 1, 1000), 0);
	assert_int_not_equal(m.fd, -1);
	msg_dispose(&m);
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 0);	/* no copy leaked */
	close(p[0]);
	teardown(&x);

	/* not allowed: dropped, nothing delivered, fd closed */
	setup(&x, NULL, ACT_TAKE_FD);
	assert_int_equal(pipe(p), 0);
	send_seq(x.peer, 0, p[1]);
	close(p[1]);
	spin(x.base, 30);
	assert_int_equal(x.nmsg, 0);
	assert_int_equal(x.closes, 1);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	teardown(&x);
}

static void
test_malformed(void **state)
{
	struct msgchan_opts o = { .maxsize = 64 };
	struct msg_hdr h = { 50, 8, 0, 0 };
	uint8_t buf[MSG_HDR_SIZE + 128] = { 0 };
	struct ctx x;
	int p[2];
	char c;

	/* header says 8, datagram holds 4 */
	setup(&x, &o, ACT_NONE);
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(send(x.peer, buf, MSG_HDR_SIZE + 4, 0),
	    MSG_HDR_SIZE + 4);
	send_seq(x.peer, 0, -1);
	spin(x.base, 30);
	assert_int_equal(x.nmsg, 0);
	assert_int_equal(x.closes, 1);
	teardown(&x);

	/* bigger than the channel's maxsize */
	setup(&x, &o, ACT_NONE);
	h.len = 128;
	memcpy(buf, &h, sizeof(h));
	assert_int_equal(send(x.peer, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	spin(x.base, 30);
	assert_int_equal(x.nmsg, 0);
	assert_int_equal(x.closes, 1);
	teardown(&x);

	/* an empty datagram */
	setup(&x, &o, ACT_NONE);
	assert_int_equal(send(x.peer, buf, 0, 0), 0);
	spin(x.base, 30);
	assert_int_equal(x.nmsg, 0);
	assert_int_equal(x.closes, 1);
	teardown(&x);

	/* an empty datagram carrying an fd, on a channel that allows fds:
	 * dropped, and the fd is not leaked (found by fuzz_msg) */
	o.allow_fds = 1;
	setup(&x, &o, ACT_NONE);
	assert_int_equal(pipe(p), 0);
	{
		struct iovec iov = { buf, 0 };
		char cb[CMSG_SPACE(sizeof(int))];
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
		    .msg_control = cb, .msg_controllen = sizeof(cb) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);

		memset(cb, 0, sizeof(cb));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
		assert_int_equal(sendmsg(x.peer, &mh, 0), 0);
	}
	close(p[1]);
	spin(x.base, 30);
	assert_int_equal(x.nmsg, 0);
	assert_int_equal(x.closes, 1);
	assert_int_equal(read(p[0], &c, 1), 0);
	close(p[0]);
	teardown(&x);
}

static void
test_cred(void **state)
{
	struct ctx x;
	int y;

	setup(&x, NULL, ACT_NONE);
	/* a disposed or failed msgbuf is refused and the channel lives on */
	{
		struct msgbuf b;

		msgbuf_init(&b, 1, 0);
		msgbuf_dispose(&b);
		assert_int_equal(msgchan_send(x.c, &b), -1);
		assert_int_equal(errno, EINVAL);
		msgbuf_init(&b, 1, 0);
		msgbuf_put_blob(&b, &b, MSG_MAX_LIMIT + 1);
		assert_int_equal(msgchan_send(x.c, &b), -1);
		assert_int_equal(errno, EMSGSIZE);
		msgbuf_dispose(&b);
		spin(x.base, 10);
		assert_int_equal(x.closes, 0);
		assert_int_equal(recv(x.peer, &y, 1, MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
	}
	assert_int_equal(msgchan_cred(x.c)->pid, getpid());
	assert_int_equal(msgchan_cred(x.c)->uid, getuid());
	if (getuid() == 0)
		assert_int_equal(msgchan_peer(x.c), PEER_ADMIN);
	assert_true(msgchan_fd(x.c) >= 0);
	assert_ptr_equal(msgchan_arg(x.c), &x);
	msgchan_set_arg(x.c, &y);
	assert_ptr_equal(msgchan_arg(x.c), &y);
	msgchan_set_arg(x.c, &x);
	teardown(&x);

	/* not a socket: refused, and the caller still owns the fd */
	{
		struct event_base *base = event_base_new();
		int p[2];

		assert_int_equal(pipe(p), 0);
		assert_null(msgchan_new(base, p[0], NULL, on_msg, on_close,
		    NULL));
		assert_int_equal(fcntl(p[0], F_GETFD), 0);
		close(p[0]);
		close(p[1]);
		event_base_free(base);
	}

	/* a peer whose uid is mapped to a daemon class */
	peer_set_uid(PEER_HOTPLUGD, getuid());
	setup(&x, NULL, ACT_NONE);
	assert_true(msgchan_peer(x.c) & PEER_HOTPLUGD);
	teardown(&x);
	peer_set_uid(PEER_HOTPLUGD, (uid_t)-1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_fairness),
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_callback_drop),
		cmocka_unit_test(test_no_close_cb),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_queue_flush),
		cmocka_unit_test(test_big_message),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_cred),
	};

	log_init("test_msgchan", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
