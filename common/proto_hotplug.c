/*
 * The watcherd <-> hotplugd messages (proto_hotplug.h): one put and one
 * get per message, the field order written once.
 */
#include "codec.h"
#include "msg.h"
#include "proto_hotplug.h"

void
hotplug_run_put(struct msgbuf *b, const struct hotplug_run *r)
{
	if (codec_put_type(b, MSG_HOTPLUG_RUN) == -1)
		return;
	msgbuf_put_u64(b, r->id);
	CODEC_PUT_STR(b, r->kind);
	CODEC_PUT_STR(b, r->action);
	CODEC_PUT_STR(b, r->script);
	CODEC_PUT_STR(b, r->be_path);
	CODEC_PUT_STR(b, r->xs_path);
	CODEC_PUT_STR(b, r->vif);
	CODEC_PUT_STR(b, r->netdev);
	msgbuf_put_u32(b, r->timeout_ms);
}

int
hotplug_run_get(struct msg *m, struct hotplug_run *r)
{
	int ok = m->hdr.type == MSG_HOTPLUG_RUN &&
	    msg_get_u64(m, &r->id) == 0 &&
	    CODEC_GET_STR(m, r->kind) == 0 &&
	    CODEC_GET_STR(m, r->action) == 0 &&
	    CODEC_GET_STR(m, r->script) == 0 &&
	    CODEC_GET_STR(m, r->be_path) == 0 &&
	    CODEC_GET_STR(m, r->xs_path) == 0 &&
	    CODEC_GET_STR(m, r->vif) == 0 &&
	    CODEC_GET_STR(m, r->netdev) == 0 &&
	    msg_get_u32(m, &r->timeout_ms) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
hotplug_done_put(struct msgbuf *b, const struct hotplug_done *d)
{
	if (codec_put_type(b, MSG_HOTPLUG_DONE) == -1)
		return;
	msgbuf_put_u64(b, d->id);
	msgbuf_put_u32(b, d->outcome);
	msgbuf_put_i64(b, d->code);
	msgbuf_put_u64(b, d->duration_us);
	CODEC_PUT_STR(b, d->message);
}

int
hotplug_done_get(struct msg *m, struct hotplug_done *d)
{
	int ok = m->hdr.type == MSG_HOTPLUG_DONE &&
	    msg_get_u64(m, &d->id) == 0 && msg_get_u32(m, &d->outcome) == 0 &&
	    msg_get_i64(m, &d->code) == 0 &&
	    msg_get_u64(m, &d->duration_us) == 0 &&
	    CODEC_GET_STR(m, d->message) == 0;

	return codec_get_end(m, ok, d, sizeof(*d));
}

void
hotplug_cancel_put(struct msgbuf *b, const struct hotplug_cancel *c)
{
	if (codec_put_type(b, MSG_HOTPLUG_CANCEL) == -1)
		return;
	msgbuf_put_u64(b, c->id);
}

int
hotplug_cancel_get(struct msg *m, struct hotplug_cancel *c)
{
	int ok = m->hdr.type == MSG_HOTPLUG_CANCEL &&
	    msg_get_u64(m, &c->id) == 0;

	return codec_get_end(m, ok, c, sizeof(*c));
}

void
hotplug_started_put(struct msgbuf *b, const struct hotplug_started *st)
{
	if (codec_put_type(b, MSG_HOTPLUG_STARTED) == -1)
		return;
	msgbuf_put_u64(b, st->id);
	msgbuf_put_u32(b, st->pid);
	msgbuf_put_u32(b, st->uid);
}

int
hotplug_started_get(struct msg *m, struct hotplug_started *st)
{
	int ok = m->hdr.type == MSG_HOTPLUG_STARTED &&
	    msg_get_u64(m, &st->id) == 0 && msg_get_u32(m, &st->pid) == 0 &&
	    msg_get_u32(m, &st->uid) == 0;

	return codec_get_end(m, ok, st, sizeof(*st));
}
