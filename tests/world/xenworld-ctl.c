/*
 * xenworld-ctl - hypervisor + toolstack side of a test world's domains.
 *
 *   xenworld-ctl DIR wait-ready [TIMEOUT_MS]   xenstored answers on DIR/socket
 *   xenworld-ctl DIR init                      dom0 nodes (/local/domain/0/domid)
 *   xenworld-ctl DIR create N [NAME] [--hvm]   domain exists, XS_INTRODUCE,
 *                                              /local/domain/N as libxl makes it
 *                                              (--hvm: getdomaininfo says HVM)
 *   xenworld-ctl DIR create-many FIRST COUNT [--no-introduce]
 *                                              create FIRST..FIRST+COUNT-1;
 *                                              --no-introduce: no XS_INTRODUCE
 *                                              (no guest socket, no per-guest
 *                                              cost in xenstored's main loop)
 *   xenworld-ctl DIR introduce N               XS_INTRODUCE of a domain made
 *                                              with --no-introduce (as a
 *                                              migration's receiver does late)
 *   xenworld-ctl DIR shutdown N REASON         poweroff|reboot|suspend|crash|...
 *   xenworld-ctl DIR crash N
 *   xenworld-ctl DIR destroy N                 dying -> gone (@releaseDomain),
 *                                              XS_RELEASE, rm the toolstack nodes
 *   xenworld-ctl DIR info N                    "exists dying shutdown reason"
 *
 * Hypervisor commands return once xenstored has processed VIRQ_DOM_EXC.
 * Exit: 0 ok, 1 operation failed, 2 usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/actors/xsutil.h"

#define MAX_DOMID 0x7fefL

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
		"usage: xenworld-ctl DIR wait-ready [TIMEOUT_MS]\n"
		"       xenworld-ctl DIR init\n"
		"       xenworld-ctl DIR create N [NAME] [--hvm]\n"
		"       xenworld-ctl DIR create-many FIRST COUNT [--no-introduce]\n"
		"       xenworld-ctl DIR introduce N\n"
		"       xenworld-ctl DIR shutdown N REASON\n"
		"       xenworld-ctl DIR crash|destroy|info N\n");
	return rc;
}

static int hyp(const char *dir, const char *verb, long domid, const char *arg)
{
	char line[128], reply[256];

	snprintf(line, sizeof(line), "%s %ld%s%s", verb, domid, arg ? " " : "",
		 arg ? arg : "");
	if (xsu_ctl(dir, line, reply, sizeof(reply))) {
		fprintf(stderr, "xenworld-ctl: control channel: %s\n",
			strerror(errno));
		return -1;
	}
	if (strncmp(reply, "ok", 2) != 0) {
		fprintf(stderr, "xenworld-ctl: %s: %s\n", line, reply);
		return -1;
	}
	if (!strcmp(verb, "info"))
		printf("%s\n", reply + 3);
	return 0;
}

static int wait_ready(const char *dir, long timeout_ms)
{
	long long end = xsu_now_ms() + timeout_ms;
	char reply[64];
	struct xs_handle *xs;
	char *v;

	for (;;) {
		if (xsu_ctl(dir, "ping", reply, sizeof(reply)) == 0 &&
		    (xs = xsu_open(dir)) != NULL) {
			v = xs_read(xs, XBT_NULL, "/", NULL);
			xs_close(xs);
			if (v) {
				free(v);
				return 0;
			}
		}
		if (xsu_now_ms() > end)
			return -1;
		usleep(1000);
	}
}

/* Writes what libxl__domain_make and xen-init-dom0 write. */
static int toolstack_nodes(struct xs_handle *xs, xs_transaction_t t,
			   long domid, const char *name)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE },
					{ (unsigned int)domid, XS_PERM_READ } };
	struct xs_permissions rw[1] = { { (unsigned int)domid, XS_PERM_NONE } };
	struct xs_permissions no[1] = { { 0, XS_PERM_NONE } };
	static const char *const ro_sub[] = { "cpu", "memory", "device",
					      "control" };
	static const char *const rw_sub[] = { "control/shutdown",
		"control/feature-poweroff", "control/feature-reboot",
		"control/feature-suspend", "control/sysrq", "data", "drivers",
		"feature", "attr", "error" };
	char p[256], vm[128];
	size_t i;

	snprintf(vm, sizeof(vm), "/vm/00000000-0000-0000-0000-%012lx", domid);
	snprintf(p, sizeof(p), "/local/domain/%ld", domid);
	xs_rm(xs, t, p);
	if (xsu_mknod(xs, t, p, ro, 2) || xsu_mknod(xs, t, vm, ro, 2))
		return -1;
	snprintf(p, sizeof(p), "/libxl/%ld", domid);
	if (xsu_mknod(xs, t, p, no, 1))
		return -1;
	snprintf(p, sizeof(p), "/libxl/%ld/device", domid);
	if (xsu_mknod(xs, t, p, no, 1))
		return -1;
	snprintf(p, sizeof(p), "/local/domain/%ld/vm", domid);
	if (xsu_write(xs, t, p, "%s", vm))
		return -1;
	for (i = 0; i < sizeof(ro_sub) / sizeof(ro_sub[0]); i++) {
		snprintf(p, sizeof(p), "/local/domain/%ld/%s", domid, ro_sub[i]);
		if (xsu_mknod(xs, t, p, ro, 2))
			return -1;
	}
	for (i = 0; i < sizeof(rw_sub) / sizeof(rw_sub[0]); i++) {
		snprintf(p, sizeof(p), "/local/domain/%ld/%s", domid, rw_sub[i]);
		if (xsu_mknod(xs, t, p, rw, 1))
			return -1;
	}
	snprintf(p, sizeof(p), "/local/domain/%ld/name", domid);
	if (xsu_write(xs, t, p, "%s", name))
		return -1;
	snprintf(p, sizeof(p), "/local/domain/%ld/domid", domid);
	if (xsu_write(xs, t, p, "%ld", domid))
		return -1;
	snprintf(p, sizeof(p), "%s/name", vm);
	return xsu_write(xs, t, p, "%s", name);
}

struct dom_nodes {
	long domid;
	const char *name;
};

static int nodes_in(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct dom_nodes *n = arg;

	return toolstack_nodes(xs, t, n->domid, n->name);
}

static int in_transaction(struct xs_handle *xs, long domid, const char *name)
{
	struct dom_nodes n = { domid, name };

	return xsu_transact(xs, 100, nodes_in, &n);
}

static int create(const char *dir, struct xs_handle *xs, long domid,
		  const char *name, bool introduce, bool hvm)
{
	char defname[32];

	if (hyp(dir, "create", domid, hvm ? "hvm" : NULL))
		return -1;
	if (introduce && !xs_introduce_domain(xs, (unsigned int)domid, 0, 1)) {
		perror("xenworld-ctl: XS_INTRODUCE");
		return -1;
	}
	snprintf(defname, sizeof(defname), "guest%ld", domid);
	if (in_transaction(xs, domid, name ? name : defname)) {
		perror("xenworld-ctl: toolstack nodes");
		return -1;
	}
	return 0;
}

/* create N [NAME] [--hvm] */
static int create_cmd(const char *dir, struct xs_handle *xs, long domid,
		      int argc, char **argv)
{
	const char *name = NULL;
	bool hvm = false;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--hvm") && !hvm)
			hvm = true;
		else if (!name && argv[i][0] != '-')
			name = argv[i];
		else
			return usage(2);
	}
	return create(dir, xs, domid, name, true, hvm) ? 1 : 0;
}

static int destroy(const char *dir, struct xs_handle *xs, long domid)
{
	char p[128];

	if (hyp(dir, "destroy", domid, NULL))
		return -1;
	xs_release_domain(xs, (unsigned int)domid);	/* usually gone already */
	snprintf(p, sizeof(p), "/local/domain/%ld", domid);
	xs_rm(xs, XBT_NULL, p);
	snprintf(p, sizeof(p), "/vm/00000000-0000-0000-0000-%012lx", domid);
	xs_rm(xs, XBT_NULL, p);
	snprintf(p, sizeof(p), "/libxl/%ld", domid);
	xs_rm(xs, XBT_NULL, p);
	return 0;
}

static int init_dom0(struct xs_handle *xs)
{
	if (xsu_write(xs, XBT_NULL, "/local/domain/0/domid", "0") ||
	    xsu_write(xs, XBT_NULL, "/local/domain/0/name", "Domain-0")) {
		perror("xenworld-ctl: init");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir, *cmd;
	struct xs_handle *xs = NULL;
	long domid = 0, tmo = 5000, count = 0;
	int rc;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(0);
	if (argc < 3)
		return usage(2);
	dir = argv[1];
	cmd = argv[2];
	if (!strcmp(cmd, "wait-ready")) {
		if (argc > 4 || (argc == 4 &&
		    xsu_parse_long(argv[3], 1, 600000, &tmo)))
			return usage(2);
		return wait_ready(dir, tmo) ? 1 : 0;
	}
	if (strcmp(cmd, "init") != 0) {
		if (argc < 4 || xsu_parse_long(argv[3], 1, MAX_DOMID, &domid))
			return usage(2);
	}
	if (!strcmp(cmd, "info") || !strcmp(cmd, "crash"))
		return argc == 4 && !hyp(dir, cmd, domid, NULL) ? 0 :
		       argc == 4 ? 1 : usage(2);
	if (!strcmp(cmd, "shutdown"))
		return argc == 5 ? (hyp(dir, cmd, domid, argv[4]) ? 1 : 0)
				 : usage(2);
	xs = xsu_open(dir);
	if (!xs) {
		perror("xenworld-ctl: xs_open");
		return 1;
	}
	if (!strcmp(cmd, "init") && argc == 3)
		rc = init_dom0(xs);
	else if (!strcmp(cmd, "create") && argc >= 4 && argc <= 6)
		rc = create_cmd(dir, xs, domid, argc - 4, argv + 4);
	else if (!strcmp(cmd, "create-many") && (argc == 5 || (argc == 6 &&
		 !strcmp(argv[5], "--no-introduce"))) &&
		 !xsu_parse_long(argv[4], 1, MAX_DOMID, &count) &&
		 domid + count - 1 <= MAX_DOMID) {
		for (rc = 0; count-- > 0 && rc == 0; domid++)
			rc = create(dir, xs, domid, NULL, argc == 5, false);
	} else if (!strcmp(cmd, "destroy") && argc == 4)
		rc = destroy(dir, xs, domid);
	else if (!strcmp(cmd, "introduce") && argc == 4)
		rc = xs_introduce_domain(xs, (unsigned int)domid, 0, 1) ? 0 : -1;
	else {
		xs_close(xs);
		return usage(2);
	}
	xs_close(xs);
	return rc == 2 ? 2 : rc ? 1 : 0;	/* 2: create_cmd's usage */
}
