/*
 * fuzz_msg: libFuzzer target for the message layer (common/msg.c).
 *
 * Input: 4 bytes of "program" then one raw datagram.  Proves, for any
 * datagram:
 *  - msg_parse accepts only a header whose len is exactly the rest;
 *  - a program of up to 8 typed getters (u32/u64/i64/str/blob/end with
 *    varying bounds) never reads outside the datagram, a failed getter
 *    leaves the cursor where it was, a string has no NUL and fits its
 *    buffer, a blob respects its max;
 *  - re-building what the getters returned with msgbuf_put_* gives back
 *    exactly the bytes consumed (the encoding is canonical);
 *  - msg_recv_fd over a real SOCK_SEQPACKET socketpair, with or without an
 *    fd attached and allowed, returns either a message matching the
 *    datagram or EBADMSG/ECONNRESET, consumes the datagram and leaks no fd;
 *  - the datagram sent twice into a libevent msgchan with a dispatch table:
 *    a malformed one (or an fd where none is allowed) drops the peer with
 *    nothing delivered; a handler refusing it (unknown type, wrong peer
 *    class, bad payload) drops the peer after exactly one delivery; else
 *    both arrive; on_close runs at most once; no fd leaks after teardown.
 * Any violation traps (a crash libFuzzer reports).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "msg.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

ssize_t msg_sendraw(int fd, const uint8_t *data, size_t len, int passfd,
    int flags);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const size_t strsz[] = { 0, 1, 2, 4, 8, 64, 4096, 5 };
static const size_t blobmax[] = { 0, 1, 3, 16, 255, 4096, 65536, 7 };
static const size_t maxsizes[] = { 0, 8, 256, 4096 };

/* One getter; returns 0/-1 and appends what it read to b. */
static int
run_op(struct msg *m, unsigned op, struct msgbuf *b)
{
	char s[4096];
	const void *p;
	size_t n, bs;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;

	switch (op & 7) {
	case 0:
		if (msg_get_u32(m, &u32) == -1)
			return -1;
		msgbuf_put_u32(b, u32);
		return 0;
	case 1:
		if (msg_get_u64(m, &u64) == -1)
			return -1;
		msgbuf_put_u64(b, u64);
		return 0;
	case 2:
		if (msg_get_i64(m, &i64) == -1)
			return -1;
		msgbuf_put_i64(b, i64);
		return 0;
	case 3:
	case 4:
		bs = strsz[(op >> 1) & 7];
		if (msg_get_str(m, s, bs) == -1)
			return -1;
		n = strlen(s);
		CHECK(bs > 0 && n < bs);
		msgbuf_put_str(b, s);
		return 0;
	case 5:
	case 6:
		bs = blobmax[(op >> 1) & 7];
		if (msg_get_blob(m, &p, &n, bs) == -1)
			return -1;
		CHECK(n <= bs);
		msgbuf_put_blob(b, p, n);
		return 0;
	default:
		return msg_end(m) == 0 ? (m->left == 0 ? 0 : -2) :
		    (m->left != 0 ? 1 : -2);
	}
}

static void
check_getters(uint32_t prog, const uint8_t *d, size_t n)
{
	struct msg m;
	struct msgbuf b;
	const uint8_t *p0, *before;
	size_t left0, consumed;
	int i, r;

	if (msg_parse(&m, d, n, 65536) == -1) {
		CHECK(n < MSG_HDR_SIZE || m.hdr.len != n - MSG_HDR_SIZE ||
		    n - MSG_HDR_SIZE > 65536);
		return;
	}
	CHECK(m.hdr.len == n - MSG_HDR_SIZE && m.left == m.hdr.len);
	p0 = m.p;
	msgbuf_init(&b, m.hdr.type, m.hdr.reqid);
	for (i = 0; i < 8; i++) {
		before = m.p;
		left0 = m.left;
		r = run_op(&m, (prog >> (i * 4)) & 15, &b);
		CHECK(r != -2);
		CHECK(m.p >= p0 && m.p + m.left == p0 + m.hdr.len);
		if (r != 0)
			CHECK(m.p == before && m.left == left0);
	}
	consumed = (size_t)(m.p - p0);
	CHECK(b.err == 0);
	CHECK(b.len - MSG_HDR_SIZE == consumed);
	CHECK(memcmp(b.data + MSG_HDR_SIZE, p0, consumed) == 0);
	msgbuf_dispose(&b);
}

static int sv[2] = { -1, -1 };
static struct event_base *base;

/*
 * fd leak checks do not use fd numbers (the sanitizer runtime opens pipes
 * for its symbolizer at any time): each passed fd is the write end of a
 * fresh pipe, and once every copy is closed the read end sees EOF.
 */
static int
pass_open(int *rd)
{
	int p[2];

	CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
	*rd = p[0];
	return p[1];
}

/* Closes our write end; true when no other copy is left open anywhere. */
static int
pass_closed(int wr, int rd)
{
	char c;
	ssize_t r;

	if (wr == -1)
		return 1;
	close(wr);
	r = read(rd, &c, 1);
	close(rd);
	return r == 0;
}

/* The long-lived socketpair and event base. */
static void
fuzz_init(void)
{
	if (sv[0] != -1)
		return;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0);
	CHECK((base = event_base_new()) != NULL);
}

static void
check_recv(uint32_t prog, const uint8_t *d, size_t n)
{
	struct msg m;
	size_t maxsize = maxsizes[(prog >> 28) & 3];
	int withfd = (prog >> 30) & 1, allow = prog >> 31, r, wr = -1, rd;
	char c;

	if (n > 65536)
		return;
	if (withfd)
		wr = pass_open(&rd);
	CHECK(msg_sendraw(sv[0], d, n, wr, 0) == (ssize_t)n);
	r = msg_recv_fd(sv[1], &m, maxsize, allow, 1000);
	if (r == 0) {
		CHECK(n >= MSG_HDR_SIZE && m.hdr.len == n - MSG_HDR_SIZE);
		CHECK(m.hdr.len <= maxsize);
		CHECK(memcmp(&m.hdr, d, MSG_HDR_SIZE) == 0);
		CHECK(memcmp(m.p, d + MSG_HDR_SIZE, m.left) == 0);
		CHECK(withfd ? m.fd != -1 : m.fd == -1);
		msg_dispose(&m);
	} else {
		CHECK(errno == EBADMSG || (n == 0 && errno == ECONNRESET));
		CHECK(m.fd == -1 && m.buf == NULL);
	}
	/* the datagram was consumed, no fd leaked */
	CHECK(recv(sv[1], &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN);
	CHECK(pass_closed(wr, rd));
}

/* ---- the same datagram, twice, into a libevent msgchan + dispatch table */

static int chan_msgs, chan_closed;

static int
h_u32(struct msgchan *c, struct msg *m)
{
	uint32_t v;

	return msg_get_u32(m, &v) == -1 || msg_end(m) == -1 ? -1 : 0;
}

static int
h_str(struct msgchan *c, struct msg *m)
{
	char s[64];

	return msg_get_str(m, s, sizeof(s)) == -1 || msg_end(m) == -1 ? -1 : 0;
}

static int
h_fd(struct msgchan *c, struct msg *m)
{
	int fd = msg_take_fd(m);

	if (fd == -1)
		return -1;
	close(fd);
	return msg_end(m);
}

static const struct msg_handler table[] = {
	{ 1, "U32", PEER_ADMIN | PEER_NONE, h_u32 },
	{ 2, "STR", PEER_ADMIN, h_str },
	{ 3, "FD", PEER_ADMIN, h_fd },
	{ 4, "LOCKD_ONLY", PEER_LOCKD, h_u32 },
};

static void
chan_msg(struct msgchan *c, struct msg *m, void *arg)
{
	chan_msgs++;
	if (msg_dispatch(table, 4, c, m) == -1)
		msgchan_drop(c, "fuzz");
}

static void
chan_close(struct msgchan *c, void *arg)
{
	chan_closed++;
	msgchan_free(c);
}

static void
check_chan(uint32_t prog, const uint8_t *d, size_t n)
{
	struct msgchan_opts o = { .maxsize = maxsizes[(prog >> 28) & 3],
	    .allow_fds = prog >> 31 };
	struct msgchan *c;
	struct msg m;
	int p[2], withfd = (prog >> 30) & 1, wellformed, i, wr = -1, rd;
	char ch;
	ssize_t r;

	if (n > 65536)
		return;
	CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, p) == 0);
	c = msgchan_new(base, p[0], &o, chan_msg, chan_close, NULL);
	CHECK(c != NULL);
	chan_msgs = chan_closed = 0;
	if (withfd)
		wr = pass_open(&rd);
	for (i = 0; i < 2; i++)
		CHECK(msg_sendraw(p[1], d, n, wr, 0) == (ssize_t)n);
	for (i = 0; i < 3; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	wellformed = n > 0 && msg_parse(&m, d, n, o.maxsize ? o.maxsize :
	    MSG_MAX_DEFAULT) == 0 && (!withfd || o.allow_fds);
	CHECK(chan_closed <= 1);
	if (!wellformed)
		CHECK(chan_msgs == 0 && chan_closed == 1);
	else
		CHECK(chan_msgs == (chan_closed ? 1 : 2));
	if (!chan_closed)
		msgchan_free(c);
	/* the channel closed its socket ... */
	r = recv(p[1], &ch, 1, MSG_DONTWAIT);
	CHECK(r == 0 || (r == -1 && errno == ECONNRESET));
	close(p[1]);
	/* ... and every copy of the passed fd */
	CHECK(pass_closed(wr, rd));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t prog;

	if (size < 4)
		return 0;
	log_init("fuzz_msg", 1, LOG_LEVEL_QUIET);
	fuzz_init();
	memcpy(&prog, data, 4);
	check_getters(prog, data + 4, size - 4);
	check_recv(prog, data + 4, size - 4);
	check_chan(prog, data + 4, size - 4);
	return 0;
}
