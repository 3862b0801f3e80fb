/*
 * test_hint: proves watcherd/hint.c, the routing of watch events to the
 * device table, with the scan replaced at its boundary (-Wl,--wrap of
 * scan_all and scan_guests) and the real devtab.c:
 *   - an event below a tracked device queues it to read only the node
 *     named: state -> WANT_STATE, online -> WANT_ONLINE, hotplug-status
 *     -> WANT_HS; shutdown-done / shutdown-request queue it reading
 *     nothing; the device dir itself reads all; feature-* and deeper
 *     nodes are no input (hints_unused), nothing queued;
 *   - a hotplug-status event is used up without a read while an own write
 *     of it is pending (hint_own_hs: value known, hs_from_job counted);
 *     an own write in doubt (NULL) forgets the count and reads the node;
 *   - a device not tracked is added by an event below its dir, not by one
 *     on its dir (its removal, most often watcherd's own);
 *   - other kinds (console), another domain's backends and paths outside
 *     the backend dir are ignored (hints_ignored);
 *   - above device level: backend/<kind> re-queues that kind's devices,
 *     backend/<kind>/<domid> that guest's only, an untracked kind nothing;
 *     the backend dir itself runs the scan;
 *   - @introduceDomain asks about unseen guests; the first @releaseDomain
 *     after a connect is skipped when the scan ran (its registration
 *     event), later ones ask about every guest not dead; without a scan
 *     the first one asks too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "watcherd/liveness.h"
#include "watcherd/wd.h"

struct wd wd;

#define BE	"/local/domain/0/backend"

static int scans, guest_scans;
static unsigned guest_states;

void __wrap_scan_all(void);
void __wrap_scan_guests(unsigned);

void
__wrap_scan_all(void)
{
	scans++;
}

void
__wrap_scan_guests(unsigned states)
{
	guest_scans++;
	guest_states = states;
}

static int stub_pre(struct wdev *d) { return 0; }
static void stub_read(struct wdev **d, size_t n, const unsigned *w,
    struct fsm_in *in, int *ok) { }
static void stub_eval(struct wdev *d, struct fsm_in *in) { }
static const struct devtab_eval no_eval = { stub_pre, stub_read, stub_eval };

static int
setup(void **state)
{
	memset(&wd, 0, sizeof(wd));
	wd.base = event_base_new();
	snprintf(wd.be_root, sizeof(wd.be_root), BE);
	devtab_init(&no_eval);
	assert_int_equal(kind_index("vif", 1), 0);
	assert_int_equal(kind_index("vbd", 1), 1);
	scans = guest_scans = 0;
	hint_connected();
	return 0;
}

static void
free_all(struct wdev *d, void *arg)
{
	dev_free(d);
}

static int
teardown(void **state)
{
	devtab_foreach(free_all, NULL);
	devtab_dispose();
	event_base_free(wd.base);
	return 0;
}

/* A tracked device, evaluated: not queued, nothing wanted. */
static struct wdev *
tracked(unsigned kind, uint32_t domid, uint32_t devid)
{
	struct wdev *d = dev_add(kind, domid, devid);

	assert_non_null(d);
	d->want = 0;
	return d;
}

/* Hint path at d, then d's want (and d taken off the queue). */
static unsigned
want_after(struct wdev *d, const char *path, int *queued)
{
	unsigned w;

	hint_path(path);
	*queued = d->dirty;
	w = d->want;
	while (wd.dirty_head) {			/* drain, as an evaluation */
		wd.dirty_head->dirty = 0;
		wd.dirty_head = wd.dirty_head->dnext;
	}
	wd.dirty_tail = NULL;
	wd.ndirty = 0;
	d->want = 0;
	return w;
}

static void
test_node_events(void **unused)
{
	struct wdev *d = tracked(0, 5, 0);
	int q;

	assert_int_equal(want_after(d, BE "/vif/5/0/state", &q), WANT_STATE);
	assert_true(q);
	assert_int_equal(want_after(d, BE "/vif/5/0/online", &q),
	    WANT_ONLINE);
	assert_int_equal(want_after(d, BE "/vif/5/0/hotplug-status", &q),
	    WANT_HS);
	assert_int_equal(want_after(d, BE "/vif/5/0/shutdown-done", &q), 0);
	assert_true(q);
	assert_int_equal(want_after(d, BE "/vif/5/0/shutdown-request", &q),
	    0);
	assert_true(q);
	assert_int_equal(want_after(d, BE "/vif/5/0", &q), WANT_ALL);
	assert_int_equal(want_after(d, BE "/vif/5/0/feature-sg", &q), 0);
	assert_false(q);
	assert_int_equal(want_after(d, BE "/vif/5/0/state/x", &q), 0);
	assert_false(q);
	assert_int_equal(wd.st.hints_unused, 2);
}

static void
test_own_writes(void **unused)
{
	struct wdev *d = tracked(0, 5, 1);
	int q;

	hint_own_hs(d, "connected");
	assert_int_equal(d->hs, HS_CONNECTED);
	assert_int_equal(d->hs_own, 1);
	assert_int_equal(want_after(d, BE "/vif/5/1/hotplug-status", &q), 0);
	assert_false(q);			/* used up, no read */
	assert_int_equal(d->hs_own, 0);
	assert_int_equal(wd.st.hs_from_job, 1);
	assert_int_equal(want_after(d, BE "/vif/5/1/hotplug-status", &q),
	    WANT_HS);			/* the next one is someone else's */

	hint_own_hs(d, "connected");
	hint_own_hs(d, NULL);			/* doubt */
	assert_int_equal(d->hs_own, 0);
	assert_true(d->want & WANT_HS);
}

static void
test_untracked(void **unused)
{
	struct wdev *d;

	hint_path(BE "/vbd/6/51712");		/* the dir itself: no add */
	assert_null(dev_find(1, 6, 51712));
	assert_int_equal(wd.st.hints_unused, 1);
	hint_path(BE "/vbd/6/51712/state");	/* below it: added */
	assert_non_null(d = dev_find(1, 6, 51712));
	assert_true(d->dirty);
	assert_int_equal(d->want, WANT_ALL);
}

static void
test_ignored(void **unused)
{
	hint_path(BE "/console/5/0/state");		/* not a kind of ours */
	hint_path("/local/domain/1/backend/vif/5/0/state");	/* not us */
	hint_path("/local/domain/5/device/vif/0/state");
	assert_int_equal(wd.st.hints_ignored, 3);
	assert_int_equal(wd.ndevs, 0);
}

static void
test_above_device(void **unused)
{
	struct wdev *a = tracked(0, 5, 0), *b = tracked(0, 6, 0),
	    *c = tracked(1, 5, 51712);

	hint_path(BE "/vif/5");			/* one guest's vifs */
	assert_true(a->dirty);
	assert_false(b->dirty || c->dirty);
	hint_path(BE "/vif");			/* every vif */
	assert_true(b->dirty);
	assert_false(c->dirty);
	assert_int_equal(a->want, WANT_ALL);
	hint_path(BE "/qdisk");			/* nothing of that kind */
	hint_path(BE "/vif/junk");		/* not a domid */
	assert_false(c->dirty);
	assert_int_equal(scans, 0);
	hint_path(BE);				/* the backend dir: rescan */
	assert_int_equal(scans, 1);
}

static void
test_guest_events(void **unused)
{
	hint_event(XW_INTRODUCE, "@introduceDomain");
	assert_int_equal(guest_scans, 1);
	assert_int_equal(guest_states, GUESTS_UNSEEN);

	hint_event(XW_BACKEND, BE);		/* registration: the scan */
	assert_int_equal(scans, 1);
	hint_event(XW_RELEASE, "@releaseDomain");	/* registration */
	assert_int_equal(guest_scans, 1);
	assert_int_equal(wd.st.hints_coalesced, 1);
	hint_event(XW_RELEASE, "@releaseDomain");	/* a real release */
	assert_int_equal(guest_scans, 2);
	assert_int_equal(guest_states, GUESTS_NOT_DEAD);

	hint_connected();			/* reconnect, no scan yet */
	hint_event(XW_RELEASE, "@releaseDomain");
	assert_int_equal(guest_scans, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_events, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_own_writes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_untracked, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ignored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_above_device, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_guest_events, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
