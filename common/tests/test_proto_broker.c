/*
 * test_proto_broker: proves the request codecs of common/proto_broker.c
 * (used by the broker, watcherd, devsepctl and brokerc):
 *  - every request comes back equal through put -> get (typical and
 *    extreme numbers, empty and at-bound image paths, 0..BROKER_MAX_CDROMS
 *    cdrom devids);
 *  - every truncation, a trailing byte and a wrong type fail the get and
 *    leave the struct zeroed; a path one byte over BROKER_PATH_MAX or with
 *    a NUL inside fails (codec_check.h);
 *  - DM_START with n_cdrom over BROKER_MAX_CDROMS fails both ways: the
 *    put (EINVAL) and the get of a hand-built payload (the count is
 *    checked before any devid is read);
 *  - the same for the payloads of the broker's OK replies (DM_START's pid
 *    and uid ... QDISK_DETACH's refs), the xenstore outcome bounded by
 *    BROKER_XS_MAX.
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
#include "proto_broker.h"
#include "codec_check.h"

CODEC(broker_dm_start, MSG_BROKER_DM_START);
CODEC(broker_dm_destroy, MSG_BROKER_DM_DESTROY);
CODEC(broker_cdrom_insert, MSG_BROKER_CDROM_INSERT);
CODEC(broker_disk_add, MSG_BROKER_DISK_ADD);
CODEC(broker_cdrom_eject, MSG_BROKER_CDROM_EJECT);
CODEC(broker_disk_remove, MSG_BROKER_DISK_REMOVE);
CODEC(broker_qdisk_attach, MSG_BROKER_QDISK_ATTACH);
CODEC(broker_qdisk_detach, MSG_BROKER_QDISK_DETACH);
CODEC(broker_cdrom_list, MSG_BROKER_CDROM_LIST);
CODEC(broker_list, MSG_BROKER_LIST);
CODEC(broker_dm_started, MSG_COMMON_OK);
CODEC(broker_dm_destroyed, MSG_COMMON_OK);
CODEC(broker_cdrom_inserted, MSG_COMMON_OK);
CODEC(broker_cdrom_ejected, MSG_COMMON_OK);
CODEC(broker_disk_added, MSG_COMMON_OK);
CODEC(broker_qdisk_attached, MSG_COMMON_OK);
CODEC(broker_qdisk_detached, MSG_COMMON_OK);

static void
test_dm(void **state)
{
	struct broker_dm_start s;
	struct broker_dm_destroy d = { 7, 0 };
	uint32_t n;

	for (n = 0; n <= BROKER_MAX_CDROMS; n++) {
		memset(&s, 0, sizeof(s));
		s.domid = 7;
		s.flags = BROKER_DM_RUN;
		s.memory_mb = 64;
		s.n_cdrom = n;
		if (n > 0)
			s.cdrom[n - 1] = 5632 + n;
		codec_check(&broker_dm_start_codec, &s);
	}
	codec_check(&broker_dm_destroy_codec, &d);
	d = (struct broker_dm_destroy){ UINT32_MAX, UINT32_MAX };
	codec_check(&broker_dm_destroy_codec, &d);
}

static void
test_dm_too_many_cdroms(void **state)
{
	struct broker_dm_start s = { .domid = 7,
	    .n_cdrom = BROKER_MAX_CDROMS + 1 };
	struct msgbuf b;
	struct msg m;
	uint32_t i;

	msgbuf_init(&b, MSG_BROKER_DM_START, 1);
	broker_dm_start_put(&b, &s);
	assert_int_equal(b.err, EINVAL);
	msgbuf_dispose(&b);
	msgbuf_init(&b, MSG_BROKER_DM_START, 1);	/* by hand */
	msgbuf_put_u32(&b, 7);
	msgbuf_put_u32(&b, 0);
	msgbuf_put_u32(&b, 0);
	msgbuf_put_u32(&b, BROKER_MAX_CDROMS + 1);
	for (i = 0; i <= BROKER_MAX_CDROMS; i++)
		msgbuf_put_u32(&b, i);
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	assert_int_equal(broker_dm_start_get(&m, &s), -1);
	assert_true(all_zero(&s, sizeof(s)));
	msgbuf_dispose(&b);
}

static void
test_images(void **state)
{
	struct broker_cdrom_insert c;
	struct broker_disk_add d;

	memset(&c, 0, sizeof(c));
	c.domid = 3;
	c.devid = 5632;
	snprintf(c.path, sizeof(c.path), "/srv/iso/debian.iso");
	c.flags = BROKER_F_RO;
	codec_check(&broker_cdrom_insert_codec, &c);
	memset(c.path, 'i', sizeof(c.path) - 1);
	codec_check(&broker_cdrom_insert_codec, &c);
	codec_check_over(&broker_cdrom_insert_codec, &c, sizeof(c.path), 'i');

	memset(&d, 0, sizeof(d));
	d.domid = 3;
	d.devid = 51712;
	snprintf(d.path, sizeof(d.path), "/srv/img/d.raw");
	d.bus = BROKER_BUS_SCSI;
	codec_check(&broker_disk_add_codec, &d);
	memset(d.path, 'd', sizeof(d.path) - 1);
	d.flags = d.bus = UINT32_MAX;
	codec_check(&broker_disk_add_codec, &d);
	codec_check_over(&broker_disk_add_codec, &d, sizeof(d.path), 'd');
}

static void
test_dev_and_dom(void **state)
{
	struct broker_cdrom_eject e = { 3, 5632 };
	struct broker_disk_remove r = { 3, 51712 };
	struct broker_qdisk_attach a = { 9, 51713 };
	struct broker_qdisk_detach dt = { UINT32_MAX, UINT32_MAX };
	struct broker_cdrom_list cl = { 3 };
	struct broker_list l = { BROKER_DOMID_ALL };

	codec_check(&broker_cdrom_eject_codec, &e);
	codec_check(&broker_disk_remove_codec, &r);
	codec_check(&broker_qdisk_attach_codec, &a);
	codec_check(&broker_qdisk_detach_codec, &dt);
	codec_check(&broker_cdrom_list_codec, &cl);
	codec_check(&broker_list_codec, &l);
}

static void
test_replies(void **state)
{
	struct broker_dm_started st = { 4242, 100007 };
	struct broker_dm_destroyed de;
	struct broker_cdrom_inserted in;
	struct broker_cdrom_ejected ej;
	struct broker_disk_added da = { UINT32_MAX };
	struct broker_qdisk_attached qa = { 2, 777 };
	struct broker_qdisk_detached qd = { 0 };

	codec_check(&broker_dm_started_codec, &st);
	memset(&de, 0, sizeof(de));	/* padding after pid: zero for memcmp */
	de.pid = 4242;
	de.status = -9;
	de.dm_gone_sent = 1;
	codec_check(&broker_dm_destroyed_codec, &de);
	de.status = INT64_MIN;
	codec_check(&broker_dm_destroyed_codec, &de);
	memset(&in, 0, sizeof(in));
	in.fdset = 3;
	snprintf(in.xenstore, sizeof(in.xenstore), "updated");
	codec_check(&broker_cdrom_inserted_codec, &in);
	memset(in.xenstore, 'x', sizeof(in.xenstore) - 1);
	codec_check(&broker_cdrom_inserted_codec, &in);
	codec_check_over(&broker_cdrom_inserted_codec, &in,
	    sizeof(in.xenstore), 'x');
	memset(&ej, 0, sizeof(ej));
	snprintf(ej.xenstore, sizeof(ej.xenstore),
	    "skipped: watcherd not running");
	codec_check(&broker_cdrom_ejected_codec, &ej);
	memset(ej.xenstore, 'e', sizeof(ej.xenstore) - 1);
	codec_check_over(&broker_cdrom_ejected_codec, &ej,
	    sizeof(ej.xenstore), 'e');
	codec_check(&broker_disk_added_codec, &da);
	codec_check(&broker_qdisk_attached_codec, &qa);
	codec_check(&broker_qdisk_detached_codec, &qd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dm),
		cmocka_unit_test(test_dm_too_many_cdroms),
		cmocka_unit_test(test_images),
		cmocka_unit_test(test_dev_and_dom),
		cmocka_unit_test(test_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
