/*
 * test_launch_msg: proves the codecs of the broker's launcher channel
 * (qemu-broker/launch_msg.c, used by dm.c on the broker's side and by
 * launcher.c in the privileged launcher):
 *  - SPAWN (0..LAUNCH_MAX_CDROMS cdroms), its OK (pid, uid, chroot),
 *    KILL, EXITED, ADOPT, XLQMP and its OK come back equal through
 *    put -> get, with typical and extreme numbers;
 *  - every truncation, a trailing byte, a wrong type and a put into a
 *    msgbuf of another type fail, the struct zeroed (codec_check.h); a
 *    chroot one byte over LAUNCH_CHROOT_MAX or with a NUL inside fails;
 *  - a SPAWN with a fifth cdrom fails the put (EINVAL) and the get of a
 *    hand-built payload.
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
#include "proto.h"
#include "qemu-broker/launcher.h"
#include "common/tests/codec_check.h"

static void spawn_put_v(struct msgbuf *b, const void *s)
{ launch_spawn_put(b, s); }
static int spawn_get_v(struct msg *m, void *s)
{ return launch_spawn_get(m, s); }
static const struct codec spawn_codec = { "launch_spawn", MSG_LAUNCH_SPAWN,
	sizeof(struct launch_req), spawn_put_v, spawn_get_v, NULL };

CODEC(launch_spawned, MSG_COMMON_OK);
CODEC(launch_kill, MSG_LAUNCH_KILL);
CODEC(launch_exited, MSG_LAUNCH_EXITED);
CODEC(launch_adopt, MSG_LAUNCH_ADOPT);
CODEC(launch_xlqmp, MSG_LAUNCH_XLQMP);
CODEC(launch_xlqmp_ok, MSG_COMMON_OK);

static void
test_spawn(void **state)
{
	struct launch_req r;
	struct launch_spawned ok;
	uint32_t n;

	for (n = 0; n <= LAUNCH_MAX_CDROMS; n++) {
		memset(&r, 0, sizeof(r));
		r.domid = 5;
		r.kind = LAUNCH_KIND_DM;
		r.memory_mb = 32;
		r.n_cdrom = n;
		if (n > 0)
			r.cdrom[n - 1] = 5632 + n;
		codec_check(&spawn_codec, &r);
	}
	memset(&ok, 0, sizeof(ok));
	ok.pid = 4242;
	ok.uid = 100005;
	snprintf(ok.chroot, sizeof(ok.chroot), "/run/devsep/qemu/5");
	codec_check(&launch_spawned_codec, &ok);
	memset(ok.chroot, 'c', sizeof(ok.chroot) - 1);
	codec_check(&launch_spawned_codec, &ok);
	codec_check_over(&launch_spawned_codec, &ok, sizeof(ok.chroot), 'c');
}

static void
test_spawn_too_many_cdroms(void **state)
{
	struct launch_req r = { .domid = 5, .n_cdrom = LAUNCH_MAX_CDROMS + 1 };
	struct msgbuf b;
	struct msg m;
	uint32_t i;

	msgbuf_init(&b, MSG_LAUNCH_SPAWN, 1);
	launch_spawn_put(&b, &r);
	assert_int_equal(b.err, EINVAL);
	msgbuf_dispose(&b);
	msgbuf_init(&b, MSG_LAUNCH_SPAWN, 1);
	msgbuf_put_u32(&b, 5);
	msgbuf_put_u32(&b, LAUNCH_KIND_DM);
	msgbuf_put_u32(&b, 32);
	msgbuf_put_u32(&b, LAUNCH_MAX_CDROMS + 1);
	for (i = 0; i <= LAUNCH_MAX_CDROMS; i++)
		msgbuf_put_u32(&b, i);
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	assert_int_equal(launch_spawn_get(&m, &r), -1);
	assert_true(all_zero(&r, sizeof(r)));
	msgbuf_dispose(&b);
}

static void
test_small(void **state)
{
	struct launch_kill k = { 4242, 9 };
	struct launch_exited e;
	struct launch_adopt a = { 4242, 5 };
	struct launch_xlqmp x = { 7 };
	struct launch_xlqmp_ok xo = { UINT32_MAX, UINT32_MAX };

	codec_check(&launch_kill_codec, &k);
	memset(&e, 0, sizeof(e));	/* padding after pid: zero for memcmp */
	e.pid = 4242;
	e.status = 0x8b;
	codec_check(&launch_exited_codec, &e);
	e.status = INT64_MIN;
	codec_check(&launch_exited_codec, &e);
	codec_check(&launch_adopt_codec, &a);
	codec_check(&launch_xlqmp_codec, &x);
	codec_check(&launch_xlqmp_ok_codec, &xo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn),
		cmocka_unit_test(test_spawn_too_many_cdroms),
		cmocka_unit_test(test_small),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
