/*
 * One device's evaluation: read its nodes NOW, run the pure transition
 * function (fsm.c), carry out the action.  Called from the dirty queue
 * only (watch hints, timers, job results, scans all end here), so a
 * device is never evaluated re-entrantly, and per-device work per hint is
 * bounded: a few reads and at most WD_EVAL_CHAIN chained transitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "errtext.h"
#include "log.h"
#include "parse.h"
#include "proto_hotplug.h"
#include "wd.h"

#define LOGF		"domid=%u kind=%s devid=%u"
#define LOGA(d)		(d)->domid, dev_kind(d), (d)->devid

static uint32_t
timer_ms(int t)
{
	switch (t) {
	case T_INIT:	return wd.cfg.init_timeout_ms;
	case T_DESTROY:	return wd.cfg.destroy_timeout_ms;
	case T_BODGE:	return wd.cfg.qemu_bodge_timeout_ms;
	case T_DRAIN:	return wd.cfg.io_drain_timeout_ms;
	case T_BUSY:	return wd.cfg.busy_retry_ms;
	default:	return 0;
	}
}

/*
 * How long WAIT_CLOSED waits for state 6: libxl's windows.  A removal the
 * toolstack asked for (it wrote online=0: libxl's LIBXL__FORCE_AUTO) gets
 * LIBXL_DESTROY_TIMEOUT, then libxl removes the frontend (a Linux backend
 * closes when its frontend vanishes: xenbus_dev_remove) and waits a second
 * LIBXL_DESTROY_TIMEOUT.  Forcing after the first would remove the backend
 * dir while libxl waits for state 6: `xl network-detach` then fails
 * "unable to remove device".  A dead guest's removal, which watcherd
 * starts, is libxl's LIBXL__FORCE_ON: one window.
 */
static uint32_t
destroy_window_ms(const struct fsm_in *in)
{
	uint32_t ms = wd.cfg.destroy_timeout_ms;

	if (in->online == 0 && !in->guest_dead)
		return ms > UINT32_MAX / 2 ? UINT32_MAX : 2 * ms;
	return ms;
}

static void
be_write(struct wdev *d, const char *node, const char *val)
{
	char p[256], be[192];

	if (dev_be_path(d, be, sizeof(be)) != -1 &&
	    xsnprintf(p, sizeof(p), "%s/%s", be, node) != -1)
		xsio_write(p, val);
}

/* Writes the backend's `state` node: the XenbusState's number. */
static void
be_write_state(struct wdev *d, enum xenbus_state state)
{
	char v[4];

	snprintf(v, sizeof(v), "%d", (int)state);
	be_write(d, "state", v);
}

static void
mark_error(struct wdev *d, const char *why)
{
	log_warnx(LOGF " device in error: %s", LOGA(d), why);
	wd.st.errors++;
	be_write(d, "hotplug-error", why);
	be_write(d, "hotplug-status", "error");
}

void
device_set_error(struct wdev *d, const char *text)
{
	free(d->last_err);
	d->last_err = NULL;
	if (text != NULL && (d->last_err = strdup(text)) == NULL)
		log_warn(LOGF " error text", LOGA(d));
}

/* The device's hotplug-error: what failed, in words (errtext.c), with the
 * value and config key of the timeout or limit that ended it. */
static const char *
error_text(const struct wdev *d, int note, char *buf, size_t sz)
{
	char t[24];

	switch (note) {
	case N_INIT_TIMEOUT:
		errtext_dur(t, sizeof(t), wd.cfg.init_timeout_ms);
		snprintf(buf, sz, "backend did not reach InitWait (2) within "
		    "init_timeout (%s): is the backend driver loaded?", t);
		return buf;
	case N_BUSY_EXHAUSTED:
		errtext_dur(t, sizeof(t), wd.cfg.busy_retry_ms);
		snprintf(buf, sz, "hotplug script kept reporting busy "
		    "(hotplug-status=busy) after busy_tries (%u) retries every "
		    "busy_retry (%s): the device is in use elsewhere",
		    wd.cfg.busy_tries, t);
		return buf;
	case N_SCRIPT_TIMEOUT:
		if (d->last_err != NULL)
			return d->last_err;
		errtext_dur(t, sizeof(t), wd.cfg.hotplug_timeout_ms);
		snprintf(buf, sz, "hotplug script did not finish within "
		    "hotplug_timeout (%s) and was killed", t);
		return buf;
	case N_NO_STATUS:
		return "hotplug script exited 0 without writing "
		    "hotplug-status=connected";
	default:
		if (d->last_err != NULL && d->last_outcome != WD_OUT_BUILD)
			return d->last_err;
		if (d->last_outcome == WD_OUT_BUILD && d->last_code > 0) {
			snprintf(buf, sz, "script name too long (%d bytes, "
			    "max %d)", (int)d->last_code,
			    HOTPLUG_SCRIPT_MAX - 1);
			return buf;
		}
		if (d->last_outcome == WD_OUT_BUILD)
			return "cannot build the hotplug job";
		snprintf(buf, sz, "hotplug script failed: %s %d",
		    hotplug_outcome_name(d->last_outcome), (int)d->last_code);
		return buf;
	}
}

static void
log_script_error(struct wdev *d)
{
	char p[256], be[192];
	unsigned len = 0;
	char *v = NULL;

	if (dev_be_path(d, be, sizeof(be)) != -1 &&
	    xsnprintf(p, sizeof(p), "%s/hotplug-error", be) != -1)
		v = xsio_read(p, &len);
	log_warnx(LOGF " script reported an error: %.*s", LOGA(d),
	    v ? (int)strnlen(v, len < 512 ? len : 512) : 0, v ? v : "");
	free(v);
	wd.st.errors++;
}

static void
write_closing(struct wdev *d, const struct fsm_in *in)
{
	if (in->online != 0)
		be_write(d, "online", "0");
	if (in->be_state != XenbusStateClosing &&
	    in->be_state != XenbusStateClosed)
		be_write_state(d, XenbusStateClosing);
}

struct sib_arg {
	const struct wdev	*d;
	int			 found;
};

static void
sibling(struct wdev *o, void *arg)
{
	struct sib_arg *a = arg;

	if (o == a->d || o->kind != a->d->kind || o->domid != a->d->domid ||
	    o->st.phase == P_DONE)
		return;
	if (o->be_state != XS_ABSENT)
		a->found = 1;
}

/*
 * Removes the device's dirs, backend last (xsio_rm_paths): a crash in the
 * middle leaves the backend, whose removal the next scan redoes, never an
 * orphan frontend.  The parents (<kind> dirs) are then listed and removed
 * when empty, in one transaction, unless the
 * table holds another live device of the same guest and kind whose
 * backend was last seen there (the toolstack writes its frontend and
 * /libxl entry with it): then they are not empty and the last such
 * device's removal lists and cleans them (issue 8: saves the 4 DIRECTORY
 * requests per removal of a guest's non-last device).  A sibling whose
 * frontend was never there, or that went away unseen, leaves at worst an
 * empty <kind> dir until the guest's last removal of that kind.
 */
static void
nuke(struct wdev *d, int backend)
{
	struct dev_paths p;
	struct sib_arg a = { d, 0 };
	size_t i, n;

	if (d->broker_ref)
		broker_detach(d);
	n = dev_rm_paths(d, backend, &p);
	devtab_foreach(sibling, &a);
	for (i = 0; i < n && a.found; i++)
		p.v[i].stoplen = strlen(p.v[i].path);
	if (a.found)
		log_debug(LOGF " remove: parent dirs kept (a sibling is "
		    "there)", LOGA(d));
	xsio_rm_paths(p.v, n);
}

static void
run_job(struct wdev *d, int remove)
{
	if (hpjob_start(d, remove) == -1) {
		d->job_result = JOB_FAIL;
		dev_mark(d, 0);
	}
}

static void
attached(struct wdev *d)
{
	log_info(LOGF " attached", LOGA(d));
	wd.st.attached++;
	stats_attach_latency(now_ms() - d->t_start_ms);
}

static void
handover(struct wdev *d)
{
	d->handovers++;
	wd.st.handovers++;
	log_info(LOGF " frontend hand-over (kexec): device reset, no script",
	    LOGA(d));
}

/* The qemu bodge: the device model is dead, write Closed for it. */
static void
write_closed(struct wdev *d, const struct fsm_in *in)
{
	log_info(LOGF " qemu bodge: guest dead, setting state 6", LOGA(d));
	wd.st.bodges++;
	if (in->be_state != XenbusStateClosed)
		be_write_state(d, XenbusStateClosed);
}

static void
removed(struct wdev *d)
{
	nuke(d, 1);
	wd.st.removed++;
	stats_detach_latency(now_ms() - d->t_start_ms);
	log_info(LOGF " removed", LOGA(d));
}

static void
frontend_cleaned(struct wdev *d)
{
	nuke(d, 0);
	wd.st.frontend_only++;
	log_info(LOGF " backend already gone: frontend cleaned", LOGA(d));
}

/* Carries out the state machine's action (enum action, fsm.h). */
static void
act(struct wdev *d, const struct fsm_in *in, const struct fsm_out *o)
{
	char buf[HOTPLUG_MSG_MAX];

	switch (o->action) {
	case A_RUN_ADD:		run_job(d, 0); break;
	case A_RUN_REMOVE:	run_job(d, 1); break;
	case A_ADOPT:
		log_info(LOGF " already connected: adopted", LOGA(d));
		wd.st.adopted++;
		break;
	case A_ATTACHED:	attached(d); break;
	case A_MARK_ERROR:
		mark_error(d, error_text(d, o->note, buf, sizeof(buf)));
		break;
	case A_SCRIPT_ERROR:	log_script_error(d); break;
	case A_HANDOVER:	handover(d); break;
	case A_WRITE_CLOSING:	write_closing(d, in); break;
	case A_WRITE_CLOSED:	write_closed(d, in); break;
	case A_BROKER_ATTACH:	broker_attach(d); break;
	case A_UNSUPPORTED:
		wd.st.unsupported++;
		mark_error(d, "qdisk needs devsep-qemu-broker, not running");
		break;
	case A_NUKE:		removed(d); break;
	case A_CLEAN_FRONTEND:	frontend_cleaned(d); break;
	default:		break;
	}
}

static void
enter_phase(struct wdev *d, int old, const struct fsm_out *o)
{
	dev_timer_cancel(d);
	d->job_result = JOB_NONE;
	if (!fsm_tearing_down(old) && fsm_tearing_down(o->st.phase))
		d->t_start_ms = now_ms();	/* detach latency */
	if (o->st.phase == P_NEW)
		d->t_start_ms = now_ms();
	if (o->note == N_FORCED) {
		wd.st.forced++;
		log_warnx(LOGF " backend did not close within "
		    "destroy_timeout: forcing removal", LOGA(d));
	}
	if (o->note == N_DRAIN_TIMEOUT) {
		wd.st.drain_timeouts++;
		log_warnx(LOGF " no I/O-done signal within io_drain_timeout",
		    LOGA(d));
	}
}

static void
remember(struct wdev *d, const struct fsm_in *in)
{
	d->be_state = (int8_t)in->be_state;
	d->online = (int8_t)in->online;
	d->hs = (uint8_t)in->hs;
}

/*
 * backend_mode libxl (relay.c): libxl drives the device; watcherd keeps
 * what it read for `devsepctl devices` and forgets the device once its
 * backend dir is gone.  No state machine: no script, no write, no
 * removal, no broker.
 */
static void
observe(struct wdev *d, const struct fsm_in *in)
{
	if (in->be_state == XS_ABSENT) {
		if (!d->dirty)
			dev_free(d);
		return;
	}
	remember(d, in);
}

/* Before the reads: a hint after removal may be a new device. */
int
device_eval_pre(struct wdev *d)
{
	wd.st.evals++;
	if (wd.libxl)
		return 0;	/* observed only: device_eval_in */
	if (d->st.phase == P_DONE) {
		d->want = WANT_ALL;	/* a new device: nothing known */
		d->st.phase = P_NEW;
		d->st.flags &= F_QEMU;
		d->t_start_ms = now_ms();
	}
	return 0;
}

/* With the device's nodes read (in): run the state machine, act. */
void
device_eval_in(struct wdev *d, struct fsm_in *in)
{
	struct fsm_out o;
	int i, old;

	if (wd.libxl) {
		observe(d, in);
		return;
	}
	if (d->st.phase == P_NEW && in->be_state == XS_ABSENT &&
	    d->job_id == 0) {
		dev_free(d);	/* stale hint: never existed or long gone */
		return;
	}
	if (d->st.phase == P_NEW)
		guest_check_new(d);	/* first device of a guest, or reuse */
	remember(d, in);
	in->guest_dead = guest_dead(d->domid);
	in->busy_max = (int)wd.cfg.busy_tries;
	if ((d->st.flags & F_QEMU) && d->st.phase == P_NEW &&
	    broker_available())
		d->st.flags |= F_BROKER_UP;
	else
		d->st.flags &= (uint8_t)~F_BROKER_UP;
	for (i = 0; i < WD_EVAL_CHAIN; i++) {
		in->timer = d->timer_fired;
		in->job = d->job_result;
		fsm_next(in, &d->st, &o);
		old = d->st.phase;
		d->st = o.st;
		if (o.action != A_NONE && o.action != A_WAIT_TIMER)
			log_debug(LOGF " row %u: %s -> %s (%s)", LOGA(d), o.row,
			    fsm_phase_name(old), fsm_phase_name(o.st.phase),
			    fsm_action_name(o.action));
		if (old != o.st.phase)
			enter_phase(d, old, &o);
		act(d, in, &o);
		if (o.timer != T_NONE && d->timer != o.timer)
			dev_timer_arm(d, o.timer, o.timer == T_DESTROY ?
			    destroy_window_ms(in) : timer_ms(o.timer));
		if (o.action == A_RUN_ADD || o.action == A_RUN_REMOVE)
			return;	/* its result is a new input: re-read first */
		if (d->st.phase == P_DONE) {
			if (!d->dirty)
				dev_free(d);
			return;
		}
		if (old == o.st.phase)
			return;
	}
}

void
device_job_done(struct wdev *d, uint32_t outcome, int64_t code,
    uint64_t dur_us, const char *msg)
{
	d->job_id = 0;
	d->last_outcome = (uint8_t)outcome;
	d->last_code = (int32_t)code;
	d->last_dur_ms = (uint32_t)(dur_us / 1000);
	d->last_ms = now_ms();
	if (outcome == HOTPLUG_EXITED && code == 0)
		d->job_result = JOB_OK;
	else if (outcome == HOTPLUG_TIMED_OUT)
		d->job_result = JOB_TIMEOUT;
	else
		d->job_result = JOB_FAIL;
	if (d->job_result == JOB_TIMEOUT)
		wd.st.script_timeouts++;
	else if (d->job_result == JOB_FAIL)
		wd.st.script_failures++;
	if (d->job_result != JOB_OK && d->last_err != NULL)
		log_warnx(LOGF " %s", LOGA(d), d->last_err);
	else if (d->job_result != JOB_OK)
		log_warnx(LOGF " %s script: %s %lld: %s", LOGA(d),
		    d->last_action == WD_JOB_REMOVE ? "remove" : "add",
		    hotplug_outcome_name(outcome), (long long)code, msg);
	dev_mark(d, 0);		/* the result is the input; the script's
				   hotplug-status came through hint_own_hs
				   or comes as a watch event */
}

void
device_broker_result(struct wdev *d, int ok, const char *msg)
{
	if (ok) {
		d->broker_ref = 1;
		log_info(LOGF " qdisk handed to the QEMU broker", LOGA(d));
		return;
	}
	if (d->st.phase != P_QDISK)
		return;		/* already tearing down */
	wd.st.unsupported++;
	mark_error(d, msg);
	d->st.phase = P_UNSUPPORTED;
}
