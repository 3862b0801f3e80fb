/*
 * test_msg: proves the message builder and the typed, bounded getters of
 * common/msg.c are exact:
 *  - every msgbuf_put_* value comes back unchanged from its msg_get_*,
 *    and the header carries type, reqid, pid and the exact payload length;
 *  - short data, trailing data (msg_end), a string with an embedded NUL,
 *    a string longer than the caller's buffer and a blob over its max are
 *    refused, and a refused getter does not move the read cursor;
 *  - msg_parse refuses a header whose len differs from the datagram, a
 *    payload over maxsize and a datagram shorter than the header;
 *  - msgbuf refuses to grow past MSG_MAX_LIMIT (err = EMSGSIZE), keeps the
 *    error sticky, and a disposed msgbuf cannot be written to;
 *  - msgbuf_init_buf builds in caller storage: the same bytes as a heap
 *    msgbuf, a put beyond the storage fails EMSGSIZE (sticky, nothing
 *    written past it), dispose never frees it; send(2) without an fd and
 *    sendmsg(2) with one both arrive whole;
 *  - peer classes: uid 0 is PEER_ADMIN, peer_set_uid maps a uid to its
 *    class, names parse back to their bits;
 *  - msg_dispatch refuses unknown types and unpermitted peer classes
 *    (handler not called) and calls the handler otherwise.
 */
#include <errno.h>
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

/* Builds a struct msg that reads b's payload (b must outlive m). */
static void
parse_buf(struct msg *m, const struct msgbuf *b)
{
	assert_int_equal(b->err, 0);
	assert_int_equal(msg_parse(m, b->data, b->len, MSG_MAX_LIMIT), 0);
}

static void
test_roundtrip(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	char s[16];
	const void *p;
	size_t n;
	static const uint8_t blob[5] = { 0, 1, 0xff, '\n', 0 };

	msgbuf_init(&b, 4242, 77);
	msgbuf_put_u32(&b, 0xdeadbeef);
	msgbuf_put_u64(&b, UINT64_MAX);
	msgbuf_put_i64(&b, INT64_MIN);
	msgbuf_put_str(&b, "vbd");
	msgbuf_put_str(&b, "");
	msgbuf_put_blob(&b, blob, sizeof(blob));
	msgbuf_put_str(&b, NULL);	/* NULL travels as "" */
	parse_buf(&m, &b);
	assert_int_equal(m.hdr.type, 4242);
	assert_int_equal(m.hdr.reqid, 77);
	assert_int_equal(m.hdr.pid, (uint32_t)getpid());
	assert_int_equal(m.hdr.len, b.len - MSG_HDR_SIZE);
	assert_int_equal(m.fd, -1);
	assert_int_equal(msg_get_u32(&m, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(msg_get_u64(&m, &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(msg_get_i64(&m, &i64), 0);
	assert_true(i64 == INT64_MIN);
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), 0);
	assert_string_equal(s, "vbd");
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), 0);
	assert_string_equal(s, "");
	assert_int_equal(msg_get_blob(&m, &p, &n, sizeof(blob)), 0);
	assert_int_equal(n, sizeof(blob));
	assert_memory_equal(p, blob, sizeof(blob));
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), 0);
	assert_string_equal(s, "");
	assert_int_equal(msg_end(&m), 0);
	/* Reading past the end fails and leaves the message at its end. */
	assert_int_equal(msg_get_u32(&m, &u32), -1);
	assert_int_equal(msg_end(&m), 0);
	msgbuf_dispose(&b);
}

static void
test_short_data(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	uint16_t half = 7;

	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, &half, 0);	/* u32 0 = empty blob */
	parse_buf(&m, &b);
	assert_int_equal(msg_get_u64(&m, &u64), -1);
	assert_int_equal(msg_get_i64(&m, &i64), -1);
	assert_int_equal(m.left, 4);		/* cursor did not move */
	assert_int_equal(msg_get_u32(&m, &u32), 0);
	assert_int_equal(u32, 0);
	assert_int_equal(msg_get_u32(&m, &u32), -1);
	msgbuf_dispose(&b);

	/* 3 bytes cannot make a u32. */
	msgbuf_init(&b, 1, 0);
	msgbuf_put_u32(&b, 9);
	b.len -= 1;
	((struct msg_hdr *)(void *)b.data)->len -= 1;
	parse_buf(&m, &b);
	assert_int_equal(msg_get_u32(&m, &u32), -1);
	assert_int_equal(m.left, 3);
	assert_int_equal(msg_end(&m), -1);
	msgbuf_dispose(&b);
}

static void
test_trailing(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint32_t u32;

	msgbuf_init(&b, 1, 0);
	msgbuf_put_u32(&b, 1);
	msgbuf_put_u32(&b, 2);
	parse_buf(&m, &b);
	assert_int_equal(msg_get_u32(&m, &u32), 0);
	assert_int_equal(msg_end(&m), -1);
	assert_int_equal(msg_get_u32(&m, &u32), 0);
	assert_int_equal(u32, 2);
	assert_int_equal(msg_end(&m), 0);
	msgbuf_dispose(&b);
}

static void
test_str_refused(void **state)
{
	struct msgbuf b;
	struct msg m;
	char s[8];
	const void *p;
	size_t n;
	uint32_t u32;

	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, "ab\0cd", 5);	/* embedded NUL */
	msgbuf_put_str(&b, "1234567");		/* fits s[8] exactly */
	msgbuf_put_str(&b, "12345678");		/* one too long */
	parse_buf(&m, &b);
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), -1);
	assert_int_equal(m.left, b.len - MSG_HDR_SIZE);	/* not consumed */
	assert_int_equal(msg_get_blob(&m, &p, &n, 5), 0);	/* as a blob: ok */
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), 0);
	assert_string_equal(s, "1234567");
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), -1);
	assert_int_equal(m.left, 4 + 8);
	assert_int_equal(msg_get_str(&m, s, 0), -1);
	assert_int_equal(msg_get_blob(&m, &p, &n, 7), -1);	/* over max */
	assert_int_equal(m.left, 4 + 8);
	assert_int_equal(msg_get_blob(&m, &p, &n, 8), 0);
	assert_int_equal(msg_end(&m), 0);
	msgbuf_dispose(&b);

	/* A length prefix larger than what is left is refused, not read. */
	msgbuf_init(&b, 1, 0);
	msgbuf_put_u32(&b, 100);
	msgbuf_put_u32(&b, 0);
	parse_buf(&m, &b);
	assert_int_equal(msg_get_blob(&m, &p, &n, 1000), -1);
	assert_int_equal(msg_get_str(&m, s, sizeof(s)), -1);
	assert_int_equal(m.left, 8);
	assert_int_equal(msg_get_u32(&m, &u32), 0);
	assert_int_equal(u32, 100);
	msgbuf_dispose(&b);
}

static void
test_parse_refused(void **state)
{
	struct msgbuf b;
	struct msg m;

	msgbuf_init(&b, 5, 1);
	msgbuf_put_u64(&b, 1);
	/* len field disagrees with the datagram size, both ways */
	((struct msg_hdr *)(void *)b.data)->len = 9;
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_DEFAULT), -1);
	((struct msg_hdr *)(void *)b.data)->len = 7;
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_DEFAULT), -1);
	((struct msg_hdr *)(void *)b.data)->len = UINT32_MAX;
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_DEFAULT), -1);
	((struct msg_hdr *)(void *)b.data)->len = 8;
	/* over the channel's maximum */
	assert_int_equal(msg_parse(&m, b.data, b.len, 7), -1);
	assert_int_equal(msg_parse(&m, b.data, b.len, 8), 0);
	/* shorter than a header */
	assert_int_equal(msg_parse(&m, b.data, MSG_HDR_SIZE - 1, 8), -1);
	assert_int_equal(msg_parse(&m, b.data, 0, 8), -1);
	assert_int_equal(m.fd, -1);
	/* header only: empty payload is fine */
	((struct msg_hdr *)(void *)b.data)->len = 0;
	assert_int_equal(msg_parse(&m, b.data, MSG_HDR_SIZE, 0), 0);
	assert_int_equal(msg_end(&m), 0);
	msgbuf_dispose(&b);
}

static void
test_msgbuf_limit(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint8_t *big;
	const void *p;
	size_t n;

	big = calloc(1, MSG_MAX_LIMIT + 1);
	assert_non_null(big);
	/* exactly MSG_MAX_LIMIT of payload fits */
	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, big, MSG_MAX_LIMIT - 4);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, MSG_HDR_SIZE + MSG_MAX_LIMIT);
	parse_buf(&m, &b);
	assert_int_equal(msg_get_blob(&m, &p, &n, MSG_MAX_LIMIT), 0);
	assert_int_equal(n, MSG_MAX_LIMIT - 4);
	/* one more byte does not, and the error sticks */
	msgbuf_put_u32(&b, 1);
	assert_int_equal(b.err, EMSGSIZE);
	assert_int_equal(b.len, MSG_HDR_SIZE + MSG_MAX_LIMIT);
	msgbuf_put_blob(&b, NULL, 0);
	assert_int_equal(b.err, EMSGSIZE);
	msgbuf_dispose(&b);

	/* one blob over the limit */
	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, big, MSG_MAX_LIMIT + 1);
	assert_int_equal(b.err, EMSGSIZE);
	msgbuf_dispose(&b);

	/* sizes that would overflow 32-bit length prefixes or size_t sums */
	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, big, (size_t)UINT32_MAX + 1);
	assert_int_equal(b.err, EMSGSIZE);
	msgbuf_dispose(&b);
	msgbuf_init(&b, 1, 0);
	msgbuf_put_blob(&b, big, SIZE_MAX);
	assert_int_equal(b.err, EMSGSIZE);
	assert_int_equal(b.len, MSG_HDR_SIZE);
	msgbuf_dispose(&b);
	free(big);

	/* a disposed msgbuf refuses writes instead of crashing */
	msgbuf_init(&b, 1, 0);
	msgbuf_dispose(&b);
	msgbuf_put_u32(&b, 1);
	assert_int_not_equal(b.err, 0);
	assert_null(b.data);
	msgbuf_dispose(&b);
}

static void
test_growth(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint32_t i, v;

	/* many small puts across several reallocs keep every byte */
	msgbuf_init(&b, 3, 0);
	for (i = 0; i < 10000; i++)
		msgbuf_put_u32(&b, i * 2654435761u);
	parse_buf(&m, &b);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(msg_get_u32(&m, &v), 0);
		assert_int_equal(v, i * 2654435761u);
	}
	assert_int_equal(msg_end(&m), 0);
	msgbuf_dispose(&b);
}

static void
test_fixed_buf(void **state)
{
	uint8_t store[MSG_HDR_SIZE + 8 + 4], guard = 0xa5, rx[64];
	struct msgbuf f, h;
	struct msg m;
	uint32_t v;
	int sv[2], fd;

	msgbuf_init_buf(&f, 9, 5, store, sizeof(store) - 4);
	msgbuf_init(&h, 9, 5);
	msgbuf_put_u32(&f, 1);
	msgbuf_put_u32(&f, 2);
	msgbuf_put_u32(&h, 1);
	msgbuf_put_u32(&h, 2);
	assert_int_equal(f.err, 0);
	assert_int_equal(f.len, h.len);
	assert_memory_equal(f.data, h.data, h.len);
	assert_ptr_equal(f.data, store);
	store[sizeof(store) - 4] = guard;
	msgbuf_put_u32(&f, 3);		/* beyond the storage */
	assert_int_equal(f.err, EMSGSIZE);
	assert_int_equal(store[sizeof(store) - 4], guard);
	assert_int_equal(f.len, MSG_HDR_SIZE + 8);
	/* a fixed msgbuf goes out with send(2); one with an fd, sendmsg(2) */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f.err = 0;
	assert_int_equal(msg_send_fd(sv[0], &f), 0);
	assert_int_equal(recv(sv[1], rx, sizeof(rx), 0), (ssize_t)h.len);
	assert_memory_equal(rx, h.data, h.len);
	assert_int_equal(msg_parse(&m, rx, h.len, MSG_MAX_LIMIT), 0);
	assert_int_equal(msg_get_u32(&m, &v), 0);
	assert_int_equal(v, 1);
	msgbuf_set_fd(&h, fd = dup(0));
	assert_int_equal(msg_send_fd(sv[0], &h), 0);
	assert_int_equal(recv(sv[1], rx, sizeof(rx), 0), (ssize_t)h.len);
	close(fd);
	msgbuf_dispose(&f);		/* does not free store (ASan would) */
	assert_null(f.data);
	msgbuf_dispose(&h);
	close(sv[0]);
	close(sv[1]);
	msgbuf_init_buf(&f, 9, 5, store, MSG_HDR_SIZE - 1);
	assert_int_equal(f.err, EMSGSIZE);
}

static void
test_take_fd(void **state)
{
	struct msg m;
	int p[2], fd;

	assert_int_equal(pipe(p), 0);
	memset(&m, 0, sizeof(m));
	m.fd = p[0];
	fd = msg_take_fd(&m);
	assert_int_equal(fd, p[0]);
	assert_int_equal(m.fd, -1);
	msg_dispose(&m);	/* must not close the taken fd */
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(close(fd), 0);

	memset(&m, 0, sizeof(m));
	m.fd = p[1];
	msg_dispose(&m);	/* closes an untaken fd */
	assert_int_equal(close(p[1]), -1);
	assert_int_equal(errno, EBADF);
	msg_dispose(&m);	/* twice is harmless */
}

static void
test_peer_classes(void **state)
{
	struct ucred cr = { .pid = 1, .uid = 0, .gid = 0 };

	assert_int_equal(peer_classify(&cr), PEER_ADMIN);
	cr.uid = 54321;
	assert_int_equal(peer_classify(&cr), PEER_NONE);
	peer_set_uid(PEER_LOCKD, 54321);
	assert_int_equal(peer_classify(&cr), PEER_LOCKD);
	peer_set_uid(PEER_BROKER, 54322);
	cr.uid = 54322;
	assert_int_equal(peer_classify(&cr), PEER_BROKER);
	/* peer_init must not override an explicitly set uid */
	peer_init();
	assert_int_equal(peer_classify(&cr), PEER_BROKER);
	/* a non-class value is ignored */
	peer_set_uid((enum peer_class)(PEER_LOCKD | PEER_BROKER), 1);
	cr.uid = 1;
	assert_int_equal(peer_classify(&cr), PEER_NONE);
	peer_set_uid(PEER_LOCKD, (uid_t)-1);
	cr.uid = 54321;
	assert_int_equal(peer_classify(&cr), PEER_NONE);
	cr.uid = (uid_t)-1;	/* "unset" must not match an unset class */
	assert_int_equal(peer_classify(&cr), PEER_NONE);

	assert_string_equal(peer_class_name(PEER_ADMIN), "admin");
	assert_string_equal(peer_class_name(PEER_WATCHERD), "watcherd");
	assert_string_equal(peer_class_name(0), "unknown");
	assert_int_equal(peer_class_parse("hotplugd"), PEER_HOTPLUGD);
	assert_int_equal(peer_class_parse("broker"), PEER_BROKER);
	assert_int_equal(peer_class_parse("root"), 0);
	assert_int_equal(peer_class_parse(""), 0);
}

/* ---- msg_dispatch over a real channel (needs a socket for the cred) */

static int handler_calls;

static int
h_ok(struct msgchan *c, struct msg *m)
{
	handler_calls++;
	return 0;
}

static int
h_bad(struct msgchan *c, struct msg *m)
{
	handler_calls++;
	return -1;
}

static const struct msg_handler table[] = {
	{ 10, "TEN", PEER_ADMIN, h_ok },
	{ 11, "ELEVEN", PEER_LOCKD, h_ok },
	{ 12, "TWELVE", PEER_ADMIN | PEER_LOCKD, h_bad },
};

static void
noop_msg(struct msgchan *c, struct msg *m, void *arg)
{
}

static void
test_dispatch(void **state)
{
	struct event_base *base;
	struct msgchan *c;
	struct msg m;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_non_null(base = event_base_new());
	c = msgchan_new(base, sv[0], NULL, noop_msg, NULL, NULL);
	assert_non_null(c);
	memset(&m, 0, sizeof(m));
	m.fd = -1;
	handler_calls = 0;
	m.hdr.type = 99;		/* unknown */
	m.peer = PEER_ADMIN;
	assert_int_equal(msg_dispatch(table, 3, c, &m), -1);
	m.hdr.type = 11;		/* admin may not send ELEVEN */
	assert_int_equal(msg_dispatch(table, 3, c, &m), -1);
	m.peer = PEER_NONE;
	m.hdr.type = 10;
	assert_int_equal(msg_dispatch(table, 3, c, &m), -1);
	m.peer = PEER_ADMIN | PEER_LOCKD;	/* bits are tested, not equality */
	m.hdr.type = 11;
	assert_int_equal(handler_calls, 0);
	assert_int_equal(msg_dispatch(table, 3, c, &m), 0);
	assert_int_equal(handler_calls, 1);
	m.peer = PEER_ADMIN;
	m.hdr.type = 10;
	assert_int_equal(msg_dispatch(table, 3, c, &m), 0);
	assert_int_equal(handler_calls, 2);
	m.peer = PEER_LOCKD;
	m.hdr.type = 12;		/* the handler's -1 is passed through */
	assert_int_equal(msg_dispatch(table, 3, c, &m), -1);
	assert_int_equal(handler_calls, 3);
	assert_int_equal(msg_dispatch(table, 0, c, &m), -1);
	assert_int_equal(handler_calls, 3);
	/* refusals do not need a channel to log (harnesses, tools) */
	m.hdr.type = 99;
	assert_int_equal(msg_dispatch(table, 3, NULL, &m), -1);
	m.hdr.type = 10;
	assert_int_equal(msg_dispatch(table, 3, NULL, &m), -1);
	assert_int_equal(handler_calls, 3);
	assert_ptr_equal(msg_handler_find(table, 3, 12), &table[2]);
	assert_null(msg_handler_find(table, 3, 13));
	msgchan_free(c);	/* closes sv[0] */
	event_base_free(base);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_short_data),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_str_refused),
		cmocka_unit_test(test_parse_refused),
		cmocka_unit_test(test_msgbuf_limit),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_fixed_buf),
		cmocka_unit_test(test_take_fd),
		cmocka_unit_test(test_peer_classes),
		cmocka_unit_test(test_dispatch),
	};

	log_init("test_msg", 1, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
