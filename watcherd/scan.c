/*
 * The start-up (and reconnect) scan, and the guest-death check.
 *
 * scan_all() lists backend/<kind>/<domid>/<devid> level by level (three
 * fixed levels, no recursion over guest-shaped trees; names must parse as
 * kind / domid / devid or are skipped), queues every device found and
 * every device already tracked: the SAME evaluation as a watch hint then
 * reconciles each one from what xenstore says now, whatever its state.
 *
 * scan_orphans() (dom0 only) then removes frontend dirs whose backend,
 * one of ours, is gone: see there.
 *
 * scan_guests() runs on @releaseDomain: each guest that has devices here
 * is asked for (xs_is_domain_introduced); a guest that is gone gets its
 * devices queued with guest_dead set (device.c), which tears them down.
 * A driver domain neither may ask that (privileged) nor receives
 * @releaseDomain (xenstored checks the special node's permissions), so
 * there scan_guests() also runs every GUEST_POLL_MS: one read per guest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "daemon.h"
#include "log.h"
#include "parse.h"
#include "wd.h"

#include <event2/event.h>

#define DOMID_WORDS	((DOMID_MAX + 64) / 64)
#define GUEST_POLL_MS	2000	/* driver domain: guest-death poll */

static uint64_t dead[DOMID_WORDS];

int
guest_dead(uint32_t domid)
{
	return domid <= DOMID_MAX && (dead[domid / 64] >> (domid % 64)) & 1;
}

static void
set_dead(uint32_t domid, int on)
{
	if (on)
		dead[domid / 64] |= 1ull << (domid % 64);
	else
		dead[domid / 64] &= ~(1ull << (domid % 64));
}

static char **
list(const char *path, unsigned *n)
{
	char **v;

	if (wd.xs == NULL)
		return NULL;
	v = xs_directory(wd.xs, XBT_NULL, path, n);
	if (v == NULL && errno != ENOENT && errno != EACCES) {
		log_warn("scan: list %s", path);
		xsio_lost("list");
	}
	return v;
}

static void
scan_domid(int kind, const char *kpath, uint32_t domid)
{
	char p[192];
	char **ids;
	unsigned n, i;
	uint32_t devid;
	struct wdev *d;

	if (xsnprintf(p, sizeof(p), "%s/%u", kpath, domid) == -1 ||
	    (ids = list(p, &n)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (parse_u32(ids[i], UINT32_MAX >> 1, &devid) == -1)
			continue;
		d = dev_find((unsigned)kind, domid, devid);
		if (d == NULL)
			d = dev_add((unsigned)kind, domid, devid);
		if (d != NULL) {
			dev_mark_dirty(d);
			wd.st.scan_devices++;
		}
	}
	free(ids);
}

static void
scan_kind(const char *kname)
{
	char p[128];
	char **doms;
	unsigned n, i;
	uint32_t domid;
	int k;

	if ((k = kind_index(kname, 1)) < 0 ||
	    xsnprintf(p, sizeof(p), "%s/%s", wd.be_root, kname) == -1 ||
	    (doms = list(p, &n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		if (parse_domid(doms[i], &domid) == 0)
			scan_domid(k, p, domid);
	free(doms);
}

/*
 * Orphan frontends (dom0 only, where watcherd has the toolstack's role):
 * a frontend dir whose `backend` names one of OUR backend dirs that is
 * gone ("backend already gone -> clean frontend only", as libxl does) is
 * removed with its /libxl entry.  Left by a watcherd older than the
 * one-transaction removal, killed between its removals; without this
 * nothing would ever point at it again.  Fixed levels (domain, kind,
 * devid), at most SCAN_FE_MAX entries per level, no recursion; the check
 * and the removal are one transaction (xsio_rm_orphan).
 */
#define SCAN_FE_MAX	4096

static void
orphan_check(uint32_t domid, const char *fe)
{
	char anchor[224], *v;
	unsigned len;
	struct backend_path bp;
	struct wdev d;
	struct dev_paths p;
	int k;

	if (xsnprintf(anchor, sizeof(anchor), "%s/backend", fe) == -1 ||
	    (v = xsio_read(anchor, &len)) == NULL)
		return;
	memset(&d, 0, sizeof(d));
	k = strlen(v) == len && parse_backend_path(v, &bp) == 0 &&
	    bp.bdomid == wd.self && bp.domid == domid && bp.rest[0] == '\0' ?
	    kind_index(bp.kind, 1) : -1;
	free(v);
	if (k < 0)
		return;
	d.kind = (uint8_t)k;
	d.domid = domid;
	d.devid = bp.devid;
	if (dev_find(d.kind, domid, d.devid) != NULL ||
	    dev_rm_paths(&d, 1, &p) != 3 || strcmp(p.fe, fe) != 0)
		return;		/* tracked, or not its own frontend */
	if (xsio_rm_orphan(anchor, p.be, p.v, 2) == 1) {
		wd.st.frontend_only++;
		log_info("domid=%u kind=%s devid=%u scan: backend already "
		    "gone: orphan frontend cleaned", domid, dev_kind(&d),
		    d.devid);
	}
}

/*
 * A frontend dir that is the frontend of a device we track (its backend
 * dir exists: the scan just listed it) is no orphan: skip its read.  This
 * keeps the walk at the listings alone for the common case (issue 8: one
 * READ per device made the 10 000-device start-up scan 20x slower).
 */
static int
fe_tracked(uint32_t domid, uint32_t devid, const char *fe)
{
	char p[192];
	struct wdev *d;
	size_t k;

	for (k = 0; k < wd.nkinds; k++)
		if ((d = dev_find((unsigned)k, domid, devid)) != NULL &&
		    dev_fe_path(d, p, sizeof(p)) != -1 && strcmp(p, fe) == 0)
			return 1;
	return 0;
}

static void
orphan_kind(uint32_t domid, const char *dpath, const char *fk)
{
	char p[160], fe[192];
	char **ids;
	unsigned n, i;
	uint32_t devid;

	if (xsnprintf(p, sizeof(p), "%s/%s", dpath, fk) == -1 ||
	    (ids = list(p, &n)) == NULL)
		return;
	for (i = 0; i < n && i < SCAN_FE_MAX; i++)
		if (parse_u32(ids[i], UINT32_MAX >> 1, &devid) == 0 &&
		    xsnprintf(fe, sizeof(fe), "%s/%u", p, devid) != -1 &&
		    !fe_tracked(domid, devid, fe))
			orphan_check(domid, fe);
	free(ids);
}

static void
scan_orphans(void)
{
	char p[64];
	char **doms, **kinds;
	unsigned nd, nk, i, j;
	uint32_t domid;

	if (wd.self != 0 || xsio_unprivileged() ||
	    (doms = list("/local/domain", &nd)) == NULL)
		return;
	for (i = 0; i < nd && i < SCAN_FE_MAX; i++) {
		if (parse_domid(doms[i], &domid) == -1 ||
		    xsnprintf(p, sizeof(p), "/local/domain/%u/device",
		    domid) == -1 || (kinds = list(p, &nk)) == NULL)
			continue;
		for (j = 0; j < nk && j < SCAN_FE_MAX; j++)
			if (valid_kind(kinds[j]))
				orphan_kind(domid, p, kinds[j]);
		free(kinds);
	}
	free(doms);
}

static void
mark_all(struct wdev *d, void *arg)
{
	dev_mark_dirty(d);
}

void
scan_all(void)
{
	char **kinds;
	unsigned n, i;
	uint64_t t0 = now_ms();

	wd.reconcile_t0 = t0;
	devtab_foreach(mark_all, NULL);
	if ((kinds = list(wd.be_root, &n)) != NULL) {
		for (i = 0; i < n; i++)
			if (valid_kind(kinds[i]))
				scan_kind(kinds[i]);
		free(kinds);
	}
	if (!wd.libxl) {	/* libxl cleans up its own backends */
		scan_orphans();
		scan_guests();
	}
	wd.st.scan_ms = now_ms() - t0;
	log_info("scan: %zu devices tracked, %zu queued (%llu ms)", wd.ndevs,
	    wd.ndirty, (unsigned long long)wd.st.scan_ms);
}

struct guest_arg { uint64_t seen[DOMID_WORDS]; };

static void
check_guest(struct wdev *d, void *arg)
{
	struct guest_arg *g = arg;
	uint32_t id = d->domid;
	int alive;

	if (id > DOMID_MAX || (g->seen[id / 64] >> (id % 64)) & 1)
		return;
	g->seen[id / 64] |= 1ull << (id % 64);
	if ((alive = xsio_domain_alive(id, d)) == -1)
		return;		/* unknown: ask again next time */
	if (!alive && !guest_dead(id)) {
		log_info("domid=%u guest is gone: removing its devices", id);
		wd.st.guests_died++;
	}
	set_dead(id, !alive);
}

static void
mark_dead(struct wdev *d, void *arg)
{
	if (guest_dead(d->domid))
		dev_mark_dirty(d);
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	scan_guests();
}

void
scan_guests(void)
{
	static struct event *ev_poll;
	struct timeval tv = { GUEST_POLL_MS / 1000,
	    (GUEST_POLL_MS % 1000) * 1000 };
	struct guest_arg *g;

	if (wd.libxl)		/* libxl tears down a dead guest's devices */
		return;
	if ((g = calloc(1, sizeof(*g))) == NULL)
		return;
	devtab_foreach(check_guest, g);
	free(g);
	devtab_foreach(mark_dead, NULL);
	if (!xsio_unprivileged() || wd.shutting_down)
		return;
	if (ev_poll == NULL && (ev_poll = evtimer_new(wd.base, poll_cb,
	    NULL)) == NULL)
		return;
	evtimer_add(ev_poll, &tv);
}

/* A guest we saw die may come back under the same domid (a new domain). */
void
guest_recheck(const struct wdev *d)
{
	if (guest_dead(d->domid) && xsio_domain_alive(d->domid, d) == 1)
		set_dead(d->domid, 0);
}
