/*
 * actor-toolstack - writes device frontend/backend directories exactly as
 * libxl 4.17 does (libxl__device_generic_add + libxl_nic.c / libxl_disk.c),
 * each device in one transaction, and removes them as libxl does.
 *
 * Layout (B = backend domid, D = guest, N = devid, K = vif|vbd|qdisk):
 *   /local/domain/B/backend/K/D/N   perms [B none, D read]
 *     frontend frontend-id online=1 state=1 [script] ...
 *     vif: mac bridge handle type=vif hotplug-status=""
 *     vbd/qdisk: params removable=0 bootable=1 dev type=phy|qdisk mode
 *                device-type=disk discard-enable=1 specification=xen
 *   /local/domain/D/device/(vif|vbd)/N   perms [D none, B read]
 *     backend backend-id state=1
 *     vif: handle mac trusted=1 (mtu is read-only: [0 none, D read])
 *     vbd: virtual-device device-type=disk trusted=1
 *   /libxl/D/device/K/N   perms [0 none]: frontend backend + backend keys
 * remove: online=0, state=5 on the backend (one transaction); --wait-ms
 * waits for state 6 then deletes all three dirs; --force only deletes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsutil.h"

#define MAX_DOMID 0x7fefL
#define MAX_TRIES 1000

struct dev {
	long bdom, dom, devid, count, batch, wait_ms;
	const char *kind, *script, *params, *bridge, *mac, *mode, *vdev, *type;
	int force, mac_user;
	char mac_buf[32], vdev_buf[16];
};

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
"usage: actor-toolstack [-d DIR] add --backend-domid B --domid D --kind vif|vbd|qdisk\n"
"                       --devid N [--script S] [--params P] [--bridge BR] [--mac M]\n"
"                       [--mode r|w] [--vdev NAME] [--type phy|qdisk]\n"
"       actor-toolstack [-d DIR] remove --backend-domid B --domid D --kind K --devid N\n"
"                       [--force] [--wait-ms MS]\n"
"       actor-toolstack [-d DIR] add-many --backend-domid B --domid FIRST --count N\n"
"                       [--kind vif|vbd|qdisk] [--devid N] [--batch DEVS_PER_TX] [...]\n"
"  DIR: world directory (XENSTORED_PATH=DIR/socket); default: environment.\n"
"  exit: 0 ok, 1 xenstore error, 2 usage\n");
	return rc;
}

static const char *fe_kind(const char *kind)
{
	return strcmp(kind, "qdisk") == 0 ? "vbd" : kind;
}

static void paths(const struct dev *d, long dom, char *be, char *fe, char *lx,
		  size_t cap)
{
	snprintf(be, cap, "/local/domain/%ld/backend/%s/%ld/%ld", d->bdom,
		 d->kind, dom, d->devid);
	snprintf(fe, cap, "/local/domain/%ld/device/%s/%ld", dom,
		 fe_kind(d->kind), d->devid);
	snprintf(lx, cap, "/libxl/%ld/device/%s/%ld", dom, d->kind, d->devid);
}

#define W(dir, key, ...) do { \
	char p_[512]; \
	snprintf(p_, sizeof(p_), "%s/%s", dir, key); \
	if (xsu_write(xs, t, p_, __VA_ARGS__)) return -1; \
} while (0)

static int write_back(struct xs_handle *xs, xs_transaction_t t,
		      const struct dev *d, long dom, const char *be,
		      const char *fe)
{
	W(be, "frontend", "%s", fe);
	W(be, "frontend-id", "%ld", dom);
	W(be, "online", "1");
	W(be, "state", "1");
	if (d->script)
		W(be, "script", "%s", d->script);
	if (!strcmp(d->kind, "vif")) {
		W(be, "mac", "%s", d->mac);
		W(be, "bridge", "%s", d->bridge);
		W(be, "handle", "%ld", d->devid);
		W(be, "type", "vif");
		W(be, "hotplug-status", "%s", "");
		return 0;
	}
	W(be, "params", "%s", d->params);
	W(be, "removable", "0");
	W(be, "bootable", "1");
	W(be, "dev", "%s", d->vdev);
	W(be, "type", "%s", d->type);
	W(be, "mode", "%s", d->mode);
	W(be, "device-type", "disk");
	W(be, "discard-enable", "1");
	W(be, "specification", "xen");
	return 0;
}

static int write_front(struct xs_handle *xs, xs_transaction_t t,
		       const struct dev *d, long dom, const char *fe,
		       const char *be)
{
	struct xs_permissions ro[2] = { { 0, XS_PERM_NONE },
					{ (unsigned int)dom, XS_PERM_READ } };
	char p[512];

	W(fe, "backend", "%s", be);
	W(fe, "backend-id", "%ld", d->bdom);
	W(fe, "state", "1");
	W(fe, "trusted", "1");
	if (!strcmp(d->kind, "vif")) {
		W(fe, "handle", "%ld", d->devid);
		W(fe, "mac", "%s", d->mac);
		snprintf(p, sizeof(p), "%s/mtu", fe);
		if (!xs_write(xs, t, p, "1500", 4) ||
		    !xs_set_permissions(xs, t, p, ro, 2))
			return -1;
		return 0;
	}
	W(fe, "virtual-device", "%ld", d->devid);
	W(fe, "device-type", "disk");
	return 0;
}

static int add_one(struct xs_handle *xs, xs_transaction_t t,
		   struct dev *d, long dom)
{
	struct xs_permissions feperm[2] = {
		{ (unsigned int)dom, XS_PERM_NONE },
		{ (unsigned int)d->bdom, XS_PERM_READ } };
	struct xs_permissions beperm[2] = {
		{ (unsigned int)d->bdom, XS_PERM_NONE },
		{ (unsigned int)dom, XS_PERM_READ } };
	struct xs_permissions noperm[1] = { { 0, XS_PERM_NONE } };
	char be[256], fe[256], lx[256];

	if (!d->mac_user) {
		snprintf(d->mac_buf, sizeof(d->mac_buf),
			 "00:16:3e:%02lx:%02lx:%02lx", (dom >> 8) & 0xff,
			 dom & 0xff, d->devid & 0xff);
		d->mac = d->mac_buf;
	}
	paths(d, dom, be, fe, lx, sizeof(be));
	xs_rm(xs, t, fe);
	xs_rm(xs, t, be);
	if (xsu_mknod(xs, t, fe, feperm, 2) ||
	    write_front(xs, t, d, dom, fe, be) ||
	    xsu_mknod(xs, t, be, beperm, 2) ||
	    write_back(xs, t, d, dom, be, fe) ||
	    xsu_mknod(xs, t, lx, noperm, 1))
		return -1;
	W(lx, "frontend", "%s", fe);
	W(lx, "backend", "%s", be);
	return 0;
}

struct range {
	struct dev *d;
	long first, count;
};

static int add_range_in(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	struct range *r = arg;
	long i;

	for (i = 0; i < r->count; i++)
		if (add_one(xs, t, r->d, r->first + i))
			return -1;
	return 0;
}

static int add_range(struct xs_handle *xs, struct dev *d, long first,
		     long count)
{
	struct range r = { d, first, count };

	return xsu_transact(xs, MAX_TRIES, add_range_in, &r);
}

static int wait_state6(struct xs_handle *xs, const char *be, long ms)
{
	long long end = xsu_now_ms() + ms;
	char p[300];
	long st;

	snprintf(p, sizeof(p), "%s/state", be);
	if (!xs_watch(xs, p, "s"))
		return -1;
	for (;;) {
		if (xsu_read_long(xs, XBT_NULL, p, 0, 8, &st) == 0 && st == 6)
			break;
		if (xsu_read_long(xs, XBT_NULL, p, 0, 8, &st) < 0 &&
		    errno == ENOENT)
			break;
		if (xsu_now_ms() >= end) {
			errno = ETIMEDOUT;
			return -1;
		}
		usleep(1000);	/* simple and bounded; events also wake us */
		free(xs_check_watch(xs));
	}
	return 0;
}

static int remove_dev(struct xs_handle *xs, struct dev *d)
{
	char be[256], fe[256], lx[256], p[300];
	xs_transaction_t t;
	int tries, rc = 0;

	paths(d, d->dom, be, fe, lx, sizeof(be));
	for (tries = 0; !d->force && tries < MAX_TRIES; tries++) {
		t = xs_transaction_start(xs);
		if (t == XBT_NULL)
			return -1;
		snprintf(p, sizeof(p), "%s/state", be);
		free(xsu_read(xs, t, p));
		if (errno == ENOENT) {
			xs_transaction_end(xs, t, true);
			break;		/* backend already gone */
		}
		snprintf(p, sizeof(p), "%s/online", be);
		if (xsu_write(xs, t, p, "0"))
			goto abort;
		snprintf(p, sizeof(p), "%s/state", be);
		if (xsu_write(xs, t, p, "5"))
			goto abort;
		if (xs_transaction_end(xs, t, false))
			break;
		if (errno != EAGAIN)
			return -1;
	}
	if (!d->force && !d->wait_ms)
		return 0;
	if (!d->force && wait_state6(xs, be, d->wait_ms) < 0) {
		perror("actor-toolstack: waiting for backend state 6");
		rc = -1;	/* libxl then forces removal */
	}
	xs_rm(xs, XBT_NULL, fe);
	xs_rm(xs, XBT_NULL, be);
	xs_rm(xs, XBT_NULL, lx);
	return rc;
abort:
	xs_transaction_end(xs, t, true);
	return -1;
}

static int parse_opts(int argc, char **argv, struct dev *d)
{
	static const struct option opts[] = {
		{ "backend-domid", 1, NULL, 'b' }, { "domid", 1, NULL, 'D' },
		{ "kind", 1, NULL, 'k' }, { "devid", 1, NULL, 'n' },
		{ "script", 1, NULL, 's' }, { "params", 1, NULL, 'p' },
		{ "bridge", 1, NULL, 'B' }, { "mac", 1, NULL, 'm' },
		{ "mode", 1, NULL, 'M' }, { "vdev", 1, NULL, 'v' },
		{ "type", 1, NULL, 't' }, { "count", 1, NULL, 'c' },
		{ "batch", 1, NULL, 'x' }, { "force", 0, NULL, 'f' },
		{ "wait-ms", 1, NULL, 'w' }, { NULL, 0, NULL, 0 } };
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b': if (xsu_parse_long(optarg, 0, MAX_DOMID, &d->bdom)) return -1; break;
		case 'D': if (xsu_parse_long(optarg, 1, MAX_DOMID, &d->dom)) return -1; break;
		case 'n': if (xsu_parse_long(optarg, 0, 0xfffffffL, &d->devid)) return -1; break;
		case 'c': if (xsu_parse_long(optarg, 1, MAX_DOMID, &d->count)) return -1; break;
		case 'x': if (xsu_parse_long(optarg, 1, 1000, &d->batch)) return -1; break;
		case 'w': if (xsu_parse_long(optarg, 0, 3600000, &d->wait_ms)) return -1; break;
		case 'k': d->kind = optarg; break;
		case 's': d->script = optarg; break;
		case 'p': d->params = optarg; break;
		case 'B': d->bridge = optarg; break;
		case 'm': d->mac = optarg; d->mac_user = 1; break;
		case 'M': d->mode = optarg; break;
		case 'v': d->vdev = optarg; break;
		case 't': d->type = optarg; break;
		case 'f': d->force = 1; break;
		default: return -1;
		}
	}
	if (optind != argc || d->dom < 0 || d->bdom < 0 || d->devid < 0 ||
	    (strcmp(d->kind, "vif") && strcmp(d->kind, "vbd") &&
	     strcmp(d->kind, "qdisk")))
		return -1;
	return 0;
}

static void defaults(struct dev *d)
{
	int vif = !strcmp(d->kind, "vif");

	if (!d->script && strcmp(d->kind, "qdisk"))
		d->script = vif ? "/etc/xen/scripts/vif-bridge"
				: "/etc/xen/scripts/block";
	if (!d->bridge)
		d->bridge = "xenbr0";
	if (!d->params)
		d->params = "";
	if (!d->mode)
		d->mode = "w";
	if (!d->type)
		d->type = strcmp(d->kind, "qdisk") ? "phy" : "qdisk";
	if (!d->vdev) {
		snprintf(d->vdev_buf, sizeof(d->vdev_buf), "xvd%c",
			 'a' + (char)((d->devid >> 4) & 0xf));
		d->vdev = d->vdev_buf;
	}
}

int main(int argc, char **argv)
{
	struct dev d = { .bdom = -1, .dom = -1, .devid = -1, .count = 1,
			 .batch = 1, .kind = "" };
	const char *dir = NULL, *cmd;
	struct xs_handle *xs;
	long i, n;
	int rc = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return usage(0);
	if (argc > 2 && !strcmp(argv[1], "-d")) {
		dir = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return usage(2);
	cmd = argv[1];
	argc--;
	argv++;
	if (!strcmp(cmd, "add-many")) {
		d.kind = "vif";
		d.devid = 0;
	}
	if (parse_opts(argc, argv, &d))
		return usage(2);
	defaults(&d);
	xs = xsu_open(dir);
	if (!xs) {
		perror("actor-toolstack: xs_open");
		return 1;
	}
	if (!strcmp(cmd, "add")) {
		rc = add_range(xs, &d, d.dom, 1);
	} else if (!strcmp(cmd, "add-many")) {
		for (i = 0; i < d.count && rc == 0; i += n) {
			n = d.count - i < d.batch ? d.count - i : d.batch;
			rc = add_range(xs, &d, d.dom + i, n);
		}
	} else if (!strcmp(cmd, "remove")) {
		rc = remove_dev(xs, &d);
	} else {
		xs_close(xs);
		return usage(2);
	}
	if (rc)
		fprintf(stderr, "actor-toolstack: %s: %s\n", cmd, strerror(errno));
	xs_close(xs);
	return rc ? 1 : 0;
}
