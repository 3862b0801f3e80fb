/*
 * locks [--domid N]: MSG_LOCK_QUERY to lockd, one row per (domain, lock)
 * with its holder and waiters.  --json passes lockd's JSON through.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "proto_lock.h"
#include "table.h"

/* "pid=1234 broker owner=2 12ms" for a holder or a waiter. */
static void
who(json_t *h, const char *msfield, char *buf, size_t n)
{
	char pid[32], peer[32], owner[32], ms[32];

	if (h == NULL || json_is_null(h)) {
		snprintf(buf, n, "-");
		return;
	}
	snprintf(buf, n, "pid=%s %s owner=%s %sms",
	    ctl_json_text(json_object_get(h, "pid"), pid, sizeof(pid)),
	    ctl_json_text(json_object_get(h, "peer"), peer, sizeof(peer)),
	    ctl_json_text(json_object_get(h, "owner"), owner, sizeof(owner)),
	    ctl_json_text(json_object_get(h, msfield), ms, sizeof(ms)));
}

static void
lock_row(struct table *t, json_t *dom, const char *which)
{
	json_t *l = json_object_get(dom, which), *w;
	char a[64], b[64], c[64], d[64], holder[200], first[200];

	w = json_object_get(l, "waiters");
	who(json_object_get(l, "holder"), "since_ms", holder, sizeof(holder));
	who(json_array_get(w, 0), "waited_ms", first, sizeof(first));
	table_row(t);
	table_cell(t, "%s", ctl_json_text(json_object_get(dom, "domid"), a,
	    sizeof(a)));
	table_cell(t, "%s", ctl_json_text(json_object_get(dom, "state"), b,
	    sizeof(b)));
	table_cell(t, "%s", ctl_json_text(json_object_get(dom, "generation"),
	    c, sizeof(c)));
	table_cell(t, "%s", ctl_json_text(json_object_get(dom, "dm_gone"), d,
	    sizeof(d)));
	table_cell(t, "%s", which);
	table_cell(t, "%s", holder);
	table_cell(t, "%zu", json_array_size(w));
	table_cell(t, "%s", first);
}

static int
render(struct ctl *c, json_t *j)
{
	json_t *doms = json_object_get(j, "domains"), *dom;
	struct table t;
	size_t i;
	int rc = CTL_OK;

	if (!json_is_array(doms)) {
		fprintf(stderr, "%s: lockd's reply has no \"domains\" "
		    "array\n", c->prog);
		return CTL_NOANSWER;
	}
	table_init(&t, "DOMID", "STATE", "GEN", "DM_GONE", "LOCK", "HOLDER",
	    "WAITERS", "FIRST WAITER", NULL);
	json_array_foreach(doms, i, dom) {
		lock_row(&t, dom, "slow");
		lock_row(&t, dom, "fast");
	}
	if (table_print(&t, stdout) == -1)
		rc = CTL_FAILED;
	table_dispose(&t);
	return rc;
}

int
cmd_locks(struct ctl *c, int argc, char **argv)
{
	struct lock_query req = { LOCK_DOMID_ALL };
	struct msgbuf b;
	int rc, set;

	if ((rc = ctl_args_domid(c, argc, argv, "domid", "locks [--domid N]",
	    &req.domid, &set)) != CTL_OK)
		return rc;
	msgbuf_init(&b, MSG_LOCK_QUERY, ctl_next_reqid(c));
	lock_query_put(&b, &req);
	return ctl_query(c, "lockd", &b, MSG_LOCK_QUERY_REPLY, render);
}
