/*
 * The job queue and the job state machine (table in hotplugd.h): bounded
 * concurrency (max_jobs), never two jobs on one device at once, timeout ->
 * SIGTERM to the whole process group -> SIGKILL after the grace period.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "hotplugd.h"
#include "log.h"
#include "msg.h"

#define JOB_FMT		"job=%llu domid=%u kind=%s devid=%u"
#define JOB_ARGS(j)	(unsigned long long)(j)->id, (j)->domid, (j)->kind, \
			(j)->devid

static void
arm_timer(struct job *j, uint32_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(j->ev_timer, &tv);
}

/* The job's process group AND its descendants outside it (escape.c). */
static void
kill_group(struct job *j, int sig)
{
	size_t n;

	if (j->pid > 1 && kill(-j->pid, sig) == -1 && errno != ESRCH)
		log_warn(JOB_FMT " kill(-%d, %d)", JOB_ARGS(j), (int)j->pid,
		    sig);
	if ((n = hp_kill_marked(j->id, sig)) > 0) {
		hp->st.escapees_signalled += n;
		log_warnx(JOB_FMT ": signal %d to %zu descendant(s) outside "
		    "its process group", JOB_ARGS(j), sig, n);
	}
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
		    "the process group", JOB_ARGS(j), (int)j->pid,
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

	j->ev_timer = evtimer_new(hp->base, timer_cb, j);
	r = j->ev_timer == NULL ? ENOMEM : hp_spawn(j);
	if (r != 0) {
		hp->st.spawn_failed++;
		log_warnx(JOB_FMT " script=%s: spawn failed: %s", JOB_ARGS(j),
		    j->exe, strerror(r));
		job_finish(j, HOTPLUG_SPAWN_FAILED, r, strerror(r));
		return;
	}
	j->state = JOB_RUNNING;
	j->start_us = now_us();
	j->starttime = proc_starttime(j->pid);
	TAILQ_INSERT_TAIL(&hp->running, j, entry);
	hp->n_running++;
	if (hp->n_running > hp->st.max_running)
		hp->st.max_running = hp->n_running;
	hp->st.runs++;
	arm_timer(j, j->timeout_ms);
	log_info(JOB_FMT " pid=%d: %s %s (%s)", JOB_ARGS(j), (int)j->pid,
	    j->exe, j->action, j->be_path);
	if (jobsfile_write() == -1)
		log_warn("%s", hp->jobs_file);
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
	if (j->state == JOB_KILLING) {
		kill_group(j, SIGKILL);	/* leftovers that ignored SIGTERM */
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
	if (jobsfile_write() == -1)
		log_warn("%s", hp->jobs_file);
	job_finish(j, outcome, code, j->tail);
}

void
job_reap_all(void)
{
	struct job *j;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		TAILQ_FOREACH(j, &hp->running, entry)
			if (j->pid == pid)
				break;
		if (j == NULL) {	/* e.g. reparented to us (subreaper) */
			log_debug("reaped child %d (no job's leader)",
			    (int)pid);
			continue;
		}
		job_reaped(j, status);
	}
	if (hp->terminating && hp->n_running == 0) {
		log_info("shutting down: no script running any more");
		job_kill_all();		/* nothing left to kill: the jobs file */
		event_base_loopexit(hp->base, NULL);
		return;
	}
	job_schedule();
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

/* Shutdown: every running group is killed and reaped, queued jobs freed. */
void
job_kill_all(void)
{
	struct job *j;
	int status;

	job_drop_queued();
	while ((j = TAILQ_FIRST(&hp->running)) != NULL) {
		TAILQ_REMOVE(&hp->running, j, entry);
		hp->n_running--;
		log_warnx(JOB_FMT " pid=%d: shutting down, killing its process "
		    "group", JOB_ARGS(j), (int)j->pid);
		kill_group(j, SIGKILL);
		while (waitpid(j->pid, &status, 0) == -1 && errno == EINTR)
			;
		kill_group(j, SIGKILL);
		job_free(j);
	}
	unlink(hp->jobs_file);
}
