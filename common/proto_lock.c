/*
 * The requests to lockd and its typed replies (proto_lock.h): one put and
 * one get per message, the field order written once.
 */
#include "codec.h"
#include "msg.h"
#include "proto_lock.h"

/* A JSON blob: not copied, json points into the message. */
static int
get_json(struct msg *m, const void **json, size_t *len, size_t max)
{
	return msg_get_blob(m, json, len, max);
}

void
lock_acquire_put(struct msgbuf *b, const struct lock_acquire *a)
{
	if (codec_put_type(b, MSG_LOCK_ACQUIRE) == -1)
		return;
	msgbuf_put_u32(b, a->owner);
	msgbuf_put_u32(b, a->domid);
	msgbuf_put_u32(b, a->which);
	msgbuf_put_u32(b, a->flags);
	msgbuf_put_u32(b, a->timeout_ms);
}

int
lock_acquire_get(struct msg *m, struct lock_acquire *a)
{
	int ok = m->hdr.type == MSG_LOCK_ACQUIRE &&
	    msg_get_u32(m, &a->owner) == 0 && msg_get_u32(m, &a->domid) == 0 &&
	    msg_get_u32(m, &a->which) == 0 && msg_get_u32(m, &a->flags) == 0 &&
	    msg_get_u32(m, &a->timeout_ms) == 0;

	return codec_get_end(m, ok, a, sizeof(*a));
}

void
lock_release_put(struct msgbuf *b, const struct lock_release *r)
{
	if (codec_put_type(b, MSG_LOCK_RELEASE) == -1)
		return;
	msgbuf_put_u32(b, r->owner);
	msgbuf_put_u32(b, r->domid);
	msgbuf_put_u32(b, r->which);
}

int
lock_release_get(struct msg *m, struct lock_release *r)
{
	int ok = m->hdr.type == MSG_LOCK_RELEASE &&
	    msg_get_u32(m, &r->owner) == 0 && msg_get_u32(m, &r->domid) == 0 &&
	    msg_get_u32(m, &r->which) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
lock_config_read_put(struct msgbuf *b, const struct lock_config_read *r)
{
	if (codec_put_type(b, MSG_LOCK_CONFIG_READ) == -1)
		return;
	msgbuf_put_u32(b, r->owner);
	msgbuf_put_u32(b, r->domid);
}

int
lock_config_read_get(struct msg *m, struct lock_config_read *r)
{
	int ok = m->hdr.type == MSG_LOCK_CONFIG_READ &&
	    msg_get_u32(m, &r->owner) == 0 && msg_get_u32(m, &r->domid) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
lock_config_put(struct msgbuf *b, const struct lock_config *c)
{
	if (codec_put_type(b, MSG_LOCK_CONFIG) == -1)
		return;
	msgbuf_put_u64(b, c->generation);
	msgbuf_put_blob(b, c->json, c->json_len);
}

int
lock_config_get(struct msg *m, struct lock_config *c)
{
	int ok = m->hdr.type == MSG_LOCK_CONFIG &&
	    msg_get_u64(m, &c->generation) == 0 &&
	    get_json(m, &c->json, &c->json_len, LOCK_LIST_MAX) == 0;

	return codec_get_end(m, ok, c, sizeof(*c));
}

void
lock_config_write_put(struct msgbuf *b, const struct lock_config_write *w)
{
	if (codec_put_type(b, MSG_LOCK_CONFIG_WRITE) == -1)
		return;
	msgbuf_put_u32(b, w->owner);
	msgbuf_put_u32(b, w->domid);
	msgbuf_put_u64(b, w->expect_gen);
	msgbuf_put_blob(b, w->json, w->json_len);
}

int
lock_config_write_get(struct msg *m, struct lock_config_write *w)
{
	int ok = m->hdr.type == MSG_LOCK_CONFIG_WRITE &&
	    msg_get_u32(m, &w->owner) == 0 && msg_get_u32(m, &w->domid) == 0 &&
	    msg_get_u64(m, &w->expect_gen) == 0 &&
	    get_json(m, &w->json, &w->json_len, LOCK_JSON_MAX) == 0;

	return codec_get_end(m, ok, w, sizeof(*w));
}

void
lock_domain_create_put(struct msgbuf *b, const struct lock_domain_create *c)
{
	if (codec_put_type(b, MSG_LOCK_DOMAIN_CREATE) == -1)
		return;
	msgbuf_put_u32(b, c->domid);
	msgbuf_put_blob(b, c->json, c->json_len);
}

int
lock_domain_create_get(struct msg *m, struct lock_domain_create *c)
{
	int ok = m->hdr.type == MSG_LOCK_DOMAIN_CREATE &&
	    msg_get_u32(m, &c->domid) == 0 &&
	    get_json(m, &c->json, &c->json_len, LOCK_JSON_MAX) == 0;

	return codec_get_end(m, ok, c, sizeof(*c));
}

void
lock_destroy_begin_put(struct msgbuf *b, const struct lock_destroy_begin *d)
{
	if (codec_put_type(b, MSG_LOCK_DESTROY_BEGIN) == -1)
		return;
	msgbuf_put_u32(b, d->domid);
	msgbuf_put_u32(b, d->flags);
	msgbuf_put_u32(b, d->timeout_ms);
}

int
lock_destroy_begin_get(struct msg *m, struct lock_destroy_begin *d)
{
	int ok = m->hdr.type == MSG_LOCK_DESTROY_BEGIN &&
	    msg_get_u32(m, &d->domid) == 0 && msg_get_u32(m, &d->flags) == 0 &&
	    msg_get_u32(m, &d->timeout_ms) == 0;

	return codec_get_end(m, ok, d, sizeof(*d));
}

/* The three requests that carry only a domid. */
#define DOMID_CODEC(name, TYPE)						\
void									\
lock_##name##_put(struct msgbuf *b, const struct lock_##name *r)	\
{									\
	if (codec_put_type(b, TYPE) == 0)				\
		msgbuf_put_u32(b, r->domid);				\
}									\
									\
int									\
lock_##name##_get(struct msg *m, struct lock_##name *r)			\
{									\
	int ok = m->hdr.type == TYPE && msg_get_u32(m, &r->domid) == 0;	\
									\
	return codec_get_end(m, ok, r, sizeof(*r));			\
}
DOMID_CODEC(dm_gone, MSG_LOCK_DM_GONE)
DOMID_CODEC(destroy_finish, MSG_LOCK_DESTROY_FINISH)
DOMID_CODEC(query, MSG_LOCK_QUERY)

void
lock_ok_gen_put(struct msgbuf *b, const struct lock_ok_gen *o)
{
	if (codec_put_type(b, MSG_COMMON_OK) == 0)
		msgbuf_put_u64(b, o->generation);
}

int
lock_ok_gen_get(struct msg *m, struct lock_ok_gen *o)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u64(m, &o->generation) == 0;

	return codec_get_end(m, ok, o, sizeof(*o));
}
