/*
 * test_proto_hotplug: proves the codecs of common/proto_hotplug.c, used by
 * watcherd, hotplugd and the test harnesses:
 *  - RUN, DONE and CANCEL come back equal through put -> get, with typical
 *    values, empty strings and every string field at its bound;
 *  - every truncated payload, a trailing byte, a wrong type fail the get
 *    and leave the struct zeroed (codec_check.h);
 *  - a string one byte over its bound (an oversized field) or with an
 *    embedded NUL fails the get: the payload is built here by hand in
 *    the documented field order, which pins the wire layout too;
 *  - a put of a field not NUL-terminated within its array fails the
 *    msgbuf (EINVAL) instead of reading past it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "proto_hotplug.h"
#include "codec_check.h"

CODEC(hotplug_run, MSG_HOTPLUG_RUN);
CODEC(hotplug_done, MSG_HOTPLUG_DONE);
CODEC(hotplug_cancel, MSG_HOTPLUG_CANCEL);
CODEC(hotplug_started, MSG_HOTPLUG_STARTED);

static void
run_sample(struct hotplug_run *r)
{
	memset(r, 0, sizeof(*r));
	r->id = 0x0123456789abcdefULL;
	snprintf(r->kind, sizeof(r->kind), "vif");
	snprintf(r->action, sizeof(r->action), "online");
	snprintf(r->script, sizeof(r->script), "vif-bridge");
	snprintf(r->be_path, sizeof(r->be_path),
	    "/local/domain/0/backend/vif/5/0");
	snprintf(r->xs_path, sizeof(r->xs_path), "/run/devsep/j1.sock");
	snprintf(r->vif, sizeof(r->vif), "vif5.0");
	snprintf(r->netdev, sizeof(r->netdev), "eth0");
	r->timeout_ms = 40000;
}

static void
test_run(void **state)
{
	struct hotplug_run r;

	run_sample(&r);
	codec_check(&hotplug_run_codec, &r);
	memset(&r, 0, sizeof(r));		/* every string empty */
	codec_check(&hotplug_run_codec, &r);
	FILL(r.kind, sizeof(r.kind) - 1);	/* every string at its bound */
	FILL(r.action, sizeof(r.action) - 1);
	FILL(r.script, sizeof(r.script) - 1);
	FILL(r.be_path, sizeof(r.be_path) - 1);
	FILL(r.xs_path, sizeof(r.xs_path) - 1);
	FILL(r.vif, sizeof(r.vif) - 1);
	FILL(r.netdev, sizeof(r.netdev) - 1);
	r.id = UINT64_MAX;
	r.timeout_ms = UINT32_MAX;
	codec_check(&hotplug_run_codec, &r);
}

/* A RUN payload by hand, field `big` (0..6) `len` bytes long. */
static void
run_by_hand(struct msgbuf *b, int big, size_t len, int nul)
{
	static char s[1024];
	const char *v[7] = { "vbd", "add", "block",
	    "/local/domain/0/backend/vbd/5/51712", "", "", "" };
	int i;

	memset(s, 'y', len);
	s[len] = '\0';
	if (nul && len > 1)
		s[len / 2] = '\0';
	msgbuf_init(b, MSG_HOTPLUG_RUN, 1);
	msgbuf_put_u64(b, 7);
	for (i = 0; i < 7; i++) {
		if (i == big)
			msgbuf_put_blob(b, s, len);
		else
			msgbuf_put_str(b, v[i]);
	}
	msgbuf_put_u32(b, 0);
}

static int
get_by_hand(int big, size_t len, int nul, struct hotplug_run *r)
{
	struct msgbuf b;
	struct msg m;
	int rc;

	run_by_hand(&b, big, len, nul);
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	rc = hotplug_run_get(&m, r);
	msgbuf_dispose(&b);
	return rc;
}

static void
test_run_oversized(void **state)
{
	const size_t bound[7] = { HOTPLUG_KIND_MAX, HOTPLUG_ACTION_MAX,
	    HOTPLUG_SCRIPT_MAX, HOTPLUG_PATH_MAX, HOTPLUG_PATH_MAX,
	    HOTPLUG_VIF_MAX, HOTPLUG_VIF_MAX };
	struct hotplug_run r;
	int i;

	for (i = 0; i < 7; i++) {
		assert_int_equal(get_by_hand(i, bound[i] - 1, 0, &r), 0);
		assert_int_equal(r.id, 7);
		assert_int_equal(get_by_hand(i, bound[i], 0, &r), -1);
		assert_true(all_zero(&r, sizeof(r)));
		assert_int_equal(get_by_hand(i, 8, 1, &r), -1);	/* NUL */
	}
}

static void
test_done(void **state)
{
	struct hotplug_done d;

	memset(&d, 0, sizeof(d));
	d.id = 42;
	d.outcome = HOTPLUG_TIMED_OUT;
	d.code = -9;
	d.duration_us = 123456789;
	snprintf(d.message, sizeof(d.message), "killed after 40000 ms");
	codec_check(&hotplug_done_codec, &d);
	FILL(d.message, sizeof(d.message) - 1);
	d.code = INT64_MIN;
	codec_check(&hotplug_done_codec, &d);
}

static void
test_done_oversized(void **state)
{
	static char big[HOTPLUG_MSG_MAX + 2];
	struct hotplug_done d;
	struct msgbuf b;
	struct msg m;

	memset(big, 'z', HOTPLUG_MSG_MAX + 1);
	msgbuf_init(&b, MSG_HOTPLUG_DONE, 1);
	msgbuf_put_u64(&b, 1);
	msgbuf_put_u32(&b, HOTPLUG_EXITED);
	msgbuf_put_i64(&b, 0);
	msgbuf_put_u64(&b, 0);
	msgbuf_put_str(&b, big);	/* HOTPLUG_MSG_MAX + 1 bytes */
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	assert_int_equal(hotplug_done_get(&m, &d), -1);
	assert_true(all_zero(&d, sizeof(d)));
	msgbuf_dispose(&b);
}

static void
test_cancel(void **state)
{
	struct hotplug_cancel c = { .id = 0xfeedfacecafebeefULL };

	codec_check(&hotplug_cancel_codec, &c);
}

static void
test_started(void **state)
{
	struct hotplug_started st = { .id = 0x8000000500000002ULL,
	    .pid = 4242, .uid = 16842752 };

	codec_check(&hotplug_started_codec, &st);
}

static void
test_put_unterminated(void **state)
{
	struct hotplug_run r;
	struct hotplug_done d;
	struct msgbuf b;

	run_sample(&r);
	memset(r.vif, 'v', sizeof(r.vif));	/* no NUL inside */
	msgbuf_init(&b, MSG_HOTPLUG_RUN, 1);
	hotplug_run_put(&b, &r);
	assert_int_equal(b.err, EINVAL);
	assert_int_equal(msgbuf_check(&b), -1);
	msgbuf_dispose(&b);
	memset(&d, 0, sizeof(d));
	memset(d.message, 'm', sizeof(d.message));
	msgbuf_init(&b, MSG_HOTPLUG_DONE, 1);
	hotplug_done_put(&b, &d);
	assert_int_equal(b.err, EINVAL);
	msgbuf_dispose(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_run_oversized),
		cmocka_unit_test(test_done),
		cmocka_unit_test(test_done_oversized),
		cmocka_unit_test(test_started),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_put_unterminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
