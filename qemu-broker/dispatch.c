/*
 * The broker's request table: {type -> allowed peers -> handler}.  An
 * unknown or unpermitted type, or a payload that does not decode exactly,
 * drops that peer (msg_dispatch / return -1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "proto_broker.h"

static struct client *
C(struct msgchan *ch)
{
	return msgchan_arg(ch);
}

static void
reply_rc(struct msgchan *ch, struct msg *m, int rc, const char *what)
{
	if (rc != 0)
		client_reply_err(C(ch), m->hdr.reqid, -rc, "%s: %s", what,
		    strerror(-rc));
}

static struct op *op_new(struct msgchan *, struct msg *, enum op_kind);

/* The device model is started as a seed-002 thing (op.c): JSON "dm" entry
 * first, under the domain's slow lock. */
static int
broker_dispatch_admin_dm_start(struct msgchan *ch, struct msg *m)
{
	struct launch_req r = { .kind = LAUNCH_KIND_DM };
	struct broker_dm_start s;
	uint32_t flags;
	struct op *op;

	if (broker_dm_start_get(m, &s) == -1)
		return -1;
	r.domid = s.domid;
	flags = s.flags;
	r.memory_mb = s.memory_mb;
	r.n_cdrom = s.n_cdrom;
	memcpy(r.cdrom, s.cdrom, sizeof(r.cdrom));
	op = op_new(ch, m, OP_DM_START);
	op->domid = r.domid;
	op->lr = r;
	op->dmflags = flags;
	if (flags & ~BROKER_DM_RUN)
		op_fail(op, EINVAL, "unknown DM_START flags");
	else if (launch_req_valid(&r) == -1)
		op_fail(op, EINVAL, "bad DM_START request");
	return op_start(op);
}

static int
broker_dispatch_admin_dm_destroy(struct msgchan *ch, struct msg *m)
{
	struct broker_dm_destroy r;
	struct dm *d;

	if (broker_dm_destroy_get(m, &r) == -1)
		return -1;
	if (r.timeout_ms == 0)
		r.timeout_ms = B->cfg.destroy_timeout_ms;
	if ((d = dm_find(r.domid, LAUNCH_KIND_DM)) == NULL) {
		dm_destroy_absent(r.domid, C(ch), m->hdr.reqid);
		return 0;
	}
	reply_rc(ch, m, dm_destroy(d, C(ch), m->hdr.reqid, r.timeout_ms),
	    "DM_DESTROY");
	return 0;
}

static struct op *
op_new(struct msgchan *ch, struct msg *m, enum op_kind kind)
{
	struct op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("calloc");
	op->kind = kind;
	op->imgfd = -1;
	op->client = client_ref(C(ch));
	op->reqid = m->hdr.reqid;
	return op;
}

_Static_assert(sizeof(((struct op *)0)->path) == BROKER_PATH_MAX,
    "op.path holds a request's path");
_Static_assert(sizeof(((struct launch_req *)0)->cdrom) ==
    sizeof(((struct broker_dm_start *)0)->cdrom), "cdrom devids");

/* The op of a CDROM_INSERT or a DISK_ADD; NULL when malformed. */
static struct op *
add_get(struct msgchan *ch, struct msg *m, enum op_kind kind)
{
	struct broker_cdrom_insert c;
	struct broker_disk_add d;
	struct op *op;

	if (kind == OP_CDROM_INSERT ? broker_cdrom_insert_get(m, &c) == -1 :
	    broker_disk_add_get(m, &d) == -1)
		return NULL;
	op = op_new(ch, m, kind);
	if (kind == OP_CDROM_INSERT)
		d = (struct broker_disk_add){ c.domid, c.devid, "", c.flags, 0 };
	op->domid = d.domid;
	op->devid = d.devid;
	memcpy(op->path, kind == OP_CDROM_INSERT ? c.path : d.path,
	    sizeof(op->path));
	op->flags = d.flags;
	op->bus = d.bus;
	return op;
}

/* CDROM_INSERT and DISK_ADD: decode, open the image, start the op. */
static int
add_thing(struct msgchan *ch, struct msg *m, enum op_kind kind)
{
	struct op *op;

	if ((op = add_get(ch, m, kind)) == NULL)
		return -1;
	if (kind == OP_CDROM_INSERT)
		op->flags |= BROKER_F_RO;
	if ((op->flags & ~BROKER_F_RO) || (kind == OP_DISK_ADD &&
	    op->bus != BROKER_BUS_VIRTIO && op->bus != BROKER_BUS_SCSI))
		op_fail(op, EINVAL, "bad flags or bus");
	else if ((op->imgfd = image_open(&B->cfg, op->path,
	    (op->flags & BROKER_F_RO) != 0, op->err, sizeof(op->err))) < 0) {
		op->rc = op->imgfd;
		op->imgfd = -1;
	}
	return op_start(op);
}

static int
remove_thing(struct msgchan *ch, struct msg *m, enum op_kind kind)
{
	struct broker_cdrom_eject e;
	struct broker_disk_remove r;
	struct op *op;

	if (kind == OP_CDROM_EJECT ? broker_cdrom_eject_get(m, &e) == -1 :
	    broker_disk_remove_get(m, &r) == -1)
		return -1;
	if (kind == OP_CDROM_EJECT)
		r = (struct broker_disk_remove){ e.domid, e.devid };
	op = op_new(ch, m, kind);
	op->domid = r.domid;
	op->devid = r.devid;
	return op_start(op);
}

static int
broker_dispatch_admin_cdrom_insert(struct msgchan *ch, struct msg *m)
{
	return add_thing(ch, m, OP_CDROM_INSERT);
}

static int
broker_dispatch_admin_cdrom_eject(struct msgchan *ch, struct msg *m)
{
	return remove_thing(ch, m, OP_CDROM_EJECT);
}

static int
broker_dispatch_admin_disk_add(struct msgchan *ch, struct msg *m)
{
	return add_thing(ch, m, OP_DISK_ADD);
}

static int
broker_dispatch_admin_disk_remove(struct msgchan *ch, struct msg *m)
{
	return remove_thing(ch, m, OP_DISK_REMOVE);
}

static int
broker_dispatch_admin_cdrom_list(struct msgchan *ch, struct msg *m)
{
	struct broker_cdrom_list r;

	if (broker_cdrom_list_get(m, &r) == -1)
		return -1;
	reply_rc(ch, m, cdrom_list(C(ch), m->hdr.reqid, r.domid),
	    "CDROM_LIST");
	return 0;
}

static int
broker_dispatch_admin_list(struct msgchan *ch, struct msg *m)
{
	struct broker_list r;

	if (broker_list_get(m, &r) == -1)
		return -1;
	reply_rc(ch, m, dm_list_json(r.domid, C(ch), m->hdr.reqid), "LIST");
	return 0;
}

static int
broker_dispatch_watcherd_qdisk(struct msgchan *ch, struct msg *m)
{
	struct broker_qdisk_attach a;
	struct broker_qdisk_detach r;
	int rc;

	if (m->hdr.type == MSG_BROKER_QDISK_ATTACH) {
		if (broker_qdisk_attach_get(m, &a) == -1)
			return -1;
		rc = qdisk_attach(C(ch), m->hdr.reqid, a.domid, a.devid);
	} else {
		if (broker_qdisk_detach_get(m, &r) == -1)
			return -1;
		rc = qdisk_detach(C(ch), m->hdr.reqid, r.domid, r.devid);
	}
	reply_rc(ch, m, rc, m->hdr.type == MSG_BROKER_QDISK_ATTACH ?
	    "QDISK_ATTACH" : "QDISK_DETACH");
	return 0;
}

#define ADMIN	PEER_ADMIN
const struct msg_handler broker_handlers[] = {
	{ MSG_COMMON_STATUS, "STATUS", ADMIN, broker_dispatch_admin_status },
	{ MSG_COMMON_STATS, "STATS", ADMIN, broker_dispatch_admin_stats },
	{ MSG_BROKER_DM_START, "DM_START", ADMIN,
	    broker_dispatch_admin_dm_start },
	{ MSG_BROKER_DM_DESTROY, "DM_DESTROY", ADMIN,
	    broker_dispatch_admin_dm_destroy },
	{ MSG_BROKER_CDROM_INSERT, "CDROM_INSERT", ADMIN,
	    broker_dispatch_admin_cdrom_insert },
	{ MSG_BROKER_CDROM_EJECT, "CDROM_EJECT", ADMIN,
	    broker_dispatch_admin_cdrom_eject },
	{ MSG_BROKER_CDROM_LIST, "CDROM_LIST", ADMIN,
	    broker_dispatch_admin_cdrom_list },
	{ MSG_BROKER_DISK_ADD, "DISK_ADD", ADMIN,
	    broker_dispatch_admin_disk_add },
	{ MSG_BROKER_DISK_REMOVE, "DISK_REMOVE", ADMIN,
	    broker_dispatch_admin_disk_remove },
	{ MSG_BROKER_LIST, "LIST", ADMIN, broker_dispatch_admin_list },
	{ MSG_BROKER_QDISK_ATTACH, "QDISK_ATTACH", PEER_WATCHERD | ADMIN,
	    broker_dispatch_watcherd_qdisk },
	{ MSG_BROKER_QDISK_DETACH, "QDISK_DETACH", PEER_WATCHERD | ADMIN,
	    broker_dispatch_watcherd_qdisk },
};
const size_t broker_nhandlers = sizeof(broker_handlers) /
    sizeof(broker_handlers[0]);
