/*
 * lockd-tool: a small blocking client of devsep-lockd for the integration
 * scripts (lockd/tests/test-*.sh).  Not a product CLI (devsepctl is).
 *
 *   lockd-tool RUNDIR create DOMID [JSON]
 *   lockd-tool RUNDIR read DOMID            fast lock, print config, release
 *   lockd-tool RUNDIR write DOMID JSON      fast lock, write, release
 *   lockd-tool RUNDIR contend DOMID N       N x {fast lock; counter += 1}
 *   lockd-tool RUNDIR hold DOMID slow|fast SECONDS   prints "held" then sleeps
 *   lockd-tool RUNDIR acquire DOMID slow|fast TIMEOUT_MS  prints "waited_ms=N"
 *   lockd-tool RUNDIR try DOMID slow|fast
 *   lockd-tool RUNDIR order                 slow 2 then fast 2 then slow 1
 *   lockd-tool RUNDIR begin DOMID [nodm] | dmgone DOMID | finish DOMID
 *   lockd-tool RUNDIR list | query | stats | status
 *   lockd-tool RUNDIR script        one connection, commands on stdin:
 *       acquire D slow|fast MS | release D slow|fast | read D | write D JSON
 *     each answered by one line "ok [generation=G] [json]" or
 *     "error ENAME message" (used to interleave actors step by step)
 *   lockd-tool RUNDIR xscheck BDOMID [FILE]   the same with the primary
 *                                  config read from xenstore (backends of
 *                                  BDOMID, XENSTORED_PATH) plus FILE's items
 *   lockd-tool RUNDIR check FILE   seed-002 invariant: FILE lists the primary
 *                                  config, one "DOMID xs|qmp KIND ID" a line;
 *                                  exit 1 and one line per violation
 * Exit status: 0 ok; otherwise prints "error: <errno name>: <message>" and
 * exits with 10 + errno (so scripts can test for a specific refusal).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <xenstore.h>

#include "daemon.h"
#include "invariant.h"
#include "lockd_client.h"
#include "parse.h"
#include "proto_lock.h"

static struct lockc *c;

static void
die(int rc, const char *what)
{
	printf("error: %s: %s: %s\n", what, strerrorname_np(-rc),
	    lockc_errmsg(c));
	fflush(stdout);
	exit(10 + (-rc));
}

static uint32_t
num(const char *s)
{
	uint32_t v;

	if (s == NULL || parse_u32(s, UINT32_MAX, &v) == -1) {
		fprintf(stderr, "bad or missing number %s\n", s ? s : "");
		exit(2);
	}
	return v;
}

static uint32_t
which(const char *s)
{
	if (s == NULL) {
		fprintf(stderr, "missing slow|fast\n");
		exit(2);
	}
	return strcmp(s, "slow") == 0 ? LOCK_SLOW : LOCK_FAST;
}

static void
check(int rc, const char *what)
{
	if (rc < 0)
		die(rc, what);
}

/* One read-modify-write of "counter" under the fast lock. */
static void
increment(uint32_t domid)
{
	json_t *o, *n;
	uint64_t gen, ngen;
	char *s, *out;

	check(lockc_acquire(c, domid, LOCK_FAST, LOCK_TIMEOUT_INFINITE, &gen),
	    "acquire");
	check(lockc_config_read(c, domid, &s, &gen), "read");
	if ((o = json_loads(s, 0, NULL)) == NULL)
		exit(3);
	n = json_object_get(o, "counter");
	json_object_set_new(o, "counter",
	    json_integer(n ? json_integer_value(n) + 1 : 1));
	out = json_dumps(o, JSON_COMPACT);
	/* unconditional write: an overlap would lose an update */
	check(lockc_config_write(c, domid, out, 0, &ngen), "write");
	check(lockc_release(c, domid, LOCK_FAST), "release");
	free(out);
	free(s);
	json_decref(o);
}

static int
cmd_lifecycle(char **a)
{
	uint64_t gen;

	if (strcmp(a[0], "create") == 0) {
		check(lockc_domain_create(c, num(a[1]), a[2], &gen), "create");
		printf("generation=%llu\n", (unsigned long long)gen);
	} else if (strcmp(a[0], "begin") == 0)
		check(lockc_destroy_begin(c, num(a[1]), a[2] &&
		    strcmp(a[2], "nodm") == 0 ? LOCK_DESTROY_NO_DM : 0,
		    LOCK_TIMEOUT_DEFAULT), "destroy_begin");
	else if (strcmp(a[0], "dmgone") == 0)
		check(lockc_dm_gone(c, num(a[1])), "dm_gone");
	else if (strcmp(a[0], "finish") == 0)
		check(lockc_destroy_finish(c, num(a[1])), "destroy_finish");
	else
		return -1;
	return 0;
}

static int
cmd_docs(char **a)
{
	char *s = NULL;

	if (strcmp(a[0], "list") == 0)
		check(lockc_list(c, &s), "list");
	else if (strcmp(a[0], "query") == 0)
		check(lockc_query(c, LOCK_DOMID_ALL, &s), "query");
	else if (strcmp(a[0], "stats") == 0)
		check(lockc_status(c, 1, &s), "stats");
	else if (strcmp(a[0], "status") == 0)
		check(lockc_status(c, 0, &s), "status");
	else
		return -1;
	printf("%s\n", s);
	free(s);
	return 0;
}

static int
cmd_locks(char **a)
{
	uint64_t t0, gen;
	char *s;
	uint32_t i, n;

	if (strcmp(a[0], "read") == 0) {
		check(lockc_acquire(c, num(a[1]), LOCK_FAST, 0, &gen), "acquire");
		check(lockc_config_read(c, num(a[1]), &s, &gen), "read");
		printf("generation=%llu %s\n", (unsigned long long)gen, s);
		free(s);
	} else if (strcmp(a[0], "write") == 0) {
		check(lockc_acquire(c, num(a[1]), LOCK_FAST, 0, &gen), "acquire");
		check(lockc_config_write(c, num(a[1]), a[2], 0, &gen), "write");
		printf("generation=%llu\n", (unsigned long long)gen);
	} else if (strcmp(a[0], "contend") == 0) {
		for (i = 0, n = num(a[2]); i < n; i++)
			increment(num(a[1]));
	} else if (strcmp(a[0], "hold") == 0) {
		check(lockc_acquire(c, num(a[1]), which(a[2]), 0, NULL), "acquire");
		printf("held\n");
		fflush(stdout);
		sleep(num(a[3]));
	} else if (strcmp(a[0], "acquire") == 0) {
		t0 = now_ms();
		check(lockc_acquire(c, num(a[1]), which(a[2]), num(a[3]), NULL),
		    "acquire");
		printf("waited_ms=%llu\n", (unsigned long long)(now_ms() - t0));
	} else if (strcmp(a[0], "try") == 0)
		check(lockc_trylock(c, num(a[1]), which(a[2]), NULL), "try");
	else
		return -1;
	return 0;
}

static void
report(void *arg, const struct inv_item *it, const char *why)
{
	char buf[160];

	inv_item_format(it, buf, sizeof(buf));
	printf("VIOLATION %s: %s\n", buf, why);
}

/* Appends FILE's item lines to items (cap 256).  -1 on a bad line. */
static int
read_items(const char *file, struct inv_item *items, size_t *n)
{
	char line[256];
	FILE *f;

	if ((f = fopen(file, "r")) == NULL)
		return -1;
	while (*n < 256 && fgets(line, sizeof(line), f) != NULL)
		if (line[0] != '#' && line[0] != '\n' &&
		    inv_item_parse(line, &items[(*n)++]) == -1) {
			fclose(f);
			return -1;
		}
	fclose(f);
	return 0;
}

/* Primary items from xenstore: the backends of bdomid. */
static int
xs_items(const char *bdom, struct inv_item *items, size_t *n)
{
	struct xs_handle *xs = xs_open(0);
	struct inv_item *v;
	size_t i, nv;
	int rc;

	if (xs == NULL)
		return -1;
	rc = inv_items_from_xenstore(xs, num(bdom), &v, &nv);
	xs_close(xs);
	if (rc != 0)
		return -1;
	for (i = 0; i < nv && *n < 256; i++)
		items[(*n)++] = v[i];
	free(v);
	return 0;
}

static int
cmd_check(const char *bdom, const char *file)
{
	struct inv_item items[256];
	char err[128], *s;
	size_t n = 0;
	int bad;

	if ((bdom != NULL && xs_items(bdom, items, &n) == -1) ||
	    (file != NULL && read_items(file, items, &n) == -1))
		return 2;
	check(lockc_list(c, &s), "list");
	bad = inv_check(s, items, n, report, NULL, err, sizeof(err));
	free(s);
	printf("invariant: %zu primary item(s), %d violation(s)\n", n, bad);
	return bad == 0 ? 0 : 1;
}

static void
script_reply(int rc, uint64_t gen, const char *json)
{
	if (rc < 0)
		printf("error %s %s\n", strerrorname_np(-rc), lockc_errmsg(c));
	else
		printf("ok generation=%llu %s\n", (unsigned long long)gen,
		    json ? json : "");
	fflush(stdout);
}

static void
script_line(char *line)
{
	char cmd[16], w[16], arg[4096];
	uint32_t d;
	uint64_t gen = 0;
	char *s = NULL;
	int n, rc;

	arg[0] = w[0] = '\0';
	n = sscanf(line, "%15s %u %15s %4095[^\n]", cmd, &d, w, arg);
	if (n < 2) {
		printf("error EINVAL bad line\n");
		fflush(stdout);
		return;
	}
	if (strcmp(cmd, "acquire") == 0)
		rc = lockc_acquire(c, d, which(w), n == 4 ? num(arg) : 0, &gen);
	else if (strcmp(cmd, "release") == 0)
		rc = lockc_release(c, d, which(w));
	else if (strcmp(cmd, "read") == 0)
		rc = lockc_config_read(c, d, &s, &gen);
	else if (strcmp(cmd, "write") == 0) {
		/* the JSON is the rest of the line after the domid */
		snprintf(arg, sizeof(arg), "%s", strchr(strchr(line, ' ') + 1,
		    ' ') + 1);
		arg[strcspn(arg, "\n")] = '\0';
		rc = lockc_config_write(c, d, arg, 0, &gen);
	} else
		rc = -EINVAL;
	script_reply(rc, gen, s);
	free(s);
}

static int
cmd_script(void)
{
	char line[8192];

	while (fgets(line, sizeof(line), stdin) != NULL)
		script_line(line);
	return 0;
}

/* Takes slow 2, fast 2, then asks for slow 1 (out of order). */
static int
cmd_order(void)
{
	check(lockc_acquire(c, 2, LOCK_SLOW, 0, NULL), "slow 2");
	check(lockc_acquire(c, 2, LOCK_FAST, 0, NULL), "fast 2");
	check(lockc_acquire(c, 1, LOCK_SLOW, 0, NULL), "slow 1");
	return 0;
}

int
main(int argc, char **argv)
{
	char *a[4] = { NULL, NULL, NULL, NULL };
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: lockd-tool RUNDIR CMD ARGS\n");
		return 2;
	}
	for (i = 2; i < argc && i < 6; i++)
		a[i - 2] = argv[i];
	if ((c = lockc_open(argv[1])) == NULL) {
		printf("error: connect: %s\n", strerror(errno));
		return 1;
	}
	if (strcmp(a[0], "order") == 0)
		cmd_order();
	else if (strcmp(a[0], "script") == 0)
		return cmd_script();
	else if (strcmp(a[0], "check") == 0 && a[1] != NULL)
		return cmd_check(NULL, a[1]);
	else if (strcmp(a[0], "xscheck") == 0 && a[1] != NULL)
		return cmd_check(a[1], a[2]);
	else if (cmd_lifecycle(a) == -1 && cmd_docs(a) == -1 &&
	    cmd_locks(a) == -1) {
		fprintf(stderr, "unknown command %s\n", a[0]);
		return 2;
	}
	lockc_close(c);
	return 0;
}
