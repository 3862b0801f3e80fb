/*
 * Checks shared by the per-family codec tests (test_proto_*.c): a message
 * built by a put must come back equal through its get, and every
 * truncation of it, a trailing byte and a wrong type must fail the get
 * and leave the struct zeroed.  Each test wraps its put/get in a
 * struct codec (CODEC()).
 */
#ifndef CODEC_CHECK_H
#define CODEC_CHECK_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

struct codec {
	const char	*name;
	uint32_t	 type;
	size_t		 size;		/* sizeof the struct */
	void		(*put)(struct msgbuf *, const void *);	/* payload */
	int		(*get)(struct msg *, void *);
	/* 1 when a decoded value equals the sample; NULL: memcmp (structs
	 * with pointers into the message need their own) */
	int		(*equal)(const void *got, const void *want);
};

/* Wraps NAME_put/NAME_get of struct NAME for struct codec. */
#define CODEC(NAME, TYPE)						\
static void NAME##_put_v(struct msgbuf *b, const void *s)		\
{ NAME##_put(b, s); }							\
static int NAME##_get_v(struct msg *m, void *s)				\
{ return NAME##_get(m, s); }						\
static const struct codec NAME##_codec = { #NAME, TYPE,		\
	sizeof(struct NAME), NAME##_put_v, NAME##_get_v, NULL }

/* The same with an equality function NAME_equal(got, want). */
#define CODEC_EQ(NAME, TYPE)						\
static void NAME##_put_v(struct msgbuf *b, const void *s)		\
{ NAME##_put(b, s); }							\
static int NAME##_get_v(struct msg *m, void *s)				\
{ return NAME##_get(m, s); }						\
static int NAME##_eq_v(const void *g, const void *w)			\
{ return NAME##_equal(g, w); }						\
static const struct codec NAME##_codec = { #NAME, TYPE,		\
	sizeof(struct NAME), NAME##_put_v, NAME##_get_v, NAME##_eq_v }

/* Builds a message of type with payload p[0..n) and runs get on it. */
static inline int
codec_get_raw(const struct codec *c, uint32_t type, const void *p, size_t n,
    void *out)
{
	struct msg_hdr h = { .type = type, .len = (uint32_t)n, .reqid = 9 };
	uint8_t *buf = malloc(MSG_HDR_SIZE + n + 1);
	struct msg m;
	int rc;

	assert_non_null(buf);
	memcpy(buf, &h, MSG_HDR_SIZE);
	if (n > 0)
		memcpy(buf + MSG_HDR_SIZE, p, n);
	assert_int_equal(msg_parse(&m, buf, MSG_HDR_SIZE + n, MSG_MAX_LIMIT),
	    0);
	memset(out, 0x5a, c->size);	/* junk: a failed get must clear it */
	rc = c->get(&m, out);
	free(buf);
	return rc;
}

static inline int
all_zero(const void *p, size_t n)
{
	const uint8_t *q = p;

	while (n-- > 0)
		if (*q++ != 0)
			return 0;
	return 1;
}

/*
 * The whole check for one sample value (zero-filled before its fields
 * were set, so memcmp is exact): a put into a msgbuf of another type
 * fails; round trip, reqid and type kept, every truncation, one trailing
 * byte, a wrong type.
 */
static inline void
codec_check(const struct codec *c, const void *sample)
{
	struct msgbuf b;
	struct msg m;
	void *out = malloc(c->size);
	uint8_t *tail;
	size_t n, cut;

	assert_non_null(out);
	msgbuf_init(&b, c->type + 1, 4242);	/* initialized as another type */
	c->put(&b, sample);
	assert_int_equal(b.err, EINVAL);
	msgbuf_dispose(&b);
	msgbuf_init(&b, c->type, 4242);
	c->put(&b, sample);
	assert_int_equal(b.err, 0);
	assert_int_equal(msg_parse(&m, b.data, b.len, MSG_MAX_LIMIT), 0);
	assert_int_equal(m.hdr.type, c->type);
	assert_int_equal(m.hdr.reqid, 4242);
	memset(out, 0, c->size);
	assert_int_equal(c->get(&m, out), 0);
	if (c->equal != NULL)
		assert_true(c->equal(out, sample));
	else
		assert_memory_equal(out, sample, c->size);

	n = b.len - MSG_HDR_SIZE;
	for (cut = 0; cut < n; cut++) {
		assert_int_equal(codec_get_raw(c, c->type,
		    b.data + MSG_HDR_SIZE, cut, out), -1);
		assert_true(all_zero(out, c->size));
	}
	tail = malloc(n + 1);
	assert_non_null(tail);
	memcpy(tail, b.data + MSG_HDR_SIZE, n);
	tail[n] = 0;
	assert_int_equal(codec_get_raw(c, c->type, tail, n + 1, out), -1);
	assert_true(all_zero(out, c->size));
	assert_int_equal(codec_get_raw(c, c->type + 1, tail, n, out), -1);
	assert_true(all_zero(out, c->size));
	assert_int_equal(codec_get_raw(c, c->type, tail, n, out), 0);
	free(tail);
	msgbuf_dispose(&b);
	free(out);
}

/*
 * An oversized string field: sample has the field (array of `size`) full,
 * size - 1 bytes of `fill` (a byte found nowhere else).  The payload is
 * put, the field found by its u32 length and bytes, and rebuilt with one
 * byte more (over the bound), then with a NUL inside: both gets fail and
 * leave the struct zeroed.
 */
static inline void
codec_check_over(const struct codec *c, const void *sample, size_t size,
    char fill)
{
	struct msgbuf b;
	uint32_t len = (uint32_t)(size - 1), big = (uint32_t)size;
	uint8_t *p, *q;
	void *out = malloc(c->size);
	size_t n, k, i;

	assert_non_null(out);
	msgbuf_init(&b, c->type, 1);
	c->put(&b, sample);
	assert_int_equal(b.err, 0);
	p = b.data + MSG_HDR_SIZE;
	n = b.len - MSG_HDR_SIZE;
	for (k = 0; k + 4 + len <= n; k++) {
		if (memcmp(p + k, &len, 4) != 0)
			continue;
		for (i = 0; i < len && p[k + 4 + i] == (uint8_t)fill; i++)
			;
		if (i == len)
			break;
	}
	assert_true(k + 4 + len <= n);		/* the field was found */
	q = malloc(n + 1);
	assert_non_null(q);
	memcpy(q, p, k);
	memcpy(q + k, &big, 4);
	memset(q + k + 4, fill, size);
	memcpy(q + k + 4 + size, p + k + 4 + len, n - k - 4 - len);
	assert_int_equal(codec_get_raw(c, c->type, q, n + 1, out), -1);
	assert_true(all_zero(out, c->size));
	memcpy(q, p, n);			/* at the bound, a NUL inside */
	q[k + 4 + len / 2] = '\0';
	assert_int_equal(codec_get_raw(c, c->type, q, n, out), -1);
	assert_true(all_zero(out, c->size));
	memcpy(q, p, n);			/* and as put: fine */
	assert_int_equal(codec_get_raw(c, c->type, q, n, out), 0);
	free(q);
	msgbuf_dispose(&b);
	free(out);
}

/* Fills a string field with n bytes of 'x' (n < its size). */
#define FILL(f, n)	do { memset((f), 'x', (n)); (f)[(n)] = '\0'; } while (0)

#endif
