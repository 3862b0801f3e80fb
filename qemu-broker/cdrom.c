/*
 * CD-ROM media over QMP (the QMP phase of op.c; the drive "cd<devid>" is
 * an ide-cd created empty at DM start).
 *
 * insert:
 *   step                               ok ->          error ->
 *   add-fd (image fd, opaque)          change-medium  fail; clean if QEMU
 *                                                     said no
 *   blockdev-change-medium /dev/fdset/N query-block   release fdset; clean
 *                                                     if verified gone
 *   query-block: cdN shows that file   xenstore       fail, not clean
 *   xenstore params via watcherd       done           (reported, not fatal)
 *
 * eject:
 *   query-block (medium's fdset)       query-fdsets   fail
 *   query-fdsets (sets with our opaque) eject/release fail
 *   eject force (if a medium is in)    release        fail
 *   remove-fd each, query-fdsets       xenstore       fail
 *   xenstore params "" via watcherd    done           (reported)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "parse.h"
#include "proto.h"
#include "reply.h"

static const char *
block_file(json_t *blocks, const char *qdev, int *found)
{
	json_t *b;
	size_t i;

	*found = 0;
	json_array_foreach(blocks, i, b) {
		const char *q = json_string_value(json_object_get(b, "qdev"));
		if (q == NULL || strcmp(q, qdev) != 0)
			continue;
		*found = 1;
		return json_string_value(json_object_get(json_object_get(b,
		    "inserted"), "file"));
	}
	return NULL;
}

/* "/dev/fdset/N" -> N, -1 otherwise */
static int64_t
fdset_of(const char *file)
{
	uint32_t n;

	if (file == NULL || strncmp(file, "/dev/fdset/", 11) != 0 ||
	    parse_u32(file + 11, 0x7fffffff, &n) == -1)
		return -1;
	return n;
}

/* ---- insert ---- */
static void
ins_cleaned(struct op *op)
{
	op->qemu_clean = op->released;
	op_qmp_done(op);
}

static void
ins_verified(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;
	char qdev[32], params[CONFIG_PATH_MAX * 2 + 8];
	int found;

	op_qdev(op, qdev, sizeof(qdev));
	if (rc != 0) {
		op_qmp_fail(op, rc, errdesc, "query-block");
		op_qmp_done(op);
		return;
	}
	if (fdset_of(block_file(ret, qdev, &found)) != op->fdset) {
		op_fail(op, EIO, "query-block: %s does not show /dev/fdset/%lld",
		    qdev, (long long)op->fdset);
		op_qmp_done(op);
		return;
	}
	if (op->xl) {		/* libxl's params for a raw medium */
		snprintf(params, sizeof(params), "aio:%s", op->path);
		xs_cdrom_update(op, params, op_qmp_done);
	} else
		xs_cdrom_update(op, op->path, op_qmp_done);
}

static void
ins_changed(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {
		op_qmp_fail(op, rc, errdesc, "blockdev-change-medium");
		if (rc != -EREMOTEIO) {	/* unknown state: leave it */
			op_qmp_done(op);
			return;
		}
		op->fdsets[0] = op->fdset;
		op->nfdsets = 1;
		fdsets_release(op, ins_cleaned);
		return;
	}
	if ((rc = dm_qmp(op->dm, "query-block", NULL, -1, ins_verified,
	    op)) != 0) {
		op_qmp_fail(op, rc, NULL, "query-block");
		op_qmp_done(op);
	}
}

/* add-fd done: op->fdset holds the image */
static void
ins_fd_added(struct op *op)
{
	char qdev[32], file[32];
	int rc;

	op_qdev(op, qdev, sizeof(qdev));
	snprintf(file, sizeof(file), "/dev/fdset/%lld", (long long)op->fdset);
	rc = dm_qmp(op->dm, "blockdev-change-medium", json_pack(
	    "{s:s, s:s, s:s, s:s}", "id", qdev, "filename", file,
	    "format", "raw", "read-only-mode", "read-only"), -1, ins_changed,
	    op);
	if (rc != 0)
		ins_changed(rc, NULL, NULL, op);
}

void
cdrom_insert_qmp(struct op *op)
{
	fdset_add(op, ins_fd_added);
}

/* ---- eject ---- */
static void
ej_released(struct op *op)
{
	if (!op->released) {
		op_qmp_done(op);
		return;
	}
	xs_cdrom_update(op, "", op_qmp_done);
}

static void
ej_ejected(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {
		op_qmp_fail(op, rc, errdesc, "eject");
		op_qmp_done(op);
		return;
	}
	fdsets_release(op, ej_released);
}

static void
ej_found(struct op *op)
{
	char qdev[32];
	int rc;

	if (op->rc != 0) {
		op_qmp_done(op);
		return;
	}
	if (!op->step) {		/* no medium: nothing to eject */
		fdsets_release(op, ej_released);
		return;
	}
	op_qdev(op, qdev, sizeof(qdev));
	rc = dm_qmp(op->dm, "eject", json_pack("{s:s, s:b}", "id", qdev,
	    "force", 1), -1, ej_ejected, op);
	if (rc != 0)
		ej_ejected(rc, NULL, NULL, op);
}

static void
ej_block(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct op *op = arg;
	char qdev[32];
	const char *file;
	int found;
	int64_t n;

	op_qdev(op, qdev, sizeof(qdev));
	if (rc != 0) {
		op_qmp_fail(op, rc, errdesc, "query-block");
		op_qmp_done(op);
		return;
	}
	file = block_file(ret, qdev, &found);
	n = fdset_of(file);
	op->step = file != NULL;	/* a medium is in */
	if (!found) {
		op_fail(op, ENODEV, "QEMU has no drive %s", qdev);
		op_qmp_done(op);
		return;
	}
	op->nfdsets = 0;
	if (n >= 0)
		op->fdsets[op->nfdsets++] = n;
	fdsets_find(op, ej_found);
}

void
cdrom_eject_qmp(struct op *op)
{
	int rc;

	if ((rc = dm_qmp(op->dm, "query-block", NULL, -1, ej_block, op)) != 0)
		ej_block(rc, NULL, NULL, op);
}

/* ---- list (QEMU's view of every cdN drive) ---- */
struct lreq {
	struct client	*c;
	uint32_t	 reqid;
	struct dm	*dm;
};

static void
listed(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct lreq *l = arg;
	json_t *a = json_array(), *b;
	struct reply_json r;
	struct msgbuf mb;
	uint32_t devid;
	size_t i;
	char *s;

	if (rc != 0) {
		client_reply_err(l->c, l->reqid, rc == -EREMOTEIO ? EIO : -rc,
		    "query-block: %s", errdesc ? errdesc : strerror(-rc));
		goto out;
	}
	json_array_foreach(ret, i, b) {
		const char *q = json_string_value(json_object_get(b, "qdev"));
		const char *f;
		int found;
		if (q == NULL || strncmp(q, "cd", 2) != 0 ||
		    parse_u32(q + 2, UINT32_MAX, &devid) == -1)
			continue;
		f = block_file(ret, q, &found);
		json_array_append_new(a, json_pack("{s:I, s:s, s:b, s:s?, s:I}",
		    "devid", (json_int_t)devid, "qdev", q, "inserted", f != NULL,
		    "file", f, "fdset", (json_int_t)fdset_of(f)));
	}
	s = json_dumps(a, JSON_COMPACT);
	r = (struct reply_json){ s ? s : "[]", s ? strlen(s) : 2 };
	msgbuf_init(&mb, MSG_COMMON_OK, l->reqid);
	reply_json_put(&mb, &r);
	client_reply_ok(l->c, &mb);
	msgbuf_dispose(&mb);
	free(s);
out:
	json_decref(a);
	client_unref(l->c);
	dm_put(l->dm);
	free(l);
}

int
cdrom_list(struct client *c, uint32_t reqid, uint32_t domid)
{
	struct dm *d = dm_find(domid, LAUNCH_KIND_DM);
	struct lreq *l;
	int rc;

	if (d == NULL || d->state != DM_RUNNING)
		return -ESRCH;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	*l = (struct lreq){ client_ref(c), reqid, d };
	dm_hold(d);
	if ((rc = dm_qmp(d, "query-block", NULL, -1, listed, l)) != 0) {
		client_unref(l->c);
		dm_put(d);
		free(l);
	}
	return rc;
}
