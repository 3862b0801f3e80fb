/*
 * rel-json: the toolstack's side of a domain's JSON config for the
 * reliability campaign, done as a careful toolstack does it (seed 002):
 * read-modify-write under the fast lock, so the broker's "dm"/"qmp"
 * entries written in between are kept; idempotent, so a retry after lockd
 * died between the write and its reply does not duplicate or lose an
 * entry; retried while lockd is down (it is being restarted).
 *
 *   rel-json RUNDIR add DOMID KIND DEVID    devices[KIND] gets {"devid":N}
 *   rel-json RUNDIR del DOMID KIND DEVID    the entry is gone
 *   rel-json RUNDIR devices DOMID           "KIND:DEVID" lines (sorted by kind)
 *   rel-json RUNDIR has-key DOMID KEY       exit 0 if config has top-level KEY
 * Env REL_JSON_DEADLINE_MS (default 30000): give up after this long.
 * Exit: 0 ok, 1 failed (message on stderr), 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lockd_client.h"
#include "parse.h"

struct req {
	const char	*rundir, *op, *kind, *key;
	uint32_t	 domid, devid;
};

static long
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Index of {"devid": devid} in arr, or -1. */
static int
find_dev(json_t *arr, uint32_t devid)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		if (json_integer_value(json_object_get(e, "devid")) ==
		    (json_int_t)devid)
			return (int)i;
	}
	return -1;
}

/* Applies add/del to cfg; returns 1 if cfg changed, 0 if not, -1 error. */
static int
edit(json_t *cfg, const struct req *r)
{
	json_t *devs, *arr;
	int i;

	if ((devs = json_object_get(cfg, "devices")) == NULL) {
		devs = json_object();
		json_object_set_new(cfg, "devices", devs);
	}
	if (!json_is_object(devs))
		return -1;
	if ((arr = json_object_get(devs, r->kind)) == NULL) {
		arr = json_array();
		json_object_set_new(devs, r->kind, arr);
	}
	if (!json_is_array(arr))
		return -1;
	i = find_dev(arr, r->devid);
	if (strcmp(r->op, "add") == 0) {
		if (i >= 0)
			return 0;
		json_array_append_new(arr, json_pack("{s:I}", "devid",
		    (json_int_t)r->devid));
		return 1;
	}
	if (i < 0)
		return 0;
	json_array_remove(arr, (size_t)i);
	return 1;
}

static void
print_devices(json_t *cfg)
{
	const char *k;
	json_t *arr, *e;
	size_t i;

	json_object_foreach(json_object_get(cfg, "devices"), k, arr) {
		json_array_foreach(arr, i, e)
			printf("%s:%lld\n", k, (long long)json_integer_value(
			    json_object_get(e, "devid")));
	}
}

static char lasterr[256];

/* One attempt on a fresh connection; returns 0 or -errno. */
static int
attempt(const struct req *r)
{
	struct lockc *c;
	char *txt = NULL, *out = NULL;
	json_t *cfg = NULL;
	int rc, ch;

	if ((c = lockc_open(r->rundir)) == NULL)
		return -errno;
	if ((rc = lockc_acquire(c, r->domid, LOCK_FAST, 5000, NULL)) < 0)
		goto out;
	if ((rc = lockc_config_read(c, r->domid, &txt, NULL)) < 0)
		goto out;
	if ((cfg = json_loads(txt, 0, NULL)) == NULL || !json_is_object(cfg)) {
		rc = -EPROTO;
		goto out;
	}
	if (strcmp(r->op, "devices") == 0) {
		print_devices(cfg);
		goto out;
	}
	if (strcmp(r->op, "has-key") == 0) {
		rc = json_object_get(cfg, r->key) ? 0 : -ENOENT;
		goto out;
	}
	if ((ch = edit(cfg, r)) < 0) {
		rc = -EPROTO;
		goto out;
	}
	if (ch && (out = json_dumps(cfg, JSON_COMPACT)) != NULL)
		rc = lockc_config_write(c, r->domid, out, 0, NULL);
out:
	if (rc < 0)
		snprintf(lasterr, sizeof(lasterr), "%s (%s)", strerror(-rc),
		    lockc_errmsg(c));
	json_decref(cfg);
	free(txt);
	free(out);
	lockc_close(c);	/* releases the fast lock with the connection */
	return rc;
}

static int
usage(void)
{
	fprintf(stderr, "usage: rel-json RUNDIR add|del DOMID KIND DEVID\n"
	    "       rel-json RUNDIR devices DOMID | has-key DOMID KEY\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct req r = { 0 };
	long deadline = 30000;
	const char *e = getenv("REL_JSON_DEADLINE_MS");
	int rc;

	if (argc < 4)
		return usage();
	r.rundir = argv[1];
	r.op = argv[2];
	if (parse_domid(argv[3], &r.domid) == -1)
		return usage();
	if (!strcmp(r.op, "add") || !strcmp(r.op, "del")) {
		if (argc != 6 || parse_u32(argv[5], UINT32_MAX, &r.devid) == -1)
			return usage();
		r.kind = argv[4];
	} else if (!strcmp(r.op, "has-key") && argc == 5)
		r.key = argv[4];
	else if (strcmp(r.op, "devices") || argc != 4)
		return usage();
	if (e && (deadline = strtol(e, NULL, 10)) <= 0)
		deadline = 30000;
	deadline += ms_now();
	/* lockd may be down (killed, being restarted): retry until the
	 * deadline; a definite answer (ESRCH: no such domain) ends it. */
	while ((rc = attempt(&r)) < 0 && rc != -ESRCH && rc != -ENOENT &&
	    rc != -EPROTO && ms_now() < deadline)
		usleep(50000);
	if (rc < 0 && rc != -ENOENT)
		fprintf(stderr, "rel-json: %s %u: %s\n", r.op, r.domid, lasterr);
	return rc < 0 ? 1 : 0;
}
