/*
 * fdsets: every image fd the broker passes gets its own fdset, tagged with
 * the opaque string "devsep-cd<devid>" / "devsep-disk<devid>", so the sets
 * that belong to a device can be found again from query-fdsets alone (even
 * after a broker restart or a half-finished operation).
 *
 * Add: add-fd passes op->imgfd (closed here: QEMU has its own copy then,
 * or none) and records the new set in op->fdset.
 *
 * Release: remove-fd each set, then query-fdsets must not list our opaque
 * any more.  QEMU 7.2 closes removed fds only while the VM runs
 * (monitor_fdset_cleanup() checks runstate_is_running()); when a set
 * survives on a paused VM the release counts as done and says so in the
 * log — it goes away at the next `cont`.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "log.h"

/* QMP failure of `cmd` into op->rc. */
void
op_qmp_fail(struct op *op, int rc, const char *errdesc, const char *cmd)
{
	switch (rc) {
	case -EREMOTEIO:
		op_fail(op, EIO, "%s: QEMU: %s", cmd, errdesc ? errdesc : "?");
		break;
	case -ETIMEDOUT:
		op_fail(op, ETIMEDOUT, "%s: QEMU did not answer within %u ms",
		    cmd, B->cfg.qmp_cmd_timeout_ms);
		break;
	case -EPIPE:
	case -ESRCH:
		op_fail(op, EPIPE, "%s: QEMU went away", cmd);
		break;
	case -EPROTO:
		op_fail(op, EPROTO, "%s: QEMU broke the QMP protocol", cmd);
		break;
	default:
		op_fail(op, -rc, "%s: %s", cmd, strerror(-rc));
	}
}

/* Does this query-fdsets set hold an fd tagged with opaque? */
static int
set_has_opaque(json_t *set, const char *opaque)
{
	json_t *fd;
	size_t i;

	json_array_foreach(json_object_get(set, "fds"), i, fd) {
		const char *o = json_string_value(json_object_get(fd,
		    "opaque"));
		if (o != NULL && strcmp(o, opaque) == 0)
			return 1;
	}
	return 0;
}

static void
add_set(struct op *op, int64_t id)
{
	int i;

	for (i = 0; i < op->nfdsets; i++)
		if (op->fdsets[i] == id)
			return;
	if (op->nfdsets < (int)(sizeof(op->fdsets) / sizeof(op->fdsets[0])))
		op->fdsets[op->nfdsets++] = id;
}

/* Appends (deduplicated) every set in `ret` tagged with our opaque;
 * returns how many tagged sets there are. */
static int
scan_sets(struct op *op, json_t *ret, int add)
{
	char opaque[64];
	json_t *set;
	size_t i;
	int n = 0;

	op_opaque(op, opaque, sizeof(opaque));
	json_array_foreach(ret, i, set) {
		json_t *id = json_object_get(set, "fdset-id");
		if (!json_is_integer(id) || !set_has_opaque(set, opaque))
			continue;
		n++;
		if (add)
			add_set(op, json_integer_value(id));
	}
	return n;
}

static void
found(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;
	void (*next)(struct op *) = op->next;

	if (rc != 0)
		op_qmp_fail(op, rc, errdesc, "query-fdsets");
	else
		scan_sets(op, ret, 1);
	next(op);
}

void
fdsets_find(struct op *op, void (*next)(struct op *))
{
	int rc;

	op->next = next;
	if ((rc = dm_qmp(op->dm, "query-fdsets", NULL, -1, found, op)) != 0) {
		op_qmp_fail(op, rc, NULL, "query-fdsets");
		next(op);
	}
}

static void rel_one(struct op *);

static void
status_seen(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0)
		op_qmp_fail(op, rc, errdesc, "query-status");
	else if (json_is_true(json_object_get(ret, "running")))
		op_fail(op, EBUSY, "fdset still listed by QEMU after remove-fd");
	else {
		log_info("domid=%u devid=%u fdset removed; QEMU closes it when "
		    "the VM runs (paused now)", op->domid, op->devid);
		op->released = 1;
	}
	op->next(op);
}

static void
verified(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {
		op_qmp_fail(op, rc, errdesc, "query-fdsets");
		op->next(op);
		return;
	}
	if (scan_sets(op, ret, 0) == 0) {
		op->released = 1;
		op->next(op);
		return;
	}
	if ((rc = dm_qmp(op->dm, "query-status", NULL, -1, status_seen,
	    op)) != 0) {
		op_qmp_fail(op, rc, NULL, "query-status");
		op->next(op);
	}
}

static void
removed(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	/* a QMP error means "no such set": already gone, fine */
	if (rc != 0 && rc != -EREMOTEIO) {
		op_qmp_fail(op, rc, errdesc, "remove-fd");
		op->next(op);
		return;
	}
	op->fdi++;
	rel_one(op);
}

static void
rel_one(struct op *op)
{
	int rc;

	if (op->fdi < op->nfdsets)
		rc = dm_qmp(op->dm, "remove-fd", json_pack("{s:I}", "fdset-id",
		    (json_int_t)op->fdsets[op->fdi]), -1, removed, op);
	else
		rc = dm_qmp(op->dm, "query-fdsets", NULL, -1, verified, op);
	if (rc != 0) {
		op_qmp_fail(op, rc, NULL, "remove-fd");
		op->next(op);
	}
}

void
fdsets_release(struct op *op, void (*next)(struct op *))
{
	op->next = next;
	op->fdi = 0;
	op->released = 0;
	rel_one(op);
}

static void
fd_added(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;
	json_t *id = json_object_get(ret, "fdset-id");

	close(op->imgfd);	/* QEMU has its own copy now (or none) */
	op->imgfd = -1;
	if (rc != 0 || !json_is_integer(id)) {
		op_qmp_fail(op, rc ? rc : -EPROTO, errdesc, "add-fd");
		op->qemu_clean = rc == -EREMOTEIO;
		op_qmp_done(op);
		return;
	}
	op->fdset = json_integer_value(id);
	op->next(op);
}

void
fdset_add(struct op *op, void (*next)(struct op *))
{
	char opaque[64];
	int rc;

	op->next = next;
	op_opaque(op, opaque, sizeof(opaque));
	rc = dm_qmp(op->dm, "add-fd", json_pack("{s:s}", "opaque", opaque),
	    op->imgfd, fd_added, op);
	if (rc != 0) {
		op_qmp_fail(op, rc, NULL, "add-fd");
		op->qemu_clean = 1;	/* nothing was sent */
		op_qmp_done(op);
	}
}
