/*
 * test_liveness: proves the guest-death rule of watcherd/liveness.c (and
 * docs/WATCHERD.md "Guest death") cell by cell: every (state, evidence)
 * pair against the table written out here again.  Then its properties:
 *   - a guest never seen alive dies only on GONE (positive evidence of
 *     absence): "not introduced" / EACCES (NONE) alone never kills it;
 *   - UNKNOWN evidence (an error) never changes anything;
 *   - only LIFE leaves DEAD (a new domain under the domid);
 *   - out-of-range states and evidence are returned unchanged.
 * And the table of guests: a guest is forgotten (UNKNOWN) when its last
 * device is freed, not before; guests_forget() forgets every guest;
 * domids above DOMID_MAX are never stored and read UNKNOWN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "parse.h"
#include "watcherd/liveness.h"

static const struct {
	int	state, evidence, next;
} cells[] = {
	{ G_UNKNOWN, E_LIFE, G_ALIVE },
	{ G_UNKNOWN, E_NONE, G_PENDING },
	{ G_UNKNOWN, E_GONE, G_DEAD },
	{ G_UNKNOWN, E_UNKNOWN, G_UNKNOWN },
	{ G_PENDING, E_LIFE, G_ALIVE },
	{ G_PENDING, E_NONE, G_PENDING },
	{ G_PENDING, E_GONE, G_DEAD },
	{ G_PENDING, E_UNKNOWN, G_PENDING },
	{ G_ALIVE, E_LIFE, G_ALIVE },
	{ G_ALIVE, E_NONE, G_DEAD },
	{ G_ALIVE, E_GONE, G_DEAD },
	{ G_ALIVE, E_UNKNOWN, G_ALIVE },
	{ G_DEAD, E_LIFE, G_ALIVE },
	{ G_DEAD, E_NONE, G_DEAD },
	{ G_DEAD, E_GONE, G_DEAD },
	{ G_DEAD, E_UNKNOWN, G_DEAD },
};
#define NCELLS	(sizeof(cells) / sizeof(cells[0]))

static void
test_table(void **state)
{
	size_t i;
	int got;

	assert_int_equal(NCELLS, G__COUNT * E__COUNT);
	for (i = 0; i < NCELLS; i++) {
		got = guest_next(cells[i].state, cells[i].evidence);
		if (got != cells[i].next)
			fail_msg("%s + %s -> %s, want %s",
			    guest_state_name(cells[i].state),
			    guest_evidence_name(cells[i].evidence),
			    guest_state_name(got),
			    guest_state_name(cells[i].next));
	}
}

static void
test_properties(void **state)
{
	int s, e, n;

	for (s = 0; s < G__COUNT; s++)
		for (e = 0; e < E__COUNT; e++) {
			n = guest_next(s, e);
			if (s != G_ALIVE && s != G_DEAD && n == G_DEAD)
				assert_int_equal(e, E_GONE);
			if (e == E_UNKNOWN)
				assert_int_equal(n, s);
			if (s == G_DEAD && n != G_DEAD)
				assert_int_equal(e, E_LIFE);
		}
	/* a guest never seen alive survives any number of NONE checks */
	for (s = G_UNKNOWN, n = 0; n < 100; n++)
		s = guest_next(s, E_NONE);
	assert_int_equal(s, G_PENDING);
	assert_int_equal(guest_next(-1, E_GONE), -1);
	assert_int_equal(guest_next(G__COUNT, E_GONE), G__COUNT);
	assert_int_equal(guest_next(G_ALIVE, -1), G_ALIVE);
	assert_int_equal(guest_next(G_ALIVE, E__COUNT), G_ALIVE);
}

static void
test_table_of_guests(void **state)
{
	guests_forget();
	assert_int_equal(guest_state(7), G_UNKNOWN);
	guest_dev_added(7);
	guest_dev_added(7);
	guest_set(7, G_DEAD);
	guest_dev_freed(7);
	assert_int_equal(guest_state(7), G_DEAD);	/* one device left */
	guest_dev_freed(7);
	assert_int_equal(guest_state(7), G_UNKNOWN);	/* forgotten */
	guest_dev_freed(7);				/* no underflow */
	guest_dev_added(7);
	assert_int_equal(guest_state(7), G_UNKNOWN);
	guest_set(7, G_ALIVE);
	guest_set(8, G_PENDING);
	guests_forget();
	assert_int_equal(guest_state(7), G_UNKNOWN);
	assert_int_equal(guest_state(8), G_UNKNOWN);
	guest_set(7, G__COUNT);				/* refused */
	assert_int_equal(guest_state(7), G_UNKNOWN);
	guest_set(DOMID_MAX, G_DEAD);
	assert_int_equal(guest_state(DOMID_MAX), G_DEAD);
	guest_set(DOMID_MAX + 1, G_DEAD);
	assert_int_equal(guest_state(DOMID_MAX + 1), G_UNKNOWN);
	guest_dev_added(DOMID_MAX + 1);
	guest_dev_freed(DOMID_MAX + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_table_of_guests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
