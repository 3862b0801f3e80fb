/*
 * Device model lifecycle, as a toolstack would ask the broker:
 *   dm-start DOMID [--cdrom DEVID]... [--memory MB] [--run]
 *                                   MSG_BROKER_DM_START
 *   dm-destroy DOMID [--wait MS]    MSG_BROKER_DM_DESTROY
 * (seed 002 destroy order: lockd DESTROY_BEGIN first, then dm-destroy;
 * the broker tells lockd DM_GONE once QEMU is reaped.)
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "proto_broker.h"

struct dm_args {
	uint32_t	domid, flags, memory_mb, ncd, wait_ms;
	uint32_t	cd[BROKER_MAX_CDROMS];
};

static int
dm_opt(struct ctl *c, int ch, struct dm_args *a)
{
	switch (ch) {
	case 'c':
		if (a->ncd == BROKER_MAX_CDROMS) {
			fprintf(stderr, "%s: at most %d CD-ROM drives\n",
			    c->prog, BROKER_MAX_CDROMS);
			return -1;
		}
		return ctl_arg_u32(c, "device id", optarg, &a->cd[a->ncd++]);
	case 'm':
		return ctl_arg_u32(c, "memory", optarg, &a->memory_mb);
	case 'r':
		a->flags |= BROKER_DM_RUN;
		return 0;
	case 'w':
		return ctl_arg_u32(c, "wait", optarg, &a->wait_ms);
	}
	return -1;
}

static int
dm_parse(struct ctl *c, int argc, char **argv, int start,
    struct dm_args *a)
{
	static const struct option start_lo[] = {
		{ "cdrom",  required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "run",    no_argument,       NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	}, destroy_lo[] = {
		{ "wait", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(a, 0, sizeof(*a));
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", start ? start_lo :
	    destroy_lo, NULL)) != -1)
		if (dm_opt(c, ch, a) == -1)
			goto usage;
	if (argc - optind != 1)
		goto usage;
	return ctl_arg_domid(c, argv[optind], &a->domid) == -1 ? CTL_USAGE :
	    CTL_OK;
usage:
	fprintf(stderr, "usage: %s %s\n", c->prog, start ?
	    "dm-start DOMID [--cdrom DEVID]... [--memory MB] [--run]" :
	    "dm-destroy DOMID [--wait MS]");
	return CTL_USAGE;
}

static int
dm_call(struct ctl *c, struct msgbuf *b, struct ctl_reply *r)
{
	const struct ctl_daemon *d = ctl_daemon_find("broker");
	int rc;

	rc = ctl_call(c, d, b, MSG_COMMON_OK, ctl_timeout(c,
	    CTL_TIMEOUT_OP_MS), r);
	msgbuf_dispose(b);
	ctl_report(c, d, rc, r);
	return rc;
}

static void
dm_print(struct ctl *c, json_t *j, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
dm_print(struct ctl *c, json_t *j, const char *fmt, ...)
{
	va_list ap;

	if (c->json)
		ctl_print_json(j);
	else {
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
	}
	json_decref(j);
}

int
cmd_dm_start(struct ctl *c, int argc, char **argv)
{
	struct broker_dm_start s;
	struct broker_dm_started st;
	struct ctl_reply r;
	struct dm_args a;
	struct msgbuf b;
	int rc;

	if ((rc = dm_parse(c, argc, argv, 1, &a)) != CTL_OK)
		return rc;
	s = (struct broker_dm_start){ a.domid, a.flags, a.memory_mb, a.ncd,
	    { 0 } };
	memcpy(s.cdrom, a.cd, sizeof(s.cdrom));
	msgbuf_init(&b, MSG_BROKER_DM_START, ctl_next_reqid(c));
	broker_dm_start_put(&b, &s);
	if ((rc = dm_call(c, &b, &r)) != CTL_OK)
		goto out;
	if (broker_dm_started_get(&r.m, &st) == -1) {
		fprintf(stderr, "%s: malformed reply from the broker\n",
		    c->prog);
		rc = CTL_NOANSWER;
		goto out;
	}
	dm_print(c, json_pack("{s:s, s:i, s:i, s:i}", "result", "started",
	    "domid", (int)a.domid, "pid", (int)st.pid, "uid", (int)st.uid),
	    "started: domid=%u qemu pid=%u uid=%u\n", a.domid, st.pid, st.uid);
out:
	ctl_reply_dispose(&r);
	return rc;
}

int
cmd_dm_destroy(struct ctl *c, int argc, char **argv)
{
	struct broker_dm_destroyed dd;
	struct broker_dm_destroy d;
	struct ctl_reply r;
	struct dm_args a;
	struct msgbuf b;
	int rc;

	if ((rc = dm_parse(c, argc, argv, 0, &a)) != CTL_OK)
		return rc;
	d = (struct broker_dm_destroy){ a.domid, a.wait_ms };
	msgbuf_init(&b, MSG_BROKER_DM_DESTROY, ctl_next_reqid(c));
	broker_dm_destroy_put(&b, &d);
	if ((rc = dm_call(c, &b, &r)) != CTL_OK)
		goto out;
	if (broker_dm_destroyed_get(&r.m, &dd) == -1) {
		fprintf(stderr, "%s: malformed reply from the broker\n",
		    c->prog);
		rc = CTL_NOANSWER;
		goto out;
	}
	dm_print(c, json_pack("{s:s, s:i, s:i, s:I, s:b}", "result",
	    "destroyed", "domid", (int)a.domid, "pid", (int)dd.pid, "status",
	    (json_int_t)dd.status, "dm_gone_sent", dd.dm_gone_sent != 0),
	    "destroyed: domid=%u qemu pid=%u%s wait status=%lld lockd %s\n",
	    a.domid, dd.pid, dd.pid ? "" : " (none was running)",
	    (long long)dd.status, dd.dm_gone_sent ? "told DM_GONE" :
	    "had no dying domain");
out:
	ctl_reply_dispose(&r);
	return rc;
}
