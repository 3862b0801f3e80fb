/*
 * The seed-002 sequence for "qmp things" (CD-ROM media, hot-plugged disks).
 * The slow lock is the "relevant thing lock": held from before the JSON
 * says the thing exists until after QEMU has it (add), and from before
 * QEMU lets go of it until the JSON entry is gone (remove).  The fast lock
 * is taken only around each JSON read/modify/write.
 *
 *   stage   event                 -> action / next
 *   START   -                     -> acquire SLOW / SLOW
 *   SLOW    ok                    -> acquire FAST / FAST1
 *   FAST1   ok                    -> config_read / READ1
 *   READ1   ok, precondition ok   -> entry := adding|removing, write / WRITE1
 *   READ1   precondition fails    -> (EEXIST | ENOENT) / FAIL
 *   WRITE1  ok                    -> release FAST, kind's QMP steps / QMP
 *   QMP     done                  -> acquire FAST / FAST2
 *   FAST2   ok                    -> config_read / READ2
 *   FAST2   ESRCH (destroyed)     -> domain gone, nothing to write / FAIL
 *   READ2   ok                    -> add ok: entry live+fdset; remove ok or
 *                                    add failed with QEMU clean: delete
 *                                    entry; else keep it (stale entries are
 *                                    allowed, missing ones are not) / WRITE2
 *   WRITE2  ok                    -> release FAST, SLOW, reply / DONE
 *   any     lockd error / lost    -> / FAIL
 *   FAIL    -                     -> release what is held, reply error
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "invariant.h"
#include "daemon.h"
#include "lockd_client.h"
#include "log.h"
#include "proto_broker.h"

enum { ST_SLOW = 1, ST_FAST1, ST_READ1, ST_WRITE1, ST_QMP, ST_FAST2,
    ST_READ2, ST_WRITE2 };
#define HELD_SLOW	1
#define HELD_FAST	2

static const char *kind_names[] = { "cdrom-insert", "cdrom-eject",
    "disk-add", "disk-remove", "dm-start", "reconcile" };

static void op_step(struct op *, int rc, const struct lockc_reply *);

/*
 * lockd owner numbers: lockd keeps an owner record per (connection, owner)
 * until the connection closes and allows OP_MAX_OWNERS per connection, so
 * owners come from a small pool and are reused once an op is over; the
 * pool also bounds the operations in flight.
 */
#define OP_MAX_OWNERS	63
static uint64_t owners_busy;

static uint32_t
owner_take(void)
{
	uint32_t i;

	for (i = 1; i <= OP_MAX_OWNERS; i++)
		if ((owners_busy & (1ull << i)) == 0) {
			owners_busy |= 1ull << i;
			return i;
		}
	return 0;
}

static void
owner_give(uint32_t o)
{
	if (o != 0)
		owners_busy &= ~(1ull << o);
}

const char *
op_section(const struct op *op)
{
	return op->kind == OP_RECONCILE ? "qmp" : op->kind == OP_DM_START ?
	    "dm" : op->kind <= OP_CDROM_EJECT ?
	    "cdrom" : "disk";
}

/* QEMU's id of the drive: ours ("cd5632"), or libxl's ("ide-5632", the
 * same on -drive and -device). */
void
op_qdev(const struct op *op, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%u", op->kind <= OP_CDROM_EJECT ? (op->xl ? "ide-" :
	    "cd") : "disk", op->devid);
}

void
op_opaque(const struct op *op, char *buf, size_t sz)
{
	snprintf(buf, sz, "devsep-%s%u", op->kind <= OP_CDROM_EJECT ? "cd" :
	    "disk", op->devid);
}

void
op_fail(struct op *op, int err, const char *fmt, ...)
{
	va_list ap;

	if (op->rc != 0)
		return;		/* keep the first error */
	op->rc = -err;
	va_start(ap, fmt);
	vsnprintf(op->err, sizeof(op->err), fmt, ap);
	va_end(ap);
}

static void
lock_cb(int rc, const struct lockc_reply *r, void *arg)
{
	op_step(arg, rc, r);
}

static void
release(struct op *op, uint32_t which)
{
	struct lockc_async *l = broker_lockd();

	if ((op->held & which) && l != NULL)
		lockc_async_release(l, op->owner, op->domid,
		    which == HELD_SLOW ? LOCK_SLOW : LOCK_FAST);
	op->held &= ~which;
}

_Static_assert(sizeof(((struct op *)0)->xs) == BROKER_XS_MAX,
    "op.xs is the xenstore outcome of a reply");

/* The payload of op's OK reply (proto_broker.h), by kind. */
static void
op_reply_put(const struct op *op, struct msgbuf *b)
{
	struct broker_dm_started st;
	struct broker_cdrom_inserted in;
	struct broker_cdrom_ejected ej;
	struct broker_disk_added da;

	switch (op->kind) {
	case OP_DM_START:
		st = (struct broker_dm_started){ (uint32_t)op->dm->pid,
		    (uint32_t)op->dm->uid };
		broker_dm_started_put(b, &st);
		break;
	case OP_CDROM_INSERT:
		in.fdset = (uint32_t)op->fdset;
		memcpy(in.xenstore, op->xs, sizeof(in.xenstore));
		broker_cdrom_inserted_put(b, &in);
		break;
	case OP_CDROM_EJECT:
		memcpy(ej.xenstore, op->xs, sizeof(ej.xenstore));
		broker_cdrom_ejected_put(b, &ej);
		break;
	case OP_DISK_ADD:
		da.fdset = (uint32_t)op->fdset;
		broker_disk_added_put(b, &da);
		break;
	case OP_DISK_REMOVE:		/* OK: empty */
	case OP_RECONCILE:		/* no requester */
		break;
	}
}

static void
op_finish(struct op *op)
{
	struct msgbuf b;
	uint64_t us = now_us() - op->t0_us;

	release(op, HELD_FAST);
	if (op->dm != NULL && op->dm->xl)
		dm_xl_close(op->dm);	/* hang up before the slow lock goes */
	release(op, HELD_SLOW);
	B->st.op_lat_us_sum += us;
	if (us > B->st.op_lat_us_max)
		B->st.op_lat_us_max = us;
	if (op->rc != 0) {
		log_warnx("domid=%u kind=%s devid=%u %s failed: %s",
		    op->domid, op_section(op), op->devid, kind_names[op->kind],
		    op->err);
		client_reply_err(op->client, op->reqid, -op->rc, "%s", op->err);
	} else {
		log_info("domid=%u kind=%s devid=%u %s done (%llu us)",
		    op->domid, op_section(op), op->devid, kind_names[op->kind],
		    (unsigned long long)us);
		msgbuf_init(&b, MSG_COMMON_OK, op->reqid);
		op_reply_put(op, &b);
		client_reply_ok(op->client, &b);
		msgbuf_dispose(&b);
	}
	if (op->imgfd != -1)
		close(op->imgfd);
	json_decref(op->qblock);
	owner_give(op->owner);
	client_unref(op->client);
	if (op->dm != NULL)
		dm_put(op->dm);
	free(op);
}

/*
 * The broker's part of the domain's JSON (schema shared with lockd and
 * `devsepctl check`, common/invariant.h):
 *   "dm":  {"state", "pid", "uid"}             the device model itself
 *   "qmp": {"cdrom": [{"id": "<devid>", "path", "ro", "state", "fdset"}],
 *           "disk":  [{"id": "<devid>", "path", "ro", "bus", "state",
 *                      "fdset"}]}
 * state: "adding"/"starting" (written before QEMU is touched), "live"/
 * "running", "removing".
 */
static json_t *
things(json_t *cfg, const struct op *op, int create)
{
	json_t *q, *a;

	if ((q = json_object_get(cfg, "qmp")) == NULL && create)
		json_object_set_new(cfg, "qmp", (q = json_object()));
	if (!json_is_object(q))
		return NULL;
	if ((a = json_object_get(q, op_section(op))) == NULL && create)
		json_object_set_new(q, op_section(op), (a = json_array()));
	return json_is_array(a) ? a : NULL;
}

static int
thing_index(json_t *a, const struct op *op)
{
	char id[16];
	json_t *e;
	size_t i;

	snprintf(id, sizeof(id), "%u", op->devid);
	json_array_foreach(a, i, e) {
		const char *v = json_string_value(json_object_get(e, "id"));
		if (v != NULL && strcmp(v, id) == 0)
			return (int)i;
	}
	return -1;
}

static int
is_adding(const struct op *op)
{
	return op->kind == OP_CDROM_INSERT || op->kind == OP_DISK_ADD ||
	    op->kind == OP_DM_START;
}

static json_t *
new_entry(const struct op *op)
{
	char id[16];
	json_t *e;

	if (op->kind == OP_DM_START)
		return json_pack("{s:s}", "state", "starting");
	snprintf(id, sizeof(id), "%u", op->devid);
	e = json_pack("{s:s, s:s, s:b, s:s}", "id", id, "path", op->path,
	    "ro", (op->flags & BROKER_F_RO) != 0, "state", "adding");
	if (op->kind == OP_DISK_ADD)
		json_object_set_new(e, "bus", json_string(
		    op->bus == BROKER_BUS_SCSI ? "scsi" : "virtio"));
	return e;
}

/*
 * A CD-ROM of a domain xl manages: the entry is libxl's, the disk with
 * is_cdrom whose vdev is the devid; a medium is its pdev_path (+ format).
 * The seed-002 order holds here too: insert writes pdev_path before QEMU
 * gets the medium, eject clears it after QEMU let go.
 */
static json_t *
xl_disk(json_t *cfg, uint32_t devid, int cdrom, size_t *idx)
{
	const char *vdev;
	uint32_t id;
	json_t *e;
	size_t i;

	int is_cd;

	json_array_foreach(json_object_get(cfg, "disks"), i, e) {
		vdev = json_string_value(json_object_get(e, "vdev"));
		is_cd = json_is_true(json_object_get(e, "is_cdrom")) ||
		    json_integer_value(json_object_get(e, "is_cdrom")) == 1;
		if (vdev != NULL && inv_vdev_devid(vdev, &id) == 0 &&
		    id == devid && is_cd == cdrom) {
			if (idx != NULL)
				*idx = i;
			return e;
		}
	}
	return NULL;
}

static json_t *
xl_cdrom(json_t *cfg, uint32_t devid)
{
	return xl_disk(cfg, devid, 1, NULL);
}

/*
 * A disk hot-plugged into xl's device model is a libxl disk too (libxl
 * keeps the entry through its own rewrites, and gives the guest the disk
 * again when it rebuilds it): vdev from the devid (xvd names only),
 * qdisk backend, raw.  Added before QEMU gets it, removed after QEMU let
 * go (or when QEMU cleanly refused it).
 */
static int
phase1_xl_disk(struct op *op, json_t *cfg)
{
	char vdev[16];
	json_t *e = xl_disk(cfg, op->devid, 0, NULL);

	if (inv_devid_vdev(op->devid, vdev, sizeof(vdev)) == -1) {
		op_fail(op, EINVAL, "disk %u: libxl names only xvd disks here "
		    "(devid 51712 + 16 n)", op->devid);
		return -1;
	}
	if (op->kind == OP_DISK_ADD && e != NULL) {
		op_fail(op, EEXIST, "disk %u (%s) already in libxl's JSON "
		    "(remove first)", op->devid, vdev);
		return -1;
	}
	if (op->kind == OP_DISK_REMOVE && e == NULL) {
		op_fail(op, ENOENT, "no disk %u (%s) in libxl's JSON",
		    op->devid, vdev);
		return -1;
	}
	if (op->kind == OP_DISK_ADD)
		json_array_append_new(json_object_get(cfg, "disks"),
		    json_pack("{s:s, s:s, s:s, s:s, s:i}", "pdev_path",
		    op->path, "vdev", vdev, "backend", "qdisk", "format",
		    "raw", "readwrite", (op->flags & BROKER_F_RO) ? 0 : 1));
	return 0;
}

static void
phase2_xl_disk(struct op *op, json_t *cfg)
{
	size_t i;

	if (xl_disk(cfg, op->devid, 0, &i) == NULL)
		return;
	if ((op->kind == OP_DISK_REMOVE && op->rc == 0) ||
	    (op->kind == OP_DISK_ADD && op->rc != 0 && op->qemu_clean))
		json_array_remove(json_object_get(cfg, "disks"), i);
}

static void
xl_medium(json_t *e, const char *path)
{
	json_object_set_new(e, "pdev_path", json_string(path));
	json_object_set_new(e, "format", json_string(*path ? "raw" : "empty"));
}

static int
phase1_xl(struct op *op, json_t *cfg)
{
	const char *p;
	json_t *e;

	if (!json_is_object(json_object_get(cfg, "c_info"))) {
		op_fail(op, ESRCH, "no running QEMU for domain %u", op->domid);
		return -1;
	}
	if (!json_is_array(json_object_get(cfg, "disks")))
		json_object_set_new(cfg, "disks", json_array());
	if (op->kind >= OP_DISK_ADD)
		return phase1_xl_disk(op, cfg);
	if ((e = xl_cdrom(cfg, op->devid)) == NULL) {
		op_fail(op, ENOENT, "no CD-ROM drive %u in libxl's JSON",
		    op->devid);
		return -1;
	}
	p = json_string_value(json_object_get(e, "pdev_path"));
	if (op->kind == OP_CDROM_INSERT && p != NULL && *p) {
		op_fail(op, EEXIST, "cdrom %u has a medium (%s): eject first",
		    op->devid, p);
		return -1;
	}
	if (op->kind == OP_CDROM_EJECT && (p == NULL || *p == '\0')) {
		op_fail(op, ENOENT, "cdrom %u has no medium", op->devid);
		return -1;
	}
	if (op->kind == OP_CDROM_INSERT)
		xl_medium(e, op->path);
	return 0;
}

static void
phase2_xl(struct op *op, json_t *cfg)
{
	json_t *e;

	if (op->kind >= OP_DISK_ADD) {
		phase2_xl_disk(op, cfg);
		return;
	}
	e = xl_cdrom(cfg, op->devid);
	if (e == NULL)
		return;
	if ((op->kind == OP_CDROM_EJECT && op->rc == 0) ||
	    (op->kind == OP_CDROM_INSERT && op->rc != 0 && op->qemu_clean))
		xl_medium(e, "");
}

/*
 * OP_RECONCILE, after a restarted broker adopted a QEMU: the entries of
 * operations the dead broker did not finish ("adding", "removing") follow
 * what QEMU has (query-block at adoption): there -> "live" with its fdset,
 * gone -> the entry goes; a "dm" entry left "starting" becomes "running".
 */
static int
qemu_has(const struct op *op, const char *section, const char *id,
    int64_t *fdset)
{
	char qdev[32], path[40];
	const char *q, *f;
	json_t *b;
	size_t i;

	snprintf(qdev, sizeof(qdev), "%s%s", strcmp(section, "cdrom") ? "disk" :
	    "cd", id);
	snprintf(path, sizeof(path), "/%s/", qdev);	/* virtio: QOM path */
	json_array_foreach(op->qblock, i, b) {
		q = json_string_value(json_object_get(b, "qdev"));
		if (q == NULL || (strcmp(q, qdev) && strstr(q, path) == NULL))
			continue;
		f = json_string_value(json_object_get(json_object_get(b,
		    "inserted"), "file"));
		if (f == NULL)
			return 0;		/* an empty drive */
		*fdset = strncmp(f, "/dev/fdset/", 11) ? -1 : strtol(f + 11,
		    NULL, 10);
		return 1;
	}
	return 0;
}

static int
reconcile_section(const struct op *op, json_t *cfg, const char *section)
{
	json_t *a = json_object_get(json_object_get(cfg, "qmp"), section), *e;
	const char *st, *id;
	int64_t fdset = -1;
	size_t i;
	int n = 0;

	for (i = json_array_size(a); i-- > 0;) {
		e = json_array_get(a, i);
		st = json_string_value(json_object_get(e, "state"));
		id = json_string_value(json_object_get(e, "id"));
		if (st == NULL || id == NULL || (strcmp(st, "adding") &&
		    strcmp(st, "removing")))
			continue;
		n++;
		if (qemu_has(op, section, id, &fdset)) {
			json_object_set_new(e, "state", json_string("live"));
			json_object_set_new(e, "fdset", json_integer(fdset));
		} else
			json_array_remove(a, i);
	}
	return n;
}

static void
phase1_reconcile(struct op *op, json_t *cfg)
{
	json_t *dm = json_object_get(cfg, "dm");
	const char *st = json_string_value(json_object_get(dm, "state"));
	int n;

	n = reconcile_section(op, cfg, "cdrom") +
	    reconcile_section(op, cfg, "disk");
	if (json_is_object(dm) && (st == NULL || strcmp(st, "running"))) {
		json_object_set_new(dm, "state", json_string("running"));
		json_object_set_new(dm, "pid", json_integer(op->dm->pid));
		json_object_set_new(dm, "uid", json_integer(op->dm->uid));
		n++;
	}
	log_info("domid=%u adopted QEMU: %d unfinished JSON entr%s settled",
	    op->domid, n, n == 1 ? "y" : "ies");
}

/* READ1: checks the precondition and marks the entry; 0 or -1 (failed). */
static int
phase1(struct op *op, json_t *cfg)
{
	json_t *a = NULL, *e;
	int k = -1;

	if (op->xl)
		return phase1_xl(op, cfg);
	if (op->kind == OP_RECONCILE) {
		phase1_reconcile(op, cfg);
		return 0;
	}
	if (op->kind == OP_DM_START) {	/* a stale "dm" is overwritten */
		json_object_set_new(cfg, "dm", new_entry(op));
		return 0;
	}
	if ((a = things(cfg, op, is_adding(op))) == NULL && is_adding(op)) {
		op_fail(op, EINVAL, "domain JSON has a foreign \"qmp\" member");
		return -1;
	}
	k = a ? thing_index(a, op) : -1;
	if (is_adding(op) && k >= 0) {
		op_fail(op, EEXIST, "%s %u already in the domain JSON (%s)",
		    op_section(op), op->devid, op->kind == OP_CDROM_INSERT ?
		    "eject first" : "remove first");
		return -1;
	}
	if (!is_adding(op) && k < 0) {
		op_fail(op, ENOENT, "no %s %u in the domain JSON",
		    op_section(op), op->devid);
		return -1;
	}
	if (is_adding(op))
		return json_array_append_new(a, new_entry(op));
	e = json_array_get(a, (size_t)k);
	json_object_set_new(e, "state", json_string("removing"));
	return 0;
}

static void
phase2_dm(struct op *op, json_t *cfg)
{
	json_t *e = json_object_get(cfg, "dm");

	if (op->rc == 0 && json_is_object(e)) {
		json_object_set_new(e, "state", json_string("running"));
		json_object_set_new(e, "pid", json_integer(op->dm->pid));
		json_object_set_new(e, "uid", json_integer(op->dm->uid));
	} else if (op->rc != 0 && op->qemu_clean)
		json_object_del(cfg, "dm");
}

/* READ2: records the outcome (see the table). */
static void
phase2(struct op *op, json_t *cfg)
{
	json_t *a, *e;
	int k;

	if (op->kind == OP_DM_START) {
		phase2_dm(op, cfg);
		return;
	}
	if (op->xl) {
		phase2_xl(op, cfg);
		return;
	}
	if (op->kind == OP_RECONCILE)
		return;
	if ((a = things(cfg, op, 0)) == NULL || (k = thing_index(a, op)) < 0)
		return;		/* someone removed it: nothing to do */
	e = json_array_get(a, (size_t)k);
	if (is_adding(op) && op->rc == 0) {
		json_object_set_new(e, "state", json_string("live"));
		json_object_set_new(e, "fdset", json_integer(op->fdset));
	} else if ((!is_adding(op) && op->rc == 0) ||
	    (is_adding(op) && op->qemu_clean))
		json_array_remove(a, (size_t)k);
	/* else: keep it; QEMU may still hold the thing */
}

static int
write_cfg(struct op *op, json_t *cfg)
{
	struct lockc_async *l = broker_lockd();
	char *s = json_dumps(cfg, JSON_COMPACT);
	int rc;

	if (s == NULL || l == NULL)
		rc = -ENOMEM;
	else
		rc = lockc_async_config_write(l, op->owner, op->domid, s,
		    op->gen, lock_cb, op);
	free(s);
	return rc;
}

static json_t *
read_cfg(struct op *op, const struct lockc_reply *r)
{
	json_t *cfg;

	cfg = json_loadb(r->json, r->json_len, 0, NULL);
	if (!json_is_object(cfg)) {
		json_decref(cfg);
		op_fail(op, EPROTO, "lockd returned a config that is not an "
		    "object");
		return NULL;
	}
	op->gen = r->gen;
	return cfg;
}

static void
reconcile_qmp(struct op *op)	/* QEMU was queried at adoption */
{
	op_qmp_done(op);
}

static void (*const steps[])(struct op *) = { cdrom_insert_qmp,
    cdrom_eject_qmp, disk_add_qmp, disk_remove_qmp, dm_start_qmp,
    reconcile_qmp };

/* libxl's QMP socket is connected (or not): the kind's steps. */
static void
xl_ready(struct dm *d, int rc, int clean, const char *msg, void *arg)
{
	struct op *op = arg;

	if (rc != 0) {
		op_fail(op, -rc, "%s", msg);
		op->qemu_clean = 1;	/* QEMU was not touched */
		op_qmp_done(op);
		return;
	}
	op->dm = d;
	dm_hold(d);
	steps[op->kind](op);
}

static void
run_qmp(struct op *op)
{
	int rc;

	op->stage = ST_QMP;
	op->step = 0;
	if (!op->xl) {
		steps[op->kind](op);
		return;
	}
	/* under the slow lock, which holds libxl's qmp-socket-lock too */
	if ((rc = dm_xl_connect(op->domid, xl_ready, op)) != 0) {
		op_fail(op, -rc, "cannot ask for libxl's QMP socket");
		op->qemu_clean = 1;
		op_qmp_done(op);
	}
}

static int
lock_failed(struct op *op, int rc, const struct lockc_reply *r,
    const char *what)
{
	if (rc == -ECONNRESET)
		op->held = 0;	/* lockd freed them with the connection */
	if (rc == -ESRCH)
		op_fail(op, ESRCH, "%s: domain %u absent or being destroyed",
		    what, op->domid);
	else
		op_fail(op, -rc, "%s: %s%s%s", what, strerror(-rc),
		    r && r->errmsg && *r->errmsg ? ": " : "",
		    r && r->errmsg ? r->errmsg : "");
	B->st.lock_errors++;
	return -1;
}

/* One transition of the table above; rc/r are lockd's answer. */
static void
op_step(struct op *op, int rc, const struct lockc_reply *r)
{
	struct lockc_async *l = broker_lockd();
	json_t *cfg = NULL;
	uint32_t tmo = B->cfg.lock_timeout_ms;

	if (l == NULL && rc == 0)
		rc = -ECONNRESET;
	switch (op->stage) {
	case ST_SLOW:
		if (rc != 0 && lock_failed(op, rc, r, "slow lock"))
			goto done;
		op->held |= HELD_SLOW;
		op->stage = ST_FAST1;
		rc = lockc_async_acquire(l, op->owner, op->domid, LOCK_FAST,
		    0, tmo, lock_cb, op);
		break;
	case ST_FAST1:
	case ST_FAST2:
		if (rc != 0 && lock_failed(op, rc, r, "fast lock"))
			goto done;
		op->held |= HELD_FAST;
		op->stage = op->stage == ST_FAST1 ? ST_READ1 : ST_READ2;
		rc = lockc_async_config_read(l, op->owner, op->domid, lock_cb,
		    op);
		break;
	case ST_READ1:
	case ST_READ2:
		if ((rc != 0 && lock_failed(op, rc, r, "config read")) ||
		    (cfg = read_cfg(op, r)) == NULL)
			goto done;
		if (op->stage == ST_READ1 && phase1(op, cfg) == -1)
			goto done;
		if (op->stage == ST_READ2)
			phase2(op, cfg);
		op->stage = op->stage == ST_READ1 ? ST_WRITE1 : ST_WRITE2;
		rc = write_cfg(op, cfg);
		break;
	case ST_WRITE1:
		if (rc != 0 && lock_failed(op, rc, r, "config write"))
			goto done;
		release(op, HELD_FAST);
		run_qmp(op);
		return;
	case ST_WRITE2:
		if (rc != 0)
			lock_failed(op, rc, r, "config write");
		goto done;
	}
	json_decref(cfg);
	if (rc != 0) {
		lock_failed(op, rc, NULL, "lockd request");
		op_finish(op);
	}
	return;
done:
	json_decref(cfg);
	op_finish(op);
}

/* The kind's QMP steps are over (op->rc, op->qemu_clean say how). */
void
op_qmp_done(struct op *op)
{
	struct lockc_async *l = broker_lockd();
	int rc;

	op->stage = ST_FAST2;
	rc = l ? lockc_async_acquire(l, op->owner, op->domid, LOCK_FAST, 0,
	    B->cfg.lock_timeout_ms, lock_cb, op) : -ECONNRESET;
	if (rc != 0) {
		lock_failed(op, rc, NULL, "fast lock (after QMP)");
		op_finish(op);
	}
}

/* Takes ownership of op (and op->imgfd); replies exactly once. */
int
op_start(struct op *op)
{
	struct lockc_async *l;
	int rc;

	op->t0_us = now_us();
	op->fdset = -1;
	if (op->rc == 0 && (op->owner = owner_take()) == 0)
		op_fail(op, EAGAIN, "too many operations in flight");
	if (op->rc != 0) {	/* refused while decoding (path, flags) */
		op_finish(op);
		return 0;
	}
	op->dm = dm_find(op->domid, LAUNCH_KIND_DM);
	if (op->kind == OP_DM_START && op->dm != NULL) {
		op->dm = NULL;
		op_fail(op, EEXIST, "a QEMU already runs for domain %u",
		    op->domid);
		op_finish(op);
		return 0;
	}
	if (op->kind == OP_DM_START)
		;	/* the QMP phase launches it */
	else if (op->dm == NULL && op->kind <= OP_DISK_REMOVE)
		op->xl = 1;	/* xl's device model? phase 1 checks the JSON */
	else if (op->dm == NULL || op->dm->state != DM_RUNNING) {
		op->dm = NULL;
		op_fail(op, ESRCH, "no running QEMU for domain %u", op->domid);
		op_finish(op);
		return 0;
	}
	if (op->dm != NULL)
		dm_hold(op->dm);
	if ((l = broker_lockd()) == NULL) {
		op_fail(op, ENOTCONN, "lockd not running");
		op_finish(op);
		return 0;
	}
	op->stage = ST_SLOW;
	rc = lockc_async_acquire(l, op->owner, op->domid, LOCK_SLOW, 0,
	    B->cfg.lock_timeout_ms, lock_cb, op);
	if (rc != 0) {
		lock_failed(op, rc, NULL, "slow lock");
		op_finish(op);
	}
	return 0;
}
