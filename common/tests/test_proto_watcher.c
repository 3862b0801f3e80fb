/*
 * test_proto_watcher: proves the codecs of common/proto_watcher.c (used by
 * watcherd, the broker, devsepctl and the test clients):
 *  - DEVICES, CDROM_UPDATE, RELAY_RUN and RELAY_DONE come back equal through put -> get (typical,
 *    empty and at-bound strings, extreme numbers);
 *  - every truncation, a trailing byte and a wrong type fail the get and
 *    leave the struct zeroed; each string field one byte over its bound or
 *    with a NUL inside fails (codec_check.h);
 *  - a put of an unterminated field fails the msgbuf.
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
#include "proto_watcher.h"
#include "codec_check.h"

CODEC(watcher_devices, MSG_WATCHER_DEVICES);
CODEC(watcher_cdrom_update, MSG_WATCHER_CDROM_UPDATE);
CODEC(watcher_relay_run, MSG_WATCHER_RELAY_RUN);
CODEC(watcher_relay_done, MSG_WATCHER_RELAY_DONE);

static void
test_relay_run(void **state)
{
	struct watcher_relay_run r;

	memset(&r, 0, sizeof(r));
	snprintf(r.script, sizeof(r.script), "vif-bridge");
	snprintf(r.action, sizeof(r.action), "online");
	snprintf(r.xenbus_path, sizeof(r.xenbus_path), "backend/vif/5/0");
	snprintf(r.vif, sizeof(r.vif), "vif5.0");
	codec_check(&watcher_relay_run_codec, &r);
	memset(r.script, 's', sizeof(r.script) - 1);
	memset(r.action, 'a', sizeof(r.action) - 1);
	memset(r.xenbus_path, 'x', sizeof(r.xenbus_path) - 1);
	memset(r.vif, 'v', sizeof(r.vif) - 1);
	memset(r.netdev, 'n', sizeof(r.netdev) - 1);
	codec_check(&watcher_relay_run_codec, &r);
	codec_check_over(&watcher_relay_run_codec, &r, sizeof(r.script), 's');
	codec_check_over(&watcher_relay_run_codec, &r, sizeof(r.xenbus_path),
	    'x');
	codec_check_over(&watcher_relay_run_codec, &r, sizeof(r.netdev), 'n');
}

static void
test_relay_done(void **state)
{
	struct watcher_relay_done d;

	memset(&d, 0, sizeof(d));
	d.outcome = 1;
	d.code = -9;
	d.duration_us = UINT64_MAX;
	codec_check(&watcher_relay_done_codec, &d);
	memset(d.message, 'm', sizeof(d.message) - 1);
	codec_check(&watcher_relay_done_codec, &d);
	codec_check_over(&watcher_relay_done_codec, &d, sizeof(d.message),
	    'm');
}

static void
test_devices(void **state)
{
	struct watcher_devices d = { .domid = 7 };

	codec_check(&watcher_devices_codec, &d);
	d.domid = WATCHER_DOMID_ALL;
	codec_check(&watcher_devices_codec, &d);
}

static void
test_cdrom_update(void **state)
{
	struct watcher_cdrom_update c;

	memset(&c, 0, sizeof(c));
	c.domid = 5;
	c.devid = 5632;
	snprintf(c.params, sizeof(c.params), "/iso/b.iso");
	snprintf(c.type, sizeof(c.type), "file");
	snprintf(c.mode, sizeof(c.mode), "r");
	codec_check(&watcher_cdrom_update_codec, &c);
	memset(&c, 0, sizeof(c));		/* eject: every string "" */
	c.domid = c.devid = UINT32_MAX;
	codec_check(&watcher_cdrom_update_codec, &c);
	memset(c.params, 'p', sizeof(c.params) - 1);
	memset(c.type, 't', sizeof(c.type) - 1);
	memset(c.mode, 'm', sizeof(c.mode) - 1);
	codec_check(&watcher_cdrom_update_codec, &c);
	codec_check_over(&watcher_cdrom_update_codec, &c, sizeof(c.params),
	    'p');
	codec_check_over(&watcher_cdrom_update_codec, &c, sizeof(c.type), 't');
	codec_check_over(&watcher_cdrom_update_codec, &c, sizeof(c.mode), 'm');
}

static void
test_put_unterminated(void **state)
{
	struct watcher_cdrom_update c;
	struct msgbuf b;

	memset(&c, 0, sizeof(c));
	memset(c.mode, 'm', sizeof(c.mode));
	msgbuf_init(&b, MSG_WATCHER_CDROM_UPDATE, 1);
	watcher_cdrom_update_put(&b, &c);
	assert_int_equal(b.err, EINVAL);
	msgbuf_dispose(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_cdrom_update),
		cmocka_unit_test(test_relay_run),
		cmocka_unit_test(test_relay_done),
		cmocka_unit_test(test_put_unterminated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
