/*
 * MSG_BROKER_LIST: what every QEMU really holds, asked live (query-block,
 * query-fdsets), for `devsepctl check` to compare with lockd's JSON.  One
 * request fans out to every matching QEMU; the reply is sent when the last
 * one answered (each QMP command is bounded by qmp_cmd_timeout, so a
 * stalled QEMU delays the listing but never blocks it: it is listed with
 * "error").
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"
#include "proto_broker.h"
#include "reply.h"

struct lister {
	struct client	*c;
	uint32_t	 reqid;
	int		 pending;
	json_t		*domains;
};

struct lent {
	struct lister	*l;
	struct dm	*dm;
	json_t		*o;
};

static void
lister_done(struct lister *l)
{
	struct reply_json r;
	struct msgbuf b;
	char *s;

	if (--l->pending > 0)
		return;
	s = json_dumps(json_pack("{s:o}", "domains", l->domains),
	    JSON_COMPACT);
	r = (struct reply_json){ s ? s : "{}", s ? strlen(s) : 2 };
	msgbuf_init(&b, MSG_COMMON_OK, l->reqid);
	reply_json_put(&b, &r);
	client_reply_ok(l->c, &b);
	msgbuf_dispose(&b);
	free(s);
	client_unref(l->c);
	free(l);
}

static void
lent_done(struct lent *e)
{
	struct lister *l = e->l;

	json_array_append_new(l->domains, e->o);
	dm_put(e->dm);
	free(e);
	lister_done(l);
}

static void
lent_error(struct lent *e, int rc, const char *errdesc)
{
	json_object_set_new(e->o, "error", json_string(errdesc ? errdesc :
	    strerror(-rc)));
	lent_done(e);
}

static void
got_fdsets(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct lent *e = arg;

	if (rc != 0) {
		lent_error(e, rc, errdesc);
		return;
	}
	json_object_set(e->o, "fdsets", ret);
	lent_done(e);
}

/*
 * virtio-blk-pci's backend reports its QOM path
 * ("/machine/peripheral/disk8/virtio-backend") as "qdev": rewrite it to
 * the device id ("disk8"), keeping the path in "qom_path".
 */
static void
normalize_qdev(json_t *blocks)
{
	static const char pfx[] = "/machine/peripheral/";
	char id[64];
	const char *q, *end;
	json_t *b;
	size_t i;

	json_array_foreach(blocks, i, b) {
		q = json_string_value(json_object_get(b, "qdev"));
		if (q == NULL || strncmp(q, pfx, sizeof(pfx) - 1) != 0)
			continue;
		q += sizeof(pfx) - 1;
		end = strchr(q, '/');
		if ((end ? (size_t)(end - q) : strlen(q)) >= sizeof(id))
			continue;
		snprintf(id, sizeof(id), "%.*s", (int)(end ? end - q :
		    (ptrdiff_t)strlen(q)), q);
		json_object_set(b, "qom_path", json_object_get(b, "qdev"));
		json_object_set_new(b, "qdev", json_string(id));
	}
}

static void
got_block(int rc, json_t *ret, const char *errdesc, void *arg)
{
	struct lent *e = arg;

	if (rc != 0) {
		lent_error(e, rc, errdesc);
		return;
	}
	normalize_qdev(ret);
	json_object_set(e->o, "block", ret);
	if ((rc = dm_qmp(e->dm, "query-fdsets", NULL, -1, got_fdsets, e)) != 0)
		lent_error(e, rc, NULL);
}

static void
list_one(struct lister *l, struct dm *d)
{
	struct lent *e;
	int rc;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		fatal("calloc");
	e->l = l;
	e->dm = d;
	e->o = dm_json(d);
	dm_hold(d);
	l->pending++;
	if ((rc = dm_qmp(d, "query-block", NULL, -1, got_block, e)) != 0)
		lent_error(e, rc, "QEMU not running");
}

int
dm_list_json(uint32_t domid, struct client *c, uint32_t reqid)
{
	struct lister *l;
	struct dm *d, *td;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return -ENOMEM;
	l->c = client_ref(c);
	l->reqid = reqid;
	l->domains = json_array();
	l->pending = 1;		/* held until every QEMU was asked */
	LIST_FOREACH_SAFE(d, &B->dms, entry, td)
		if (domid == BROKER_DOMID_ALL || d->domid == domid)
			list_one(l, d);
	lister_done(l);
	return 0;
}
