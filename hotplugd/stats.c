/* MSG_COMMON_STATUS / MSG_COMMON_STATS replies (JSON), run-time histogram. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon.h"
#include "hist.h"
#include "hotplugd.h"
#include "status.h"

#define STATUS_JOBS_MAX	48	/* jobs listed in STATUS */

/* Script run times: upper bounds in milliseconds. */
static const struct hist_spec run_spec = {
	"ms", 8, { 10, 50, 100, 250, 500, 1000, 2500, 10000 }
};
static struct hist run_ms = { &run_spec, { 0 }, 0, 0 };

void
stats_record(uint64_t duration_us)
{
	hist_add(&run_ms, duration_us / 1000);
}

char *
stats_json(void)
{
	json_t *o = json_object();
	char *s;

#define C(n) json_object_set_new(o, #n, json_integer(hp->st.n))
	C(runs); C(ok); C(failures); C(timeouts); C(refusals);
	C(spawn_failed); C(cancelled); C(dropped_results);
	C(output_dropped); C(cgroup_kills); C(max_running);
#undef C
	json_object_set_new(o, "running", json_integer(hp->n_running));
	json_object_set_new(o, "queued", json_integer(hp->n_queued));
	json_object_set_new(o, "run_time_ms", hist_json(&run_ms));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static json_t *
job_json(const struct job *j)
{
	json_t *o = json_object();

	json_object_set_new(o, "job", json_integer(j->id));
	json_object_set_new(o, "domid", json_integer(j->domid));
	json_object_set_new(o, "kind", json_string(j->kind));
	json_object_set_new(o, "devid", json_integer(j->devid));
	json_object_set_new(o, "action", json_string(j->action));
	json_object_set_new(o, "script", json_string(j->script));
	if (j->state != JOB_QUEUED) {
		json_object_set_new(o, "pid", json_integer(j->pid));
		json_object_set_new(o, "elapsed_ms",
		    json_integer((now_us() - j->start_us) / 1000));
	}
	json_object_set_new(o, "state", json_string(j->state == JOB_QUEUED ?
	    "queued" : j->state == JOB_RUNNING ? "running" : "killing"));
	return o;
}

char *
status_json(void)
{
	json_t *o, *a = json_array();
	const struct job *j;
	char *s;

	if ((o = status_json_new("hotplugd", (now_ms() - hp->start_ms) / 1000,
	    NULL)) == NULL) {
		json_decref(a);
		return NULL;
	}
	json_object_set_new(o, "script_dir", json_string(hp->script_dir_real));
	json_object_set_new(o, "max_jobs", json_integer(hp->cfg.max_jobs));
	json_object_set_new(o, "running", json_integer(hp->n_running));
	json_object_set_new(o, "queued", json_integer(hp->n_queued));
	/* Bounded: the reply must fit one message. */
	TAILQ_FOREACH(j, &hp->running, entry)
		if (json_array_size(a) < STATUS_JOBS_MAX)
			json_array_append_new(a, job_json(j));
	TAILQ_FOREACH(j, &hp->queued, entry)
		if (json_array_size(a) < STATUS_JOBS_MAX)
			json_array_append_new(a, job_json(j));
	json_object_set_new(o, "jobs", a);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
