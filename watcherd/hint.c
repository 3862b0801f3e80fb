/*
 * Hint routing: what a watch event (xsio.c hands them over through struct
 * xsio_ops) means for the device table.  An event is only a hint: its
 * path is mapped to its device, which is queued (coalesced) to read the
 * node that changed; paths above device level re-queue the devices below
 * them, the backend dir itself runs the scan; @introduceDomain and
 * @releaseDomain ask scan.c about the guests.  The issue-8 own-write
 * cache lives here whole: hint_own_hs() counts a hotplug-status write of
 * ours (its value known), hint_node() uses the count up.  Uses devtab.c,
 * input.c (a value's meaning), scan.c, parse.c.
 */
#include <string.h>

#include "liveness.h"
#include "parse.h"
#include "wd.h"

static int scanned, release_seen;	/* since connect, see hint_event */

/* A hint for a path above device level: re-check the devices below it. */
struct prefix_arg { int kind; int has_domid; uint32_t domid; };

static void
mark_prefix(struct wdev *d, void *arg)
{
	struct prefix_arg *p = arg;

	if ((p->kind < 0 || d->kind == p->kind) &&
	    (!p->has_domid || d->domid == p->domid))
		dev_mark_dirty(d);
}

/*
 * xenstored fires every watch once when it is registered.  The backend
 * dir's first event runs scan_all(), which ends with scan_guests(); the
 * @releaseDomain registration event right after it would only ask every
 * guest again (issue 8: IS_DOMAIN_INTRODUCED twice per guest at start-up),
 * so the first @releaseDomain event after a connect is skipped when that
 * scan ran.  xenstored queues events in order, so a real release after
 * the registration comes after it and is not lost.
 */
static void
hint_above(const char *rest)
{
	struct prefix_arg p = { -1, 0, 0 };
	char kind[16];
	const char *slash;
	size_t n;

	if (*rest == '\0') {
		scan_all();
		scanned = 1;
		return;
	}
	slash = strchr(rest, '/');
	n = slash ? (size_t)(slash - rest) : strlen(rest);
	if (n >= sizeof(kind))
		return;
	memcpy(kind, rest, n);
	kind[n] = '\0';
	if ((p.kind = kind_index(kind, 0)) < 0)
		return;		/* nothing tracked of that kind */
	if (slash && parse_domid(slash + 1, &p.domid) == 0)
		p.has_domid = 1;
	else if (slash)
		return;
	devtab_foreach(mark_prefix, &p);
}

/*
 * An event below a tracked device names what changed: `state`, `online`
 * and `hotplug-status` are the state machine's inputs and only that node
 * is read; `shutdown-request` and `shutdown-done` are read by the
 * evaluation itself (vbd, closing); the device dir itself (created, removed) reads all.  Anything
 * else (the backend's feature-* nodes, script, vifname...) is no input:
 * no evaluation.  A hotplug-status event caused by a write of ours whose
 * value is known (hint_own_hs) is used up without a read.  For a device
 * not tracked, only an event below its dir adds it (hint_path): the dir's
 * own event is its removal (most often watcherd's own, the device just
 * freed) or a bare mkdir, while every node written fires its own event.
 */
static void
hint_node(struct wdev *d, const char *rest)
{
	if (*rest == '\0')
		dev_mark_dirty(d);
	else if (strcmp(rest, "state") == 0)
		dev_mark(d, WANT_STATE);
	else if (strcmp(rest, "online") == 0)
		dev_mark(d, WANT_ONLINE);
	else if (strcmp(rest, "hotplug-status") == 0 && d->hs_own > 0) {
		d->hs_own--;
		wd.st.hs_from_job++;
	} else if (strcmp(rest, "hotplug-status") == 0)
		dev_mark(d, WANT_HS);
	else if (strcmp(rest, "shutdown-done") == 0 ||
	    strcmp(rest, "shutdown-request") == 0)
		dev_mark(d, 0);
	else
		wd.st.hints_unused++;
}

void
hint_path(const char *path)
{
	struct backend_path bp;
	struct wdev *d;
	size_t rl = strlen(wd.be_root);
	int k;

	if (parse_backend_path(path, &bp) == 0 && bp.bdomid == wd.self) {
		if ((k = kind_index(bp.kind, 1)) < 0) {
			wd.st.hints_ignored++;
			return;
		}
		if ((d = dev_find((unsigned)k, bp.domid, bp.devid)) != NULL)
			hint_node(d, bp.rest);
		else if (*bp.rest == '\0')
			wd.st.hints_unused++;	/* see hint_node() */
		else if ((d = dev_add((unsigned)k, bp.domid, bp.devid)))
			dev_mark_dirty(d);
		return;
	}
	if (strncmp(path, wd.be_root, rl) == 0 &&
	    (path[rl] == '\0' || path[rl] == '/')) {
		hint_above(path[rl] == '/' ? path + rl + 1 : "");
		return;
	}
	wd.st.hints_ignored++;
}

/*
 * A write of the device's hotplug-status that watcherd made or proxied for
 * the job's script (xsproxy_track) and saw succeed: xenstore now holds
 * `written`, so that becomes the value last read, and the watch event the
 * write fires is used up without reading the node back (hint_node).
 * NULL = in doubt (removed, failed, written twice in one transaction...):
 * forget the pending own events and read the node at the next evaluation.
 */
void
hint_own_hs(struct wdev *d, const char *written)
{
	if (written == NULL) {
		d->hs_own = 0;
		d->want |= WANT_HS;
		return;
	}
	d->hs = (uint8_t)input_hs(written, strlen(written));
	if (d->hs_own < UINT8_MAX)
		d->hs_own++;
}

/*
 * xenstored fires every watch once when it is registered: the backend
 * dir's first event runs scan_all() (hint_above), and the @releaseDomain
 * registration event right after it is skipped when that scan ran (see
 * hint_above).  Called by xsio.c for each event (ops->event).
 */
void
hint_event(int watch, const char *path)
{
	if (watch == XW_INTRODUCE)
		scan_guests(GUESTS_UNSEEN);
	else if (watch == XW_BACKEND)
		hint_path(path);
	else if (!release_seen++ && scanned)
		wd.st.hints_coalesced++;	/* registration event */
	else
		scan_guests(GUESTS_NOT_DEAD);
	if (release_seen > 1)
		release_seen = 1;
}

/* A new connection: its watches fire once more (ops->connected). */
void
hint_connected(void)
{
	scanned = release_seen = 0;
}
