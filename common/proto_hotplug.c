/*
 * The watcherd <-> hotplugd messages (proto_hotplug.h): one put and one
 * get per message, the field order written once.
 */
#include <errno.h>
#include <string.h>

#include "msg.h"
#include "proto_hotplug.h"

/* A string field of an array: its NUL must be inside the array. */
#define PUT_FIELD(b, f)	put_field((b), (f), sizeof(f))
#define GET_FIELD(m, f)	msg_get_str((m), (f), sizeof(f))

static void
put_field(struct msgbuf *b, const char *s, size_t size)
{
	if (strnlen(s, size) == size) {
		if (b->err == 0)
			b->err = EINVAL;
		return;
	}
	msgbuf_put_str(b, s);
}

/* The end of every get: the whole payload read, else nothing kept. */
static int
get_end(struct msg *m, int rc, void *out, size_t size)
{
	if (rc == 0 && msg_end(m) == 0)
		return 0;
	memset(out, 0, size);
	return -1;
}

void
hotplug_run_put(struct msgbuf *b, uint32_t reqid, const struct hotplug_run *r)
{
	msgbuf_init(b, MSG_HOTPLUG_RUN, reqid);
	msgbuf_put_u64(b, r->id);
	PUT_FIELD(b, r->kind);
	PUT_FIELD(b, r->action);
	PUT_FIELD(b, r->script);
	PUT_FIELD(b, r->be_path);
	PUT_FIELD(b, r->xs_path);
	PUT_FIELD(b, r->vif);
	PUT_FIELD(b, r->netdev);
	msgbuf_put_u32(b, r->timeout_ms);
}

int
hotplug_run_get(struct msg *m, struct hotplug_run *r)
{
	int rc = m->hdr.type == MSG_HOTPLUG_RUN &&
	    msg_get_u64(m, &r->id) == 0 &&
	    GET_FIELD(m, r->kind) == 0 && GET_FIELD(m, r->action) == 0 &&
	    GET_FIELD(m, r->script) == 0 && GET_FIELD(m, r->be_path) == 0 &&
	    GET_FIELD(m, r->xs_path) == 0 && GET_FIELD(m, r->vif) == 0 &&
	    GET_FIELD(m, r->netdev) == 0 &&
	    msg_get_u32(m, &r->timeout_ms) == 0 ? 0 : -1;

	return get_end(m, rc, r, sizeof(*r));
}

void
hotplug_done_put(struct msgbuf *b, uint32_t reqid,
    const struct hotplug_done *d)
{
	msgbuf_init(b, MSG_HOTPLUG_DONE, reqid);
	msgbuf_put_u64(b, d->id);
	msgbuf_put_u32(b, d->outcome);
	msgbuf_put_i64(b, d->code);
	msgbuf_put_u64(b, d->duration_us);
	PUT_FIELD(b, d->message);
}

int
hotplug_done_get(struct msg *m, struct hotplug_done *d)
{
	int rc = m->hdr.type == MSG_HOTPLUG_DONE &&
	    msg_get_u64(m, &d->id) == 0 && msg_get_u32(m, &d->outcome) == 0 &&
	    msg_get_i64(m, &d->code) == 0 &&
	    msg_get_u64(m, &d->duration_us) == 0 &&
	    GET_FIELD(m, d->message) == 0 ? 0 : -1;

	return get_end(m, rc, d, sizeof(*d));
}

void
hotplug_cancel_put(struct msgbuf *b, uint32_t reqid,
    const struct hotplug_cancel *c)
{
	msgbuf_init(b, MSG_HOTPLUG_CANCEL, reqid);
	msgbuf_put_u64(b, c->id);
}

int
hotplug_cancel_get(struct msg *m, struct hotplug_cancel *c)
{
	int rc = m->hdr.type == MSG_HOTPLUG_CANCEL &&
	    msg_get_u64(m, &c->id) == 0 ? 0 : -1;

	return get_end(m, rc, c, sizeof(*c));
}
