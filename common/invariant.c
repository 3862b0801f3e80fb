/* The seed-002 invariant checker (see invariant.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <xenstore.h>

#include "invariant.h"
#include "parse.h"

static json_t *
find_domain(json_t *doms, uint32_t domid)
{
	json_t *d;
	size_t i;

	json_array_foreach(doms, i, d) {
		json_t *id = json_object_get(d, "domid");

		if (json_is_integer(id) && json_integer_value(id) == domid)
			return d;
	}
	return NULL;
}

/* Does list (a JSON array of objects) hold an entry whose key matches? */
static int
list_has(json_t *list, const char *key, const char *id)
{
	char buf[32];
	json_t *e, *v;
	size_t i;

	json_array_foreach(list, i, e) {
		v = json_object_get(e, key);
		if (json_is_string(v) && strcmp(json_string_value(v), id) == 0)
			return 1;
		if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%lld",
			    (long long)json_integer_value(v));
			if (strcmp(buf, id) == 0)
				return 1;
		}
	}
	return 0;
}

/* NULL when the item is described by cfg, else why not. */
static const char *
item_missing(json_t *cfg, const struct inv_item *it)
{
	json_t *sect;

	if (it->src == INV_QMP && strcmp(it->kind, "dm") == 0)
		return json_is_object(json_object_get(cfg, "dm")) ? NULL :
		    "device model runs but the JSON has no \"dm\" entry";
	sect = json_object_get(cfg, it->src == INV_QMP ? "qmp" : "devices");
	if (list_has(json_object_get(sect, it->kind),
	    it->src == INV_QMP ? "id" : "devid", it->id))
		return NULL;
	return it->src == INV_QMP ? "qmp thing without a JSON entry" :
	    "xenstore device without a JSON entry";
}

static const char *
check_item(json_t *doms, const struct inv_item *it)
{
	json_t *d = find_domain(doms, it->domid), *cfg, *ts;

	if (d == NULL)
		return "domain has no JSON config at all";
	cfg = json_object_get(d, "config");
	if (!json_is_object(cfg))
		return "domain's JSON was removed (destroy) but this remains";
	ts = json_object_get(d, "toolstack");
	if (json_is_string(ts) && strcmp(json_string_value(ts), "libxl") == 0)
		return inv_libxl_missing(cfg, it);
	return item_missing(cfg, it);
}

int
inv_check(const char *store_json, const struct inv_item *items, size_t n,
    inv_report_fn fn, void *arg, char *err, size_t errsz)
{
	json_error_t je;
	json_t *root, *doms;
	const char *why;
	size_t i;
	int bad = 0;

	if ((root = json_loads(store_json, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL || !json_is_array(doms = json_object_get(root, "domains"))) {
		snprintf(err, errsz, "not a lockd LIST document%s%s",
		    root ? "" : ": ", root ? "" : je.text);
		json_decref(root);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((why = check_item(doms, &items[i])) == NULL)
			continue;
		bad++;
		if (fn != NULL)
			fn(arg, &items[i], why);
	}
	json_decref(root);
	return bad;
}

int
inv_item_parse(const char *line, struct inv_item *it)
{
	char dom[16], src[8], kind[16], id[64];
	uint32_t domid, devid;

	memset(it, 0, sizeof(*it));
	if (sscanf(line, "%15s %7s %15s %63s", dom, src, kind, id) != 4 ||
	    parse_domid(dom, &domid) == -1 || !valid_kind(kind) ||
	    !valid_component(id))
		return -1;
	if (strcmp(src, "xs") == 0) {
		if (parse_u32(id, UINT32_MAX, &devid) == -1)
			return -1;
		it->src = INV_XENSTORE;
	} else if (strcmp(src, "qmp") == 0)
		it->src = INV_QMP;
	else
		return -1;
	it->domid = domid;
	strcpy(it->kind, kind);
	strcpy(it->id, id);
	return 0;
}

void
inv_item_format(const struct inv_item *it, char *buf, size_t sz)
{
	snprintf(buf, sz, "domid=%u %s kind=%s id=%s", it->domid,
	    it->src == INV_QMP ? "qmp" : "xenstore", it->kind, it->id);
}

/* ------------------------------------------------------------ xenstore */

struct collect {
	struct inv_item	*items;
	size_t		 n;
	size_t		 cap;
};

static int
collect_add(struct collect *c, uint32_t domid, const char *kind,
    const char *devid)
{
	struct inv_item *it;

	if (c->n >= INV_MAX_ITEMS)
		return -E2BIG;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 64;

		if ((it = reallocarray(c->items, ncap, sizeof(*it))) == NULL)
			return -ENOMEM;
		c->items = it;
		c->cap = ncap;
	}
	it = &c->items[c->n++];
	memset(it, 0, sizeof(*it));
	it->domid = domid;
	it->src = INV_XENSTORE;
	snprintf(it->kind, sizeof(it->kind), "%s", kind);
	snprintf(it->id, sizeof(it->id), "%s", devid);
	return 0;
}

/* Lists dir; NULL with *num 0 when absent. */
static char **
xs_ls(struct xs_handle *xs, const char *dir, unsigned *num)
{
	char **v = xs_directory(xs, XBT_NULL, dir, num);

	if (v == NULL)
		*num = 0;
	return v;
}

static int
collect_domain(struct xs_handle *xs, struct collect *c, const char *base,
    const char *kind, const char *dom)
{
	char path[256];
	char **devs;
	unsigned i, n;
	uint32_t domid, devid;
	int rc = 0;

	if (parse_domid(dom, &domid) == -1 ||
	    xsnprintf(path, sizeof(path), "%s/%s/%s", base, kind, dom) == -1)
		return 0;	/* not a device directory: ignore */
	devs = xs_ls(xs, path, &n);
	for (i = 0; i < n && rc == 0; i++)
		if (parse_u32(devs[i], UINT32_MAX, &devid) == 0)
			rc = collect_add(c, domid, kind, devs[i]);
	free(devs);
	return rc;
}

int
inv_items_from_xenstore(struct xs_handle *xs, uint32_t bdomid,
    struct inv_item **items, size_t *n)
{
	struct collect c = { NULL, 0, 0 };
	char base[64], path[128];
	char **kinds, **doms;
	unsigned i, j, nk, nd;
	int rc = 0;

	snprintf(base, sizeof(base), "/local/domain/%u/backend", bdomid);
	kinds = xs_ls(xs, base, &nk);
	for (i = 0; i < nk && rc == 0; i++) {
		if (!valid_kind(kinds[i]) || xsnprintf(path, sizeof(path),
		    "%s/%s", base, kinds[i]) == -1)
			continue;
		doms = xs_ls(xs, path, &nd);
		for (j = 0; j < nd && rc == 0; j++)
			rc = collect_domain(xs, &c, base, kinds[i], doms[j]);
		free(doms);
	}
	free(kinds);
	if (rc != 0) {
		free(c.items);
		return rc;
	}
	*items = c.items;
	*n = c.n;
	return 0;
}
