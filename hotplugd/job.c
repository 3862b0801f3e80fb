/*
 * The job queue and the job state machine (table in hotplugd.h): bounded
 * concurrency (max_jobs), never two jobs on one device at once, each job in
 * its own slot (uid) and cgroup, timeout -> SIGTERM to the process group
 * (through the launcher) -> cgroup.kill after the grace period; at the
 * end of every job cgroup.kill, so nothing of it survives.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "hotplugd.h"
#include "log.h"
#include "msg.h"
#include "reply.h"

#define JOB_FMT		"job=%llu domid=%u kind=%s devid=%u"
#define JOB_ARGS(j)	(unsigned long long)(j)->id, (j)->domid, (j)->kind, \
			(j)->devid

static void
arm_timer(struct job *j, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(j->ev_timer, &tv);
}

#define CLEAN_RETRY_MS	20	/* killed members exiting: rmdir again */

static void
send_signal(struct job *j, int sig)
{
	struct msgbuf b;

	msgbuf_init(&b, MSG_HPL_SIGNAL, 0);
	msgbuf_put_u32(&b, (uint32_t)j->pid);
	msgbuf_put_u32(&b, (uint32_t)sig);
	if (msgchan_send(hp->launcher, &b) == -1)
		log_warn(JOB_FMT " signal %d", JOB_ARGS(j), sig);
	msgbuf_dispose(&b);
}

/* SIGTERM: the process group, through the launcher (other uid); SIGKILL:
 * every process of the job's cgroup (no signal rights needed). */
static void
kill_group(struct job *j, int sig)
{
	if (j->pid <= 1)
		return;
	if (sig == SIGKILL && hpcg_job_kill(j->cg_id) == 0) {
		hp->st.cgroup_kills++;
		return;
	}
	if (sig == SIGKILL && errno != ENOTSUP && errno != ENOENT)
		log_warn(JOB_FMT " cgroup.kill", JOB_ARGS(j));
	send_signal(j, sig);
}

/* Frees the slots whose cgroup is gone; re-arms while some are not. */
static void
clean_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 0, CLEAN_RETRY_MS * 1000 };
	uint32_t s, pending = 0, freed = 0;

	for (s = 0; s < HPL_SLOTS; s++) {
		if (!hp->slot_clean[s])
			continue;
		(void)hpcg_job_kill(hp->slot_job[s]);	/* late forks */
		if (hpcg_job_remove(hp->slot_job[s]) == 0) {
			hp->slot_clean[s] = 0;
			hp->slot_busy[s] = 0;
			freed++;
		} else
			pending++;
	}
	if (pending > 0)
		evtimer_add(hp->ev_clean, &tv);
	if (freed > 0 && fd != -1)
		job_schedule();	/* (fd -1: called from slot_release) */
}

/* The job is over (or never started): its cgroup goes, then its slot. */
static void
slot_release(struct job *j)
{
	hp->slot_job[j->slot] = j->cg_id;
	hp->slot_clean[j->slot] = 1;
	if (hpcg_job_remove(j->cg_id) == 0) {
		hp->slot_clean[j->slot] = 0;
		hp->slot_busy[j->slot] = 0;
		return;
	}
	if (hp->ev_clean == NULL &&
	    (hp->ev_clean = evtimer_new(hp->base, clean_cb, NULL)) == NULL)
		fatalx("evtimer_new");
	if (!evtimer_pending(hp->ev_clean, NULL))
		clean_cb(-1, 0, NULL);
}

static int
slot_alloc(uint32_t *slot)
{
	uint32_t s;

	for (s = 0; s < HPL_SLOTS; s++)
		if (!hp->slot_busy[s]) {
			hp->slot_busy[s] = 1;
			*slot = s;
			return 0;
		}
	return -1;
}

void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	if (j->ev_timer != NULL)
		event_free(j->ev_timer);
	output_drain_close(j);
	free(j);
}

/* Sends DONE to the job's watcherd (if still there), frees the job. */
void
job_finish(struct job *j, uint32_t outcome, int64_t code, const char *msg)
{
	struct hotplug_done d = { .id = j->id, .outcome = outcome,
	    .code = code };
	struct msgbuf b;

	if (j->chan == NULL) {
		hp->st.dropped_results++;
		log_warnx(JOB_FMT " outcome=%s code=%lld: watcherd gone, result "
		    "dropped", JOB_ARGS(j), hotplug_outcome_name(outcome),
		    (long long)code);
		job_free(j);
		return;
	}
	d.duration_us = j->start_us ? now_us() - j->start_us : 0;
	snprintf(d.message, sizeof(d.message), "%s", msg ? msg : "");
	msgbuf_init(&b, MSG_HOTPLUG_DONE, j->reqid);
	hotplug_done_put(&b, &d);
	if (b.err || msgchan_send(j->chan, &b) == -1)
		log_warnx(JOB_FMT ": cannot send DONE", JOB_ARGS(j));
	msgbuf_dispose(&b);
	job_free(j);
}

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct job *j = arg;

	if (j->state == JOB_RUNNING) {
		log_warnx(JOB_FMT " pid=%d: timeout after %u ms, SIGTERM to the "
		    "process group", JOB_ARGS(j), (int)j->pid, j->timeout_ms);
		j->state = JOB_KILLING;
		kill_group(j, SIGTERM);
		arm_timer(j, hp->cfg.script_kill_grace_ms);
	} else if (j->state == JOB_KILLING) {
		log_warnx(JOB_FMT " pid=%d: still alive after %u ms, SIGKILL to "
		    "its cgroup", JOB_ARGS(j), (int)j->pid,
		    hp->cfg.script_kill_grace_ms);
		kill_group(j, SIGKILL);
	}
}

static int
device_busy(const char *be_path)
{
	struct job *r;

	TAILQ_FOREACH(r, &hp->running, entry)
		if (strcmp(r->be_path, be_path) == 0)
			return 1;
	return 0;
}

static void
job_start(struct job *j)
{
	int r;

	/* its own cgroup name: a job id comes back (same device and action,
	 * e.g. a busy retry) while the last run's cgroup may still empty */
	j->cg_id = ++hp->cg_seq;
	j->ev_timer = evtimer_new(hp->base, timer_cb, j);
	r = j->ev_timer == NULL ? ENOMEM : hp_spawn(j);
	if (r != 0) {
		slot_release(j);
		hp->st.spawn_failed++;
		log_warnx(JOB_FMT " script=%s: spawn failed: %s", JOB_ARGS(j),
		    j->exe, strerror(r));
		job_finish(j, HOTPLUG_SPAWN_FAILED, r, strerror(r));
		return;
	}
	j->state = JOB_STARTING;
	j->start_us = now_us();
	TAILQ_INSERT_TAIL(&hp->running, j, entry);
	hp->n_running++;
	if (hp->n_running > hp->st.max_running)
		hp->st.max_running = hp->n_running;
}

/* Tells the job's watcherd its pid and uid (its proxy serves that uid). */
void
job_send_started(struct job *j)
{
	struct hotplug_started st = { j->id, (uint32_t)j->pid, (uint32_t)j->uid };
	struct msgbuf b;

	if (j->chan == NULL)
		return;
	msgbuf_init(&b, MSG_HOTPLUG_STARTED, j->reqid);
	hotplug_started_put(&b, &st);
	if (b.err || msgchan_send(j->chan, &b) == -1)
		log_warnx(JOB_FMT ": cannot send STARTED", JOB_ARGS(j));
	msgbuf_dispose(&b);
}

/* The launcher's OK {pid, uid} + output fd for a STARTING job. */
static void
job_started(struct job *j, struct msg *m)
{
	uint32_t pid, uid;
	int fd = msg_take_fd(m);

	if (msg_get_u32(m, &pid) == -1 || msg_get_u32(m, &uid) == -1 ||
	    msg_end(m) == -1 || pid < 2)
		fatalx("launcher sent a malformed reply");
	j->pid = (pid_t)pid;
	j->uid = (uid_t)uid;
	j->state = JOB_RUNNING;
	hp->st.runs++;
	if (fd == -1 || fcntl(fd, F_SETFL, O_NONBLOCK) == -1 ||
	    output_start(j, fd) == -1) {
		log_warnx(JOB_FMT ": no output pipe", JOB_ARGS(j));
		if (fd != -1)
			close(fd);
	}
	log_info(JOB_FMT " pid=%d: %s %s (%s) uid=%u", JOB_ARGS(j),
	    (int)j->pid, j->exe, j->action, j->be_path, (unsigned)j->uid);
	job_send_started(j);
	if (j->cancelled) {
		j->state = JOB_KILLING;
		kill_group(j, SIGTERM);
		arm_timer(j, hp->cfg.script_kill_grace_ms);
		return;
	}
	arm_timer(j, j->timeout_ms);
}

static void
job_start_failed(struct job *j, struct msg *m)
{
	uint32_t err;
	char why[HOTPLUG_MSG_MAX];

	if (reply_error_get(m, &err, why, sizeof(why)) == -1)
		fatalx("launcher sent a malformed error");
	TAILQ_REMOVE(&hp->running, j, entry);
	hp->n_running--;
	slot_release(j);
	hp->st.spawn_failed++;
	log_warnx(JOB_FMT " script=%s: spawn failed: %s", JOB_ARGS(j), j->exe,
	    why);
	job_finish(j, HOTPLUG_SPAWN_FAILED, err, why);
	job_schedule();
}

/* Starts queued jobs in FIFO order while slots are free (state table). */
void
job_schedule(void)
{
	struct job *j, *next;

	if (hp->terminating)
		return;
	for (j = TAILQ_FIRST(&hp->queued); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (hp->n_running >= hp->cfg.max_jobs)
			break;
		if (device_busy(j->be_path))
			continue;
		if (slot_alloc(&j->slot) == -1)
			break;	/* every uid still being cleaned up */
		TAILQ_REMOVE(&hp->queued, j, entry);
		hp->n_queued--;
		job_start(j);
	}
}

void
job_submit(struct job *j)
{
	if (hp->n_queued >= HP_QUEUE_MAX) {
		hp->st.refusals++;
		log_warnx(JOB_FMT ": queue full (%u jobs)", JOB_ARGS(j),
		    hp->n_queued);
		job_finish(j, HOTPLUG_REFUSED, EAGAIN, "job queue full");
		return;
	}
	j->state = JOB_QUEUED;
	TAILQ_INSERT_TAIL(&hp->queued, j, entry);
	hp->n_queued++;
	log_debug(JOB_FMT ": queued (%u queued, %u running)", JOB_ARGS(j),
	    hp->n_queued, hp->n_running);
	job_schedule();
}

void
job_cancel(struct job *j)
{
	j->cancelled = 1;
	if (j->state == JOB_QUEUED) {
		TAILQ_REMOVE(&hp->queued, j, entry);
		hp->n_queued--;
		hp->st.cancelled++;
		log_info(JOB_FMT ": cancelled while queued", JOB_ARGS(j));
		job_finish(j, HOTPLUG_CANCELLED, 0, "cancelled while queued");
		return;
	}
	if (j->state == JOB_STARTING) {
		log_info(JOB_FMT ": cancelled while starting", JOB_ARGS(j));
		return;
	}
	if (j->state == JOB_RUNNING) {
		log_info(JOB_FMT " pid=%d: cancelled, SIGTERM to the process "
		    "group", JOB_ARGS(j), (int)j->pid);
		j->state = JOB_KILLING;
		kill_group(j, SIGTERM);
		arm_timer(j, hp->cfg.script_kill_grace_ms);
	}
}

static void
job_reaped(struct job *j, int status)
{
	uint32_t outcome;
	int64_t code = WIFSIGNALED(status) ? WTERMSIG(status) :
	    WEXITSTATUS(status);

	TAILQ_REMOVE(&hp->running, j, entry);
	hp->n_running--;
	stats_record(now_us() - j->start_us);
	/* whatever the script left behind (setsid, double fork) */
	kill_group(j, SIGKILL);
	slot_release(j);
	if (j->state == JOB_KILLING) {
		outcome = j->cancelled ? HOTPLUG_CANCELLED : HOTPLUG_TIMED_OUT;
		if (j->cancelled)
			hp->st.cancelled++;
		else
			hp->st.timeouts++;
	} else if (WIFSIGNALED(status)) {
		outcome = HOTPLUG_SIGNALED;
		hp->st.failures++;
	} else {
		outcome = HOTPLUG_EXITED;
		if (code == 0)
			hp->st.ok++;
		else
			hp->st.failures++;
	}
	output_drain_close(j);
	if (j->out_dropped > 0)
		log_warnx(JOB_FMT ": %llu bytes of output over "
		    "script_output_max dropped", JOB_ARGS(j),
		    (unsigned long long)j->out_dropped);
	log_info(JOB_FMT " pid=%d: %s code=%lld after %llu ms", JOB_ARGS(j),
	    (int)j->pid, hotplug_outcome_name(outcome), (long long)code,
	    (unsigned long long)((now_us() - j->start_us) / 1000));
	job_finish(j, outcome, code, j->tail);
}

static struct job *
job_by_pid(pid_t pid)
{
	struct job *j;

	TAILQ_FOREACH(j, &hp->running, entry)
		if (j->state != JOB_STARTING && j->pid == pid)
			return j;
	return NULL;
}

static struct job *
job_by_launch_reqid(uint32_t reqid)
{
	struct job *j;

	TAILQ_FOREACH(j, &hp->running, entry)
		if (j->state == JOB_STARTING && j->launch_reqid == reqid)
			return j;
	return NULL;
}

/* A message from the launcher: a SPAWN's reply or a script's exit. */
void
job_launcher_msg(struct msg *m)
{
	struct job *j;
	uint32_t pid;
	int64_t st;

	if (m->hdr.type == MSG_HPL_EXITED) {
		if (msg_get_u32(m, &pid) == -1 || msg_get_i64(m, &st) == -1 ||
		    msg_end(m) == -1)
			fatalx("launcher sent a malformed EXITED");
		if ((j = job_by_pid((pid_t)pid)) != NULL)
			job_reaped(j, (int)st);
		if (hp->terminating && hp->n_running == 0) {
			log_info("shutting down: no script running any more");
			event_base_loopexit(hp->base, NULL);
			return;
		}
		job_schedule();
		return;
	}
	if ((j = job_by_launch_reqid(m->hdr.reqid)) == NULL) {
		log_warnx("launcher reply reqid=%u matches no job",
		    m->hdr.reqid);
		return;
	}
	if (m->hdr.type == MSG_COMMON_OK)
		job_started(j, m);
	else if (m->hdr.type == MSG_COMMON_ERROR)
		job_start_failed(j, m);
	else
		fatalx("launcher sent message type %u", m->hdr.type);
}

/* watcherd hung up: queued jobs are dropped, running ones keep going. */
void
job_chan_gone(struct msgchan *c)
{
	struct job *j, *next;

	for (j = TAILQ_FIRST(&hp->queued); j != NULL; j = next) {
		next = TAILQ_NEXT(j, entry);
		if (j->chan != c)
			continue;
		TAILQ_REMOVE(&hp->queued, j, entry);
		hp->n_queued--;
		log_warnx(JOB_FMT ": watcherd gone, queued job dropped",
		    JOB_ARGS(j));
		job_free(j);
	}
	TAILQ_FOREACH(j, &hp->running, entry) {
		if (j->chan != c)
			continue;
		j->chan = NULL;
		log_warnx(JOB_FMT " pid=%d: watcherd gone, job continues, "
		    "result will be dropped", JOB_ARGS(j), (int)j->pid);
	}
}

struct job *
job_find(uint64_t id)
{
	struct job *j;

	TAILQ_FOREACH(j, &hp->running, entry)
		if (j->id == id)
			return j;
	TAILQ_FOREACH(j, &hp->queued, entry)
		if (j->id == id)
			return j;
	return NULL;
}

/* Shutdown: queued jobs are freed (watcherd sends them again). */
void
job_drop_queued(void)
{
	struct job *j;

	while ((j = TAILQ_FIRST(&hp->queued)) != NULL) {
		TAILQ_REMOVE(&hp->queued, j, entry);
		hp->n_queued--;
		job_free(j);
	}
}

/* Shutdown: every running job's cgroup is killed, queued jobs freed; the
 * launcher exits when our end of its socket closes. */
void
job_kill_all(void)
{
	struct job *j;

	job_drop_queued();
	while ((j = TAILQ_FIRST(&hp->running)) != NULL) {
		TAILQ_REMOVE(&hp->running, j, entry);
		hp->n_running--;
		log_warnx(JOB_FMT " pid=%d: shutting down, killing its cgroup",
		    JOB_ARGS(j), (int)j->pid);
		kill_group(j, SIGKILL);
		job_free(j);
	}
}
