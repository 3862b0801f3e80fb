/*
 * Unit tests of lockd/locktable.c (pure module, fake clock).
 * Proves, one test per row of the state table in locktable.h plus the
 * order rules of proto_lock.h:
 *  - a free lock is granted at once; a held one queues a blocking request
 *    and refuses a try-lock (EAGAIN); re-acquiring a held lock is EDEADLK;
 *  - order: slow before fast, ascending domid; violations are refused at
 *    once with EDEADLK and the message names the held lock; try-locks are
 *    exempt (they never wait);
 *  - FIFO hand-off on release; a connection's death releases all its
 *    locks and serves the next waiter at once; its own waits vanish;
 *  - timeouts fire exactly at the deadline (ETIMEDOUT) and not before;
 *  - absent/dying/broken domains refuse (ESRCH/EIO) and a domain that
 *    starts dying fails its waiters with ESRCH;
 *  - destroy drain completes only when the fast lock is free;
 *  - a slow lock from a destroyed incarnation cannot take the new fast lock;
 *  - release of a pending request cancels it (ECANCELED).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "locktable.h"
#include "proto_lock.h"

#define MAXEV 128
struct ev {
	void		*conn;
	uint32_t	 reqid;
	int		 rc;
	uint32_t	 domid;
	uint32_t	 which;
	uint64_t	 waited;
};
static struct ev evs[MAXEV];
static size_t nev;

static void
done(void *arg, void *conn, uint32_t reqid, int rc, uint32_t domid,
    uint32_t which, uint64_t waited)
{
	assert_true(nev < MAXEV);
	evs[nev++] = (struct ev){ conn, reqid, rc, domid, which, waited };
}

static char why[256];
static int C1, C2, C3;	/* addresses are the connection cookies */
#define A (&C1)
#define B (&C2)
#define C (&C3)

static struct locktable *
mk(void)
{
	struct locktable *lt = lt_new(done, NULL);

	nev = 0;
	lt_domain_set(lt, 1, LT_ACTIVE, 0);
	lt_domain_set(lt, 2, LT_ACTIVE, 0);
	lt_domain_set(lt, 3, LT_ACTIVE, 0);
	return lt;
}

static int
acq(struct locktable *lt, void *conn, uint32_t dom, uint32_t which,
    uint32_t reqid, uint64_t now, uint64_t deadline)
{
	return lt_acquire(lt, conn, 0, NULL, dom, which, 0, reqid, now,
	    deadline, why, sizeof(why));
}

static int
try(struct locktable *lt, void *conn, uint32_t dom, uint32_t which)
{
	return lt_acquire(lt, conn, 0, NULL, dom, which, 1, 0, 0,
	    LT_NO_DEADLINE, why, sizeof(why));
}

static void
test_free_grant_held_queue(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, 100), 0);
	assert_true(lt_holds(lt, A, 0, 1, LOCK_FAST));
	assert_int_equal(try(lt, B, 1, LOCK_FAST), -EAGAIN);
	assert_int_equal(acq(lt, B, 1, LOCK_FAST, 7, 5, 100), 1);
	assert_int_equal(nev, 0);
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 2, 0, 100), -EDEADLK);
	assert_non_null(strstr(why, "already holds"));
	/* why is a valid string on every return: "" when not an error */
	assert_int_equal(acq(lt, C, 2, LOCK_FAST, 3, 0, 100), 0);
	assert_string_equal(why, "");
	assert_int_equal(lt_release(lt, C, 0, 2, LOCK_FAST, 0), 0);
	assert_int_equal(lt_release(lt, A, 0, 1, LOCK_FAST, 9), 0);
	assert_int_equal(nev, 1);
	assert_ptr_equal(evs[0].conn, B);
	assert_int_equal(evs[0].reqid, 7);
	assert_int_equal(evs[0].rc, 0);
	assert_int_equal(evs[0].waited, 4);
	assert_true(lt_holds(lt, B, 0, 1, LOCK_FAST));
	assert_false(lt_holds(lt, A, 0, 1, LOCK_FAST));
	lt_free(lt);
}

static void
test_order(void **state)
{
	struct locktable *lt = mk();

	/* slow 1 -> slow 2 -> fast 1 -> fast 3: allowed */
	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 1, 0, 9), 0);
	assert_int_equal(acq(lt, A, 2, LOCK_SLOW, 1, 0, 9), 0);
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, 9), 0);
	assert_int_equal(acq(lt, A, 3, LOCK_FAST, 1, 0, 9), 0);
	/* fast 2 below fast 3; slow 3 below any fast */
	assert_int_equal(acq(lt, A, 2, LOCK_FAST, 1, 0, 9), -EDEADLK);
	assert_non_null(strstr(why, "holds the fast lock of domid 3"));
	assert_int_equal(acq(lt, A, 3, LOCK_SLOW, 1, 0, 9), -EDEADLK);
	assert_non_null(strstr(why, "slow lock of domid 3 must be taken"));
	/* a try-lock may go out of order (it never waits) */
	assert_int_equal(try(lt, A, 2, LOCK_FAST), 0);
	/* the refusal happens even when the lock is free: never queued */
	assert_int_equal(nev, 0);
	lt_free(lt);
}

static void
test_order_other_owner_independent(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 2, LOCK_FAST, 1, 0, 9), 0);
	/* owner 1 on the same connection has its own order */
	assert_int_equal(lt_acquire(lt, A, 1, NULL, 1, LOCK_SLOW, 0, 1, 0, 9,
	    why, sizeof(why)), 0);
	lt_free(lt);
}

static void
test_fifo(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 1, 0, 100), 0);
	assert_int_equal(acq(lt, B, 1, LOCK_SLOW, 2, 1, 100), 1);
	assert_int_equal(acq(lt, C, 1, LOCK_SLOW, 3, 2, 100), 1);
	lt_release(lt, A, 0, 1, LOCK_SLOW, 10);
	assert_int_equal(nev, 1);
	assert_ptr_equal(evs[0].conn, B);
	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 4, 11, 100), 1);
	lt_release(lt, B, 0, 1, LOCK_SLOW, 12);
	assert_ptr_equal(evs[1].conn, C);
	lt_release(lt, C, 0, 1, LOCK_SLOW, 13);
	assert_ptr_equal(evs[2].conn, A);
	assert_int_equal(evs[2].reqid, 4);
	lt_free(lt);
}

static void
test_owner_death(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 1, 0, 100), 0);
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, 100), 0);
	assert_int_equal(acq(lt, B, 1, LOCK_FAST, 2, 0, 100), 1);
	assert_int_equal(acq(lt, C, 1, LOCK_SLOW, 3, 0, 100), 1);
	assert_int_equal(lt_conn_gone(lt, A, 5), 2);
	assert_int_equal(nev, 2);
	assert_true(lt_holds(lt, B, 0, 1, LOCK_FAST));
	assert_true(lt_holds(lt, C, 0, 1, LOCK_SLOW));
	/* a dead waiter vanishes silently and does not block the queue */
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 4, 6, 100), 1);
	lt_conn_gone(lt, A, 7);
	lt_release(lt, B, 0, 1, LOCK_FAST, 8);
	assert_int_equal(nev, 2);
	assert_int_equal(try(lt, C, 1, LOCK_FAST), 0);
	/* the wait count (which skips the deadline walk) is back to 0 */
	assert_int_equal(lt_next_deadline(lt), LT_NO_DEADLINE);
	lt_free(lt);
}

static void
test_timeout(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, LT_NO_DEADLINE), 0);
	assert_int_equal(acq(lt, B, 1, LOCK_FAST, 2, 10, 60), 1);
	assert_int_equal(acq(lt, C, 1, LOCK_FAST, 3, 10, 40), 1);
	assert_int_equal(lt_next_deadline(lt), 40);
	lt_expire(lt, 39);
	assert_int_equal(nev, 0);
	lt_expire(lt, 40);
	assert_int_equal(nev, 1);
	assert_ptr_equal(evs[0].conn, C);
	assert_int_equal(evs[0].rc, -ETIMEDOUT);
	assert_int_equal(evs[0].waited, 30);
	assert_int_equal(lt_next_deadline(lt), 60);
	lt_expire(lt, 100);
	assert_int_equal(evs[1].rc, -ETIMEDOUT);
	assert_int_equal(lt_next_deadline(lt), LT_NO_DEADLINE);
	/* a timed-out owner may ask again */
	assert_int_equal(acq(lt, B, 1, LOCK_FAST, 5, 100, 200), 1);
	lt_free(lt);
}

static void
test_destroyed_domain(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 9, LOCK_FAST, 1, 0, 9), -ESRCH);
	assert_non_null(strstr(why, "does not exist"));
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, 100), 0);
	assert_int_equal(acq(lt, B, 1, LOCK_FAST, 2, 0, 100), 1);
	assert_int_equal(acq(lt, C, 1, LOCK_SLOW, 3, 0, 100), 0);
	lt_domain_set(lt, 1, LT_DYING, 5);
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].rc, -ESRCH);
	assert_int_equal(try(lt, B, 1, LOCK_FAST), -ESRCH);
	assert_non_null(strstr(why, "being destroyed"));
	assert_int_equal(acq(lt, B, 1, LOCK_SLOW, 4, 0, 100), -ESRCH);
	/* the holder keeps its lock until it lets go */
	assert_true(lt_holds(lt, A, 0, 1, LOCK_FAST));
	lt_domain_set(lt, 2, LT_BROKEN, 5);
	assert_int_equal(try(lt, B, 2, LOCK_FAST), -EIO);
	lt_free(lt);
}

static void
test_drain(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(lt_drain(lt, C, 1, 1, 0, 100), 0);
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, 100), 0);
	lt_domain_set(lt, 1, LT_DYING, 1);
	assert_int_equal(lt_drain(lt, C, 2, 1, 1, 100), 1);
	assert_int_equal(lt_drain(lt, B, 3, 1, 1, 50), 1);
	lt_expire(lt, 50);
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].rc, -ETIMEDOUT);
	assert_int_equal(evs[0].which, 0);
	lt_release(lt, A, 0, 1, LOCK_FAST, 60);
	assert_int_equal(nev, 2);
	assert_ptr_equal(evs[1].conn, C);
	assert_int_equal(evs[1].rc, 0);
	assert_int_equal(lt_next_deadline(lt), LT_NO_DEADLINE);
	lt_free(lt);
}

static void
test_drain_holder_dies(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 1, 0, 100), 0);
	lt_domain_set(lt, 1, LT_DYING, 1);
	assert_int_equal(lt_drain(lt, C, 2, 1, 1, 100), 1);
	lt_conn_gone(lt, A, 3);
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].rc, 0);
	lt_free(lt);
}

static void
test_stale_incarnation(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 1, 0, 100), 0);
	lt_domain_set(lt, 1, LT_DYING, 1);
	lt_domain_set(lt, 1, LT_ABSENT, 2);
	/* lockd refuses CREATE while this is true (seed 002, the model) */
	assert_true(lt_is_held(lt, 1, LOCK_SLOW));
	assert_false(lt_is_held(lt, 1, LOCK_FAST));
	lt_domain_set(lt, 1, LT_ACTIVE, 3);
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 2, 4, 100), -ESRCH);
	assert_non_null(strstr(why, "destroyed incarnation"));
	/* a fresh slow lock of the new incarnation works */
	lt_release(lt, A, 0, 1, LOCK_SLOW, 5);
	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 3, 5, 100), 0);
	assert_int_equal(acq(lt, A, 1, LOCK_FAST, 4, 5, 100), 0);
	lt_free(lt);
}

static void
test_cancel_and_inprogress(void **state)
{
	struct locktable *lt = mk();

	assert_int_equal(acq(lt, A, 1, LOCK_SLOW, 1, 0, 100), 0);
	assert_int_equal(acq(lt, B, 1, LOCK_SLOW, 2, 0, 100), 1);
	assert_int_equal(acq(lt, B, 2, LOCK_SLOW, 3, 0, 100), -EINPROGRESS);
	assert_int_equal(lt_release(lt, B, 0, 1, LOCK_SLOW, 1), 1);
	assert_int_equal(nev, 1);
	assert_int_equal(evs[0].rc, -ECANCELED);
	assert_int_equal(lt_release(lt, B, 0, 1, LOCK_SLOW, 1), -ENOENT);
	lt_release(lt, A, 0, 1, LOCK_SLOW, 2);
	assert_int_equal(nev, 1);
	assert_int_equal(acq(lt, B, 1, LOCK_SLOW, 1, 0, 100), 0);
	lt_free(lt);
}

static void
test_owner_limit(void **state)
{
	struct locktable *lt = mk();
	uint32_t i;

	/* idle owners are forgotten: any number of numbers over time */
	for (i = 0; i < 1000; i++)
		assert_int_equal(lt_acquire(lt, A, i, NULL, 1, LOCK_SLOW, 1,
		    0, 0, 9, why, sizeof(why)), i == 0 ? 0 : -EAGAIN);
	/* owners in use (holding or waiting) are bounded per connection */
	for (i = 1; i < LT_MAX_OWNERS_PER_CONN; i++)
		assert_int_equal(lt_acquire(lt, A, i, NULL, 1, LOCK_SLOW, 0,
		    i, 0, 9, why, sizeof(why)), 1);
	assert_int_equal(lt_acquire(lt, A, i, NULL, 1, LOCK_SLOW, 0, i, 0, 9,
	    why, sizeof(why)), -ENOSPC);
	/* FIFO through the owners of one connection, each then idle */
	for (i = 0; i < LT_MAX_OWNERS_PER_CONN; i++)
		assert_int_equal(lt_release(lt, A, i, 1, LOCK_SLOW, 2), 0);
	assert_int_equal(nev, LT_MAX_OWNERS_PER_CONN - 1);
	assert_int_equal(evs[nev - 1].reqid, LT_MAX_OWNERS_PER_CONN - 1);
	assert_int_equal(lt_acquire(lt, A, 5000, NULL, 1, LOCK_SLOW, 0, 0, 0,
	    9, why, sizeof(why)), 0);
	lt_conn_gone(lt, A, 3);
	assert_int_equal(try(lt, B, 1, LOCK_SLOW), 0);
	lt_free(lt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_grant_held_queue),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_order_other_owner_independent),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_owner_death),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_destroyed_domain),
		cmocka_unit_test(test_drain),
		cmocka_unit_test(test_drain_holder_dies),
		cmocka_unit_test(test_stale_incarnation),
		cmocka_unit_test(test_cancel_and_inprogress),
		cmocka_unit_test(test_owner_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
