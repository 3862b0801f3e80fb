/*
 * test_job drives hotplugd's job state machine (job.c) row by row from the
 * table in hotplugd.h, with the process boundary faked: hp_spawn records
 * the SPAWN, the test plays the launcher (its OK {pid, uid}, ERROR and
 * EXITED messages go to job_launcher_msg), msgchan_send is wrapped
 * (-Wl,--wrap) to record the SIGNALs sent to the launcher and capture the
 * DONE messages, and the cgroup calls are faked to record cgroup.kill.  It
 * proves every row (start, spawn failure, cancel/disconnect while queued,
 * starting or running, exit/signal, timeout -> SIGTERM to the group ->
 * cgroup.kill after grace, cgroup.kill at every end), and the scheduling
 * rules: max_jobs, FIFO, one job per device at a time without
 * head-of-line blocking, queue bound, one slot (uid) per job.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <event2/event.h>

#include "hotplugd/hotplugd.h"
#include "msg.h"
#include "reply.h"

struct hotplugd *hp;
static struct hotplugd H;

/* ---- fakes for what job.c calls outside itself ---- */
static int spawn_errno, n_spawned, n_cgkills, n_started;
static pid_t next_pid;
static struct job *pending[64];	/* STARTING: the launcher owes an answer */
static int n_pending;

int
hp_spawn(struct job *j)
{
	if (spawn_errno)
		return spawn_errno;
	j->launch_reqid = ++hp->next_reqid;
	pending[n_pending++] = j;
	n_spawned++;
	return 0;
}
int output_start(struct job *j, int fd) { return 0; }
void output_drain_close(struct job *j) { }
static uint64_t cgkill_ids[64];
static int remove_fails;

int
hpcg_job_kill(uint64_t cg)
{
	cgkill_ids[n_cgkills++ % 64] = cg;
	return 0;
}
int
hpcg_job_remove(uint64_t cg)
{
	return remove_fails ? (errno = EBUSY, -1) : 0;
}

static struct { pid_t pid; int sig; } kills[32];
static int n_kills;
static struct done { uint64_t id; uint32_t outcome; int64_t code; } dones[64];
static int n_done;

static void
record_signal(struct msg *m)
{
	uint32_t pid, sig;

	assert_int_equal(msg_get_u32(m, &pid), 0);
	assert_int_equal(msg_get_u32(m, &sig), 0);
	if (n_kills < 32) {
		kills[n_kills].pid = -(pid_t)pid;
		kills[n_kills].sig = (int)sig;
	}
	n_kills++;
}

int __wrap_msgchan_send(struct msgchan *c, struct msgbuf *b);
int
__wrap_msgchan_send(struct msgchan *c, struct msgbuf *b)
{
	struct msg m;
	struct hotplug_done done;
	struct done *d = &dones[n_done < 64 ? n_done : 63];

	assert_int_equal(msg_parse(&m, b->data, b->len, MSG_MAX_DEFAULT), 0);
	if (m.hdr.type == MSG_HPL_SIGNAL) {
		record_signal(&m);
		msg_dispose(&m);
		return 0;
	}
	if (m.hdr.type == MSG_HOTPLUG_STARTED) {
		n_started++;
		msg_dispose(&m);
		return 0;
	}
	assert_int_equal(hotplug_done_get(&m, &done), 0);
	d->id = done.id;
	d->outcome = done.outcome;
	d->code = done.code;
	msg_dispose(&m);
	n_done++;
	return 0;
}

/* Plays the launcher: a message of type/reqid with the given fields. */
static void
launcher_says(uint32_t type, uint32_t reqid, uint32_t a, int64_t b)
{
	struct msgbuf mb;
	struct msg m;

	msgbuf_init(&mb, type, reqid);
	msgbuf_put_u32(&mb, a);
	if (type == MSG_HPL_EXITED)
		msgbuf_put_i64(&mb, b);
	else
		msgbuf_put_u32(&mb, (uint32_t)b);
	assert_int_equal(msg_parse(&m, mb.data, mb.len, MSG_MAX_DEFAULT), 0);
	job_launcher_msg(&m);
	msg_dispose(&m);
	msgbuf_dispose(&mb);
}

/* The launcher answers every pending SPAWN with OK {pid, uid}. */
static void
settle(void)
{
	struct job *j;

	while (n_pending > 0) {
		j = pending[0];
		memmove(pending, pending + 1, --n_pending * sizeof(pending[0]));
		launcher_says(MSG_COMMON_OK, j->launch_reqid,
		    (uint32_t)next_pid++, 16842752 + j->slot);
	}
}

/* ---- helpers ---- */
static int chan_a, chan_b;	/* their addresses stand for two watcherds */
#define CHAN_A ((struct msgchan *)&chan_a)
#define CHAN_B ((struct msgchan *)&chan_b)

static int
setup(void **state)
{
	memset(&H, 0, sizeof(H));
	hp = &H;
	TAILQ_INIT(&H.queued);
	TAILQ_INIT(&H.running);
	H.base = event_base_new();
	H.cfg.max_jobs = 2;
	H.cfg.script_kill_grace_ms = 100;
	spawn_errno = n_spawned = n_kills = n_done = n_cgkills = n_started = 0;
	remove_fails = 0;
	n_pending = 0;
	next_pid = 1000;
	return 0;
}

static int
teardown(void **state)
{
	job_kill_all();
	if (H.ev_clean != NULL)
		event_free(H.ev_clean);
	H.ev_clean = NULL;
	event_base_free(H.base);
	return 0;
}

static struct job *
submit(uint64_t id, const char *dev, struct msgchan *c)
{
	struct job *j = calloc(1, sizeof(*j));

	j->id = id;
	j->chan = c;
	j->out_fd = -1;
	j->timeout_ms = 1000;
	snprintf(j->kind, sizeof(j->kind), "vbd");
	snprintf(j->be_path, sizeof(j->be_path),
	    "/local/domain/0/backend/vbd/5/%s", dev);
	job_submit(j);
	settle();
	return j;
}

static void
reap(pid_t pid, int status)
{
	launcher_says(MSG_HPL_EXITED, 0, (uint32_t)pid, status);
	settle();
}

static void
fire_timer(struct job *j)
{
	event_active(j->ev_timer, EV_TIMEOUT, 1);
	event_base_loop(H.base, EVLOOP_NONBLOCK);
}

static int
last_kill_is(pid_t pgid, int sig)
{
	return n_kills > 0 && kills[n_kills - 1].pid == -pgid &&
	    kills[n_kills - 1].sig == sig;
}

/* ---- one test per table row ---- */

/* QUEUED, slot free & device idle -> SPAWN -> STARTING; OK -> RUNNING */
static void
test_queued_starts(void **state)
{
	struct job *j = calloc(1, sizeof(*j));

	j->id = 1;
	j->chan = CHAN_A;
	j->out_fd = -1;
	j->timeout_ms = 1000;
	snprintf(j->kind, sizeof(j->kind), "vbd");
	snprintf(j->be_path, sizeof(j->be_path),
	    "/local/domain/0/backend/vbd/5/1");
	job_submit(j);
	assert_int_equal(j->state, JOB_STARTING);
	assert_int_equal(n_spawned, 1);
	assert_int_equal(H.n_running, 1);
	settle();
	assert_int_equal(j->state, JOB_RUNNING);
	assert_int_equal(j->uid, 16842752 + j->slot);
	assert_int_equal(H.st.runs, 1);
	assert_int_equal(n_started, 1);	/* watcherd learns the uid */
}

/* STARTING, launcher ERROR -> DONE(SPAWN_FAILED), slot free again */
static void
test_launcher_error(void **state)
{
	struct msgbuf mb;
	struct msg m;
	struct job *j;

	H.cfg.max_jobs = 1;
	j = calloc(1, sizeof(*j));
	j->id = 1;
	j->chan = CHAN_A;
	j->out_fd = -1;
	snprintf(j->kind, sizeof(j->kind), "vbd");
	snprintf(j->be_path, sizeof(j->be_path),
	    "/local/domain/0/backend/vbd/5/1");
	job_submit(j);
	reply_error_init(&mb, j->launch_reqid, EACCES, "Permission denied");
	assert_int_equal(msg_parse(&m, mb.data, mb.len, MSG_MAX_DEFAULT), 0);
	n_pending = 0;
	job_launcher_msg(&m);
	msg_dispose(&m);
	msgbuf_dispose(&mb);
	assert_int_equal(n_done, 1);
	assert_int_equal(dones[0].outcome, HOTPLUG_SPAWN_FAILED);
	assert_int_equal(dones[0].code, EACCES);
	assert_int_equal(H.n_running, 0);
	assert_int_equal(H.slot_busy[0], 0);
}

/* STARTING, CANCEL -> remembered; OK -> SIGTERM group, KILLING */
static void
test_starting_cancel(void **state)
{
	struct job *j = calloc(1, sizeof(*j));

	j->id = 1;
	j->chan = CHAN_A;
	j->out_fd = -1;
	j->timeout_ms = 1000;
	snprintf(j->kind, sizeof(j->kind), "vbd");
	snprintf(j->be_path, sizeof(j->be_path),
	    "/local/domain/0/backend/vbd/5/1");
	job_submit(j);
	job_cancel(j);
	assert_int_equal(j->state, JOB_STARTING);
	settle();
	assert_int_equal(j->state, JOB_KILLING);
	assert_true(last_kill_is(j->pid, SIGTERM));
	reap(j->pid, W_EXITCODE(0, SIGTERM));
	assert_int_equal(dones[0].outcome, HOTPLUG_CANCELLED);
}

/* Two running jobs never share a slot (uid); a slot is reused after. */
static void
test_slots(void **state)
{
	struct job *a = submit(1, "1", CHAN_A), *b = submit(2, "2", CHAN_A);
	uint32_t sa = a->slot;

	assert_int_not_equal(a->slot, b->slot);
	assert_int_not_equal(a->uid, b->uid);
	reap(a->pid, W_EXITCODE(0, 0));
	assert_int_equal(submit(3, "3", CHAN_A)->slot, sa);
}

/*
 * A job id comes back (same device and action: a busy retry) while the
 * last run's cgroup is still emptying: the new run gets its own cgroup and
 * slot, and the retried cleanup of the old cgroup never kills the new run.
 */
static void
test_cgroup_not_reused(void **state)
{
	struct job *a = submit(1, "1", CHAN_A), *b;
	uint64_t old = a->cg_id;
	uint32_t old_slot = a->slot;
	int i;

	remove_fails = 1;
	reap(a->pid, W_EXITCODE(0, 0));
	assert_true(H.slot_busy[old_slot]);	/* until its cgroup is gone */
	b = submit(1, "1", CHAN_A);
	assert_int_equal(b->state, JOB_RUNNING);
	assert_int_not_equal(b->cg_id, old);
	assert_int_not_equal(b->slot, old_slot);
	n_cgkills = 0;
	event_active(H.ev_clean, EV_TIMEOUT, 1);
	event_base_loop(H.base, EVLOOP_NONBLOCK);
	assert_true(n_cgkills > 0);
	for (i = 0; i < n_cgkills && i < 64; i++)
		assert_true(cgkill_ids[i] == old);
	remove_fails = 0;
	event_active(H.ev_clean, EV_TIMEOUT, 1);
	event_base_loop(H.base, EVLOOP_NONBLOCK);
	assert_false(H.slot_busy[old_slot]);
}

/* QUEUED, spawn fails -> DONE(SPAWN_FAILED, errno) */
static void
test_spawn_fails(void **state)
{
	spawn_errno = ENOEXEC;
	submit(1, "1", CHAN_A);
	assert_int_equal(n_done, 1);
	assert_int_equal(dones[0].outcome, HOTPLUG_SPAWN_FAILED);
	assert_int_equal(dones[0].code, ENOEXEC);
	assert_int_equal(H.n_running, 0);
	assert_int_equal(H.st.spawn_failed, 1);
}

/* QUEUED, CANCEL -> DONE(CANCELLED) */
static void
test_queued_cancel(void **state)
{
	struct job *j2;

	H.cfg.max_jobs = 1;
	submit(1, "1", CHAN_A);
	j2 = submit(2, "2", CHAN_A);
	assert_int_equal(j2->state, JOB_QUEUED);
	job_cancel(j2);
	assert_int_equal(n_done, 1);
	assert_int_equal(dones[0].id, 2);
	assert_int_equal(dones[0].outcome, HOTPLUG_CANCELLED);
	assert_int_equal(H.n_queued, 0);
	assert_int_equal(n_kills, 0);
}

/* QUEUED, watcherd disconnects -> dropped, no DONE */
static void
test_queued_disconnect(void **state)
{
	H.cfg.max_jobs = 1;
	submit(1, "1", CHAN_A);
	submit(2, "2", CHAN_B);
	job_chan_gone(CHAN_B);
	assert_int_equal(H.n_queued, 0);
	assert_int_equal(n_done, 0);
	assert_null(job_find(2));
	assert_non_null(job_find(1));
}

/* RUNNING, main child reaped -> DONE(EXITED|SIGNALED) */
static void
test_running_reaped(void **state)
{
	struct job *a = submit(1, "1", CHAN_A), *b = submit(2, "2", CHAN_A);
	pid_t pa = a->pid, pb = b->pid;

	reap(pa, W_EXITCODE(3, 0));
	reap(pb, W_EXITCODE(0, SIGKILL));
	assert_int_equal(n_done, 2);
	assert_int_equal(dones[0].outcome, HOTPLUG_EXITED);
	assert_int_equal(dones[0].code, 3);
	assert_int_equal(dones[1].outcome, HOTPLUG_SIGNALED);
	assert_int_equal(dones[1].code, SIGKILL);
	assert_int_equal(H.st.failures, 2);
	assert_int_equal(n_kills, 0);	/* no signal at a normal end ... */
	assert_int_equal(n_cgkills, 2);	/* ... but whatever is left goes */
	submit(3, "3", CHAN_A);
	reap(next_pid - 1, W_EXITCODE(0, 0));
	assert_int_equal(H.st.ok, 1);
}

/* RUNNING, timeout -> SIGTERM group -> KILLING; grace -> cgroup.kill;
 * reaped -> cgroup.kill, DONE(TIMED_OUT) */
static void
test_running_timeout(void **state)
{
	struct job *j = submit(1, "1", CHAN_A);
	pid_t pid = j->pid;

	fire_timer(j);
	assert_int_equal(j->state, JOB_KILLING);
	assert_true(last_kill_is(pid, SIGTERM));
	fire_timer(j);
	assert_int_equal(n_cgkills, 1);	/* grace over: cgroup.kill */
	assert_int_equal(n_done, 0);
	reap(pid, W_EXITCODE(0, SIGTERM));
	assert_int_equal(n_cgkills, 2);	/* leftovers */
	assert_int_equal(n_done, 1);
	assert_int_equal(dones[0].outcome, HOTPLUG_TIMED_OUT);
	assert_int_equal(dones[0].code, SIGTERM);
	assert_int_equal(H.st.timeouts, 1);
}

/* RUNNING, CANCEL -> SIGTERM group -> KILLING; reaped -> DONE(CANCELLED) */
static void
test_running_cancel(void **state)
{
	struct job *j = submit(1, "1", CHAN_A);
	pid_t pid = j->pid;

	job_cancel(j);
	assert_int_equal(j->state, JOB_KILLING);
	assert_true(last_kill_is(pid, SIGTERM));
	reap(pid, W_EXITCODE(0, SIGTERM));
	assert_int_equal(n_done, 1);
	assert_int_equal(dones[0].outcome, HOTPLUG_CANCELLED);
	assert_int_equal(H.st.cancelled, 1);
	assert_int_equal(H.st.timeouts, 0);
}

/* RUNNING, watcherd disconnects -> keeps running, result dropped */
static void
test_running_disconnect(void **state)
{
	struct job *j = submit(1, "1", CHAN_A);
	pid_t pid = j->pid;

	job_chan_gone(CHAN_A);
	assert_int_equal(j->state, JOB_RUNNING);
	assert_null(j->chan);
	assert_int_equal(n_kills, 0);
	reap(pid, W_EXITCODE(0, 0));
	assert_int_equal(n_done, 0);
	assert_int_equal(H.st.dropped_results, 1);
}

/* Scheduling: max_jobs, FIFO. */
static void
test_max_jobs(void **state)
{
	struct job *a = submit(1, "1", CHAN_A);
	struct job *c;

	submit(2, "2", CHAN_A);
	c = submit(3, "3", CHAN_A);
	submit(4, "4", CHAN_A);
	assert_int_equal(H.n_running, 2);
	assert_int_equal(H.n_queued, 2);
	assert_int_equal(c->state, JOB_QUEUED);
	reap(a->pid, W_EXITCODE(0, 0));
	assert_int_equal(c->state, JOB_RUNNING);	/* the oldest first */
	assert_int_equal(H.n_running, 2);
	assert_int_equal(H.n_queued, 1);
	assert_int_equal(H.st.max_running, 2);
}

/* Scheduling: never two jobs on one device; no head-of-line blocking. */
static void
test_device_busy(void **state)
{
	struct job *a1, *a2, *b1;

	H.cfg.max_jobs = 4;
	a1 = submit(1, "1", CHAN_A);
	a2 = submit(2, "1", CHAN_A);
	b1 = submit(3, "2", CHAN_A);
	assert_int_equal(a1->state, JOB_RUNNING);
	assert_int_equal(a2->state, JOB_QUEUED);
	assert_int_equal(b1->state, JOB_RUNNING);
	reap(a1->pid, W_EXITCODE(0, 0));
	assert_int_equal(a2->state, JOB_RUNNING);
}

/* The queue is bounded: over HP_QUEUE_MAX -> REFUSED(EAGAIN). */
static void
test_queue_full(void **state)
{
	char dev[16];
	int i;

	H.cfg.max_jobs = 1;
	for (i = 0; i < HP_QUEUE_MAX + 2; i++) {
		snprintf(dev, sizeof(dev), "%d", i);
		submit((uint64_t)i + 1, dev, CHAN_A);
	}
	assert_int_equal(H.n_queued, HP_QUEUE_MAX);
	assert_int_equal(n_done, 1);
	assert_int_equal(dones[0].outcome, HOTPLUG_REFUSED);
	assert_int_equal(dones[0].code, EAGAIN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_queued_starts),
		T(test_launcher_error),
		T(test_starting_cancel),
		T(test_slots),
		T(test_cgroup_not_reused),
		T(test_spawn_fails),
		T(test_queued_cancel),
		T(test_queued_disconnect),
		T(test_running_reaped),
		T(test_running_timeout),
		T(test_running_cancel),
		T(test_running_disconnect),
		T(test_max_jobs),
		T(test_device_busy),
		T(test_queue_full),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
