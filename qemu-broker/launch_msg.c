/*
 * The launcher channel's messages (launcher.h): one put and one get per
 * message, shared by the broker (dm.c) and its launcher (launcher.c).
 */
#include <errno.h>
#include <string.h>

#include "codec.h"
#include "launcher.h"
#include "msg.h"
#include "proto.h"

void
launch_spawn_put(struct msgbuf *b, const struct launch_req *r)
{
	uint32_t i;

	if (codec_put_type(b, MSG_LAUNCH_SPAWN) == -1)
		return;
	if (r->n_cdrom > LAUNCH_MAX_CDROMS) {
		b->err = EINVAL;
		return;
	}
	msgbuf_put_u32(b, r->domid);
	msgbuf_put_u32(b, r->kind);
	msgbuf_put_u32(b, r->memory_mb);
	msgbuf_put_u32(b, r->n_cdrom);
	for (i = 0; i < r->n_cdrom; i++)
		msgbuf_put_u32(b, r->cdrom[i]);
}

int
launch_spawn_get(struct msg *m, struct launch_req *r)
{
	uint32_t i;
	int ok;

	memset(r, 0, sizeof(*r));
	ok = m->hdr.type == MSG_LAUNCH_SPAWN &&
	    msg_get_u32(m, &r->domid) == 0 && msg_get_u32(m, &r->kind) == 0 &&
	    msg_get_u32(m, &r->memory_mb) == 0 &&
	    msg_get_u32(m, &r->n_cdrom) == 0 &&
	    r->n_cdrom <= LAUNCH_MAX_CDROMS;
	for (i = 0; ok && i < r->n_cdrom; i++)
		ok = msg_get_u32(m, &r->cdrom[i]) == 0;
	return codec_get_end(m, ok, r, sizeof(*r));
}

void
launch_spawned_put(struct msgbuf *b, const struct launch_spawned *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == -1)
		return;
	msgbuf_put_u32(b, r->pid);
	msgbuf_put_u32(b, r->uid);
	CODEC_PUT_STR(b, r->chroot);
}

int
launch_spawned_get(struct msg *m, struct launch_spawned *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->pid) == 0 && msg_get_u32(m, &r->uid) == 0 &&
	    CODEC_GET_STR(m, r->chroot) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

/* The messages of two u32 (TYPE, struct launch_NAME {A, B}). */
#define TWO_U32(name, TYPE, A, B)					\
void									\
launch_##name##_put(struct msgbuf *b, const struct launch_##name *r)	\
{									\
	if (codec_put_type(b, TYPE) == -1)				\
		return;							\
	msgbuf_put_u32(b, r->A);					\
	msgbuf_put_u32(b, r->B);					\
}									\
									\
int									\
launch_##name##_get(struct msg *m, struct launch_##name *r)		\
{									\
	int ok = m->hdr.type == TYPE && msg_get_u32(m, &r->A) == 0 &&	\
	    msg_get_u32(m, &r->B) == 0;					\
									\
	return codec_get_end(m, ok, r, sizeof(*r));			\
}
TWO_U32(kill, MSG_LAUNCH_KILL, pid, signal)
TWO_U32(adopt, MSG_LAUNCH_ADOPT, pid, domid)
TWO_U32(xlqmp_ok, MSG_COMMON_OK, pid, uid)

void
launch_exited_put(struct msgbuf *b, const struct launch_exited *r)
{
	if (codec_put_type(b, MSG_LAUNCH_EXITED) == -1)
		return;
	msgbuf_put_u32(b, r->pid);
	msgbuf_put_i64(b, r->status);
}

int
launch_exited_get(struct msg *m, struct launch_exited *r)
{
	int ok = m->hdr.type == MSG_LAUNCH_EXITED &&
	    msg_get_u32(m, &r->pid) == 0 && msg_get_i64(m, &r->status) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
launch_xlqmp_put(struct msgbuf *b, const struct launch_xlqmp *r)
{
	if (codec_put_type(b, MSG_LAUNCH_XLQMP) == 0)
		msgbuf_put_u32(b, r->domid);
}

int
launch_xlqmp_get(struct msg *m, struct launch_xlqmp *r)
{
	int ok = m->hdr.type == MSG_LAUNCH_XLQMP &&
	    msg_get_u32(m, &r->domid) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}
