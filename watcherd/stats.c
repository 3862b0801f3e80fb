/*
 * Status, statistics and the device listing, as JSON (jansson) for
 * devsepctl.  Latency histograms are log2 buckets of milliseconds:
 * bucket i counts latencies in [2^(i-1), 2^i) ms (bucket 0: < 1 ms),
 * listed as {"lt_ms": 2^i, "count": n}.
 */
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon.h"
#include "proto_hotplug.h"
#include "proto_watcher.h"
#include "sandbox.h"
#include "wd.h"

#define NBUCKETS 16
#define LIST_MAX 3500	/* entries: keeps the reply under WATCHER_REPLY_MAX */

void
stats_hist_add(uint64_t *hist, uint64_t ms)
{
	unsigned i = 0;

	while (ms > 0 && i < NBUCKETS - 1) {
		ms >>= 1;
		i++;
	}
	hist[i]++;
}

static json_t *
hist_json(const uint64_t *hist)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < NBUCKETS; i++)
		if (hist[i])
			json_array_append_new(a, json_pack("{s:I, s:I}",
			    "lt_ms", (json_int_t)(1ull << i),
			    "count", (json_int_t)hist[i]));
	return a;
}

#define C(name) #name, (json_int_t)wd.st.name

char *
stats_json(void)
{
	json_t *o;
	char *s;

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
	json_object_set_new(o, "reconcile_ms",
	    json_integer((json_int_t)wd.st.reconcile_ms));
	json_object_set_new(o, "attach_latency_ms",
	    hist_json(wd.st.attach_hist));
	json_object_set_new(o, "detach_latency_ms",
	    hist_json(wd.st.detach_hist));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

char *
status_json(void)
{
	json_t *o, *sb;
	char *s;

	if ((sb = json_loads(sandbox_status_json(), 0, NULL)) == NULL)
		sb = json_object();
	o = json_pack("{s:s, s:s, s:i, s:I, s:o, s:i, s:s, s:b, s:b, s:b,"
	    " s:I, s:I, s:I, s:s}",
	    "daemon", "watcherd", "version", DEVSEP_VERSION,
	    "pid", (int)getpid(),
	    "uptime_s", (json_int_t)((now_ms() - wd.start_ms) / 1000),
	    "sandbox", sb, "self_domid", (int)wd.self,
	    "backend_dir", wd.be_root, "xenstore", wd.xs != NULL,
	    "hotplugd", jobs_connected(), "broker", wd.broker != NULL,
	    "devices", (json_int_t)wd.ndevs,
	    "queued", (json_int_t)wd.ndirty,
	    "jobs", (json_int_t)jobs_outstanding(),
	    "run_dir", wd.cfg.run_dir);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
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
	if (d->last_outcome == 0xff)
		return json_null();
	return json_pack("{s:s, s:s, s:I, s:I, s:I}",
	    "action", d->last_action == 2 ? "remove" : "add",
	    "outcome", hotplug_outcome_name(d->last_outcome),
	    "code", (json_int_t)d->last_code,
	    "ms", (json_int_t)d->last_dur_ms,
	    "age_s", (json_int_t)((now_ms() - d->last_ms) / 1000));
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
	d->fe_state = (int8_t)xsio_fe_state(d);
	json_array_append_new(a->arr, json_pack("{s:s, s:I, s:I, s:i, s:i,"
	    " s:i, s:s, s:s, s:I, s:o}",
	    "kind", dev_kind(d), "domid", (json_int_t)d->domid,
	    "devid", (json_int_t)d->devid, "backend_state", d->be_state,
	    "frontend_state", d->fe_state, "online", d->online,
	    "hotplug_status", hs_name(d->hs),
	    "phase", fsm_phase_name(d->st.phase),
	    "handovers", (json_int_t)d->handovers,
	    "last_script", last_script(d)));
}

char *
devices_json(uint32_t domid)
{
	struct list_arg a = { json_array(), domid, 0, 0 };
	json_t *o;
	char *s;

	devtab_foreach(list_dev, &a);
	o = json_pack("{s:i, s:I, s:b, s:o}", "self", (int)wd.self,
	    "count", (json_int_t)a.n, "truncated", a.truncated,
	    "devices", a.arr);
	if (o == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
