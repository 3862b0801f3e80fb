/*
 * Disk hotplug into a deprivileged QEMU (the QMP phase of op.c) — what
 * libxl lists as unsupported.  Node "node-disk<devid>", qdev "disk<devid>".
 *
 * add:
 *   step                          ok ->          error ->
 *   add-fd (image fd, opaque)     blockdev-add   fail; clean if QEMU said no
 *   blockdev-add raw on fdset     device_add     release fdset; clean if gone
 *   device_add virtio-blk-pci |   done           blockdev-del, release;
 *     scsi-hd on scsi0.0                          clean if all went
 * remove:
 *   query-fdsets (our opaque)     device_del     fail
 *   device_del + DEVICE_DELETED   blockdev-del   "not found": go on;
 *     (both, any order; timeout                   timeout: fail, entry kept
 *     qmp_cmd_timeout)
 *   blockdev-del                  release        "no node": go on; fail
 *   remove-fd each, query-fdsets  done           fail
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "proto_broker.h"

static void
names(const struct op *op, char *qdev, char *node, size_t sz)
{
	op_qdev(op, qdev, sz);
	snprintf(node, sz, "node-disk%u", op->devid);
}

/* ---- add ---- */
static void
add_cleaned(struct op *op)
{
	op->qemu_clean = op->released;
	op_qmp_done(op);
}

static void
add_release(struct op *op)
{
	op->fdsets[0] = op->fdset;
	op->nfdsets = 1;
	fdsets_release(op, add_cleaned);
}

static void
add_node_deleted(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {		/* the node may still be there */
		op_qmp_done(op);
		return;
	}
	add_release(op);
}

static void
add_device_added(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;
	char qdev[32], node[32];

	if (rc == 0) {
		op_qmp_done(op);
		return;
	}
	op_qmp_fail(op, rc, errdesc, "device_add");
	if (rc != -EREMOTEIO) {
		op_qmp_done(op);
		return;
	}
	names(op, qdev, node, sizeof(qdev));
	if (dm_qmp(op->dm, "blockdev-del", json_pack("{s:s}", "node-name",
	    node), -1, add_node_deleted, op) != 0)
		op_qmp_done(op);	/* op->rc holds device_add's failure */
}

static void
add_node_added(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;
	char qdev[32], node[32];
	json_t *a;

	if (rc != 0) {
		op_qmp_fail(op, rc, errdesc, "blockdev-add");
		if (rc == -EREMOTEIO)
			add_release(op);
		else
			op_qmp_done(op);
		return;
	}
	names(op, qdev, node, sizeof(qdev));
	if (op->bus == BROKER_BUS_SCSI)
		a = json_pack("{s:s, s:s, s:s, s:s}", "driver", "scsi-hd",
		    "id", qdev, "drive", node, "bus", "scsi0.0");
	else
		a = json_pack("{s:s, s:s, s:s}", "driver", "virtio-blk-pci",
		    "id", qdev, "drive", node);
	if ((rc = dm_qmp(op->dm, "device_add", a, -1, add_device_added,
	    op)) != 0)
		add_device_added(rc, NULL, NULL, op);
}

/* add-fd done: op->fdset holds the image */
static void
add_fd_added(struct op *op)
{
	char qdev[32], node[32], file[32];
	int ro = (op->flags & BROKER_F_RO) != 0;
	int rc;

	names(op, qdev, node, sizeof(qdev));
	snprintf(file, sizeof(file), "/dev/fdset/%lld", (long long)op->fdset);
	rc = dm_qmp(op->dm, "blockdev-add", json_pack(
	    "{s:s, s:s, s:b, s:{s:s, s:s, s:b}}", "driver", "raw",
	    "node-name", node, "read-only", ro, "file", "driver", "file",
	    "filename", file, "read-only", ro), -1, add_node_added, op);
	if (rc != 0)
		add_node_added(rc, NULL, NULL, op);
}

void
disk_add_qmp(struct op *op)
{
	fdset_add(op, add_fd_added);
}

/* ---- remove ---- */
static int
not_found(int rc, const char *errdesc)
{
	return rc == -EREMOTEIO && errdesc != NULL &&
	    (strstr(errdesc, "not found") || strstr(errdesc, "find node") ||
	    strstr(errdesc, "No node"));
}

static void
rm_node_deleted(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0 && !not_found(rc, errdesc)) {
		op_qmp_fail(op, rc, errdesc, "blockdev-del");
		op_qmp_done(op);
		return;
	}
	fdsets_release(op, op_qmp_done);
}

/* device_del answered and DEVICE_DELETED seen (any order) */
static void
rm_device_gone(struct op *op)
{
	char qdev[32], node[32];
	int rc;

	names(op, qdev, node, sizeof(qdev));
	if ((rc = dm_qmp(op->dm, "blockdev-del", json_pack("{s:s}",
	    "node-name", node), -1, rm_node_deleted, op)) != 0)
		rm_node_deleted(rc, NULL, NULL, op);
}

static void
rm_event(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {
		if (rc == -ETIMEDOUT)
			op_fail(op, ETIMEDOUT, "device_del: no DEVICE_DELETED "
			    "within %u ms (the guest did not release it)",
			    B->cfg.qmp_cmd_timeout_ms);
		else
			op_qmp_fail(op, rc, errdesc, "device_del");
		op->del_event = -1;
		if (op->del_replied)
			op_qmp_done(op);
		return;
	}
	op->del_event = 1;
	if (op->del_replied)
		rm_device_gone(op);
}

static void
rm_del_replied(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0 && !not_found(rc, errdesc)) {
		op_qmp_fail(op, rc, errdesc, "device_del");
		if (op->del_event == 0)
			dm_cancel_waiter(op->dm, op);
		op_qmp_done(op);
		return;
	}
	op->del_replied = 1;
	if (rc != 0 && op->del_event == 0) {	/* no such device: gone */
		dm_cancel_waiter(op->dm, op);
		op->del_event = 1;
	}
	if (op->del_event == 1)
		rm_device_gone(op);
	else if (op->del_event == -1)
		op_qmp_done(op);
}

static void
rm_found(struct op *op)
{
	char qdev[32], node[32];
	int rc;

	if (op->rc != 0) {
		op_qmp_done(op);
		return;
	}
	names(op, qdev, node, sizeof(qdev));
	op->del_replied = op->del_event = 0;
	/* the event can precede the reply (SCSI unplug is synchronous) */
	if ((rc = dm_wait_deleted(op->dm, qdev, B->cfg.qmp_cmd_timeout_ms,
	    rm_event, op)) != 0) {
		op_qmp_fail(op, rc, NULL, "device_del");
		op_qmp_done(op);
		return;
	}
	if ((rc = dm_qmp(op->dm, "device_del", json_pack("{s:s}", "id", qdev),
	    -1, rm_del_replied, op)) != 0) {
		dm_cancel_waiter(op->dm, op);
		op_qmp_fail(op, rc, NULL, "device_del");
		op_qmp_done(op);
	}
}

void
disk_remove_qmp(struct op *op)
{
	/* only sets tagged with our opaque: QEMU reuses fdset ids, so the
	 * JSON's number may name another device's set by now */
	op->nfdsets = 0;
	fdsets_find(op, rm_found);
}
