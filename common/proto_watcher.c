/*
 * The requests to watcherd (proto_watcher.h): one put and one get per
 * message, the field order written once.
 */
#include "codec.h"
#include "msg.h"
#include "proto_watcher.h"

void
watcher_devices_put(struct msgbuf *b, const struct watcher_devices *d)
{
	if (codec_put_type(b, MSG_WATCHER_DEVICES) == -1)
		return;
	msgbuf_put_u32(b, d->domid);
}

int
watcher_devices_get(struct msg *m, struct watcher_devices *d)
{
	int ok = m->hdr.type == MSG_WATCHER_DEVICES &&
	    msg_get_u32(m, &d->domid) == 0;

	return codec_get_end(m, ok, d, sizeof(*d));
}

void
watcher_cdrom_update_put(struct msgbuf *b,
    const struct watcher_cdrom_update *c)
{
	if (codec_put_type(b, MSG_WATCHER_CDROM_UPDATE) == -1)
		return;
	msgbuf_put_u32(b, c->domid);
	msgbuf_put_u32(b, c->devid);
	CODEC_PUT_STR(b, c->params);
	CODEC_PUT_STR(b, c->type);
	CODEC_PUT_STR(b, c->mode);
}

int
watcher_cdrom_update_get(struct msg *m, struct watcher_cdrom_update *c)
{
	int ok = m->hdr.type == MSG_WATCHER_CDROM_UPDATE &&
	    msg_get_u32(m, &c->domid) == 0 &&
	    msg_get_u32(m, &c->devid) == 0 &&
	    CODEC_GET_STR(m, c->params) == 0 &&
	    CODEC_GET_STR(m, c->type) == 0 &&
	    CODEC_GET_STR(m, c->mode) == 0;

	return codec_get_end(m, ok, c, sizeof(*c));
}

void
watcher_relay_run_put(struct msgbuf *b, const struct watcher_relay_run *r)
{
	if (codec_put_type(b, MSG_WATCHER_RELAY_RUN) == -1)
		return;
	CODEC_PUT_STR(b, r->script);
	CODEC_PUT_STR(b, r->action);
	CODEC_PUT_STR(b, r->xenbus_path);
	CODEC_PUT_STR(b, r->vif);
	CODEC_PUT_STR(b, r->netdev);
}

int
watcher_relay_run_get(struct msg *m, struct watcher_relay_run *r)
{
	int ok = m->hdr.type == MSG_WATCHER_RELAY_RUN &&
	    CODEC_GET_STR(m, r->script) == 0 &&
	    CODEC_GET_STR(m, r->action) == 0 &&
	    CODEC_GET_STR(m, r->xenbus_path) == 0 &&
	    CODEC_GET_STR(m, r->vif) == 0 &&
	    CODEC_GET_STR(m, r->netdev) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
watcher_relay_done_put(struct msgbuf *b, const struct watcher_relay_done *d)
{
	if (codec_put_type(b, MSG_WATCHER_RELAY_DONE) == -1)
		return;
	msgbuf_put_u32(b, d->outcome);
	msgbuf_put_i64(b, d->code);
	msgbuf_put_u64(b, d->duration_us);
	CODEC_PUT_STR(b, d->message);
}

int
watcher_relay_done_get(struct msg *m, struct watcher_relay_done *d)
{
	int ok = m->hdr.type == MSG_WATCHER_RELAY_DONE &&
	    msg_get_u32(m, &d->outcome) == 0 &&
	    msg_get_i64(m, &d->code) == 0 &&
	    msg_get_u64(m, &d->duration_us) == 0 &&
	    CODEC_GET_STR(m, d->message) == 0;

	return codec_get_end(m, ok, d, sizeof(*d));
}
