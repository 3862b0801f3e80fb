/*
 * A device's xenstore paths: its kind's name, its backend dir, libxl's
 * frontend dir, and the dirs a removal deletes.  Pure: reads only the
 * device and wd (be_root, self, kinds); called by every file that names
 * a device's nodes.
 */
#include <string.h>

#include "parse.h"
#include "wd.h"

const char *
dev_kind(const struct wdev *d)
{
	return wd.kinds[d->kind];
}

int
dev_be_path(const struct wdev *d, char *buf, size_t sz)
{
	return xsnprintf(buf, sz, "%s/%s/%u/%u", wd.be_root, dev_kind(d),
	    d->domid, d->devid);
}

/* libxl's frontend path: qdisk's frontend is a vbd. */
int
dev_fe_path(const struct wdev *d, char *buf, size_t sz)
{
	const char *k = dev_kind(d);

	if (strcmp(k, "qdisk") == 0)
		k = "vbd";
	return xsnprintf(buf, sz, "/local/domain/%u/device/%s/%u", d->domid,
	    k, d->devid);
}

/*
 * The dirs a removal deletes, each with its emptied parents (libxl's
 * path clean-up): frontend and /libxl/<domid>/device/<kind>/<devid> in
 * dom0 only (a driver domain owns neither), then the backend.  The
 * backend, the start-up scan's anchor, is last: if the removals are cut
 * short (crash, xenstore lost), what is left can still be found and the
 * removal redone.  Returns the number of paths filled.
 */
size_t
dev_rm_paths(const struct wdev *d, int backend, struct dev_paths *p)
{
	size_t n = 0;
	int len;

	if (wd.self == 0 && (len = xsnprintf(p->fe, sizeof(p->fe),
	    "/local/domain/%u/device", d->domid)) != -1 &&
	    dev_fe_path(d, p->fe, sizeof(p->fe)) != -1)
		p->v[n++] = (struct xsio_rmpath){ p->fe, (size_t)len };
	if (wd.self == 0 && (len = xsnprintf(p->lx, sizeof(p->lx),
	    "/libxl/%u/device", d->domid)) != -1 &&
	    xsnprintf(p->lx, sizeof(p->lx), "/libxl/%u/device/%s/%u",
	    d->domid, dev_kind(d), d->devid) != -1)
		p->v[n++] = (struct xsio_rmpath){ p->lx, (size_t)len };
	if (backend && dev_be_path(d, p->be, sizeof(p->be)) != -1)
		p->v[n++] = (struct xsio_rmpath){ p->be, strlen(wd.be_root) };
	return n;
}
