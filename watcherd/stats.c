/*
 * Status, statistics and the device listing, as JSON (jansson) for
 * devsepctl.  The STATUS header is common/status's; the attach and detach
 * latency histograms are common/hist's, with doubling bounds in
 * milliseconds: [{"le_ms": 1, "count": n}, ..., {"le_ms": "inf", ...}].
 */
#include <stdlib.h>

#include <jansson.h>

#include "daemon.h"
#include "hist.h"
#include "proto_hotplug.h"
#include "proto_watcher.h"
#include "status.h"
#include "wd.h"

#define LIST_MAX 3500	/* entries: keeps the reply under WATCHER_REPLY_MAX */

/* Attach/detach latencies: upper bounds in milliseconds (1 ms .. 16 s). */
static const struct hist_spec latency_spec = {
	"ms", 15, { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096,
	    8192, 16384 }
};
static struct hist attach_ms = { &latency_spec, { 0 }, 0, 0 };
static struct hist detach_ms = { &latency_spec, { 0 }, 0, 0 };

void
stats_attach_latency(uint64_t ms)
{
	hist_add(&attach_ms, ms);
}

void
stats_detach_latency(uint64_t ms)
{
	hist_add(&detach_ms, ms);
}

/* o as compact JSON text (NULL: out of memory); o is released. */
static char *
dump_json(json_t *o)
{
	char *s;

	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

#define C(name) #name, (json_int_t)wd.st.name

char *
stats_json(void)
{
	json_t *o;

	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    C(attached), C(adopted), C(removed), C(frontend_only), C(errors),
	    C(handovers), C(unsupported), C(forced), C(bodges),
	    C(drain_timeouts), C(script_runs), C(script_failures),
	    C(script_timeouts), C(watch_events), C(evals),
	    C(hints_coalesced), C(hints_ignored), C(invalid_values),
	    C(guests_died), C(xs_reconnects), C(scan_devices), C(scan_ms));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "devices", json_integer((json_int_t)wd.ndevs));
	json_object_set_new(o, "hs_from_job",
	    json_integer((json_int_t)wd.st.hs_from_job));
	json_object_set_new(o, "node_reads",
	    json_integer((json_int_t)wd.st.node_reads));
	json_object_set_new(o, "hints_unused",
	    json_integer((json_int_t)wd.st.hints_unused));
	json_object_set_new(o, "relay_runs",
	    json_integer((json_int_t)wd.st.relay_runs));
	json_object_set_new(o, "relay_failures",
	    json_integer((json_int_t)wd.st.relay_failures));
	json_object_set_new(o, "relay_refused",
	    json_integer((json_int_t)wd.st.relay_refused));
	json_object_set_new(o, "relay_gone",
	    json_integer((json_int_t)wd.st.relay_gone));
	json_object_set_new(o, "reconcile_ms",
	    json_integer((json_int_t)wd.st.reconcile_ms));
	json_object_set_new(o, "attach_latency_ms", hist_json(&attach_ms));
	json_object_set_new(o, "detach_latency_ms", hist_json(&detach_ms));
	return dump_json(o);
}

char *
status_json(void)
{
	json_t *extra;

	extra = json_pack("{s:i, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:s}",
	    "self_domid", (int)wd.self,
	    "backend_dir", wd.be_root, "xenstore", wd.xs != NULL,
	    "hotplugd", hpjobs_connected(), "broker", wd.broker != NULL,
	    "devices", (json_int_t)wd.ndevs,
	    "queued", (json_int_t)wd.ndirty,
	    "jobs", (json_int_t)hpjobs_outstanding(),
	    "run_dir", wd.cfg.run_dir);
	if (extra == NULL)
		return NULL;
	json_object_set_new(extra, "backend_mode",
	    json_string(wd.mode_why ? relay_mode_name() : "unknown"));
	json_object_set_new(extra, "backend_mode_why",
	    json_string(wd.mode_why ? wd.mode_why : "not connected to "
	    "xenstore yet (own domid unknown)"));
	return dump_json(status_json_new("watcherd",
	    (now_ms() - wd.start_ms) / 1000, extra));
}

struct list_arg {
	json_t		*arr;
	uint32_t	 domid;
	size_t		 n;
	int		 truncated;
};

static json_t *
last_script(const struct wdev *d)
{
	json_t *o;

	if (d->last_outcome == WD_OUT_NONE)
		return json_null();
	o = json_pack("{s:s, s:s, s:I, s:I, s:I}",
	    "action", d->last_action == WD_JOB_REMOVE ? "remove" : "add",
	    "outcome", d->last_outcome == WD_OUT_BUILD ? "not-built" :
	    hotplug_outcome_name(d->last_outcome),
	    "code", (json_int_t)d->last_code,
	    "ms", (json_int_t)d->last_dur_ms,
	    "age_s", (json_int_t)((now_ms() - d->last_ms) / 1000));
	/* what failed, in words (errtext.c) */
	if (o != NULL && d->last_err != NULL)
		json_object_set_new(o, "error", json_string(d->last_err));
	return o;
}

static void
list_dev(struct wdev *d, void *arg)
{
	struct list_arg *a = arg;

	if (a->domid != WATCHER_DOMID_ALL && d->domid != a->domid)
		return;
	if (a->n >= LIST_MAX) {
		a->truncated = 1;
		return;
	}
	a->n++;
	d->fe_state = (int8_t)input_fe_state(d);
	json_array_append_new(a->arr, json_pack("{s:s, s:I, s:I, s:i, s:i,"
	    " s:i, s:s, s:s, s:I, s:o}",
	    "kind", dev_kind(d), "domid", (json_int_t)d->domid,
	    "devid", (json_int_t)d->devid, "backend_state", d->be_state,
	    "frontend_state", d->fe_state, "online", d->online,
	    "hotplug_status", hs_name(d->hs),
	    "phase", wd.libxl ? "libxl" : fsm_phase_name(d->st.phase),
	    "handovers", (json_int_t)d->handovers,
	    "last_script", last_script(d)));
}

char *
devices_json(uint32_t domid)
{
	struct list_arg a = { json_array(), domid, 0, 0 };

	devtab_foreach(list_dev, &a);
	return dump_json(json_pack("{s:i, s:I, s:b, s:o}", "self",
	    (int)wd.self, "count", (json_int_t)a.n, "truncated", a.truncated,
	    "devices", a.arr));
}
