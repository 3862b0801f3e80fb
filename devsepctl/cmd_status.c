/*
 * status / stats: MSG_COMMON_STATUS and MSG_COMMON_STATS to every daemon
 * (or the ones named).  A daemon that is not running is a row, not an
 * error, unless it was named.
 *
 * Exit: 0 when every named daemon answered (no names: at least one
 * daemon answered), 3 when one that was needed is not running, 5 when one
 * answered garbage or timed out.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "proto.h"
#include "table.h"

struct probe {
	const struct ctl_daemon	*d;
	int			 rc;
	json_t			*j;	/* the daemon's JSON when rc == OK */
	char			 why[640];
};

static int
probe(struct ctl *c, const struct ctl_daemon *d, uint32_t type,
    uint32_t reply, struct probe *p)
{
	struct ctl_reply r;
	struct msgbuf b;

	memset(p, 0, sizeof(*p));
	p->d = d;
	msgbuf_init(&b, type, ctl_next_reqid(c));
	p->rc = ctl_call_json(c, d, &b, reply, ctl_timeout(c,
	    CTL_TIMEOUT_QUERY_MS), &r, &p->j);
	msgbuf_dispose(&b);
	if (p->rc == CTL_FAILED && r.err != 0)
		snprintf(p->why, sizeof(p->why), "%s", r.errmsg);
	else if (p->rc != CTL_OK)
		snprintf(p->why, sizeof(p->why), "%s", r.why);
	ctl_reply_dispose(&r);
	return p->rc;
}

/* Selects the daemons named in argv (all when none); CTL_USAGE on a typo. */
static int
select_daemons(struct ctl *c, int argc, char **argv,
    const struct ctl_daemon **sel, size_t *n)
{
	size_t i;
	int a;

	*n = 0;
	if (argc <= 1) {
		for (i = 0; i < ctl_ndaemons; i++)
			sel[(*n)++] = &ctl_daemons[i];
		return CTL_OK;
	}
	for (a = 1; a < argc && *n < ctl_ndaemons; a++) {
		if ((sel[*n] = ctl_daemon_find(argv[a])) == NULL) {
			fprintf(stderr, "%s: unknown daemon '%s' (watcherd, "
			    "hotplugd, lockd, broker)\n", c->prog, argv[a]);
			return CTL_USAGE;
		}
		(*n)++;
	}
	if (a < argc) {
		fprintf(stderr, "%s: too many daemon names\n", c->prog);
		return CTL_USAGE;
	}
	return CTL_OK;
}

/* The command's exit code from the probes (see the top comment). */
static int
probes_rc(const struct probe *p, size_t n, int named)
{
	size_t i, up = 0;
	int rc = CTL_OK;

	for (i = 0; i < n; i++) {
		if (p[i].rc == CTL_OK)
			up++;
		else if (p[i].rc == CTL_NOANSWER || p[i].rc == CTL_FAILED)
			rc = p[i].rc;
		else if (named && rc == CTL_OK)
			rc = p[i].rc;
	}
	if (up == 0 && rc == CTL_OK)
		rc = CTL_NODAEMON;
	return rc;
}

static json_t *
probes_json(const struct probe *p, size_t n, const char *key,
    const char *rundir)
{
	json_t *all = json_object(), *arr = json_array(), *o;
	size_t i;

	json_object_set_new(all, "rundir", json_string(rundir));
	for (i = 0; i < n; i++) {
		o = json_pack("{s:s, s:b}", "daemon", p[i].d->name, "running",
		    p[i].rc == CTL_OK);
		if (p[i].rc == CTL_OK)
			json_object_set(o, key, p[i].j);
		else
			json_object_set_new(o, "error", json_string(p[i].why));
		json_array_append_new(arr, o);
	}
	json_object_set_new(all, "daemons", arr);
	return all;
}

static void
status_row(struct table *t, const struct probe *p)
{
	char up[32], pid[32], ver[64], sb[200];
	json_int_t s;

	table_row(t);
	table_cell(t, "%s", p->d->name);
	if (p->rc != CTL_OK) {
		table_cell(t, "%s", p->rc == CTL_NODAEMON ? "not running" :
		    "error");
		table_cell(t, "-");
		table_cell(t, "-");
		table_cell(t, "-");
		table_cell(t, "%s", p->why);
		return;
	}
	s = json_integer_value(json_object_get(p->j, "uptime_s"));
	ctl_fmt_duration(s > 0 ? (uint64_t)s : 0, up, sizeof(up));
	ctl_json_brief(json_object_get(p->j, "sandbox"), sb, sizeof(sb));
	table_cell(t, "running");
	table_cell(t, "%s", ctl_json_text(json_object_get(p->j, "pid"), pid,
	    sizeof(pid)));
	table_cell(t, "%s", ctl_json_text(json_object_get(p->j, "version"),
	    ver, sizeof(ver)));
	table_cell(t, "%s", up);
	table_cell(t, "%s", sb);
}

/* watcherd's backend_mode: who drives this domain's backends. */
static void
mode_lines(const struct probe *p, size_t n)
{
	const char *m, *why;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i].rc != CTL_OK || strcmp(p[i].d->name, "watcherd") != 0)
			continue;
		m = json_string_value(json_object_get(p[i].j, "backend_mode"));
		why = json_string_value(json_object_get(p[i].j,
		    "backend_mode_why"));
		if (m != NULL)
			printf("watcherd backend_mode: %s (%s)\n", m,
			    why ? why : "");
	}
}

static int
run_probes(struct ctl *c, int argc, char **argv, uint32_t type,
    uint32_t reply, struct probe *p, size_t *n)
{
	const struct ctl_daemon *sel[8];
	size_t i;
	int rc;

	if ((rc = select_daemons(c, argc, argv, sel, n)) != CTL_OK) {
		*n = 0;		/* nothing probed: nothing to show or free */
		return rc;
	}
	for (i = 0; i < *n; i++)
		probe(c, sel[i], type, reply, &p[i]);
	return probes_rc(p, *n, argc > 1);
}

static void
probes_free(struct probe *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_decref(p[i].j);
}

int
cmd_status(struct ctl *c, int argc, char **argv)
{
	struct probe p[8];
	struct table t;
	size_t n = 0, i;
	json_t *j;
	int rc;

	rc = run_probes(c, argc, argv, MSG_COMMON_STATUS,
	    MSG_COMMON_STATUS_REPLY, p, &n);
	if (rc == CTL_USAGE)
		return rc;
	if (c->json) {
		j = probes_json(p, n, "status", c->rundir);
		ctl_print_json(j);
		json_decref(j);
	} else {
		table_init(&t, "DAEMON", "STATE", "PID", "VERSION", "UPTIME",
		    "SANDBOX / PROBLEM", NULL);
		for (i = 0; i < n; i++)
			status_row(&t, &p[i]);
		if (table_print(&t, stdout) == -1)
			rc = CTL_FAILED;
		table_dispose(&t);
		mode_lines(p, n);
	}
	probes_free(p, n);
	return rc;
}

/*
 * A latency histogram as the daemons send it, [{"le_ms":10,"count":3},
 * ...,{"le_ms":"inf","count":0}], as "<=10ms:3 <=50ms:1 inf:0".
 * Returns -1 when j does not have that shape.
 */
static int
histogram_text(json_t *j, char *buf, size_t n)
{
	const char *unit = NULL, *k;
	json_t *e, *v, *le;
	size_t i, len = 0;
	char b[64];

	if (!json_is_array(j) || json_array_size(j) == 0)
		return -1;
	buf[0] = '\0';
	json_array_foreach(j, i, e) {
		le = NULL;
		json_object_foreach(e, k, v)
			if (strncmp(k, "le_", 3) == 0) {
				le = v;
				unit = k + 3;
			}
		if (le == NULL || !json_is_integer(json_object_get(e, "count")))
			return -1;
		len += snprintf(buf + len, len < n ? n - len : 0, "%s%s%s%s:%"
		    JSON_INTEGER_FORMAT, len ? " " : "", json_is_string(le) ?
		    "" : "<=", ctl_json_text(le, b, sizeof(b)),
		    json_is_string(le) ? "" : unit,
		    json_integer_value(json_object_get(e, "count")));
	}
	return len < n ? 0 : -1;
}

/* Flattens nested objects into "a.b.c  value" rows; arrays stay compact. */
static void
flatten(struct table *t, const char *daemon, const char *prefix, json_t *j)
{
	char key[256], val[TABLE_CELL_MAX];
	const char *k;
	json_t *v;

	if (!json_is_object(j) || json_object_size(j) == 0) {
		table_row(t);
		table_cell(t, "%s", daemon);
		table_cell(t, "%s", prefix);
		if (histogram_text(j, val, sizeof(val)) == -1)
			ctl_json_text(j, val, sizeof(val));
		table_cell(t, "%s", val);
		return;
	}
	json_object_foreach(j, k, v) {
		snprintf(key, sizeof(key), "%s%s%s", prefix,
		    prefix[0] ? "." : "", k);
		flatten(t, daemon, key, v);
	}
}

static void
stats_rows(struct table *t, const struct probe *p)
{
	if (p->rc == CTL_OK) {
		flatten(t, p->d->name, "", p->j);
		return;
	}
	table_row(t);
	table_cell(t, "%s", p->d->name);
	table_cell(t, "%s", p->rc == CTL_NODAEMON ? "not running" : "error");
	table_cell(t, "%s", p->why);
}

int
cmd_stats(struct ctl *c, int argc, char **argv)
{
	struct probe p[8];
	struct table t;
	size_t n = 0, i;
	json_t *j;
	int rc;

	rc = run_probes(c, argc, argv, MSG_COMMON_STATS,
	    MSG_COMMON_STATS_REPLY, p, &n);
	if (rc == CTL_USAGE)
		return rc;
	if (c->json) {
		j = probes_json(p, n, "stats", c->rundir);
		ctl_print_json(j);
		json_decref(j);
	} else {
		table_init(&t, "DAEMON", "COUNTER", "VALUE", NULL);
		for (i = 0; i < n; i++)
			stats_rows(&t, &p[i]);
		if (table_print(&t, stdout) == -1)
			rc = CTL_FAILED;
		table_dispose(&t);
	}
	probes_free(p, n);
	return rc;
}
