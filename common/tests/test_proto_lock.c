/*
 * test_proto_lock: proves the codecs of common/proto_lock.c (used by lockd,
 * its client library common/lockd_client.c and devsepctl):
 *  - every request and typed reply comes back equal through put -> get,
 *    with typical and extreme numbers (and empty / typical JSON blobs);
 *  - every truncation, a trailing byte and a wrong type fail the get and
 *    leave the struct zeroed (codec_check.h);
 *  - a JSON blob of LOCK_JSON_MAX bytes is accepted, one byte more fails
 *    (an oversized payload); a blob's bytes are not copied (json points
 *    into the received message).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msg.h"
#include "proto_lock.h"
#include "codec_check.h"

static int
blob_eq(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int
lock_config_equal(const struct lock_config *g, const struct lock_config *w)
{
	return g->generation == w->generation &&
	    blob_eq(g->json, g->json_len, w->json, w->json_len);
}

static int
lock_config_write_equal(const struct lock_config_write *g,
    const struct lock_config_write *w)
{
	return g->owner == w->owner && g->domid == w->domid &&
	    g->expect_gen == w->expect_gen &&
	    blob_eq(g->json, g->json_len, w->json, w->json_len);
}

static int
lock_domain_create_equal(const struct lock_domain_create *g,
    const struct lock_domain_create *w)
{
	return g->domid == w->domid &&
	    blob_eq(g->json, g->json_len, w->json, w->json_len);
}

CODEC(lock_acquire, MSG_LOCK_ACQUIRE);
CODEC(lock_release, MSG_LOCK_RELEASE);
CODEC(lock_config_read, MSG_LOCK_CONFIG_READ);
CODEC_EQ(lock_config, MSG_LOCK_CONFIG);
CODEC_EQ(lock_config_write, MSG_LOCK_CONFIG_WRITE);
CODEC_EQ(lock_domain_create, MSG_LOCK_DOMAIN_CREATE);
CODEC(lock_destroy_begin, MSG_LOCK_DESTROY_BEGIN);
CODEC(lock_dm_gone, MSG_LOCK_DM_GONE);
CODEC(lock_destroy_finish, MSG_LOCK_DESTROY_FINISH);
CODEC(lock_query, MSG_LOCK_QUERY);
CODEC(lock_ok_gen, MSG_COMMON_OK);

#define JSON	"{\"c_info\":{\"name\":\"g1\"},\"disks\":[]}"

static void
test_fixed(void **state)
{
	struct lock_acquire a = { 3, 5, LOCK_FAST, LOCK_F_TRY, 1500 };
	struct lock_release r = { 3, 5, LOCK_SLOW };
	struct lock_config_read cr = { 0, 7 };
	struct lock_destroy_begin db = { 9, LOCK_DESTROY_NO_DM,
	    LOCK_TIMEOUT_INFINITE };
	struct lock_dm_gone g = { 9 };
	struct lock_destroy_finish f = { 9 };
	struct lock_query q = { LOCK_DOMID_ALL };
	struct lock_ok_gen o = { UINT64_MAX };

	codec_check(&lock_acquire_codec, &a);
	a = (struct lock_acquire){ UINT32_MAX, UINT32_MAX, UINT32_MAX,
	    UINT32_MAX, UINT32_MAX };
	codec_check(&lock_acquire_codec, &a);
	codec_check(&lock_release_codec, &r);
	codec_check(&lock_config_read_codec, &cr);
	codec_check(&lock_destroy_begin_codec, &db);
	codec_check(&lock_dm_gone_codec, &g);
	codec_check(&lock_destroy_finish_codec, &f);
	codec_check(&lock_query_codec, &q);
	codec_check(&lock_ok_gen_codec, &o);
	o.generation = 0;
	codec_check(&lock_ok_gen_codec, &o);
}

static void
test_json(void **state)
{
	struct lock_config c = { 42, JSON, sizeof(JSON) - 1 };
	struct lock_config_write w = { 1, 5, 41, JSON, sizeof(JSON) - 1 };
	struct lock_domain_create d = { 5, JSON, sizeof(JSON) - 1 };

	codec_check(&lock_config_codec, &c);
	codec_check(&lock_config_write_codec, &w);
	codec_check(&lock_domain_create_codec, &d);
	d.json_len = 0;				/* "" = {} */
	codec_check(&lock_domain_create_codec, &d);
	w.expect_gen = 0;
	w.json = "";
	w.json_len = 0;
	codec_check(&lock_config_write_codec, &w);
}

/* A CONFIG_WRITE with a blob of n bytes through put -> get. */
static int
write_of(size_t n, struct lock_config_write *got)
{
	char *big = malloc(n + 1);
	struct lock_config_write w = { 1, 5, 0, big, n };
	struct msgbuf b;
	struct msg m;
	int rc;

	assert_non_null(big);
	memset(big, ' ', n);
	msgbuf_init(&b, MSG_LOCK_CONFIG_WRITE, 1);
	lock_config_write_put(&b, &w);
	assert_int_equal(b.err, 0);
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	rc = lock_config_write_get(&m, got);
	if (rc == 0) {		/* not copied: inside the message */
		assert_true((const uint8_t *)got->json > b.data &&
		    (const uint8_t *)got->json + got->json_len <=
		    b.data + b.len);
		assert_int_equal(got->json_len, n);
	}
	msgbuf_dispose(&b);
	free(big);
	return rc;
}

static void
test_json_oversized(void **state)
{
	struct lock_config_write w;

	assert_int_equal(write_of(LOCK_JSON_MAX, &w), 0);
	assert_int_equal(write_of(LOCK_JSON_MAX + 1, &w), -1);
	assert_true(all_zero(&w, sizeof(w)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_oversized),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
