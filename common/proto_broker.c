/*
 * The requests to the QEMU broker (proto_broker.h): one put and one get
 * per message, the field order written once.
 */
#include <errno.h>

#include "codec.h"
#include "msg.h"
#include "proto_broker.h"

void
broker_dm_start_put(struct msgbuf *b, const struct broker_dm_start *r)
{
	uint32_t i;

	if (codec_put_type(b, MSG_BROKER_DM_START) == -1)
		return;
	if (r->n_cdrom > BROKER_MAX_CDROMS) {
		b->err = EINVAL;
		return;
	}
	msgbuf_put_u32(b, r->domid);
	msgbuf_put_u32(b, r->flags);
	msgbuf_put_u32(b, r->memory_mb);
	msgbuf_put_u32(b, r->n_cdrom);
	for (i = 0; i < r->n_cdrom; i++)
		msgbuf_put_u32(b, r->cdrom[i]);
}

int
broker_dm_start_get(struct msg *m, struct broker_dm_start *r)
{
	uint32_t i;
	int ok = m->hdr.type == MSG_BROKER_DM_START &&
	    msg_get_u32(m, &r->domid) == 0 && msg_get_u32(m, &r->flags) == 0 &&
	    msg_get_u32(m, &r->memory_mb) == 0 &&
	    msg_get_u32(m, &r->n_cdrom) == 0 &&
	    r->n_cdrom <= BROKER_MAX_CDROMS;

	for (i = 0; ok && i < r->n_cdrom; i++)
		ok = msg_get_u32(m, &r->cdrom[i]) == 0;
	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_dm_destroy_put(struct msgbuf *b, const struct broker_dm_destroy *r)
{
	if (codec_put_type(b, MSG_BROKER_DM_DESTROY) == -1)
		return;
	msgbuf_put_u32(b, r->domid);
	msgbuf_put_u32(b, r->timeout_ms);
}

int
broker_dm_destroy_get(struct msg *m, struct broker_dm_destroy *r)
{
	int ok = m->hdr.type == MSG_BROKER_DM_DESTROY &&
	    msg_get_u32(m, &r->domid) == 0 &&
	    msg_get_u32(m, &r->timeout_ms) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_cdrom_insert_put(struct msgbuf *b, const struct broker_cdrom_insert *r)
{
	if (codec_put_type(b, MSG_BROKER_CDROM_INSERT) == -1)
		return;
	msgbuf_put_u32(b, r->domid);
	msgbuf_put_u32(b, r->devid);
	CODEC_PUT_STR(b, r->path);
	msgbuf_put_u32(b, r->flags);
}

int
broker_cdrom_insert_get(struct msg *m, struct broker_cdrom_insert *r)
{
	int ok = m->hdr.type == MSG_BROKER_CDROM_INSERT &&
	    msg_get_u32(m, &r->domid) == 0 && msg_get_u32(m, &r->devid) == 0 &&
	    CODEC_GET_STR(m, r->path) == 0 && msg_get_u32(m, &r->flags) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_disk_add_put(struct msgbuf *b, const struct broker_disk_add *r)
{
	if (codec_put_type(b, MSG_BROKER_DISK_ADD) == -1)
		return;
	msgbuf_put_u32(b, r->domid);
	msgbuf_put_u32(b, r->devid);
	CODEC_PUT_STR(b, r->path);
	msgbuf_put_u32(b, r->flags);
	msgbuf_put_u32(b, r->bus);
}

int
broker_disk_add_get(struct msg *m, struct broker_disk_add *r)
{
	int ok = m->hdr.type == MSG_BROKER_DISK_ADD &&
	    msg_get_u32(m, &r->domid) == 0 && msg_get_u32(m, &r->devid) == 0 &&
	    CODEC_GET_STR(m, r->path) == 0 && msg_get_u32(m, &r->flags) == 0 &&
	    msg_get_u32(m, &r->bus) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

/* The requests of {domid, devid} and of {domid}. */
#define DEV_CODEC(name, TYPE)						\
void									\
broker_##name##_put(struct msgbuf *b, const struct broker_##name *r)	\
{									\
	if (codec_put_type(b, TYPE) == -1)				\
		return;							\
	msgbuf_put_u32(b, r->domid);					\
	msgbuf_put_u32(b, r->devid);					\
}									\
									\
int									\
broker_##name##_get(struct msg *m, struct broker_##name *r)		\
{									\
	int ok = m->hdr.type == TYPE && msg_get_u32(m, &r->domid) == 0 && \
	    msg_get_u32(m, &r->devid) == 0;				\
									\
	return codec_get_end(m, ok, r, sizeof(*r));			\
}
DEV_CODEC(cdrom_eject, MSG_BROKER_CDROM_EJECT)
DEV_CODEC(disk_remove, MSG_BROKER_DISK_REMOVE)
DEV_CODEC(qdisk_attach, MSG_BROKER_QDISK_ATTACH)
DEV_CODEC(qdisk_detach, MSG_BROKER_QDISK_DETACH)

#define DOM_CODEC(name, TYPE)						\
void									\
broker_##name##_put(struct msgbuf *b, const struct broker_##name *r)	\
{									\
	if (codec_put_type(b, TYPE) == 0)				\
		msgbuf_put_u32(b, r->domid);				\
}									\
									\
int									\
broker_##name##_get(struct msg *m, struct broker_##name *r)		\
{									\
	int ok = m->hdr.type == TYPE && msg_get_u32(m, &r->domid) == 0;	\
									\
	return codec_get_end(m, ok, r, sizeof(*r));			\
}
DOM_CODEC(cdrom_list, MSG_BROKER_CDROM_LIST)
DOM_CODEC(list, MSG_BROKER_LIST)

/* ---- the payloads of the OK replies ---- */

void
broker_dm_started_put(struct msgbuf *b, const struct broker_dm_started *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == -1)
		return;
	msgbuf_put_u32(b, r->pid);
	msgbuf_put_u32(b, r->uid);
}

int
broker_dm_started_get(struct msg *m, struct broker_dm_started *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->pid) == 0 && msg_get_u32(m, &r->uid) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_dm_destroyed_put(struct msgbuf *b,
    const struct broker_dm_destroyed *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == -1)
		return;
	msgbuf_put_u32(b, r->pid);
	msgbuf_put_i64(b, r->status);
	msgbuf_put_u32(b, r->dm_gone_sent);
}

int
broker_dm_destroyed_get(struct msg *m, struct broker_dm_destroyed *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->pid) == 0 && msg_get_i64(m, &r->status) == 0 &&
	    msg_get_u32(m, &r->dm_gone_sent) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_cdrom_inserted_put(struct msgbuf *b,
    const struct broker_cdrom_inserted *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == -1)
		return;
	msgbuf_put_u32(b, r->fdset);
	CODEC_PUT_STR(b, r->xenstore);
}

int
broker_cdrom_inserted_get(struct msg *m, struct broker_cdrom_inserted *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->fdset) == 0 &&
	    CODEC_GET_STR(m, r->xenstore) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_cdrom_ejected_put(struct msgbuf *b,
    const struct broker_cdrom_ejected *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == 0)
		CODEC_PUT_STR(b, r->xenstore);
}

int
broker_cdrom_ejected_get(struct msg *m, struct broker_cdrom_ejected *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    CODEC_GET_STR(m, r->xenstore) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_disk_added_put(struct msgbuf *b, const struct broker_disk_added *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == 0)
		msgbuf_put_u32(b, r->fdset);
}

int
broker_disk_added_get(struct msg *m, struct broker_disk_added *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->fdset) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_qdisk_attached_put(struct msgbuf *b,
    const struct broker_qdisk_attached *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == -1)
		return;
	msgbuf_put_u32(b, r->refs);
	msgbuf_put_u32(b, r->pid);
}

int
broker_qdisk_attached_get(struct msg *m, struct broker_qdisk_attached *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->refs) == 0 && msg_get_u32(m, &r->pid) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}

void
broker_qdisk_detached_put(struct msgbuf *b,
    const struct broker_qdisk_detached *r)
{
	if (codec_put_type(b, MSG_COMMON_OK) == 0)
		msgbuf_put_u32(b, r->refs);
}

int
broker_qdisk_detached_get(struct msg *m, struct broker_qdisk_detached *r)
{
	int ok = m->hdr.type == MSG_COMMON_OK &&
	    msg_get_u32(m, &r->refs) == 0;

	return codec_get_end(m, ok, r, sizeof(*r));
}
