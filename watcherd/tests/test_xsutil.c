/*
 * test_xsutil: proves common/xsutil's xsu_transact, the retry loop that
 * watcherd's CD-ROM update, removal clean-up and scoped proxy share with
 * the test-world programs, at the libxenstore boundary (-Wl,--wrap of
 * xs_transaction_start/end):
 *   - a commit that succeeds first time runs fn once;
 *   - a commit conflicting (EAGAIN) is retried with a new transaction until
 *     it succeeds, and at most `tries` times (then -1, errno EAGAIN);
 *   - a failing fn aborts that transaction (end with abort=true), is not
 *     retried and its errno reaches the caller;
 *   - a start or commit failing with another errno is not retried.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/xsutil.h"

static int starts, fn_calls, aborts, commits;
static int start_fails;		/* 1: xs_transaction_start fails (EIO) */
static int conflicts;		/* commits that fail with EAGAIN first */
static int commit_errno;	/* after the conflicts: 0 ok, else fail */
static int fn_errno;		/* 0: fn succeeds, else fails with it */

xs_transaction_t __wrap_xs_transaction_start(struct xs_handle *);
bool __wrap_xs_transaction_end(struct xs_handle *, xs_transaction_t, bool);

xs_transaction_t
__wrap_xs_transaction_start(struct xs_handle *xs)
{
	if (start_fails) {
		errno = EIO;
		return XBT_NULL;
	}
	return (xs_transaction_t)++starts;
}

bool
__wrap_xs_transaction_end(struct xs_handle *xs, xs_transaction_t t,
    bool abort)
{
	assert_int_equal(t, starts);	/* always the current transaction */
	if (abort) {
		aborts++;
		errno = 0;		/* the abort must not clobber fn's */
		return true;
	}
	commits++;
	if (conflicts > 0) {
		conflicts--;
		errno = EAGAIN;
		return false;
	}
	if (commit_errno) {
		errno = commit_errno;
		return false;
	}
	return true;
}

static int
fn(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	fn_calls++;
	assert_ptr_equal(arg, &fn_calls);
	if (fn_errno) {
		errno = fn_errno;
		return -1;
	}
	return 0;
}

static int
setup(void **unused)
{
	starts = fn_calls = aborts = commits = 0;
	start_fails = conflicts = commit_errno = fn_errno = 0;
	return 0;
}

static void
test_first_try(void **unused)
{
	assert_int_equal(xsu_transact(NULL, 5, fn, &fn_calls), 0);
	assert_int_equal(starts, 1);
	assert_int_equal(fn_calls, 1);
	assert_int_equal(commits, 1);
	assert_int_equal(aborts, 0);
}

static void
test_conflicts_retried(void **unused)
{
	conflicts = 4;
	assert_int_equal(xsu_transact(NULL, 5, fn, &fn_calls), 0);
	assert_int_equal(starts, 5);
	assert_int_equal(fn_calls, 5);
	assert_int_equal(commits, 5);
}

static void
test_tries_bounded(void **unused)
{
	conflicts = 100;
	errno = 0;
	assert_int_equal(xsu_transact(NULL, 5, fn, &fn_calls), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(starts, 5);
	assert_int_equal(commits, 5);
}

static void
test_fn_fails(void **unused)
{
	fn_errno = ENOSPC;
	assert_int_equal(xsu_transact(NULL, 5, fn, &fn_calls), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(aborts, 1);
	assert_int_equal(commits, 0);
	assert_int_equal(starts, 1);
}

static void
test_other_errors_not_retried(void **unused)
{
	commit_errno = EACCES;
	assert_int_equal(xsu_transact(NULL, 5, fn, &fn_calls), -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(starts, 1);
	setup(NULL);
	start_fails = 1;
	assert_int_equal(xsu_transact(NULL, 5, fn, &fn_calls), -1);
	assert_int_equal(errno, EIO);
	assert_int_equal(fn_calls, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_first_try, setup),
		cmocka_unit_test_setup(test_conflicts_retried, setup),
		cmocka_unit_test_setup(test_tries_bounded, setup),
		cmocka_unit_test_setup(test_fn_fails, setup),
		cmocka_unit_test_setup(test_other_errors_not_retried, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
