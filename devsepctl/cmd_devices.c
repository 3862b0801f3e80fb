/*
 * devices [--domid N]: MSG_WATCHER_DEVICES to watcherd; one row per
 * device with both xenbus states, hotplug-status, its phase, how many
 * frontend hand-overs (kexec, seed 001) it went through, and the last
 * hotplug script run.  Everything shown that a guest can write (frontend state,
 * hotplug-status in a driver domain) is sanitized by the table renderer.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "proto_watcher.h"
#include "table.h"

static const char *const xb_names[] = {
	"Unknown", "Initialising", "InitWait", "Initialised", "Connected",
	"Closing", "Closed", "Reconfiguring", "Reconfigured",
};

static void
state_cell(struct table *t, json_t *j)
{
	json_int_t s = json_is_integer(j) ? json_integer_value(j) : -1;

	if (s >= 0 && s < (json_int_t)(sizeof(xb_names) / sizeof(*xb_names)))
		table_cell(t, "%d %s", (int)s, xb_names[s]);
	else
		table_cell(t, "-");
}

/* The code of an outcome in words: exit status, signal or errno name. */
static const char *
code_text(const char *outcome, json_t *code, char *buf, size_t sz)
{
	json_int_t c = json_is_integer(code) ? json_integer_value(code) : -1;
	const char *n = NULL;

	if (strcmp(outcome, "signaled") == 0 || strcmp(outcome, "timed-out") == 0)
		n = c > 0 && c < 65 ? sigabbrev_np((int)c) : NULL;
	else if (strcmp(outcome, "refused") == 0 ||
	    strcmp(outcome, "spawn-failed") == 0)
		n = c > 0 ? strerrorname_np((int)c) : NULL;
	if (n != NULL)
		snprintf(buf, sz, "%s%s", strcmp(outcome, "refused") == 0 ||
		    strcmp(outcome, "spawn-failed") == 0 ? "" : "SIG", n);
	else if (strcmp(outcome, "cancelled") == 0)
		buf[0] = '\0';
	else
		snprintf(buf, sz, "%lld", (long long)c);
	return buf;
}

/* "add exited 0 120ms 5s ago", "add timed-out SIGTERM 10003ms 5s ago" */
static void
script_cell(struct table *t, json_t *s)
{
	char a[32], o[32], c[32], ms[32], age[32];
	json_int_t ag;

	if (!json_is_object(s)) {
		table_cell(t, "-");
		return;
	}
	ag = json_integer_value(json_object_get(s, "age_s"));
	ctl_fmt_duration(ag > 0 ? (uint64_t)ag : 0, age, sizeof(age));
	ctl_json_text(json_object_get(s, "outcome"), o, sizeof(o));
	table_cell(t, "%s %s %s %sms %s ago",
	    ctl_json_text(json_object_get(s, "action"), a, sizeof(a)), o,
	    code_text(o, json_object_get(s, "code"), c, sizeof(c)),
	    ctl_json_text(json_object_get(s, "ms"), ms, sizeof(ms)), age);
}

/* After the table: each failed device's last script error in words. */
static void
print_errors(json_t *devs)
{
	char b[3][64], text[2048];
	json_t *d, *e;
	size_t i;

	json_array_foreach(devs, i, d) {
		e = json_object_get(json_object_get(d, "last_script"), "error");
		if (!json_is_string(e))
			continue;
		table_sanitize(text, sizeof(text), json_string_value(e));
		printf("%s %s/%s: %s\n",
		    ctl_json_text(json_object_get(d, "kind"), b[0], sizeof(b[0])),
		    ctl_json_text(json_object_get(d, "domid"), b[1],
		    sizeof(b[1])),
		    ctl_json_text(json_object_get(d, "devid"), b[2],
		    sizeof(b[2])), text);
	}
}

static void
device_row(struct table *t, json_t *d)
{
	char b[3][64];

	table_row(t);
	table_cell(t, "%s", ctl_json_text(json_object_get(d, "kind"), b[0],
	    sizeof(b[0])));
	table_cell(t, "%s", ctl_json_text(json_object_get(d, "domid"), b[1],
	    sizeof(b[1])));
	table_cell(t, "%s", ctl_json_text(json_object_get(d, "devid"), b[2],
	    sizeof(b[2])));
	state_cell(t, json_object_get(d, "backend_state"));
	state_cell(t, json_object_get(d, "frontend_state"));
	table_cell(t, "%s", ctl_json_text(json_object_get(d,
	    "hotplug_status"), b[0], sizeof(b[0])));
	table_cell(t, "%s", ctl_json_text(json_object_get(d, "phase"), b[1],
	    sizeof(b[1])));
	table_cell(t, "%s", ctl_json_text(json_object_get(d, "handovers"),
	    b[2], sizeof(b[2])));
	script_cell(t, json_object_get(d, "last_script"));
}

static int
render(struct ctl *c, json_t *j)
{
	json_t *devs = json_object_get(j, "devices"), *d;
	struct table t;
	size_t i;
	int rc = CTL_OK;

	if (!json_is_array(devs)) {
		fprintf(stderr, "%s: watcherd's reply has no \"devices\" "
		    "array\n", c->prog);
		return CTL_NOANSWER;
	}
	table_init(&t, "KIND", "DOMID", "DEVID", "BACKEND", "FRONTEND",
	    "HOTPLUG", "PHASE", "KEXECS", "LAST SCRIPT", NULL);
	json_array_foreach(devs, i, d)
		device_row(&t, d);
	if (table_print(&t, stdout) == -1)
		rc = CTL_FAILED;
	table_dispose(&t);
	print_errors(devs);
	if (json_is_true(json_object_get(j, "truncated")))
		fprintf(stderr, "%s: listing truncated by watcherd (use "
		    "--domid)\n", c->prog);
	return rc;
}

int
cmd_devices(struct ctl *c, int argc, char **argv)
{
	struct watcher_devices req = { WATCHER_DOMID_ALL };
	struct msgbuf b;
	int rc, set;

	if ((rc = ctl_args_domid(c, argc, argv, "domid", "devices [--domid N]",
	    &req.domid, &set)) != CTL_OK)
		return rc;
	msgbuf_init(&b, MSG_WATCHER_DEVICES, ctl_next_reqid(c));
	watcher_devices_put(&b, &req);
	return ctl_query(c, "watcherd", &b, MSG_WATCHER_DEVICES_REPLY, render);
}
