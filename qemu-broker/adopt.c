/*
 * Device models outlive the broker.  At start-up (before the privilege
 * drop) the broker lists <run_dir>/qmp; after it, it adopts every QEMU
 * whose QMP socket still answers (dm.c dm_adopt) and reconciles:
 *
 *   step             -> action
 *   QMP negotiated   -> query-block: the /dev/fdset/N each device uses
 *   query-block      -> query-fdsets
 *   query-fdsets     -> remove-fd every set tagged "devsep-..." that no
 *                       device uses (an insert or add the old broker did
 *                       not finish); ops allowed again (adopting = 0)
 *   any QMP error    -> logged, ops allowed (nothing removed)
 *
 *   fdsets done (dm)  -> OP_RECONCILE under the domain's slow and fast
 *                       locks: JSON entries of operations the old broker
 *                       did not finish ("adding"/"removing") follow what
 *                       query-block showed (there: "live", gone: removed);
 *                       a "dm" left "starting" becomes "running"
 *
 * lockd released the old broker's locks when its connection closed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker.h"
#include "log.h"
#include "parse.h"
#include "qmp.h"

#define ADOPT_MAX	1024
#define FDSET_PREFIX	"/dev/fdset/"
#define OUR_OPAQUE	"devsep-"

static struct {
	uint32_t	kind, domid;
} found[ADOPT_MAX];
static size_t nfound;

static void
scan_one(void *arg, uint32_t kind, uint32_t domid)
{
	if (nfound < ADOPT_MAX)
		found[nfound++] = (typeof(found[0])){ kind, domid };
}

void
adopt_scan(void)
{
	nfound = 0;
	if (qmpsock_scan(scan_one, NULL) > 0)
		log_info("%zu QMP socket(s) left by a previous broker", nfound);
}

void
adopt_all(void)
{
	size_t i;

	for (i = 0; i < nfound; i++)
		dm_adopt(found[i].kind, found[i].domid);
	nfound = 0;
}

struct recon {
	struct dm	*dm;
	json_t		*qblock;	/* query-block, for the JSON op */
	int64_t		 used[64];	/* fdset ids devices use */
	size_t		 nused;
	int		 removed;
};

/* The JSON side, under the domain's locks (op.c OP_RECONCILE). */
static void
reconcile_json(struct recon *r)
{
	struct op *op;

	if ((op = calloc(1, sizeof(*op))) == NULL)
		fatal("calloc");
	op->kind = OP_RECONCILE;
	op->domid = r->dm->domid;
	op->imgfd = -1;
	op->qblock = json_incref(r->qblock);
	op_start(op);
}

static void
recon_done(struct recon *r, const char *why)
{
	if (why != NULL)
		log_warnx("domid=%u adopt: %s (nothing removed)", r->dm->domid,
		    why);
	else
		log_info("domid=%u adopted QEMU pid=%d: %d stray fdset(s) "
		    "removed", r->dm->domid, (int)r->dm->pid, r->removed);
	r->dm->adopting = 0;
	if (why == NULL && r->dm->kind == LAUNCH_KIND_DM)
		reconcile_json(r);
	json_decref(r->qblock);
	dm_put(r->dm);
	free(r);
}

static int
fdset_used(const struct recon *r, int64_t id)
{
	size_t i;

	for (i = 0; i < r->nused; i++)
		if (r->used[i] == id)
			return 1;
	return 0;
}

/* Does the set hold an fd with one of our opaques? */
static int
set_is_ours(json_t *set)
{
	json_t *fd;
	size_t i;
	const char *o;

	json_array_foreach(json_object_get(set, "fds"), i, fd) {
		o = json_string_value(json_object_get(fd, "opaque"));
		if (o != NULL && strncmp(o, OUR_OPAQUE,
		    sizeof(OUR_OPAQUE) - 1) == 0)
			return 1;
	}
	return 0;
}

static void
removed_cb(struct qmp *q, int rc, json_t *ret, const char *errdesc,
    void *arg)
{
	if (rc != 0)
		log_warnx("adopt: remove-fd: %s", errdesc ? errdesc :
		    strerror(-rc));
}

static void
fdsets_cb(struct qmp *q, int rc, json_t *ret, const char *errdesc,
    void *arg)
{
	struct recon *r = arg;
	json_t *set;
	json_int_t id;
	size_t i;

	if (rc != 0) {
		recon_done(r, "query-fdsets failed");
		return;
	}
	json_array_foreach(ret, i, set) {
		id = json_integer_value(json_object_get(set, "fdset-id"));
		if (!set_is_ours(set) || fdset_used(r, id))
			continue;
		/* queued in order: done before any op's command */
		if (qmp_cmd(q, "remove-fd", json_pack("{s:I}", "fdset-id", id),
		    -1, removed_cb, NULL) == 0)
			r->removed++;
	}
	recon_done(r, NULL);
}

/* The fdset id of one query-block entry's medium, -1 if none. */
static int64_t
block_fdset(json_t *dev)
{
	const char *f = json_string_value(json_object_get(json_object_get(dev,
	    "inserted"), "file"));
	uint32_t id;

	if (f == NULL || strncmp(f, FDSET_PREFIX, sizeof(FDSET_PREFIX) - 1) ||
	    parse_u32(f + sizeof(FDSET_PREFIX) - 1, INT32_MAX, &id) == -1)
		return -1;
	return id;
}

static void
block_cb(struct qmp *q, int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct recon *r = arg;
	json_t *dev;
	int64_t id;
	size_t i;

	if (rc != 0) {
		recon_done(r, "query-block failed");
		return;
	}
	r->qblock = json_incref(ret);
	json_array_foreach(ret, i, dev)
		if ((id = block_fdset(dev)) >= 0 && r->nused < 64)
			r->used[r->nused++] = id;
	if (qmp_cmd(q, "query-fdsets", NULL, -1, fdsets_cb, r) != 0)
		recon_done(r, "query-fdsets not sent");
}

void
adopt_reconcile(struct dm *d)
{
	struct recon *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("calloc");
	r->dm = d;
	dm_hold(d);
	if (qmp_cmd(d->qmp, "query-block", NULL, -1, block_cb, r) != 0)
		recon_done(r, "query-block not sent");
}
