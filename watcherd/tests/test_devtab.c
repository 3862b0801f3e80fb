/*
 * test_devtab: proves the device table machinery of watcherd/devtab.c:
 *   - the hash finds every one of 20 000 devices across rehashes and
 *     after half of them are freed;
 *   - hints are coalesced: a device marked dirty many times is queued and
 *     evaluated once, devices are evaluated in FIFO order, in batches;
 *   - evaluation pauses while xenstore is down and resumes with the next
 *     hint after the reconnect, even when devices were left queued;
 *   - the nodes to read accumulate per device (WANT_*): two events naming
 *     different nodes read both, once; a full mark (rescan) reads all and
 *     forgets pending own hotplug-status writes; the bits are kept when
 *     the read fails (xenstore lost) and cleared once evaluated;
 *   - the timer heap fires in deadline order, a cancelled timer never
 *     fires, a re-armed timer fires once (its stale heap entry is skipped
 *     by generation), and a freed device's timer is ignored.
 * The evaluation and the xenstore reads are stubbed here, through the
 * struct devtab_eval that watcherd.c fills with device.c and input.c
 * (tested by test_input and the integration tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "watcherd/wd.h"

struct wd wd;

static struct wdev *evaluated[64];
static size_t nevaluated;

static int
eval_pre(struct wdev *d)
{
	return 0;
}

static void
eval_in(struct wdev *d, struct fsm_in *in)
{
	if (nevaluated < 64)
		evaluated[nevaluated] = d;
	nevaluated++;
}

static unsigned read_want[64];
static int read_ok = 1;

static void
read_devs(struct wdev **d, size_t n, const unsigned *want,
    struct fsm_in *in, int *ok)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ok[i] = read_ok;
		if (i < 64)
			read_want[i] = want[i];
	}
}

static const struct devtab_eval stub_eval = { eval_pre, read_devs,
    eval_in };

static int
setup(void **state)
{
	memset(&wd, 0, sizeof(wd));
	wd.base = event_base_new();
	wd.xs = (struct xs_handle *)1;	/* "connected": never dereferenced */
	devtab_init(&stub_eval);
	assert_int_equal(kind_index("vif", 1), 0);
	assert_int_equal(kind_index("qdisk", 1), 1);
	assert_int_equal(kind_index("console", 1), -1);	/* not ours */
	assert_int_equal(kind_index("vkbd", 1), -1);
	nevaluated = 0;
	read_ok = 1;
	return 0;
}

static int
teardown(void **state)
{
	devtab_dispose();
	event_base_free(wd.base);
	return 0;
}

static void
free_all(struct wdev *d, void *arg)
{
	dev_free(d);
}

static void
test_hash(void **unused)
{
	uint32_t i;

	for (i = 0; i < 20000; i++)
		assert_non_null(dev_add(0, i % 100, i));
	assert_int_equal(wd.ndevs, 20000);
	assert_true(wd.hsize >= 16384);
	for (i = 0; i < 20000; i++)
		assert_non_null(dev_find(0, i % 100, i));
	assert_null(dev_find(1, 0, 0));
	assert_null(dev_find(0, 1, 0));
	for (i = 0; i < 20000; i += 2)
		dev_free(dev_find(0, i % 100, i));
	for (i = 0; i < 20000; i++)
		assert_true((dev_find(0, i % 100, i) != NULL) == (i % 2 == 1));
	assert_true(kind_is_qemu(1));
	assert_false(kind_is_qemu(0));
	assert_true(dev_find(0, 1, 1)->st.flags == 0);
	assert_true(dev_add(1, 1, 1)->st.flags & F_QEMU);
	devtab_foreach(free_all, NULL);
	assert_int_equal(wd.ndevs, 0);
}

static void
test_coalesce(void **unused)
{
	struct wdev *a = dev_add(0, 5, 0), *b = dev_add(0, 5, 1);
	int i;

	for (i = 0; i < 5; i++)
		dev_mark_dirty(a);
	dev_mark_dirty(b);
	dev_mark_dirty(a);
	assert_int_equal(wd.ndirty, 2);
	assert_int_equal(wd.st.hints_coalesced, 5);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 2);
	assert_ptr_equal(evaluated[0], a);
	assert_ptr_equal(evaluated[1], b);
	assert_int_equal(wd.ndirty, 0);
	assert_false(a->dirty);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 2);	/* nothing queued: no eval */
}

static void
test_want(void **unused)
{
	struct wdev *a = dev_add(0, 5, 0), *b = dev_add(0, 5, 1);

	dev_mark(a, WANT_STATE);
	dev_mark(a, WANT_HS);
	dev_mark(b, 0);			/* evaluate, read nothing */
	assert_int_equal(wd.ndirty, 2);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 2);
	assert_int_equal(read_want[0], WANT_STATE | WANT_HS);
	assert_int_equal(read_want[1], 0);
	assert_int_equal(a->want, 0);
	a->hs_own = 2;
	dev_mark(a, WANT_ONLINE);
	assert_int_equal(a->hs_own, 2);
	dev_mark_dirty(a);		/* full: all, own writes forgotten */
	assert_int_equal(a->hs_own, 0);
	read_ok = 0;			/* xenstore lost during the read */
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 2);
	assert_int_equal(read_want[0], WANT_ALL);
	assert_int_equal(a->want, WANT_ALL);	/* kept for the re-read */
	read_ok = 1;
	dev_mark(a, 0);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 3);
	assert_int_equal(read_want[0], WANT_ALL);
	assert_int_equal(a->want, 0);
}

static void
test_batches(void **unused)
{
	uint32_t i;

	for (i = 0; i < WD_EVAL_BATCH + 10; i++)
		dev_mark_dirty(dev_add(0, 7, i));
	event_base_loop(wd.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, WD_EVAL_BATCH);	/* then yields */
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, WD_EVAL_BATCH + 10);
}

static void
test_pause_resume(void **unused)
{
	struct wdev *a = dev_add(0, 3, 0), *b = dev_add(0, 3, 1);

	wd.xs = NULL;			/* connection lost */
	dev_mark_dirty(a);
	dev_mark_dirty(b);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 0);
	assert_int_equal(wd.ndirty, 2);
	wd.xs = (struct xs_handle *)1;	/* reconnected: the scan re-marks */
	dev_mark_dirty(a);
	dev_mark_dirty(dev_add(0, 3, 2));
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 3);
}

static void
run_until(size_t n, int ms)
{
	int i;

	for (i = 0; i < ms && nevaluated < n; i++) {
		event_base_loop(wd.base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

static void
test_timers(void **unused)
{
	struct wdev *a = dev_add(0, 1, 1), *b = dev_add(0, 1, 2),
	    *c = dev_add(0, 1, 3), *d = dev_add(0, 1, 4), *e = dev_add(0, 1, 5);

	dev_timer_arm(a, T_INIT, 60);
	dev_timer_arm(b, T_DESTROY, 20);
	dev_timer_arm(c, T_BODGE, 40);
	dev_timer_arm(d, T_DRAIN, 10);
	dev_timer_arm(e, T_BUSY, 15);
	dev_timer_cancel(d);		/* never fires */
	dev_timer_arm(c, T_BODGE, 5);	/* re-armed: fires once, first */
	dev_free(e);			/* freed: its entry is ignored */
	run_until(3, 2000);
	usleep(80 * 1000);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	event_base_loop(wd.base, EVLOOP_NONBLOCK);
	assert_int_equal(nevaluated, 3);
	assert_ptr_equal(evaluated[0], c);
	assert_ptr_equal(evaluated[1], b);
	assert_ptr_equal(evaluated[2], a);
	assert_true(a->timer_fired && b->timer_fired && c->timer_fired);
	assert_false(d->timer_fired);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_want, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pause_resume, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
