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
 * scan_guests() runs after the scan, on @releaseDomain and on
 * @introduceDomain: each guest that has devices here is asked about and
 * the one rule of liveness.c says whether it is dead (positive evidence
 * only: "not introduced" alone is not); a guest that dies gets its
 * devices queued with guest_dead set (device.c), which tears them down.
 * A driver domain may not ask XS_IS_DOMAIN_INTRODUCED (privileged) and
 * receives neither event (xenstored checks the special nodes'
 * permissions): there its frontend dirs are the evidence, read every
 * GUEST_POLL_MS (one read per live guest).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "daemon.h"
#include "liveness.h"
#include "log.h"
#include "parse.h"
#include "wd.h"

#include <event2/event.h>

#define DOMID_WORDS	((DOMID_MAX + 64) / 64)
#define GUEST_POLL_MS	2000	/* driver domain: guest-death poll */

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
		scan_guests(GUESTS_NOT_DEAD);
	}
	wd.st.scan_ms = now_ms() - t0;
	log_info("scan: %zu devices tracked, %zu queued (%llu ms)", wd.ndevs,
	    wd.ndirty, (unsigned long long)wd.st.scan_ms);
}

/*
 * Guest death (the rule: liveness.c).  A pass asks about each guest that
 * has devices here and whose state is in the pass's mask, once per guest:
 * in dom0 the evidence is the guest's (introduced / domain dir), in a
 * driver domain each device's frontend dir is its own evidence, combined
 * per guest: one readable = LIFE; else any error = UNKNOWN; else any
 * ENOENT = GONE; else NONE.  A guest that becomes DEAD gets its devices
 * queued; they see guest_dead() and are torn down (fsm rows 5-7).
 */
struct guest_pass {
	unsigned	 states;		/* G_MASK()s to ask about */
	uint64_t	 done[DOMID_WORDS];	/* evidence final */
	uint64_t	 died[DOMID_WORDS];	/* became DEAD in this pass */
	uint8_t		 ev[DOMID_MAX + 1];	/* E_* + 1 so far, 0 none */
};

static int
bit(const uint64_t *v, uint32_t id)
{
	return (v[id / 64] >> (id % 64)) & 1;
}

static void
set_bit(uint64_t *v, uint32_t id)
{
	v[id / 64] |= 1ull << (id % 64);
}

/* The evidence that moved a guest from state old, for the log. */
static const char *
why(int old, int ev)
{
	int dd = xsio_unprivileged();

	switch (ev) {
	case E_LIFE:
		return dd ? "frontend readable" : "introduced";
	case E_GONE:
		return dd ? "frontend gone" : "domain dir gone";
	case E_NONE:
		if (old == G_ALIVE)
			return dd ? "frontends no longer readable" :
			    "released by xenstored";
		return dd ? "no frontend readable" :
		    "not introduced, domain dir present";
	}
	return "unknown";
}

/* Applies evidence ev to guest id: the one rule, logged.  1: it died. */
static int
guest_apply(uint32_t id, int ev)
{
	int old = guest_state(id), st = guest_next(old, ev);

	if (st == old)
		return 0;
	guest_set(id, st);
	if (st == G_DEAD) {
		log_info("domid=%u guest is gone (%s): removing its devices",
		    id, why(old, ev));
		wd.st.guests_died++;
		return 1;
	}
	if (st == G_PENDING)
		log_info("domid=%u not taken for dead (%s): devices kept",
		    id, why(old, ev));
	else if (old == G_UNKNOWN)
		log_debug("domid=%u alive (%s)", id, why(old, ev));
	else
		log_info("domid=%u %s: alive (was %s)", id, why(old, ev),
		    guest_state_name(old));
	return 0;
}

/*
 * What xenstore says now about guest domid (enum guest_evidence; the rule
 * that turns it into dead or alive is liveness.c).  dom0: introduced ->
 * LIFE; not introduced: /local/domain/<domid> absent -> GONE, present ->
 * NONE.  XS_IS_DOMAIN_INTRODUCED is privileged: a driver domain (EACCES,
 * remembered) reads the frontend dir of device d instead, which the
 * toolstack makes readable to the backend domain: readable -> LIFE,
 * ENOENT -> GONE, EACCES -> NONE (xenstored answers EACCES for a missing
 * node under an unreadable parent - a dead guest's frontend - and for a
 * node it may not read: no proof of absence).  The guest owns its
 * frontend dir and could hide it; that only affects its own devices.
 */
static int
evidence_dir(uint32_t domid)
{
	char p[64];
	unsigned len;
	char *v;

	if (xsnprintf(p, sizeof(p), "/local/domain/%u", domid) == -1)
		return E_UNKNOWN;
	errno = 0;
	if ((v = xsio_read(p, &len)) != NULL) {
		free(v);
		return E_NONE;
	}
	return errno == ENOENT ? E_GONE : E_UNKNOWN;
}

static int
evidence_frontend(const struct wdev *d)
{
	char p[192];
	unsigned len;
	char *v;

	if (d == NULL || dev_fe_path(d, p, sizeof(p)) == -1)
		return E_UNKNOWN;
	errno = 0;
	if ((v = xsio_read(p, &len)) != NULL) {
		free(v);
		return E_LIFE;
	}
	return errno == ENOENT ? E_GONE : errno == EACCES ? E_NONE : E_UNKNOWN;
}

static int
guest_evidence(uint32_t domid, const struct wdev *d)
{
	if (wd.xs == NULL)
		return E_UNKNOWN;
	if (!xsio_unprivileged()) {
		switch (xsio_introduced(domid)) {
		case 1:
			return E_LIFE;
		case 0:
			return evidence_dir(domid);
		}
		if (!xsio_unprivileged())
			return E_UNKNOWN;	/* another error than EACCES */
	}
	return evidence_frontend(d);
}

/* Combined evidence of a driver domain's frontends (see above). */
static int
ev_rank(int ev)
{
	static const uint8_t rank[E__COUNT] = {
		[E_NONE] = 0, [E_GONE] = 1, [E_UNKNOWN] = 2, [E_LIFE] = 3 };

	return rank[ev];
}

static void
check_dev(struct wdev *d, void *arg)
{
	struct guest_pass *g = arg;
	uint32_t id = d->domid;
	int ev;

	if (id > DOMID_MAX || bit(g->done, id) ||
	    !(g->states & G_MASK(guest_state(id))))
		return;
	ev = guest_evidence(id, d);
	if (!xsio_unprivileged() || ev == E_LIFE)
		set_bit(g->done, id);
	if (g->ev[id] == 0 || ev_rank(ev) > ev_rank(g->ev[id] - 1))
		g->ev[id] = (uint8_t)(ev + 1);
}

static void
mark_died(struct wdev *d, void *arg)
{
	const struct guest_pass *g = arg;

	if (d->domid <= DOMID_MAX && bit(g->died, d->domid))
		dev_mark_dirty(d);
}

static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	scan_guests(GUESTS_NOT_DEAD);
}

static void
guest_pass(unsigned states)
{
	struct guest_pass *g;
	uint32_t id;
	int died = 0;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return;
	g->states = states;
	devtab_foreach(check_dev, g);
	for (id = 0; id <= DOMID_MAX; id++)
		if (g->ev[id] != 0 && guest_apply(id, g->ev[id] - 1)) {
			set_bit(g->died, id);
			died = 1;
		}
	if (died)
		devtab_foreach(mark_died, g);
	free(g);
}

/*
 * Asks about the guests in states (G_MASK()s): after the scan, on
 * @releaseDomain (the not-dead ones) and @introduceDomain (the ones not
 * seen alive).  A driver domain gets neither event (the special nodes'
 * permissions): there the not-dead guests are asked every GUEST_POLL_MS.
 */
void
scan_guests(unsigned states)
{
	static struct event *ev_poll;
	struct timeval tv = { GUEST_POLL_MS / 1000,
	    (GUEST_POLL_MS % 1000) * 1000 };

	if (wd.libxl)		/* libxl tears down a dead guest's devices */
		return;
	guest_pass(states);
	if (!xsio_unprivileged() || wd.shutting_down)
		return;
	if (ev_poll == NULL && (ev_poll = evtimer_new(wd.base, poll_cb,
	    NULL)) == NULL)
		return;
	evtimer_add(ev_poll, &tv);
}

int
guest_dead(uint32_t domid)
{
	return guest_state(domid) == G_DEAD;
}

/*
 * A new device of a guest not asked about yet (it got its first device
 * here, or the connection is new), or of a dead one (a new domain may
 * reuse the domid): ask, with this device as the driver domain's
 * evidence.  This runs inside an evaluation batch (device_eval_in), so a
 * death queues the guest's devices only after the batch: queued now, a
 * device of this batch could be popped into it a second time and be
 * evaluated (and freed) twice.
 */
static uint64_t	 died_later[DOMID_WORDS];
static struct event *ev_died;

static void
mark_died_later(struct wdev *d, void *arg)
{
	if (d->domid <= DOMID_MAX && bit(died_later, d->domid))
		dev_mark_dirty(d);
}

static void
died_cb(evutil_socket_t fd, short ev, void *arg)
{
	devtab_foreach(mark_died_later, NULL);
	memset(died_later, 0, sizeof(died_later));
}

void
guest_check_new(const struct wdev *d)
{
	static const struct timeval now = { 0, 0 };
	int st = guest_state(d->domid);

	if (d->domid > DOMID_MAX || (st != G_UNKNOWN && st != G_DEAD))
		return;
	if (!guest_apply(d->domid, guest_evidence(d->domid, d)))
		return;
	set_bit(died_later, d->domid);
	if (ev_died == NULL && (ev_died = evtimer_new(wd.base, died_cb,
	    NULL)) == NULL)
		return;
	evtimer_add(ev_died, &now);	/* after this loop pass */
}
