/*
 * check: the seed-002 invariant "nothing in the primary config without an
 * entry in the domain's JSON config" (common/invariant.h does the
 * comparison).
 *
 *   JSON side      MSG_LOCK_LIST to lockd (required: exit 3 without it)
 *   xenstore side  every backend below /local/domain/<B>/backend, read
 *                  here, read-only, with libxenstore (XENSTORED_PATH is
 *                  honoured); skipped, and said so, when unreachable
 *   QMP side       MSG_BROKER_LIST: each running device model ("dm"), each
 *                  CD-ROM with a medium ("cdrom", devid) and each
 *                  hot-added disk ("disk", devid); skipped, and said so,
 *                  when the broker is not running
 *
 * Exit: 0 no violation, 4 violations (one line each), 3 lockd absent,
 * 1/5 when a source failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "ctl.h"
#include "invariant.h"
#include "parse.h"
#include "proto_broker.h"
#include "proto_lock.h"
#include "reply.h"
#include "table.h"

struct items {
	struct inv_item	*v;
	size_t		 n, cap;
	char		 xs_note[800];	/* what was (not) read, for the summary */
	char		 qmp_note[800];
};

static int
items_add(struct items *it, uint32_t domid, const char *kind, const char *id)
{
	struct inv_item *n;

	if (it->n == it->cap) {
		it->cap = it->cap ? it->cap * 2 : 64;
		if ((n = reallocarray(it->v, it->cap, sizeof(*n))) == NULL)
			return -1;
		it->v = n;
	}
	n = &it->v[it->n++];
	memset(n, 0, sizeof(*n));
	n->domid = domid;
	n->src = INV_QMP;
	snprintf(n->kind, sizeof(n->kind), "%s", kind);
	snprintf(n->id, sizeof(n->id), "%s", id);
	return 0;
}

/* Our own domain id from xenstore's relative "domid" node, else 0. */
static uint32_t
self_domid(struct xs_handle *xs)
{
	unsigned len;
	char *v = xs_read(xs, XBT_NULL, "domid", &len);
	uint32_t d = 0;

	if (v == NULL || parse_domid(v, &d) == -1)
		d = 0;
	free(v);
	return d;
}

static void
from_xenstore(struct items *it, int bdomid_set, uint32_t bdomid)
{
	struct xs_handle *xs = xs_open(0);
	struct inv_item *v = NULL;
	char base[64];
	size_t n = 0;
	int rc;

	if (xs == NULL) {
		snprintf(it->xs_note, sizeof(it->xs_note), "xenstore not "
		    "reachable (XENSTORED_PATH=%s): devices not checked",
		    getenv("XENSTORED_PATH") ? getenv("XENSTORED_PATH") :
		    "default");
		return;
	}
	if (!bdomid_set)
		bdomid = self_domid(xs);
	snprintf(base, sizeof(base), "/local/domain/%u/backend", bdomid);
	rc = inv_items_from_xenstore(xs, bdomid, &v, &n);
	xs_close(xs);
	if (rc != 0) {
		snprintf(it->xs_note, sizeof(it->xs_note), "reading %s failed: "
		    "%s", base, strerror(-rc));
		return;
	}
	snprintf(it->xs_note, sizeof(it->xs_note), "%zu backend devices below "
	    "%s", n, base);
	free(it->v);
	it->v = v;
	it->n = it->cap = n;
}

/* "cd768" -> ("cdrom", "768"), "disk5" -> ("disk", "5") from a qdev path. */
static int
qdev_thing(const char *qdev, const char **kind, char *id, size_t idsz)
{
	const char *s = strrchr(qdev, '/');
	uint32_t devid;

	s = s ? s + 1 : qdev;
	if (strncmp(s, "cd", 2) == 0 && parse_u32(s + 2, UINT32_MAX,
	    &devid) == 0)
		*kind = "cdrom";
	else if (strncmp(s, "disk", 4) == 0 && parse_u32(s + 4, UINT32_MAX,
	    &devid) == 0)
		*kind = "disk";
	else
		return -1;
	snprintf(id, idsz, "%u", devid);
	return 0;
}

static int
broker_domain(struct items *it, json_t *d)
{
	json_t *blk, *b, *q;
	const char *kind;
	char id[16];
	uint32_t domid;
	size_t i;

	domid = (uint32_t)json_integer_value(json_object_get(d, "domid"));
	q = json_object_get(d, "kind");
	if (!json_is_string(q) || strcmp(json_string_value(q), "dm") != 0)
		return 0;	/* qdisk backends are xenstore devices */
	if (items_add(it, domid, "dm", "qemu") == -1)
		return -1;
	blk = json_object_get(d, "block");
	json_array_foreach(blk, i, b) {
		q = json_object_get(b, "qdev");
		if (!json_is_string(q) || qdev_thing(json_string_value(q),
		    &kind, id, sizeof(id)) == -1)
			continue;
		if (strcmp(kind, "cdrom") == 0 &&
		    json_object_get(b, "inserted") == NULL)
			continue;	/* empty drive: nothing to describe */
		if (items_add(it, domid, kind, id) == -1)
			return -1;
	}
	return 0;
}

static void
from_broker(struct ctl *c, struct items *it)
{
	const struct ctl_daemon *d = ctl_daemon_find("broker");
	struct ctl_reply r;
	struct broker_list all = { BROKER_DOMID_ALL };
	struct msgbuf b;
	json_t *j, *dom;
	size_t i, before = it->n;
	int rc;

	msgbuf_init(&b, MSG_BROKER_LIST, ctl_next_reqid(c));
	broker_list_put(&b, &all);
	rc = ctl_call_json(c, d, &b, MSG_COMMON_OK, ctl_timeout(c,
	    CTL_TIMEOUT_OP_MS), &r, &j);
	msgbuf_dispose(&b);
	if (rc != CTL_OK)
		snprintf(it->qmp_note, sizeof(it->qmp_note), "QMP things not "
		    "checked: %s", r.err ? r.errmsg : r.why);
	else {
		json_array_foreach(json_object_get(j, "domains"), i, dom)
			if (json_object_get(dom, "error") == NULL)
				broker_domain(it, dom);
		snprintf(it->qmp_note, sizeof(it->qmp_note), "%zu QMP things "
		    "(device models, CD-ROM media, disks)", it->n - before);
	}
	json_decref(j);
	ctl_reply_dispose(&r);
}

/* The JSON side: lockd's whole-store snapshot, as a string. */
static int
from_lockd(struct ctl *c, char **store)
{
	const struct ctl_daemon *d = ctl_daemon_find("lockd");
	struct ctl_reply r;
	struct msgbuf b;
	struct reply_json j;
	int rc;

	*store = NULL;
	msgbuf_init(&b, MSG_LOCK_LIST, ctl_next_reqid(c));
	rc = ctl_call(c, d, &b, MSG_LOCK_LIST_REPLY, ctl_timeout(c,
	    CTL_TIMEOUT_QUERY_MS), &r);
	msgbuf_dispose(&b);
	if (rc == CTL_OK && (reply_json_get(&r.m, MSG_LOCK_LIST_REPLY,
	    LOCK_LIST_MAX, &j) == -1 || (*store = strndup(j.json, j.len)) ==
	    NULL)) {
		rc = CTL_NOANSWER;
		snprintf(r.why, sizeof(r.why), "malformed LIST reply");
	}
	if (rc != CTL_OK)
		ctl_report(c, d, rc, &r);
	ctl_reply_dispose(&r);
	return rc;
}

struct report {
	struct ctl	*c;
	json_t		*list;
};

static void
report(void *arg, const struct inv_item *it, const char *why)
{
	struct report *rp = arg;
	char buf[160];

	if (rp->c->json) {
		json_array_append_new(rp->list, json_pack("{s:i, s:s, s:s, "
		    "s:s, s:s}", "domid", (int)it->domid, "source",
		    it->src == INV_QMP ? "qmp" : "xenstore", "kind", it->kind,
		    "id", it->id, "why", why));
		return;
	}
	inv_item_format(it, buf, sizeof(buf));
	printf("VIOLATION %s: %s\n", buf, why);
}

static int
summarize(struct ctl *c, struct report *rp, const struct items *it, int bad)
{
	json_t *j;

	if (c->json) {
		j = json_pack("{s:b, s:i, s:s, s:s, s:O}", "ok", bad == 0,
		    "violations", bad, "xenstore", it->xs_note, "qmp",
		    it->qmp_note, "items", rp->list);
		ctl_print_json(j);
		json_decref(j);
	} else {
		char xs[sizeof(it->xs_note)], qmp[sizeof(it->qmp_note)];

		table_sanitize(xs, sizeof(xs), it->xs_note);
		table_sanitize(qmp, sizeof(qmp), it->qmp_note);
		printf("%s: %d violation%s\n  xenstore: %s\n  qmp: %s\n",
		    bad ? "FAILED" : "ok", bad, bad == 1 ? "" : "s", xs, qmp);
	}
	return bad ? CTL_INVARIANT : CTL_OK;
}

int
cmd_check(struct ctl *c, int argc, char **argv)
{
	struct items it = { NULL, 0, 0, "", "" };
	struct report rp = { c, json_array() };
	char *store = NULL, err[256];
	uint32_t bdomid = 0;
	int rc, set, bad;

	if ((rc = ctl_args_domid(c, argc, argv, "backend-domid",
	    "check [--backend-domid N]", &bdomid, &set)) != CTL_OK ||
	    (rc = from_lockd(c, &store)) != CTL_OK)
		goto out;
	from_xenstore(&it, set, bdomid);
	from_broker(c, &it);
	bad = inv_check(store, it.v, it.n, report, &rp, err, sizeof(err));
	if (bad < 0) {
		fprintf(stderr, "%s: lockd's store listing: %s\n", c->prog, err);
		rc = CTL_NOANSWER;
		goto out;
	}
	rc = summarize(c, &rp, &it, bad);
out:
	json_decref(rp.list);
	free(store);
	free(it.v);
	return rc;
}
