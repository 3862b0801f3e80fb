/*
 * Driver-domain qdisk backend QEMUs (seed 004): one QEMU per guest,
 * refcounted by the guest's qdisk devices, requested by watcherd.
 *
 *   refs  event                    -> action / refs
 *   0     ATTACH(d)                -> launch QEMU, reply when ready / {d}
 *   n     ATTACH(d), d attached    -> reply (idempotent) / n
 *   n     ATTACH(d), new           -> reply / n+1
 *   n     ATTACH, QEMU starting    -> EAGAIN (retry) / n
 *   n>1   DETACH(d)                -> reply / n-1
 *   1     DETACH(d)                -> destroy QEMU, reply when reaped / 0
 *   n     DETACH(d), d unknown     -> ENOENT / n
 */
#include <errno.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "proto_broker.h"

static int
qdev_index(const struct dm *d, uint32_t devid)
{
	uint32_t i;

	for (i = 0; i < d->nqdevs; i++)
		if (d->qdevs[i] == devid)
			return (int)i;
	return -1;
}

static void
reply_refs(struct client *c, uint32_t reqid, const struct dm *d)
{
	struct broker_qdisk_attached r = { d->nqdevs, (uint32_t)d->pid };
	struct msgbuf b;

	msgbuf_init(&b, MSG_COMMON_OK, reqid);
	broker_qdisk_attached_put(&b, &r);
	client_reply_ok(c, &b);
	msgbuf_dispose(&b);
}

int
qdisk_attach(struct client *c, uint32_t reqid, uint32_t domid,
    uint32_t devid)
{
	struct launch_req r = { .domid = domid, .kind = LAUNCH_KIND_QDISK };
	struct dm *d = dm_find(domid, LAUNCH_KIND_QDISK);
	int rc;

	if (d == NULL) {
		if ((rc = dm_start(c, reqid, &r, 0)) != 0)
			return rc;
		d = dm_find(domid, LAUNCH_KIND_QDISK);
		d->qdevs[d->nqdevs++] = devid;	/* reply once ready */
		log_info("domid=%u kind=qdisk devid=%u launching backend QEMU",
		    domid, devid);
		return 0;
	}
	if (d->state != DM_RUNNING)
		return d->state == DM_STARTING ? -EAGAIN : -ESRCH;
	if (qdev_index(d, devid) == -1) {
		if (d->nqdevs >= sizeof(d->qdevs) / sizeof(d->qdevs[0]))
			return -ENOSPC;
		d->qdevs[d->nqdevs++] = devid;
	}
	log_info("domid=%u kind=qdisk devid=%u attached refs=%u", domid, devid,
	    d->nqdevs);
	reply_refs(c, reqid, d);
	return 0;
}

int
qdisk_detach(struct client *c, uint32_t reqid, uint32_t domid,
    uint32_t devid)
{
	struct dm *d = dm_find(domid, LAUNCH_KIND_QDISK);
	int i;

	if (d == NULL || (i = qdev_index(d, devid)) == -1)
		return -ENOENT;
	if (d->state == DM_STOPPING || d->state == DM_STARTING)
		return -EAGAIN;
	d->qdevs[i] = d->qdevs[--d->nqdevs];
	log_info("domid=%u kind=qdisk devid=%u detached refs=%u", domid, devid,
	    d->nqdevs);
	if (d->nqdevs > 0) {
		struct broker_qdisk_detached r = { d->nqdevs };
		struct msgbuf b;

		msgbuf_init(&b, MSG_COMMON_OK, reqid);
		broker_qdisk_detached_put(&b, &r);
		client_reply_ok(c, &b);
		msgbuf_dispose(&b);
		return 0;
	}
	/* last one: the reply (refs 0) is sent once the QEMU is reaped */
	return dm_destroy(d, c, reqid, B->cfg.destroy_timeout_ms);
}
