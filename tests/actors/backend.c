/*
 * actor-backend - simulated kernel backend driver (blkback / netback) of
 * backend domain B.  One watch on /local/domain/B/backend (plus, as the
 * real drivers' otherend watch, one on each device's frontend state);
 * events are only hints: every event marks a device dirty, and each dirty
 * device is re-read and advanced once per batch of events (coalesced), so
 * 10 000 devices cost one pass each, not one per event.
 *
 * State machine (bs = backend state, fs = frontend state):
 *   bs  condition                                  action
 *   1   device appears (probe)                     features; bs := 2
 *   2,3 fs in {5,6}                                bs := 5
 *   2,3 hotplug ready and fs in {3,4}              (vbd: sectors, info); bs := 4
 *   4   fs == 1 (kexec hand-over, seed 001)        bs := 2
 *   4   fs in {5,6}                                bs := 5
 *   5   (--close-with-frontend: fs == 6 or         after --io-drain-ms:
 *       unknown)                                   with --shutdown-done,
 *                                                  vbd/qdisk: shutdown-done;
 *                                                  bs := 6
 *   6   fs == 1 and online == 1 (reconnect)        bs := 2
 * hotplug ready: vif/vbd: hotplug-status == "connected" (vbd also needs
 * physical-device); qdisk: always (QEMU is the backend).
 * A backend dir that vanishes is forgotten.  Malformed values count as
 * "unknown" and never advance anything.
 *
 * Default: like Linux's xen-blkback / xen-netback, it never writes
 * `shutdown-done`.  --shutdown-done: a backend speaking seed 003's I/O-done
 * protocol (the node written before state 6).
 * --close-with-frontend: as Linux's backends, which do not watch their own
 * state, Closing written by the toolstack leads to Closed only once the
 * frontend closed (frontend_changed: Closed) or its state became unknown -
 * gone, unreadable or malformed, as xenbus_read_driver_state() reports any
 * error (the device is unregistered and xenbus_dev_remove switches a
 * Closing device to Closed) - so a hung frontend keeps the backend at 5.
 * Without it the backend closes after --io-drain-ms whatever the frontend
 * does (a cooperating guest, no frontend actor needed).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsutil.h"

#define HASH_SIZE 16384u
#define PATH_LEN  256

struct bdev {
	char key[64];		/* kind/dom/devid */
	char kind[8];
	long dom, devid;
	char be[PATH_LEN], fe[PATH_LEN], fe_token[32];
	bool fe_watched, dirty;
	long long drain_at;	/* 0: no drain pending */
	size_t idx;
	struct bdev *hnext;
};

struct world {
	struct xs_handle *xs;
	long bdom, drain_ms;
	bool shutdown_done;	/* --shutdown-done: write it before 6 */
	bool with_frontend;	/* --close-with-frontend */
	char root[128];
	const char *kinds;
	int verbose;
	struct bdev *hash[HASH_SIZE];
	struct bdev **devs;
	size_t ndevs, cap;
	struct bdev **dirty;
	size_t ndirty, dcap;
};

/* Frees the device table (a clean exit leaves nothing to LeakSanitizer). */
static void world_dispose(struct world *w)
{
	size_t i;

	for (i = 0; i < w->ndevs; i++)
		free(w->devs[i]);
	free(w->devs);
	free(w->dirty);
}

static int usage(int rc)
{
	fprintf(rc ? stderr : stdout,
"usage: actor-backend [-d DIR] --backend-domid B [--kinds vif,vbd,qdisk]\n"
"                     [--io-drain-ms MS] [--shutdown-done]\n"
"                     [--close-with-frontend]\n"
"                     [--exit-after-ms MS] [-v]\n"
"  Simulated blkback/netback for domain B; runs until SIGTERM/SIGINT.\n"
"  Closing -> Closed after --io-drain-ms; --close-with-frontend: only once\n"
"  the frontend closed or vanished (Linux).  --shutdown-done: vbd/qdisk\n"
"  write shutdown-done first (seed 003; Linux's backends never do).\n"
"  Prints \"ready\" on stdout after the initial scan.  exit: 0, 1 error, 2 usage\n");
	return rc;
}

static unsigned int hash_key(const char *s)
{
	unsigned int h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % HASH_SIZE;
}

static struct bdev *dev_find(struct world *w, const char *key)
{
	struct bdev *d;

	for (d = w->hash[hash_key(key)]; d; d = d->hnext)
		if (!strcmp(d->key, key))
			return d;
	return NULL;
}

static bool kind_ok(struct world *w, const char *kind)
{
	const char *p = strstr(w->kinds, kind);
	size_t n = strlen(kind);

	return p && (p == w->kinds || p[-1] == ',') &&
	       (p[n] == 0 || p[n] == ',');
}

static void mark_dirty(struct world *w, struct bdev *d)
{
	struct bdev **nd;

	if (d->dirty)
		return;
	if (w->ndirty == w->dcap) {
		w->dcap = w->dcap ? w->dcap * 2 : 1024;
		nd = realloc(w->dirty, w->dcap * sizeof(*nd));
		if (!nd)
			abort();
		w->dirty = nd;
	}
	d->dirty = true;
	w->dirty[w->ndirty++] = d;
}

static struct bdev *dev_get(struct world *w, const char *kind,
			    const char *dom, const char *devid)
{
	char key[64];
	struct bdev *d, **nv;
	long dm, dv;
	unsigned int h;

	if (!kind_ok(w, kind) || xsu_parse_long(dom, 1, 0x7fef, &dm) ||
	    xsu_parse_long(devid, 0, 0xfffffffL, &dv))
		return NULL;
	snprintf(key, sizeof(key), "%s/%ld/%ld", kind, dm, dv);
	d = dev_find(w, key);
	if (d)
		return d;
	d = calloc(1, sizeof(*d));
	if (!d)
		abort();
	strcpy(d->key, key);
	snprintf(d->kind, sizeof(d->kind), "%s", kind);
	d->dom = dm;
	d->devid = dv;
	snprintf(d->be, sizeof(d->be), "%s/%s", w->root, key);
	if (w->ndevs == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 1024;
		nv = realloc(w->devs, w->cap * sizeof(*nv));
		if (!nv)
			abort();
		w->devs = nv;
	}
	d->idx = w->ndevs;
	w->devs[w->ndevs++] = d;
	snprintf(d->fe_token, sizeof(d->fe_token), "fe:%zu", d->idx);
	h = hash_key(key);
	d->hnext = w->hash[h];
	w->hash[h] = d;
	return d;
}

static void dev_forget(struct world *w, struct bdev *d)
{
	struct bdev **pp;
	char p[PATH_LEN + 8];

	if (d->fe_watched) {
		snprintf(p, sizeof(p), "%s/state", d->fe);
		xs_unwatch(w->xs, p, d->fe_token);
	}
	for (pp = &w->hash[hash_key(d->key)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == d) {
			*pp = d->hnext;
			break;
		}
	}
	w->devs[d->idx] = NULL;
	if (w->verbose)
		printf("gone %s\n", d->key);
	free(d);
}

/* Enumerate everything below the backend root; mark all devices dirty. */
static void rescan(struct world *w)
{
	char **kinds, **doms, **ids, p[PATH_LEN];
	unsigned int nk, nd, ni, a, b, c;
	size_t i;

	for (i = 0; i < w->ndevs; i++)
		if (w->devs[i])
			mark_dirty(w, w->devs[i]);
	kinds = xs_directory(w->xs, XBT_NULL, w->root, &nk);
	for (a = 0; kinds && a < nk; a++) {
		if (!kind_ok(w, kinds[a]))
			continue;
		snprintf(p, sizeof(p), "%s/%s", w->root, kinds[a]);
		doms = xs_directory(w->xs, XBT_NULL, p, &nd);
		for (b = 0; doms && b < nd; b++) {
			snprintf(p, sizeof(p), "%s/%s/%s", w->root, kinds[a],
				 doms[b]);
			ids = xs_directory(w->xs, XBT_NULL, p, &ni);
			for (c = 0; ids && c < ni; c++) {
				struct bdev *d = dev_get(w, kinds[a], doms[b],
							 ids[c]);
				if (d)
					mark_dirty(w, d);
			}
			free(ids);
		}
		free(doms);
	}
	free(kinds);
}

static void on_event(struct world *w, const char *path, const char *token)
{
	char buf[PATH_LEN], *save = NULL, *kind, *dom, *id;
	size_t rl = strlen(w->root);
	unsigned long idx;
	char *end;

	if (!strncmp(token, "fe:", 3)) {
		idx = strtoul(token + 3, &end, 10);
		if (!*end && idx < w->ndevs && w->devs[idx])
			mark_dirty(w, w->devs[idx]);
		return;
	}
	if (strncmp(path, w->root, rl) || (path[rl] && path[rl] != '/') ||
	    strlen(path) >= sizeof(buf)) {
		return;
	}
	snprintf(buf, sizeof(buf), "%s", path + rl);
	kind = strtok_r(buf, "/", &save);
	dom = strtok_r(NULL, "/", &save);
	id = strtok_r(NULL, "/", &save);
	if (!id) {
		rescan(w);	/* a whole subtree appeared or vanished */
		return;
	}
	struct bdev *d = dev_get(w, kind, dom, id);
	if (d)
		mark_dirty(w, d);
}

static long rd(struct world *w, const char *dir, const char *key)
{
	char p[PATH_LEN + 32];
	long v;

	snprintf(p, sizeof(p), "%s/%s", dir, key);
	if (xsu_read_long(w->xs, XBT_NULL, p, -1, 0x7fffffffL, &v))
		return errno == ENOENT ? -2 : -1;
	return v;
}

static bool has(struct world *w, const char *dir, const char *key,
		const char *want)
{
	char p[PATH_LEN + 32], *v;
	bool ok;

	snprintf(p, sizeof(p), "%s/%s", dir, key);
	v = xsu_read(w->xs, XBT_NULL, p);
	ok = v && (!want || !strcmp(v, want));
	free(v);
	return ok;
}

static void wr(struct world *w, struct bdev *d, const char *key,
	       const char *val)
{
	char p[PATH_LEN + 32];

	snprintf(p, sizeof(p), "%s/%s", d->be, key);
	if (!xs_write(w->xs, XBT_NULL, p, val, (unsigned int)strlen(val)))
		fprintf(stderr, "actor-backend: write %s: %s\n", p,
			strerror(errno));
}

static void set_state(struct world *w, struct bdev *d, long from, long to)
{
	char v[8];

	snprintf(v, sizeof(v), "%ld", to);
	wr(w, d, "state", v);
	if (w->verbose)
		printf("state %s %ld->%ld\n", d->key, from, to);
}

static bool hotplug_ready(struct world *w, struct bdev *d)
{
	if (!strcmp(d->kind, "qdisk"))
		return true;
	if (!has(w, d->be, "hotplug-status", "connected"))
		return false;
	return strcmp(d->kind, "vbd") || has(w, d->be, "physical-device", NULL);
}

static void probe(struct world *w, struct bdev *d)
{
	if (!strcmp(d->kind, "vif")) {
		wr(w, d, "feature-sg", "1");
		wr(w, d, "feature-gso-tcpv4", "1");
		wr(w, d, "feature-rx-copy", "1");
		wr(w, d, "feature-split-event-channels", "1");
		wr(w, d, "multi-queue-max-queues", "1");
	} else {
		wr(w, d, "feature-flush-cache", "1");
		wr(w, d, "feature-persistent", "1");
		wr(w, d, "max-ring-page-order", "4");
	}
}

static void drain_done(struct world *w, struct bdev *d)
{
	d->drain_at = 0;
	if (rd(w, d->be, "state") != 5)
		return;
	if (w->shutdown_done && strcmp(d->kind, "vif"))
		wr(w, d, "shutdown-done", "");
	set_state(w, d, 5, 6);
}

/* Learns d's frontend path once and watches its state; 0 when known. */
static int learn_frontend(struct world *w, struct bdev *d)
{
	char *fe;
	char p[PATH_LEN + 16];

	if (!d->fe[0]) {
		snprintf(p, sizeof(p), "%s/frontend", d->be);
		fe = xsu_read(w->xs, XBT_NULL, p);
		if (!fe || !*fe || strlen(fe) >= sizeof(d->fe)) {
			free(fe);
			return -1;
		}
		strcpy(d->fe, fe);
		free(fe);
	}
	if (!d->fe_watched) {
		snprintf(p, sizeof(p), "%s/state", d->fe);
		d->fe_watched = xs_watch(w->xs, p, d->fe_token);
	}
	return 0;
}

/* Backend 2 or 3: frontend closing -> 5; frontend ready and hotplug
 * done -> 4 (a vbd first publishes its geometry). */
static void step_initwait(struct world *w, struct bdev *d, long bs, long fs)
{
	if (fs == 5 || fs == 6)
		set_state(w, d, bs, 5);
	else if ((fs == 3 || fs == 4) && hotplug_ready(w, d)) {
		if (strcmp(d->kind, "vif")) {
			wr(w, d, "sectors", "2097152");
			wr(w, d, "info", "0");
			wr(w, d, "sector-size", "512");
		}
		set_state(w, d, bs, 4);
	}
}

static void process(struct world *w, struct bdev *d)
{
	long bs, fs;

	d->dirty = false;
	bs = rd(w, d->be, "state");
	if (bs == -2 && !has(w, d->be, "frontend", NULL)) {
		dev_forget(w, d);
		return;
	}
	if (learn_frontend(w, d))
		return;
	fs = rd(w, d->fe, "state");
	switch (bs) {
	case 1:
		probe(w, d);
		set_state(w, d, bs, 2);
		break;
	case 2:
	case 3:
		step_initwait(w, d, bs, fs);
		break;
	case 4:
		if (fs == 1)
			set_state(w, d, bs, 2);
		else if (fs == 5 || fs == 6)
			set_state(w, d, bs, 5);
		break;
	case 5:
		if (w->with_frontend && fs != 6 && fs >= 0)
			break;	/* Linux: waits for the frontend */
		if (!d->drain_at) {
			d->drain_at = xsu_now_ms() + w->drain_ms;
			if (!w->drain_ms)
				drain_done(w, d);
		}
		break;
	case 6:
		if (fs == 1 && rd(w, d->be, "online") == 1)
			set_state(w, d, bs, 2);
		break;
	default:
		break;		/* missing or malformed: wait */
	}
}

static int next_timeout(struct world *w)
{
	long long now = xsu_now_ms(), best = -1;
	size_t i;

	for (i = 0; i < w->ndevs; i++) {
		struct bdev *d = w->devs[i];

		if (d && d->drain_at && (best < 0 || d->drain_at < best))
			best = d->drain_at;
	}
	if (best < 0)
		return 1000;
	return best <= now ? 0 : (int)(best - now);
}

static void run_drains(struct world *w)
{
	long long now = xsu_now_ms();
	size_t i;

	for (i = 0; i < w->ndevs; i++)
		if (w->devs[i] && w->devs[i]->drain_at &&
		    w->devs[i]->drain_at <= now)
			drain_done(w, w->devs[i]);
}

static int loop(struct world *w, long exit_after)
{
	long long end = exit_after ? xsu_now_ms() + exit_after : 0;
	struct pollfd pfd = { .fd = xs_fileno(w->xs), .events = POLLIN };
	char **ev;
	size_t i;

	if (pfd.fd < 0 || !xs_watch(w->xs, w->root, "be"))
		return -1;
	rescan(w);
	for (i = 0; i < w->ndirty; i++)
		process(w, w->dirty[i]);
	w->ndirty = 0;
	printf("ready\n");
	fflush(stdout);
	while (!xsu_stop && (!end || xsu_now_ms() < end)) {
		if (poll(&pfd, 1, next_timeout(w)) < 0 && errno != EINTR)
			return -1;
		while ((ev = xs_check_watch(w->xs)) != NULL) {
			on_event(w, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
			free(ev);
		}
		for (i = 0; i < w->ndirty; i++)
			if (w->dirty[i] && w->dirty[i]->dirty)
				process(w, w->dirty[i]);
		w->ndirty = 0;
		run_drains(w);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend-domid", 1, NULL, 'b' }, { "kinds", 1, NULL, 'k' },
		{ "io-drain-ms", 1, NULL, 'i' },
		{ "shutdown-done", 0, NULL, 's' },
		{ "close-with-frontend", 0, NULL, 'F' },
		{ "exit-after-ms", 1, NULL, 'e' }, { "help", 0, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct world w = { .bdom = -1, .kinds = "vif,vbd,qdisk" };
	const char *dir = NULL;
	long exit_after = 0;
	int o, rc;

	while ((o = getopt_long(argc, argv, "d:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'd': dir = optarg; break;
		case 'v': w.verbose = 1; break;
		case 'b': if (xsu_parse_long(optarg, 0, 0x7fef, &w.bdom)) return usage(2); break;
		case 'i': if (xsu_parse_long(optarg, 0, 3600000, &w.drain_ms)) return usage(2); break;
		case 'e': if (xsu_parse_long(optarg, 0, 86400000, &exit_after)) return usage(2); break;
		case 'k': w.kinds = optarg; break;
		case 's': w.shutdown_done = true; break;
		case 'F': w.with_frontend = true; break;
		case 'h': return usage(0);
		default: return usage(2);
		}
	}
	if (optind != argc || w.bdom < 0)
		return usage(2);
	xsu_stop_on_signals();
	snprintf(w.root, sizeof(w.root), "/local/domain/%ld/backend", w.bdom);
	w.xs = xsu_open(dir);
	if (!w.xs) {
		perror("actor-backend: xs_open");
		return 1;
	}
	rc = loop(&w, exit_after);
	if (rc)
		perror("actor-backend");
	xs_close(w.xs);
	world_dispose(&w);
	return rc ? 1 : 0;
}
