/*
 * test_fsm: proves that fsm_next() implements the table in watcherd/fsm.c
 * (and docs/WATCHERD.md) row by row: for each row one case whose inputs
 * reach exactly that row, checking the row number, the action, the next
 * phase, the timer and the flags.  Then properties over the whole input
 * space (every phase x every combination of inputs):
 *   - no teardown phase ever leads to RUN_ADD or back to an add phase
 *     (XSA-350: state flips cannot restart the add once removal started);
 *   - a job phase with no result never starts another job;
 *   - a kexec hand-over never runs a script;
 *   - invalid values (XS_INVALID) never start an add or a removal;
 *   - a busy device is retried exactly busy_max times (the configured
 *     busy_tries, passed in the input: 0, 1, the default 5, 100) and then
 *     marked in error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "watcherd/fsm.h"

struct tcase {
	int		 row;
	uint8_t		 phase, flags, tries;
	struct fsm_in	 in;
	uint8_t		 action, next, timer;
	uint8_t		 flags_after;	/* 0xff: do not check */
};

#define BUSY_DEFAULT	5	/* devsep.conf busy_tries default */

/* be_state, online, hs, io_done, guest_dead, timer, job (, busy_max) */
#define IN_B(bs, on, hs, io, dead, tm, job, bmax) \
	{ bs, on, hs, io, dead, tm, job, bmax }
#define IN(bs, on, hs, io, dead, tm, job) \
	IN_B(bs, on, hs, io, dead, tm, job, BUSY_DEFAULT)
#define LIVE(bs, hs)	IN(bs, 1, hs, 0, 0, 0, JOB_NONE)
#define ANY 0xff

static const struct tcase cases[] = {
 { 1, P_DONE, 0, 0, LIVE(4, HS_CONNECTED), A_NONE, P_DONE, T_NONE, ANY },
 { 2, P_ADD_JOB, 0, 0, IN(2, 0, HS_NONE, 0, 1, 1, JOB_NONE),
   A_NONE, P_ADD_JOB, T_NONE, ANY },
 { 2, P_REMOVE_JOB, 0, 0, IN(XS_ABSENT, 0, HS_NONE, 0, 0, 0, JOB_NONE),
   A_NONE, P_REMOVE_JOB, T_NONE, ANY },
 { 3, P_REMOVE_JOB, 0, 0, IN(6, 0, HS_CONNECTED, 1, 0, 0, JOB_FAIL),
   A_NUKE, P_DONE, T_NONE, ANY },
 { 3, P_REMOVE_JOB, 0, 0, IN(6, 0, HS_CONNECTED, 1, 0, 0, JOB_NOSCRIPT),
   A_NUKE, P_DONE, T_NONE, ANY },
 { 4, P_CONNECTED, 0, 0, LIVE(XS_ABSENT, HS_NONE),
   A_CLEAN_FRONTEND, P_DONE, T_NONE, ANY },
 { 4, P_WAIT_CLOSED, 0, 0, IN(XS_ABSENT, 0, HS_NONE, 0, 0, 0, 0),
   A_CLEAN_FRONTEND, P_DONE, T_NONE, ANY },
 { 5, P_QDISK, F_QEMU, 0, IN(4, 1, HS_NONE, 0, 1, 0, 0),
   A_WAIT_TIMER, P_BODGE, T_BODGE, ANY },
 { 6, P_CONNECTED, 0, 0, IN(6, 0, HS_CONNECTED, 0, 0, 0, 0),
   A_NONE, P_IO_DRAIN, T_NONE, ANY },
 { 7, P_CONNECTED, 0, 0, IN(4, 0, HS_CONNECTED, 0, 0, 0, 0),
   A_WRITE_CLOSING, P_WAIT_CLOSED, T_DESTROY, ANY },
 { 7, P_ERROR, 0, 0, IN(4, 1, HS_ERROR, 0, 1, 0, 0),
   A_WRITE_CLOSING, P_WAIT_CLOSED, T_DESTROY, ANY },
 { 7, P_QDISK, F_QEMU, 0, IN(4, 0, HS_NONE, 0, 0, 0, 0),
   A_WRITE_CLOSING, P_WAIT_CLOSED, T_DESTROY, ANY },
 { 8, P_WAIT_CLOSED, 0, 0, IN(6, 0, HS_CONNECTED, 0, 0, 0, 0),
   A_NONE, P_IO_DRAIN, T_NONE, 0 },
 { 9, P_WAIT_CLOSED, 0, 0, IN(5, 0, HS_CONNECTED, 0, 0, 1, 0),
   A_NONE, P_IO_DRAIN, T_NONE, F_FORCE },
 {10, P_WAIT_CLOSED, 0, 0, IN(4, 1, HS_CONNECTED, 0, 0, 0, 0),
   A_WAIT_TIMER, P_WAIT_CLOSED, T_DESTROY, ANY },
 {11, P_BODGE, F_QEMU, 0, IN(6, 0, HS_NONE, 0, 1, 0, 0),
   A_NONE, P_IO_DRAIN, T_NONE, ANY },
 {12, P_BODGE, F_QEMU, 0, IN(4, 0, HS_NONE, 0, 1, 1, 0),
   A_WRITE_CLOSED, P_IO_DRAIN, T_NONE, ANY },
 {13, P_BODGE, F_QEMU, 0, IN(4, 0, HS_NONE, 0, 1, 0, 0),
   A_WAIT_TIMER, P_BODGE, T_BODGE, ANY },
 {14, P_IO_DRAIN, F_QEMU, 0, IN(6, 0, HS_NONE, 0, 1, 0, 0),
   A_NUKE, P_DONE, T_NONE, ANY },
 {15, P_IO_DRAIN, 0, 0, IN(6, 0, HS_CONNECTED, 1, 0, 0, 0),
   A_RUN_REMOVE, P_REMOVE_JOB, T_NONE, ANY },
 {15, P_IO_DRAIN, F_FORCE, 0, IN(5, 0, HS_CONNECTED, 0, 0, 0, 0),
   A_RUN_REMOVE, P_REMOVE_JOB, T_NONE, ANY },
 {16, P_IO_DRAIN, 0, 0, IN(6, 0, HS_CONNECTED, 0, 0, 1, 0),
   A_RUN_REMOVE, P_REMOVE_JOB, T_NONE, ANY },
 {17, P_IO_DRAIN, 0, 0, IN(6, 0, HS_CONNECTED, 0, 0, 0, 0),
   A_WAIT_TIMER, P_IO_DRAIN, T_DRAIN, ANY },
 {18, P_NEW, F_QEMU | F_BROKER_UP, 0, LIVE(1, HS_NONE),
   A_BROKER_ATTACH, P_QDISK, T_NONE, ANY },
 {19, P_NEW, F_QEMU, 0, LIVE(1, HS_NONE),
   A_UNSUPPORTED, P_UNSUPPORTED, T_NONE, ANY },
 {20, P_NEW, 0, 0, LIVE(4, HS_CONNECTED), A_ADOPT, P_CONNECTED, T_NONE,
   ANY },
 {20, P_NEW, 0, 0, LIVE(2, HS_CONNECTED), A_ADOPT, P_CONNECTED, T_NONE,
   ANY },
 {21, P_NEW, 0, 0, LIVE(2, HS_ERROR), A_NONE, P_ERROR, T_NONE, ANY },
 {22, P_NEW, 0, 0, LIVE(2, HS_NONE), A_RUN_ADD, P_ADD_JOB, T_NONE, ANY },
 {22, P_WAIT_INITWAIT, 0, 0, LIVE(2, HS_OTHER), A_RUN_ADD, P_ADD_JOB,
   T_NONE, ANY },
 {23, P_WAIT_INITWAIT, 0, 0, IN(1, 1, HS_NONE, 0, 0, 1, 0),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {24, P_NEW, 0, 0, LIVE(1, HS_NONE), A_WAIT_TIMER, P_WAIT_INITWAIT, T_INIT,
   ANY },
 {24, P_NEW, 0, 0, LIVE(XS_INVALID, HS_NONE), A_WAIT_TIMER,
   P_WAIT_INITWAIT, T_INIT, ANY },
 {24, P_WAIT_INITWAIT, 0, 0, LIVE(6, HS_NONE), A_WAIT_TIMER,
   P_WAIT_INITWAIT, T_INIT, ANY },
 {25, P_ADD_JOB, 0, 0, IN(2, 1, HS_BUSY, 0, 0, 0, JOB_FAIL),
   A_WAIT_TIMER, P_BUSY_WAIT, T_BUSY, ANY },
 {25, P_ADD_JOB, 0, 1, IN_B(2, 1, HS_BUSY, 0, 0, 0, JOB_FAIL, 2),
   A_WAIT_TIMER, P_BUSY_WAIT, T_BUSY, ANY },
 {26, P_ADD_JOB, 0, BUSY_DEFAULT, IN(2, 1, HS_BUSY, 0, 0, 0, JOB_FAIL),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {26, P_ADD_JOB, 0, 2, IN_B(2, 1, HS_BUSY, 0, 0, 0, JOB_FAIL, 2),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {26, P_ADD_JOB, 0, 0, IN_B(2, 1, HS_BUSY, 0, 0, 0, JOB_FAIL, 0),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {27, P_ADD_JOB, 0, 0, IN(2, 1, HS_NONE, 0, 0, 0, JOB_TIMEOUT),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {28, P_ADD_JOB, 0, 0, IN(2, 1, HS_ERROR, 0, 0, 0, JOB_FAIL),
   A_SCRIPT_ERROR, P_ERROR, T_NONE, ANY },
 {29, P_ADD_JOB, 0, 0, IN(2, 1, HS_NONE, 0, 0, 0, JOB_FAIL),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {30, P_ADD_JOB, 0, 0, IN(2, 1, HS_CONNECTED, 0, 0, 0, JOB_OK),
   A_ATTACHED, P_CONNECTED, T_NONE, ANY },
 /* no script: attached whatever hs was read before watcherd wrote it */
 {30, P_ADD_JOB, 0, 0, IN(2, 1, HS_NONE, 0, 0, 0, JOB_NOSCRIPT),
   A_ATTACHED, P_CONNECTED, T_NONE, ANY },
 {30, P_ADD_JOB, 0, 1, IN(2, 1, HS_BUSY, 0, 0, 0, JOB_NOSCRIPT),
   A_ATTACHED, P_CONNECTED, T_NONE, ANY },
 {30, P_ADD_JOB, 0, 0, IN(2, 1, HS_ERROR, 0, 0, 0, JOB_NOSCRIPT),
   A_ATTACHED, P_CONNECTED, T_NONE, ANY },
 {31, P_ADD_JOB, 0, 0, IN(2, 1, HS_NONE, 0, 0, 0, JOB_OK),
   A_MARK_ERROR, P_ERROR, T_NONE, ANY },
 {32, P_BUSY_WAIT, 0, 1, IN(2, 1, HS_BUSY, 0, 0, 1, 0),
   A_RUN_ADD, P_ADD_JOB, T_NONE, ANY },
 {33, P_BUSY_WAIT, 0, 1, LIVE(2, HS_BUSY), A_WAIT_TIMER, P_BUSY_WAIT,
   T_BUSY, ANY },
 {34, P_CONNECTED, 0, 0, LIVE(4, HS_CONNECTED), A_NONE, P_CONNECTED,
   T_NONE, F_BE_CONNECTED },
 {35, P_CONNECTED, F_BE_CONNECTED, 0, LIVE(2, HS_NONE), A_NONE, P_NEW,
   T_NONE, 0 },
 {36, P_CONNECTED, F_BE_CONNECTED, 0, LIVE(2, HS_CONNECTED), A_HANDOVER,
   P_CONNECTED, T_NONE, 0 },
 {37, P_CONNECTED, 0, 0, LIVE(2, HS_CONNECTED), A_NONE, P_CONNECTED,
   T_NONE, ANY },
 {37, P_CONNECTED, F_BE_CONNECTED, 0, LIVE(5, HS_CONNECTED), A_NONE,
   P_CONNECTED, T_NONE, F_BE_CONNECTED },
 {37, P_ERROR, 0, 0, LIVE(4, HS_ERROR), A_NONE, P_ERROR, T_NONE, ANY },
 {37, P_QDISK, F_QEMU, 0, LIVE(4, HS_NONE), A_NONE, P_QDISK, T_NONE, ANY },
 {37, P_UNSUPPORTED, F_QEMU, 0, LIVE(4, HS_ERROR), A_NONE, P_UNSUPPORTED,
   T_NONE, ANY },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void
test_rows(void **unused)
{
	struct fsm_state st;
	struct fsm_out o;
	size_t i;

	for (i = 0; i < NCASES; i++) {
		const struct tcase *c = &cases[i];

		st.phase = c->phase;
		st.flags = c->flags;
		st.busy_tries = c->tries;
		fsm_next(&c->in, &st, &o);
		print_message("row %2d case %2zu: %s/%s -> %s (row %d)\n",
		    c->row, i, fsm_phase_name(c->phase),
		    fsm_action_name(o.action), fsm_phase_name(o.st.phase),
		    o.row);
		assert_int_equal(o.row, c->row);
		assert_int_equal(o.action, c->action);
		assert_int_equal(o.st.phase, c->next);
		assert_int_equal(o.timer, c->timer);
		if (c->flags_after != ANY)
			assert_int_equal(o.st.flags & ~F_QEMU & ~F_BROKER_UP,
			    c->flags_after);
	}
}

/* Every row of the table is reached by at least one case. */
static void
test_every_row_covered(void **unused)
{
	int seen[FSM_NROWS + 1] = { 0 }, r;
	size_t i;

	for (i = 0; i < NCASES; i++)
		seen[cases[i].row] = 1;
	for (r = 1; r <= FSM_NROWS; r++) {
		if (!seen[r])
			print_error("row %d has no case\n", r);
		assert_true(seen[r]);
	}
}

/* A device busy on every run: busy_max retries, then error. */
static void
busy_counts(int busy_max)
{
	struct fsm_in in = IN_B(2, 1, HS_BUSY, 0, 0, 0, JOB_FAIL, busy_max);
	struct fsm_state st = { P_ADD_JOB, 0, 0 };
	struct fsm_out o;
	int n;

	for (n = 0; n < busy_max; n++) {
		fsm_next(&in, &st, &o);
		assert_int_equal(o.row, 25);
		assert_int_equal(o.st.busy_tries, n + 1);
		st = o.st;
		st.phase = P_ADD_JOB;	/* the retry ran and was busy again */
	}
	fsm_next(&in, &st, &o);
	assert_int_equal(o.row, 26);
	assert_int_equal(o.action, A_MARK_ERROR);
	assert_int_equal(o.st.busy_tries, 0);
}

static void
test_busy_counts(void **unused)
{
	static const int limits[] = { 0, 1, BUSY_DEFAULT, 100 };
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		busy_counts(limits[i]);
}

/* Enumerates every phase x flags x input combination. */
static void
for_all(void (*fn)(const struct fsm_in *, const struct fsm_state *,
    const struct fsm_out *))
{
	static const int bss[] = { XS_ABSENT, XS_INVALID, 0, 1, 2, 3, 4, 5, 6,
	    7, 8 };
	static const int ons[] = { XS_ABSENT, XS_INVALID, 0, 1 };
	struct fsm_in in;
	struct fsm_state st;
	struct fsm_out o;
	size_t a, b;
	int ph, fl, hs, io, dead, tm, job;

	for (ph = 0; ph < P__COUNT; ph++)
	for (fl = 0; fl < 16; fl++)
	for (a = 0; a < sizeof(bss) / sizeof(bss[0]); a++)
	for (b = 0; b < sizeof(ons) / sizeof(ons[0]); b++)
	for (hs = 0; hs <= HS_OTHER; hs++)
	for (io = 0; io < 2; io++)
	for (dead = 0; dead < 2; dead++)
	for (tm = 0; tm < 2; tm++)
	for (job = 0; job <= JOB_NOSCRIPT; job++) {
		in = (struct fsm_in){ bss[a], ons[b], hs, io, dead, tm, job,
		    BUSY_DEFAULT };
		st = (struct fsm_state){ (uint8_t)ph, (uint8_t)fl, 0 };
		fsm_next(&in, &st, &o);
		fn(&in, &st, &o);
	}
}

static void
no_add_after_teardown(const struct fsm_in *in, const struct fsm_state *st,
    const struct fsm_out *o)
{
	if (!fsm_tearing_down(st->phase))
		return;
	assert_int_not_equal(o->action, A_RUN_ADD);
	assert_true(fsm_tearing_down(o->st.phase));
}

static void
test_xsa350_no_add_after_teardown(void **unused)
{
	for_all(no_add_after_teardown);
}

static void
one_job(const struct fsm_in *in, const struct fsm_state *st,
    const struct fsm_out *o)
{
	if (fsm_job_phase(st->phase) && in->job == JOB_NONE) {
		assert_int_equal(o->action, A_NONE);
		assert_int_equal(o->st.phase, st->phase);
	}
}

static void
test_never_two_jobs(void **unused)
{
	for_all(one_job);
}

static void
no_script_on_handover(const struct fsm_in *in, const struct fsm_state *st,
    const struct fsm_out *o)
{
	if (st->phase == P_CONNECTED && in->hs == HS_CONNECTED &&
	    in->online == 1 && !in->guest_dead && in->be_state >= 0) {
		assert_int_not_equal(o->action, A_RUN_ADD);
		assert_int_not_equal(o->action, A_RUN_REMOVE);
		assert_int_equal(o->st.phase, P_CONNECTED);
	}
}

static void
test_handover_runs_no_script(void **unused)
{
	for_all(no_script_on_handover);
}

static void
invalid_is_inert(const struct fsm_in *in, const struct fsm_state *st,
    const struct fsm_out *o)
{
	if (in->be_state != XS_INVALID || in->online != XS_INVALID ||
	    in->guest_dead || in->job != JOB_NONE || in->timer ||
	    fsm_tearing_down(st->phase))
		return;
	assert_int_not_equal(o->action, A_RUN_ADD);
	assert_int_not_equal(o->action, A_RUN_REMOVE);
	assert_int_not_equal(o->action, A_NUKE);
	assert_int_not_equal(o->action, A_WRITE_CLOSING);
}

static void
test_invalid_values_inert(void **unused)
{
	for_all(invalid_is_inert);
}

static void
test_names(void **unused)
{
	int i;

	for (i = 0; i < P__COUNT; i++)
		assert_string_not_equal(fsm_phase_name(i), "?");
	for (i = 0; i < A__COUNT; i++)
		assert_string_not_equal(fsm_action_name(i), "?");
	assert_string_equal(fsm_phase_name(P__COUNT), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_every_row_covered),
		cmocka_unit_test(test_busy_counts),
		cmocka_unit_test(test_xsa350_no_add_after_teardown),
		cmocka_unit_test(test_never_two_jobs),
		cmocka_unit_test(test_handover_runs_no_script),
		cmocka_unit_test(test_invalid_values_inert),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
