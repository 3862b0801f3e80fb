/*
 * The per-device state machine of watcherd, as a pure function:
 *
 *	fsm_next(observed nodes + events, internal state) -> action, next phase
 *
 * No I/O here.  device.c reads xenstore into a struct fsm_in, calls
 * fsm_next(), carries out the action and stores the new phase; the table
 * (fsm.c, docs/WATCHERD.md) is tested row by row in tests/test_fsm.c.
 */
#ifndef WATCHERD_FSM_H
#define WATCHERD_FSM_H

#include <stdint.h>
#include <xen/io/xenbus.h>	/* enum xenbus_state: XenbusStateClosed... */

#define XS_ABSENT	(-1)	/* node missing */
#define XS_INVALID	(-2)	/* node present but not a valid value */

enum hs_value {			/* backend hotplug-status */
	HS_NONE = 0,		/* absent */
	HS_CONNECTED,
	HS_ERROR,
	HS_BUSY,
	HS_OTHER,		/* anything else: treated as absent */
};

enum job_result {		/* outcome of this phase's script job */
	JOB_NONE = 0,		/* no result (yet) */
	JOB_OK,			/* exited 0 */
	JOB_FAIL,		/* exited non-zero, signaled, refused */
	JOB_TIMEOUT,		/* killed after hotplug_timeout */
	JOB_NOSCRIPT,		/* empty `script` node: nothing to run */
};

enum phase {
	P_NEW = 0,		/* discovered, not evaluated yet */
	P_WAIT_INITWAIT,	/* add: waiting for backend state 2 */
	P_ADD_JOB,		/* add/online script running */
	P_BUSY_WAIT,		/* hotplug-status busy: retry later */
	P_CONNECTED,		/* attached */
	P_ERROR,		/* add failed; waits for removal */
	P_QDISK,		/* handed to the QEMU broker */
	P_UNSUPPORTED,		/* qdisk/9pfs without the broker */
	P_WAIT_CLOSED,		/* remove: state 5 written, waiting for 6 */
	P_BODGE,		/* remove: qemu backend, guest dead: 2 s wait */
	P_IO_DRAIN,		/* remove: waiting for the I/O-done signal */
	P_REMOVE_JOB,		/* remove/offline script running */
	P_DONE,			/* backend (and frontend) removed: forget */
	P__COUNT
};

enum action {
	A_NONE = 0,		/* wait for the next hint/timer/job */
	A_WAIT_TIMER,		/* arm this phase's timer, wait */
	A_RUN_ADD,		/* send the add/online job */
	A_RUN_REMOVE,		/* send the remove/offline job */
	A_ADOPT,		/* found attached (restart): record it */
	A_ATTACHED,		/* add finished with hotplug-status connected */
	A_MARK_ERROR,		/* write hotplug-status=error + hotplug-error */
	A_SCRIPT_ERROR,		/* the script reported an error itself */
	A_HANDOVER,		/* frontend kexec: count it, no script */
	A_WRITE_CLOSING,	/* write online=0 and state=5 */
	A_WRITE_CLOSED,		/* qemu bodge: write state=6 */
	A_BROKER_ATTACH,	/* qdisk: ask the broker */
	A_UNSUPPORTED,		/* qdisk without broker: mark error */
	A_NUKE,			/* rm backend dir (+ frontend, /libxl in dom0) */
	A_CLEAN_FRONTEND,	/* backend already gone: frontend only */
	A__COUNT
};

/* Which timer the action arms (device.c maps it to a config key). */
enum fsm_timer {
	T_NONE = 0,
	T_INIT,			/* init_timeout */
	T_DESTROY,		/* destroy_timeout */
	T_BODGE,		/* qemu_bodge_timeout */
	T_DRAIN,		/* io_drain_timeout */
	T_BUSY,			/* busy_retry */
};

/*
 * What a row means beyond its action, for the logs, counters and error
 * texts of device.c (a field on the rule, not its row number).
 */
enum fsm_note {
	N_NONE = 0,
	N_FORCED,		/* destroy timer: forced removal */
	N_DRAIN_TIMEOUT,	/* no I/O-done within io_drain_timeout */
	N_INIT_TIMEOUT,		/* no InitWait within init_timeout */
	N_BUSY_EXHAUSTED,	/* hotplug-status busy, retries used up */
	N_SCRIPT_TIMEOUT,	/* script killed after hotplug_timeout */
	N_NO_STATUS,		/* script exited 0 without hotplug-status */
};

/* Internal flags kept per device. */
#define F_FORCE		0x01	/* destroy timeout hit: forced removal */
#define F_BE_CONNECTED	0x02	/* backend seen at 4 since the last add */
#define F_QEMU		0x04	/* backend is QEMU's (qdisk, 9pfs) */
#define F_BROKER_UP	0x08	/* QEMU broker reachable (input only) */

#define FSM_NROWS	37	/* rows in the table (fsm.c) */

struct fsm_in {
	int	be_state;	/* enum xenbus_state, XS_ABSENT, XS_INVALID */
	int	online;		/* 0, 1, XS_ABSENT/XS_INVALID */
	int	hs;		/* enum hs_value */
	int	io_done;	/* 1: I/O-done seen, or not advertised */
	int	guest_dead;	/* frontend domain dead (liveness.c rule) */
	int	timer;		/* 1: this phase's timer fired */
	int	job;		/* enum job_result for this phase's job */
	int	busy_max;	/* busy retries allowed (config busy_tries) */
};

struct fsm_state {
	uint8_t	phase;		/* enum phase */
	uint8_t	flags;		/* F_* */
	uint8_t	busy_tries;
};

struct fsm_out {
	uint8_t	action;		/* enum action */
	uint8_t	timer;		/* enum fsm_timer this phase waits on */
	uint8_t	row;		/* table row number, for logs and tests */
	uint8_t	note;		/* enum fsm_note of that row */
	struct fsm_state st;	/* next internal state (phase, flags...) */
};

/* The transition function.  Pure. */
void	fsm_next(const struct fsm_in *, const struct fsm_state *,
	    struct fsm_out *);

/* 1 when a removal is under way (no add may start any more). */
int	fsm_tearing_down(int phase);
/* 1 when the phase has a script job outstanding. */
int	fsm_job_phase(int phase);

const char *fsm_phase_name(int);
const char *fsm_action_name(int);
const char *hs_name(int);

#endif
