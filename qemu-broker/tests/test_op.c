/*
 * Proves the seed-002 sequence of op.c, row by row of its table, against a
 * fake lockd (callbacks queued and delivered one at a time, as from the
 * event loop) and fake QMP steps: the JSON entry is written before the QMP
 * phase starts and with the slow lock held; the fast lock is never held
 * across QMP; the outcome table (live / deleted when QEMU is clean / kept
 * when QEMU may hold the thing) is honoured; every failure (precondition,
 * slow lock ESRCH, destroyed between the two fast locks, lockd lost, lockd
 * absent) releases what is held, replies exactly once and never runs QMP
 * when it must not.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qemu-broker/broker.h"
#include "lockd_client.h"
#include "proto_broker.h"

/* ---- fakes ---- */
static struct broker fake_broker;
struct broker *B = &fake_broker;
static struct dm the_dm = { .domid = 5, .state = DM_RUNNING, .pid = 42 };
static int dm_present, lockd_present, held_slow, held_fast;
static int in_qmp, qmp_runs, replies, reply_err, reply_type;
static char store[4096], trace[2048];
static uint64_t gen = 1;
static int fail_acquire_fast2, lost_at_read2, fail_slow;
/* what the fake QMP phase does */
static int qmp_rc, qmp_clean;

struct pending {
	lockc_cb	 cb;
	void		*arg;
	int		 rc;
	int		 has_json;
};
static struct pending q[16];
static int nq;

static void
T(const char *s)
{
	strncat(trace, s, sizeof(trace) - strlen(trace) - 1);
	strncat(trace, " ", sizeof(trace) - strlen(trace) - 1);
}

static void
push(lockc_cb cb, void *arg, int rc, int has_json)
{
	assert_true(nq < 16);
	q[nq++] = (struct pending){ cb, arg, rc, has_json };
}

/* Delivers queued callbacks until none is left. */
static void
pump(void)
{
	struct lockc_reply r;
	struct pending p;

	while (nq > 0) {
		p = q[0];
		memmove(q, q + 1, sizeof(q[0]) * (size_t)--nq);
		memset(&r, 0, sizeof(r));
		r.errmsg = "";
		r.gen = gen;
		if (p.has_json) {
			r.json = store;
			r.json_len = strlen(store);
		}
		p.cb(p.rc, &r, p.arg);
	}
}

struct lockc_async *
broker_lockd(void)
{
	return lockd_present ? (struct lockc_async *)&the_dm : NULL;
}

int
lockc_async_acquire(struct lockc_async *l, uint32_t owner, uint32_t domid,
    uint32_t which, uint32_t flags, uint32_t tmo, lockc_cb cb, void *arg)
{
	int rc = 0;

	assert_int_equal(domid, 5);
	if (which == LOCK_SLOW) {
		assert_false(held_slow);
		assert_false(held_fast);	/* order: slow before fast */
		T("S+");
		rc = fail_slow;
		held_slow = rc == 0;
	} else {
		assert_false(held_fast);
		assert_true(held_slow);	/* fast only inside slow */
		T("F+");
		if (in_qmp == 2 && fail_acquire_fast2)
			rc = fail_acquire_fast2;
		held_fast = rc == 0;
	}
	push(cb, arg, rc, 0);
	return 0;
}

int
lockc_async_release(struct lockc_async *l, uint32_t owner, uint32_t domid,
    uint32_t which)
{
	if (which == LOCK_SLOW) {
		assert_true(held_slow);
		assert_false(held_fast);
		held_slow = 0;
		T("S-");
	} else {
		assert_true(held_fast);
		held_fast = 0;
		T("F-");
	}
	return 0;
}

int
lockc_async_config_read(struct lockc_async *l, uint32_t owner,
    uint32_t domid, lockc_cb cb, void *arg)
{
	assert_true(held_fast);
	T("R");
	if (in_qmp == 2 && lost_at_read2) {
		held_fast = held_slow = 0;	/* lockd went away */
		push(cb, arg, -ECONNRESET, 0);
		return 0;
	}
	push(cb, arg, 0, 1);
	return 0;
}

int
lockc_async_config_write(struct lockc_async *l, uint32_t owner,
    uint32_t domid, const char *json, uint64_t expect, lockc_cb cb,
    void *arg)
{
	assert_true(held_fast);
	assert_int_equal(expect, gen);
	T("W");
	snprintf(store, sizeof(store), "%s", json);
	gen++;
	push(cb, arg, 0, 0);
	return 0;
}

struct dm *
dm_find(uint32_t domid, uint32_t kind)
{
	return dm_present && kind == LAUNCH_KIND_DM ? &the_dm : NULL;
}

void dm_hold(struct dm *d) { d->ops++; }
void dm_put(struct dm *d) { d->ops--; }
void client_unref(struct client *c) { }

void
client_reply_ok(struct client *c, struct msgbuf *b)
{
	replies++;
	reply_err = 0;
	reply_type = MSG_COMMON_OK;
}

void
client_reply_err(struct client *c, uint32_t reqid, int err, const char *fmt,
    ...)
{
	replies++;
	reply_err = err;
}

/* The QMP phase: checks the entry is already in the JSON, then reports. */
static void
fake_qmp(struct op *op)
{
	assert_true(held_slow);
	assert_false(held_fast);	/* never across QMP */
	qmp_runs++;
	T("QMP");
	if (op->xl)	/* libxl's JSON: the medium is there before QMP,
			   on insert and still on eject */
		assert_non_null(strstr(store, "\"pdev_path\":\"/img/"));
	else if (op->kind == OP_CDROM_INSERT || op->kind == OP_DISK_ADD)
		assert_non_null(strstr(store, "\"adding\""));
	else if (op->kind != OP_DM_START)
		assert_non_null(strstr(store, "\"removing\""));
	in_qmp = 2;
	if (op->kind == OP_DM_START && qmp_rc == 0) {
		op->dm = &the_dm;
		dm_hold(op->dm);
	}
	if (qmp_rc)
		op_fail(op, -qmp_rc, "fake QMP failure");
	op->qemu_clean = qmp_clean;
	op->fdset = 7;
	op_qmp_done(op);
}
/* xl's device model: libxl's QMP socket, connected under the slow lock */
static struct dm xl_dm = { .domid = 5, .state = DM_RUNNING, .xl = 1 };
static int xl_connect_rc;

int
dm_xl_connect(uint32_t domid, dm_started_fn fn, void *arg)
{
	assert_true(held_slow);
	assert_false(held_fast);
	T("XL");
	fn(&xl_dm, xl_connect_rc, 1, "no socket", arg);
	return 0;
}

void
dm_xl_close(struct dm *d)
{
	assert_true(held_slow);		/* hang up before the slow lock goes */
	assert_true(d == &xl_dm);
	T("XLCLOSE");
}

void cdrom_insert_qmp(struct op *op) { fake_qmp(op); }
void cdrom_eject_qmp(struct op *op) { fake_qmp(op); }
void disk_add_qmp(struct op *op) { fake_qmp(op); }
void disk_remove_qmp(struct op *op) { fake_qmp(op); }
void dm_start_qmp(struct op *op) { fake_qmp(op); }

/* ---- the tests ---- */
static int
setup(void **state)
{
	dm_present = lockd_present = 1;
	held_slow = held_fast = in_qmp = qmp_runs = replies = reply_err = 0;
	fail_acquire_fast2 = lost_at_read2 = fail_slow = 0;
	qmp_rc = qmp_clean = 0;
	trace[0] = '\0';
	strcpy(store, "{}");
	gen = 1;
	nq = 0;
	the_dm.ops = 0;
	xl_dm.ops = 0;
	xl_connect_rc = 0;
	return 0;
}

static void
run(enum op_kind kind, uint32_t devid)
{
	struct op *op = calloc(1, sizeof(*op));

	op->kind = kind;
	op->domid = 5;
	op->devid = devid;
	op->imgfd = -1;
	strcpy(op->path, "/img/a.iso");
	op_start(op);
	pump();
	assert_int_equal(replies, 1);	/* exactly one reply */
	assert_false(held_slow);	/* nothing left held */
	assert_false(held_fast);
	assert_int_equal(the_dm.ops, 0);
	assert_int_equal(xl_dm.ops, 0);
}

static void
check_entry(const char *kind, const char *state)
{
	char want[128];

	if (state == NULL) {
		snprintf(want, sizeof(want), "\"%s\":[]", kind);
		if (strstr(store, "\"qmp\"") != NULL)
			assert_non_null(strstr(store, want));
		return;
	}
	snprintf(want, sizeof(want), "\"state\":\"%s\"", state);
	assert_non_null(strstr(store, want));
}

/* START..WRITE2 on the happy path */
static void
test_add_ok(void **state)
{
	run(OP_CDROM_INSERT, 3);
	assert_string_equal(trace, "S+ F+ R W F- QMP F+ R W F- S- ");
	assert_int_equal(reply_err, 0);
	check_entry("cdrom", "live");
	assert_non_null(strstr(store, "\"fdset\":7"));
	assert_non_null(strstr(store, "\"id\":\"3\""));
}

/* READ1 precondition fails: EEXIST, no write, no QMP */
static void
test_add_exists(void **state)
{
	strcpy(store, "{\"qmp\":{\"cdrom\":[{\"id\":\"3\",\"state\":\"live\"}]}}");
	run(OP_CDROM_INSERT, 3);
	assert_int_equal(reply_err, EEXIST);
	assert_int_equal(qmp_runs, 0);
	assert_string_equal(trace, "S+ F+ R F- S- ");
}

static void
test_remove_absent(void **state)
{
	run(OP_DISK_REMOVE, 9);
	assert_int_equal(reply_err, ENOENT);
	assert_int_equal(qmp_runs, 0);
}

static void
test_foreign_schema(void **state)
{
	strcpy(store, "{\"qmp\":\"mine\"}");
	run(OP_DISK_ADD, 1);
	assert_int_equal(reply_err, EINVAL);
	assert_int_equal(qmp_runs, 0);
}

/* SLOW fails (destroyed domain): no QMP, nothing held */
static void
test_slow_esrch(void **state)
{
	fail_slow = -ESRCH;
	run(OP_CDROM_INSERT, 3);
	assert_int_equal(reply_err, ESRCH);
	assert_int_equal(qmp_runs, 0);
	assert_string_equal(store, "{}");
}

/* FAST2 ESRCH: destroyed while QMP ran; nothing written afterwards */
static void
test_destroyed_between(void **state)
{
	fail_acquire_fast2 = -ESRCH;
	run(OP_CDROM_INSERT, 3);
	assert_int_equal(reply_err, ESRCH);
	assert_int_equal(qmp_runs, 1);
	assert_string_equal(trace, "S+ F+ R W F- QMP F+ S- ");
	check_entry("cdrom", "adding");	/* the entry stays: allowed */
}

/* QMP failed, QEMU clean: the entry goes */
static void
test_add_failed_clean(void **state)
{
	qmp_rc = -EIO;
	qmp_clean = 1;
	run(OP_DISK_ADD, 4);
	assert_int_equal(reply_err, EIO);
	check_entry("disk", NULL);
}

/* QMP failed, QEMU may hold it: the entry stays */
static void
test_add_failed_unknown(void **state)
{
	qmp_rc = -ETIMEDOUT;
	run(OP_DISK_ADD, 4);
	assert_int_equal(reply_err, ETIMEDOUT);
	check_entry("disk", "adding");
}

static void
test_remove_ok_and_failed(void **state)
{
	strcpy(store, "{\"qmp\":{\"disk\":[{\"id\":\"4\",\"state\":\"live\"}]}}");
	qmp_rc = -ETIMEDOUT;
	run(OP_DISK_REMOVE, 4);
	assert_int_equal(reply_err, ETIMEDOUT);
	check_entry("disk", "removing");	/* kept */
	setup(NULL);
	strcpy(store, "{\"qmp\":{\"disk\":[{\"id\":\"4\",\"state\":\"live\"},"
	    "{\"id\":\"5\",\"state\":\"live\"}]}}");
	run(OP_DISK_REMOVE, 4);
	assert_int_equal(reply_err, 0);
	assert_null(strstr(store, "\"id\":\"4\""));
	assert_non_null(strstr(store, "\"id\":\"5\""));
}

/* lockd lost after QMP: ECONNRESET, no release sent (locks are gone) */
static void
test_lockd_lost(void **state)
{
	lost_at_read2 = 1;
	strcpy(store, "{\"qmp\":{\"cdrom\":[{\"id\":\"3\"}]}}");
	run(OP_CDROM_EJECT, 3);
	assert_int_equal(reply_err, ECONNRESET);
	assert_string_equal(trace, "S+ F+ R W F- QMP F+ R ");
}

static void
test_lockd_absent(void **state)
{
	lockd_present = 0;
	run(OP_CDROM_INSERT, 3);
	assert_int_equal(reply_err, ENOTCONN);
	assert_int_equal(qmp_runs, 0);
	assert_string_equal(trace, "");
}

static void
test_no_qemu(void **state)
{
	dm_present = 0;
	lockd_present = 0;		/* without lockd: at once */
	run(OP_DISK_ADD, 3);
	assert_int_equal(reply_err, ENOTCONN);
	assert_string_equal(trace, "");
	/* it may be xl's QEMU: the JSON (under the locks) says it is not */
	setup(state);
	dm_present = 0;
	run(OP_CDROM_INSERT, 3);
	assert_int_equal(reply_err, ESRCH);
	assert_string_equal(trace, "S+ F+ R F- S- ");
	assert_int_equal(qmp_runs, 0);
}

/* the device model itself: "dm" entry before launch, running after */
static void
test_dm_start(void **state)
{
	dm_present = 0;
	run(OP_DM_START, 0);
	assert_int_equal(reply_err, 0);
	assert_non_null(strstr(store, "\"dm\":{\"state\":\"running\""));
	assert_non_null(strstr(store, "\"pid\":42"));
	setup(NULL);
	dm_present = 0;
	qmp_rc = -EIO;
	qmp_clean = 1;
	run(OP_DM_START, 0);
	assert_int_equal(reply_err, EIO);
	assert_null(strstr(store, "\"dm\""));	/* launch failed: removed */
	setup(NULL);
	run(OP_DM_START, 0);		/* one already runs */
	assert_int_equal(reply_err, EEXIST);
}

/* ---- a CD-ROM of a domain xl manages: libxl's JSON ---- */
#define XL_CFG(pdev, fmt) "{\"c_info\":{\"type\":\"hvm\"},\"b_info\":{\"x\":1}," \
    "\"disks\":[{\"pdev_path\":\"" pdev "\",\"vdev\":\"hdc\",\"format\":\"" \
    fmt "\",\"is_cdrom\":1,\"removable\":1}],\"nics\":[{\"devid\":0}]}"

static void
test_xl_insert(void **state)
{
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	run(OP_CDROM_INSERT, 5632);
	assert_string_equal(trace,
	    "S+ F+ R W F- XL QMP F+ R W F- XLCLOSE S- ");
	assert_int_equal(reply_err, 0);
	assert_non_null(strstr(store, "\"pdev_path\":\"/img/a.iso\""));
	assert_non_null(strstr(store, "\"format\":\"raw\""));
	assert_non_null(strstr(store, "\"b_info\":{\"x\":1}"));	/* kept */
	assert_non_null(strstr(store, "\"nics\":[{\"devid\":0}]"));
	assert_null(strstr(store, "\"qmp\""));	/* no devsep schema */
}

static void
test_xl_insert_failed(void **state)
{
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	qmp_rc = -EIO;
	qmp_clean = 1;		/* QEMU said no: the medium entry goes */
	run(OP_CDROM_INSERT, 5632);
	assert_int_equal(reply_err, EIO);
	assert_non_null(strstr(store, "\"pdev_path\":\"\""));
	assert_non_null(strstr(store, "\"format\":\"empty\""));
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	qmp_rc = -ETIMEDOUT;	/* unknown outcome: kept (stale is allowed) */
	run(OP_CDROM_INSERT, 5632);
	assert_non_null(strstr(store, "\"pdev_path\":\"/img/a.iso\""));
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	xl_connect_rc = -ECONNREFUSED;	/* no QEMU on libxl's socket */
	run(OP_CDROM_INSERT, 5632);
	assert_int_equal(reply_err, ECONNREFUSED);
	assert_int_equal(qmp_runs, 0);
	assert_non_null(strstr(store, "\"pdev_path\":\"\""));
}

static void
test_xl_eject(void **state)
{
	dm_present = 0;
	strcpy(store, XL_CFG("/img/b.iso", "raw"));
	run(OP_CDROM_EJECT, 5632);
	assert_int_equal(reply_err, 0);
	assert_string_equal(trace,
	    "S+ F+ R W F- XL QMP F+ R W F- XLCLOSE S- ");
	assert_non_null(strstr(store, "\"pdev_path\":\"\""));
	assert_non_null(strstr(store, "\"format\":\"empty\""));
}

static void
test_xl_preconditions(void **state)
{
	dm_present = 0;
	strcpy(store, XL_CFG("/img/b.iso", "raw"));
	run(OP_CDROM_INSERT, 5632);		/* a medium: eject first */
	assert_int_equal(reply_err, EEXIST);
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	run(OP_CDROM_EJECT, 5632);		/* no medium */
	assert_int_equal(reply_err, ENOENT);
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	run(OP_CDROM_INSERT, 5696);		/* hdd: no such drive */
	assert_int_equal(reply_err, ENOENT);
	setup(state);
	dm_present = 0;				/* not xl's, no QEMU */
	run(OP_CDROM_INSERT, 3);
	assert_int_equal(reply_err, ESRCH);
	assert_int_equal(qmp_runs, 0);
	assert_string_equal(trace, "S+ F+ R F- S- ");
}

/* a disk hot-plugged into xl's device model is a libxl disk */
static void
test_xl_disk(void **state)
{
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	run(OP_DISK_ADD, 51728);
	assert_int_equal(reply_err, 0);
	assert_string_equal(trace,
	    "S+ F+ R W F- XL QMP F+ R W F- XLCLOSE S- ");
	assert_non_null(strstr(store, "{\"pdev_path\":\"/img/a.iso\","
	    "\"vdev\":\"xvdb\",\"backend\":\"qdisk\",\"format\":\"raw\","
	    "\"readwrite\":1}"));
	assert_non_null(strstr(store, "\"vdev\":\"hdc\""));	/* CD kept */
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	run(OP_DISK_ADD, 5632);			/* not an xvd devid */
	assert_int_equal(reply_err, EINVAL);
	assert_int_equal(qmp_runs, 0);
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	run(OP_DISK_REMOVE, 51728);		/* none */
	assert_int_equal(reply_err, ENOENT);
	setup(state);
	dm_present = 0;
	strcpy(store, XL_CFG("", "empty"));
	qmp_rc = -EIO;
	qmp_clean = 1;				/* QEMU refused: entry goes */
	run(OP_DISK_ADD, 51728);
	assert_null(strstr(store, "xvdb"));
}

static void
test_xl_disk_remove(void **state)
{
	dm_present = 0;
	strcpy(store, "{\"c_info\":{},\"disks\":[{\"pdev_path\":\"/img/d\","
	    "\"vdev\":\"xvdb\"},{\"pdev_path\":\"/img/c\",\"vdev\":\"hdc\","
	    "\"is_cdrom\":1}]}");
	qmp_rc = -ETIMEDOUT;		/* no DEVICE_DELETED: kept */
	run(OP_DISK_REMOVE, 51728);
	assert_non_null(strstr(store, "xvdb"));
	setup(state);
	dm_present = 0;
	strcpy(store, "{\"c_info\":{},\"disks\":[{\"pdev_path\":\"/img/d\","
	    "\"vdev\":\"xvdb\"},{\"pdev_path\":\"/img/c\",\"vdev\":\"hdc\","
	    "\"is_cdrom\":1}]}");
	run(OP_DISK_REMOVE, 51728);
	assert_int_equal(reply_err, 0);
	assert_null(strstr(store, "xvdb"));
	assert_non_null(strstr(store, "hdc"));
}

/* OP_RECONCILE after adoption: unfinished entries follow query-block */
static void
test_reconcile(void **state)
{
	struct op *op = calloc(1, sizeof(*op));

	strcpy(store, "{\"dm\":{\"state\":\"starting\"},\"qmp\":{"
	    "\"cdrom\":[{\"id\":\"3\",\"state\":\"adding\"},"
	    "{\"id\":\"4\",\"state\":\"removing\"}],"
	    "\"disk\":[{\"id\":\"7\",\"state\":\"removing\"},"
	    "{\"id\":\"8\",\"state\":\"live\",\"fdset\":1},"
	    "{\"id\":\"9\",\"state\":\"adding\"}]}}");
	op->kind = OP_RECONCILE;
	op->domid = 5;
	op->imgfd = -1;
	/* QEMU: cd3 has a medium (set 4), cd4 is empty, disk7 is there
	 * (virtio: a QOM path), disk9 is not */
	op->qblock = json_loads("[{\"qdev\":\"cd3\",\"inserted\":{\"file\":"
	    "\"/dev/fdset/4\"}},{\"qdev\":\"cd4\"},{\"qdev\":"
	    "\"/machine/peripheral/disk7/virtio-backend\",\"inserted\":"
	    "{\"file\":\"/dev/fdset/6\"}}]", 0, NULL);
	the_dm.pid = 42;
	op_start(op);
	pump();
	assert_int_equal(replies, 1);	/* once, to no client (NULL) */
	assert_int_equal(reply_err, 0);
	assert_false(held_slow);
	assert_false(held_fast);
	assert_int_equal(the_dm.ops, 0);
	assert_string_equal(trace, "S+ F+ R W F- F+ R W F- S- ");
	assert_non_null(strstr(store, "{\"id\":\"3\",\"state\":\"live\","
	    "\"fdset\":4}"));
	assert_null(strstr(store, "\"id\":\"4\""));	/* gone from QEMU */
	assert_non_null(strstr(store, "{\"id\":\"7\",\"state\":\"live\","
	    "\"fdset\":6}"));
	assert_non_null(strstr(store, "\"id\":\"8\",\"state\":\"live\""));
	assert_null(strstr(store, "\"id\":\"9\""));
	assert_non_null(strstr(store, "\"state\":\"running\""));
	assert_non_null(strstr(store, "\"pid\":42"));
}

int
main(void)
{
#define R(fn) cmocka_unit_test_setup(fn, setup)
	const struct CMUnitTest tests[] = {
		R(test_add_ok), R(test_add_exists), R(test_remove_absent),
		R(test_foreign_schema), R(test_slow_esrch),
		R(test_destroyed_between), R(test_add_failed_clean),
		R(test_add_failed_unknown), R(test_remove_ok_and_failed),
		R(test_lockd_lost), R(test_lockd_absent), R(test_no_qemu),
		R(test_dm_start), R(test_xl_insert), R(test_xl_insert_failed),
		R(test_xl_eject), R(test_xl_preconditions), R(test_reconcile),
		R(test_xl_disk), R(test_xl_disk_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
