/*
 * watcherd's per-device state machine: a pure function over the table
 * below (also in docs/WATCHERD.md; tests/test_fsm.c checks every row).
 *
 * Inputs (struct fsm_in) are what xenstore says NOW (level-triggered: a
 * watch event is only a hint) plus this phase's timer/job result.  Rows are
 * tried top to bottom; the first whose phase set and condition match wins.
 * "R" = removal wanted = online==0 || guest dead.  "=" = phase unchanged.
 * "a script" = job != NOSCRIPT (the no-script result arrives in the same
 * evaluation as the add, with hs read before watcherd wrote "connected").
 *
 *  row phase(s)            condition                action          next
 *  --- ------------------- ------------------------ --------------- -------------
 *   1  DONE                -                        NONE            =
 *   2  ADD_JOB,REMOVE_JOB  job == NONE              NONE            = (one job
 *                                                                   per device)
 *   3  REMOVE_JOB          job done (any result)    NUKE            DONE
 *   4  any                 backend state absent     CLEAN_FRONTEND  DONE
 *   5  not tearing down    R, QEMU, guest dead,     WAIT_TIMER      BODGE
 *                          state != 6               (bodge)
 *   6  not tearing down    R, state == 6            NONE            IO_DRAIN
 *   7  not tearing down    R                        WRITE_CLOSING   WAIT_CLOSED
 *                                                   (destroy timer)
 *   8  WAIT_CLOSED         state == 6               NONE            IO_DRAIN
 *   9  WAIT_CLOSED         timer (destroy)          NONE, +FORCE    IO_DRAIN
 *  10  WAIT_CLOSED         - (flips ignored)        WAIT_TIMER      =
 *  11  BODGE               state == 6               NONE            IO_DRAIN
 *  12  BODGE               timer (bodge)            WRITE_CLOSED    IO_DRAIN
 *  13  BODGE               -                        WAIT_TIMER      =
 *  14  IO_DRAIN            QEMU backend             NUKE            DONE
 *  15  IO_DRAIN            io_done or FORCE         RUN_REMOVE      REMOVE_JOB
 *  16  IO_DRAIN            timer (drain)            RUN_REMOVE      REMOVE_JOB
 *  17  IO_DRAIN            -                        WAIT_TIMER      =
 *  18  NEW                 QEMU, broker up          BROKER_ATTACH   QDISK
 *  19  NEW                 QEMU                     UNSUPPORTED     UNSUPPORTED
 *  20  NEW                 hs == connected          ADOPT           CONNECTED
 *  21  NEW                 hs == error              NONE            ERROR
 *  22  NEW,WAIT_INITWAIT   state in 2..4            RUN_ADD         ADD_JOB
 *  23  WAIT_INITWAIT       timer (init)             MARK_ERROR      ERROR
 *  24  NEW,WAIT_INITWAIT   -                        WAIT_TIMER      WAIT_INITWAIT
 *  25  ADD_JOB             hs == busy, a script,    WAIT_TIMER,     BUSY_WAIT
 *                          tries < busy_max
 *                                                   tries++
 *  26  ADD_JOB             hs == busy, a script     MARK_ERROR      ERROR
 *  27  ADD_JOB             job timed out            MARK_ERROR      ERROR
 *  28  ADD_JOB             hs == error, a script    SCRIPT_ERROR    ERROR
 *  29  ADD_JOB             job failed               MARK_ERROR      ERROR
 *  30  ADD_JOB             job ok, hs == connected; ATTACHED        CONNECTED
 *                          or no script (libxl: "No hotplug script to
 *                          execute"; hs is not looked at)
 *  31  ADD_JOB             job ok                   MARK_ERROR      ERROR (exit
 *                                                   0 without hotplug-status)
 *  32  BUSY_WAIT           timer (busy)             RUN_ADD         ADD_JOB
 *  33  BUSY_WAIT           -                        WAIT_TIMER      =
 *  34  CONNECTED           state == 4               NONE, +BE_CONN  =
 *  35  CONNECTED           hs absent, state 1..2    NONE            NEW (the dir
 *                                                   was recreated: add again)
 *  36  CONNECTED           BE_CONN, state 1..2      HANDOVER,       =
 *                                                   -BE_CONN (kexec, seed 001)
 *  37  CONNECTED,ERROR,    -                        NONE            =
 *      QDISK,UNSUPPORTED
 *
 * Consequences the tests pin down: once a teardown phase is entered no row
 * leads back to an add (XSA-350: state flips cannot restart the add); a job
 * phase never starts a second job; a kexec hand-over (backend back to
 * InitWait with hotplug-status still connected) runs no script.
 */
#include <stddef.h>

#include "fsm.h"

#define PH(p)		(1u << (p))
#define PH_ALL		((1u << P__COUNT) - 1)
#define PH_TEARDOWN	(PH(P_WAIT_CLOSED) | PH(P_BODGE) | PH(P_IO_DRAIN) | \
			 PH(P_REMOVE_JOB) | PH(P_DONE))
#define SAME		0xff

struct rule {
	uint32_t	 phases;
	int		(*when)(const struct fsm_in *, const struct fsm_state *);
	uint8_t		 action;
	uint8_t		 next;
	uint8_t		 timer;
	uint8_t		 setf, clrf;
	int8_t		 tries;		/* +1: count a busy retry; -1: reset */
	uint8_t		 note;		/* enum fsm_note (0: none) */
};

static int
removal(const struct fsm_in *in)
{
	return in->online == 0 || in->guest_dead;
}

static int
state_in(const struct fsm_in *in, int lo, int hi)
{
	return in->be_state >= lo && in->be_state <= hi;
}

static int c_any(const struct fsm_in *i, const struct fsm_state *s)
{ (void)i; (void)s; return 1; }
static int c_no_job(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->job == JOB_NONE; }
static int c_job_done(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->job != JOB_NONE; }
static int c_be_absent(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->be_state == XS_ABSENT; }
static int c_bodge(const struct fsm_in *i, const struct fsm_state *s)
{ return removal(i) && (s->flags & F_QEMU) && i->guest_dead &&
    i->be_state != XenbusStateClosed; }
static int c_r_closed(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return removal(i) && i->be_state == XenbusStateClosed; }
static int c_r(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return removal(i); }
static int c_closed(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->be_state == XenbusStateClosed; }
static int c_timer(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->timer; }
static int c_qemu(const struct fsm_in *i, const struct fsm_state *s)
{ (void)i; return (s->flags & F_QEMU) != 0; }
static int c_drained(const struct fsm_in *i, const struct fsm_state *s)
{ return i->io_done || (s->flags & F_FORCE); }
static int c_qemu_broker(const struct fsm_in *i, const struct fsm_state *s)
{ (void)i; return (s->flags & (F_QEMU | F_BROKER_UP)) ==
    (F_QEMU | F_BROKER_UP); }
static int c_hs_conn(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->hs == HS_CONNECTED; }
static int c_hs_err(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->hs == HS_ERROR; }
static int c_initwait(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return state_in(i, XenbusStateInitWait, XenbusStateConnected); }
static int c_busy_left(const struct fsm_in *i, const struct fsm_state *s)
{ return i->hs == HS_BUSY && i->job != JOB_NOSCRIPT &&
    s->busy_tries < i->busy_max; }
static int c_busy(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->hs == HS_BUSY && i->job != JOB_NOSCRIPT; }
static int c_script_err(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->hs == HS_ERROR && i->job != JOB_NOSCRIPT; }
static int c_job_timeout(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->job == JOB_TIMEOUT; }
static int c_job_fail(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->job == JOB_FAIL; }
static int c_job_ok(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->job == JOB_OK; }
static int c_ok_connected(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return (i->job == JOB_OK && i->hs == HS_CONNECTED) ||
    i->job == JOB_NOSCRIPT; }
static int c_be4(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->be_state == XenbusStateConnected; }
static int c_recreated(const struct fsm_in *i, const struct fsm_state *s)
{ (void)s; return i->hs == HS_NONE &&
    state_in(i, XenbusStateInitialising, XenbusStateInitWait); }
static int c_handover(const struct fsm_in *i, const struct fsm_state *s)
{ return (s->flags & F_BE_CONNECTED) &&
    state_in(i, XenbusStateInitialising, XenbusStateInitWait); }

/* Row n of the table is rules[n - 1]. */
static const struct rule rules[] = {
/* 1*/	{ PH(P_DONE), c_any, A_NONE, SAME, T_NONE, 0, 0, 0, 0 },
/* 2*/	{ PH(P_ADD_JOB) | PH(P_REMOVE_JOB), c_no_job, A_NONE, SAME, 0,
	    0, 0, 0, 0 },
/* 3*/	{ PH(P_REMOVE_JOB), c_job_done, A_NUKE, P_DONE, 0, 0, 0, 0, 0 },
/* 4*/	{ PH_ALL, c_be_absent, A_CLEAN_FRONTEND, P_DONE, 0, 0, 0, 0, 0 },
/* 5*/	{ PH_ALL & ~PH_TEARDOWN, c_bodge, A_WAIT_TIMER, P_BODGE, T_BODGE,
	    0, 0, 0, 0 },
/* 6*/	{ PH_ALL & ~PH_TEARDOWN, c_r_closed, A_NONE, P_IO_DRAIN, 0,
	    0, 0, 0, 0 },
/* 7*/	{ PH_ALL & ~PH_TEARDOWN, c_r, A_WRITE_CLOSING, P_WAIT_CLOSED,
	    T_DESTROY, 0, 0, 0, 0 },
/* 8*/	{ PH(P_WAIT_CLOSED), c_closed, A_NONE, P_IO_DRAIN, 0, 0, 0, 0, 0 },
/* 9*/	{ PH(P_WAIT_CLOSED), c_timer, A_NONE, P_IO_DRAIN, 0, F_FORCE, 0, 0,
	    N_FORCED },
/*10*/	{ PH(P_WAIT_CLOSED), c_any, A_WAIT_TIMER, SAME, T_DESTROY,
	    0, 0, 0, 0 },
/*11*/	{ PH(P_BODGE), c_closed, A_NONE, P_IO_DRAIN, 0, 0, 0, 0, 0 },
/*12*/	{ PH(P_BODGE), c_timer, A_WRITE_CLOSED, P_IO_DRAIN, 0, 0, 0, 0, 0 },
/*13*/	{ PH(P_BODGE), c_any, A_WAIT_TIMER, SAME, T_BODGE, 0, 0, 0, 0 },
/*14*/	{ PH(P_IO_DRAIN), c_qemu, A_NUKE, P_DONE, 0, 0, 0, 0, 0 },
/*15*/	{ PH(P_IO_DRAIN), c_drained, A_RUN_REMOVE, P_REMOVE_JOB, 0, 0, 0, 0,
	    0 },
/*16*/	{ PH(P_IO_DRAIN), c_timer, A_RUN_REMOVE, P_REMOVE_JOB, 0, 0, 0, 0,
	    N_DRAIN_TIMEOUT },
/*17*/	{ PH(P_IO_DRAIN), c_any, A_WAIT_TIMER, SAME, T_DRAIN, 0, 0, 0, 0 },
/*18*/	{ PH(P_NEW), c_qemu_broker, A_BROKER_ATTACH, P_QDISK, 0, 0, 0, 0, 0 },
/*19*/	{ PH(P_NEW), c_qemu, A_UNSUPPORTED, P_UNSUPPORTED, 0, 0, 0, 0, 0 },
/*20*/	{ PH(P_NEW), c_hs_conn, A_ADOPT, P_CONNECTED, 0, 0, 0, 0, 0 },
/*21*/	{ PH(P_NEW), c_hs_err, A_NONE, P_ERROR, 0, 0, 0, 0, 0 },
/*22*/	{ PH(P_NEW) | PH(P_WAIT_INITWAIT), c_initwait, A_RUN_ADD, P_ADD_JOB,
	    0, 0, F_BE_CONNECTED, 0, 0 },
/*23*/	{ PH(P_WAIT_INITWAIT), c_timer, A_MARK_ERROR, P_ERROR, 0, 0, 0, 0,
	    N_INIT_TIMEOUT },
/*24*/	{ PH(P_NEW) | PH(P_WAIT_INITWAIT), c_any, A_WAIT_TIMER,
	    P_WAIT_INITWAIT, T_INIT, 0, 0, 0, 0 },
/*25*/	{ PH(P_ADD_JOB), c_busy_left, A_WAIT_TIMER, P_BUSY_WAIT, T_BUSY,
	    0, 0, 1, 0 },
/*26*/	{ PH(P_ADD_JOB), c_busy, A_MARK_ERROR, P_ERROR, 0, 0, 0, -1,
	    N_BUSY_EXHAUSTED },
/*27*/	{ PH(P_ADD_JOB), c_job_timeout, A_MARK_ERROR, P_ERROR, 0, 0, 0, -1,
	    N_SCRIPT_TIMEOUT },
/*28*/	{ PH(P_ADD_JOB), c_script_err, A_SCRIPT_ERROR, P_ERROR, 0,
	    0, 0, -1, 0 },
/*29*/	{ PH(P_ADD_JOB), c_job_fail, A_MARK_ERROR, P_ERROR, 0, 0, 0, -1, 0 },
/*30*/	{ PH(P_ADD_JOB), c_ok_connected, A_ATTACHED, P_CONNECTED, 0, 0, 0,
	    -1, 0 },
/*31*/	{ PH(P_ADD_JOB), c_job_ok, A_MARK_ERROR, P_ERROR, 0, 0, 0, -1,
	    N_NO_STATUS },
/*32*/	{ PH(P_BUSY_WAIT), c_timer, A_RUN_ADD, P_ADD_JOB, 0, 0, 0, 0, 0 },
/*33*/	{ PH(P_BUSY_WAIT), c_any, A_WAIT_TIMER, SAME, T_BUSY, 0, 0, 0, 0 },
/*34*/	{ PH(P_CONNECTED), c_be4, A_NONE, SAME, 0, F_BE_CONNECTED, 0, 0, 0 },
/*35*/	{ PH(P_CONNECTED), c_recreated, A_NONE, P_NEW, 0, 0,
	    F_BE_CONNECTED, 0, 0 },
/*36*/	{ PH(P_CONNECTED), c_handover, A_HANDOVER, SAME, 0, 0,
	    F_BE_CONNECTED, 0, 0 },
/*37*/	{ PH(P_CONNECTED) | PH(P_ERROR) | PH(P_QDISK) | PH(P_UNSUPPORTED),
	    c_any, A_NONE, SAME, 0, 0, 0, 0, 0 },
};
#define NRULES (sizeof(rules) / sizeof(rules[0]))
_Static_assert(NRULES == FSM_NROWS, "FSM_NROWS must match the table");

void
fsm_next(const struct fsm_in *in, const struct fsm_state *st,
    struct fsm_out *out)
{
	const struct rule *r;
	size_t i;

	out->st = *st;
	out->action = A_NONE;
	out->timer = T_NONE;
	out->row = 0;
	out->note = N_NONE;
	if (st->phase >= P__COUNT)
		return;
	for (i = 0; i < NRULES; i++) {
		r = &rules[i];
		if ((r->phases & PH(st->phase)) == 0 || !r->when(in, st))
			continue;
		out->action = r->action;
		out->timer = r->timer;
		out->row = (uint8_t)(i + 1);
		out->note = r->note;
		if (r->next != SAME)
			out->st.phase = r->next;
		out->st.flags = (uint8_t)((st->flags | r->setf) & ~r->clrf);
		if (r->tries > 0)
			out->st.busy_tries++;
		else if (r->tries < 0)
			out->st.busy_tries = 0;
		return;
	}
}

int
fsm_tearing_down(int phase)
{
	return phase >= 0 && phase < P__COUNT &&
	    (PH_TEARDOWN & PH(phase)) != 0;
}

int
fsm_job_phase(int phase)
{
	return phase == P_ADD_JOB || phase == P_REMOVE_JOB;
}

const char *
fsm_phase_name(int p)
{
	static const char *const n[] = {
		"new", "wait-initwait", "add-script", "busy-wait", "connected",
		"error", "qdisk", "unsupported", "wait-closed", "qemu-bodge",
		"io-drain", "remove-script", "done",
	};
	return p >= 0 && p < P__COUNT ? n[p] : "?";
}

const char *
fsm_action_name(int a)
{
	static const char *const n[] = {
		"none", "wait-timer", "run-add", "run-remove", "adopt",
		"attached", "mark-error", "script-error", "handover",
		"write-closing", "write-closed", "broker-attach", "unsupported",
		"nuke", "clean-frontend",
	};
	return a >= 0 && a < A__COUNT ? n[a] : "?";
}

const char *
hs_name(int h)
{
	static const char *const n[] = { "", "connected", "error", "busy",
		"other" };
	return h >= 0 && h <= HS_OTHER ? n[h] : "?";
}
