/*
 * test_reply: proves common/reply.c builds and decodes MSG_COMMON_ERROR
 * exactly as proto.h defines it, {u32 errno, str message}:
 *  - reply_error_init gives type MSG_COMMON_ERROR, the caller's reqid and
 *    a payload that reply_error_get returns unchanged (NULL text: "");
 *  - the payload is the documented layout (read back with the plain
 *    msg_get_u32/msg_get_str getters);
 *  - reply_error_get refuses a short payload, trailing bytes and a text
 *    longer than the caller's buffer, and leaves the text empty then;
 *  - reply_json_put/get (the JSON document replies) round-trip, the
 *    document pointing into the message; every truncation, a trailing
 *    byte, another type and a document over max fail with the struct
 *    zeroed; max bytes exactly pass.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "proto.h"
#include "reply.h"

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
	uint32_t err;
	char text[64];

	reply_error_init(&b, 77, EACCES, "not in image_dirs");
	parse_buf(&m, &b);
	assert_int_equal(m.hdr.type, MSG_COMMON_ERROR);
	assert_int_equal(m.hdr.reqid, 77);
	assert_int_equal(reply_error_get(&m, &err, text, sizeof(text)), 0);
	assert_int_equal(err, EACCES);
	assert_string_equal(text, "not in image_dirs");
	msgbuf_dispose(&b);

	reply_error_init(&b, 1, ENOENT, NULL);
	parse_buf(&m, &b);
	assert_int_equal(reply_error_get(&m, &err, text, sizeof(text)), 0);
	assert_int_equal(err, ENOENT);
	assert_string_equal(text, "");
	msgbuf_dispose(&b);
}

static void
test_layout(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint32_t err;
	char text[64];

	reply_error_init(&b, 2, EBUSY, "held");
	parse_buf(&m, &b);
	assert_int_equal(msg_get_u32(&m, &err), 0);
	assert_int_equal(err, EBUSY);
	assert_int_equal(msg_get_str(&m, text, sizeof(text)), 0);
	assert_string_equal(text, "held");
	assert_int_equal(msg_end(&m), 0);
	msgbuf_dispose(&b);
}

static void
test_refused(void **state)
{
	struct msgbuf b;
	struct msg m;
	uint32_t err;
	char text[8];

	/* short: errno only */
	msgbuf_init(&b, MSG_COMMON_ERROR, 3);
	msgbuf_put_u32(&b, EIO);
	parse_buf(&m, &b);
	strcpy(text, "x");
	assert_int_equal(reply_error_get(&m, &err, text, sizeof(text)), -1);
	assert_string_equal(text, "");
	msgbuf_dispose(&b);
	/* trailing bytes */
	reply_error_init(&b, 3, EIO, "io");
	msgbuf_put_u32(&b, 0);
	parse_buf(&m, &b);
	strcpy(text, "x");
	assert_int_equal(reply_error_get(&m, &err, text, sizeof(text)), -1);
	assert_string_equal(text, "");
	msgbuf_dispose(&b);
	/* text longer than the buffer (7 bytes + NUL fit, 8 do not) */
	reply_error_init(&b, 3, EIO, "12345678");
	parse_buf(&m, &b);
	assert_int_equal(reply_error_get(&m, &err, text, sizeof(text)), -1);
	assert_string_equal(text, "");
	msgbuf_dispose(&b);
	reply_error_init(&b, 3, EIO, "1234567");
	parse_buf(&m, &b);
	assert_int_equal(reply_error_get(&m, &err, text, sizeof(text)), 0);
	assert_string_equal(text, "1234567");
	msgbuf_dispose(&b);
}

/* A JSON reply of type with document doc (len n) through put -> get. */
static int
json_of(uint32_t type, uint32_t want, const char *doc, size_t n, size_t cut,
    int extra, size_t max, struct reply_json *got)
{
	struct reply_json r = { doc, n };
	struct msgbuf b;
	struct msg m;
	int rc;

	msgbuf_init(&b, type, 5);
	reply_json_put(&b, &r);
	if (extra)
		msgbuf_put_u32(&b, 0);
	assert_int_equal(b.err, 0);
	b.len -= cut;			/* a truncated datagram */
	memcpy(b.data + 4, &(uint32_t){ (uint32_t)(b.len - MSG_HDR_SIZE) },
	    4);
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	memset(got, 0x5a, sizeof(*got));
	rc = reply_json_get(&m, want, max, got);
	if (rc == 0)
		assert_true((const uint8_t *)got->json >= b.data &&
		    (const uint8_t *)got->json + got->len <= b.data + b.len);
	else
		assert_true(got->json == NULL && got->len == 0);
	msgbuf_dispose(&b);
	return rc;
}

static void
test_json(void **state)
{
	static const char doc[] = "{\"daemon\":\"lockd\",\"pid\":42}";
	const size_t n = sizeof(doc) - 1;
	struct reply_json r;
	size_t cut;

	assert_int_equal(json_of(MSG_COMMON_STATUS_REPLY,
	    MSG_COMMON_STATUS_REPLY, doc, n, 0, 0, 1024, &r), 0);
	assert_int_equal(r.len, n);
	assert_memory_equal(r.json, doc, n);
	assert_int_equal(json_of(MSG_COMMON_OK, MSG_COMMON_OK, "", 0, 0, 0,
	    1024, &r), 0);
	assert_int_equal(r.len, 0);
	for (cut = 1; cut <= n + 4; cut++)	/* every truncation */
		assert_int_equal(json_of(MSG_COMMON_STATUS_REPLY,
		    MSG_COMMON_STATUS_REPLY, doc, n, cut, 0, 1024, &r), -1);
	assert_int_equal(json_of(MSG_COMMON_STATUS_REPLY,
	    MSG_COMMON_STATUS_REPLY, doc, n, 0, 1, 1024, &r), -1);
	assert_int_equal(json_of(MSG_COMMON_STATS_REPLY,
	    MSG_COMMON_STATUS_REPLY, doc, n, 0, 0, 1024, &r), -1);
	assert_int_equal(json_of(MSG_COMMON_STATUS_REPLY,
	    MSG_COMMON_STATUS_REPLY, doc, n, 0, 0, n, &r), 0);	/* = max */
	assert_int_equal(json_of(MSG_COMMON_STATUS_REPLY,
	    MSG_COMMON_STATUS_REPLY, doc, n, 0, 0, n - 1, &r), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
