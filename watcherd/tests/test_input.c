/*
 * test_input: proves watcherd/input.c, the reading of the state machine's
 * inputs, at the libxenstore boundary (-Wl,--wrap of xs_read, xs_open and
 * xs_close; xsbatch's xsb_available/xsb_read for the pipelined path):
 *   - only the nodes a device wants are read; the others keep the values
 *     last read (wdev.be_state/online/hs);
 *   - a backend without `state` is gone: nothing else is read;
 *   - values are parsed strictly: "4" is Connected, "4x", "9", "" and a
 *     4 KiB value of digits are invalid (counted), online is only "0" or
 *     "1", hotplug-status connected/error/busy, anything else "other";
 *   - the I/O-done signal of a closing vbd: no shutdown-request -> done,
 *     a request without shutdown-done -> not done, both -> done; a vif, an
 *     open vbd or io_drain_timeout 0 read neither node;
 *   - a read failing with a connection error loses the connection (the
 *     transport's `lost` callback runs) and the read reports -1;
 *   - the pipelined path asks each node of only the devices that want
 *     it, in one burst per node, skips the rest of a device whose state
 *     is absent, and matches input_read_dev's results;
 *   - a frontend's state (listings) is read from libxl's frontend path,
 *     qdisk's under device/vbd.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <xenstore.h>

#include "watcherd/wd.h"
#include "watcherd/xsbatch.h"

struct wd wd;

#define NODES	32
#define BE	"/local/domain/0/backend"

/* ---- a tiny store behind the wrapped libxenstore ---- */
static struct { char path[192]; char *val; unsigned len; } store[NODES];
static int nstore, read_errno;
static char reads[64][192];	/* paths read, in order */
static int nreads, lost_calls, burst_calls;
static char burst_paths[256][192];
static int nburst_paths, batch_up;

static void
put(const char *path, const char *val, unsigned len)
{
	snprintf(store[nstore].path, sizeof(store[nstore].path), "%s", path);
	store[nstore].val = malloc(len + 1);
	memcpy(store[nstore].val, val, len);
	store[nstore].val[len] = '\0';
	store[nstore++].len = len;
}

/* empties the store, freeing its values */
static void
clear_store(void)
{
	while (nstore > 0)
		free(store[--nstore].val);
}

static void
set(const char *path, const char *val)
{
	put(path, val, (unsigned)strlen(val));
}

static int
find(const char *path)
{
	int i;

	for (i = 0; i < nstore; i++)
		if (strcmp(store[i].path, path) == 0)
			return i;
	return -1;
}

void *__wrap_xs_read(struct xs_handle *, xs_transaction_t, const char *,
    unsigned *);
struct xs_handle *__wrap_xs_open(unsigned long);
void __wrap_xs_close(struct xs_handle *);
int __wrap_xsb_available(void);
int __wrap_xsb_read(const char *const *, size_t, struct xsb_val *);

void *
__wrap_xs_read(struct xs_handle *xs, xs_transaction_t t, const char *path,
    unsigned *len)
{
	int i = find(path);
	char *v;

	if (nreads < 64)
		snprintf(reads[nreads], sizeof(reads[0]), "%s", path);
	nreads++;
	if (read_errno) {
		errno = read_errno;
		return NULL;
	}
	if (i < 0) {
		errno = ENOENT;
		return NULL;
	}
	v = malloc(store[i].len + 1);
	memcpy(v, store[i].val, store[i].len + 1);
	*len = store[i].len;
	return v;
}

struct xs_handle *
__wrap_xs_open(unsigned long flags)
{
	errno = ECONNREFUSED;
	return NULL;		/* xsio_start only arms its retry timer */
}

void
__wrap_xs_close(struct xs_handle *xs)
{
}

int
__wrap_xsb_available(void)
{
	return batch_up;
}

int
__wrap_xsb_read(const char *const *paths, size_t n, struct xsb_val *v)
{
	size_t k;
	int i;

	burst_calls++;
	for (k = 0; k < n; k++) {
		snprintf(burst_paths[nburst_paths++ % 256], 192, "%s",
		    paths[k]);
		if ((i = find(paths[k])) < 0) {
			v[k].len = XSB_ABSENT;
			continue;
		}
		v[k].len = (int)store[i].len;
		snprintf(v[k].buf, sizeof(v[k].buf), "%s", store[i].val);
	}
	return 0;
}

/* ---- the transport's callbacks ---- */
static void on_connected(void) { }
static void on_lost(void) { lost_calls++; }
static void on_event(int w, const char *p) { }
static const struct xsio_ops ops = { on_connected, on_lost, on_event };

static int
setup(void **state)
{
	clear_store();
	nreads = lost_calls = burst_calls = nburst_paths = 0;
	read_errno = batch_up = 0;
	memset(&wd, 0, sizeof(wd));
	wd.base = event_base_new();
	snprintf(wd.be_root, sizeof(wd.be_root), BE);
	assert_int_equal(kind_index("vbd", 1), 0);
	assert_int_equal(kind_index("vif", 1), 1);
	assert_int_equal(kind_index("qdisk", 1), 2);
	wd.cfg.io_drain_timeout_ms = 10000;
	xsio_start(&ops);		/* no xenstored: retry armed */
	wd.xs = (struct xs_handle *)1;	/* "connected": never dereferenced */
	wd.ev_watch = event_new(wd.base, -1, 0, NULL, NULL);
	return 0;
}

static int
teardown(void **state)
{
	if (wd.ev_watch)
		event_free(wd.ev_watch);
	xsio_stop();
	event_base_free(wd.base);
	clear_store();
	return 0;
}

/* A device as the table would hold it (not in the table: not needed). */
static struct wdev *
dev(unsigned kind, uint32_t domid, uint32_t devid)
{
	struct wdev *d = calloc(1, sizeof(*d));

	d->kind = (uint8_t)kind;
	d->domid = domid;
	d->devid = devid;
	d->be_state = d->online = XS_ABSENT;
	return d;
}

static int
was_read(const char *suffix)
{
	int i;
	size_t n = strlen(suffix);

	for (i = 0; i < nreads && i < 64; i++)
		if (strlen(reads[i]) >= n &&
		    strcmp(reads[i] + strlen(reads[i]) - n, suffix) == 0)
			return 1;
	return 0;
}

static void
test_wanted_nodes(void **unused)
{
	struct wdev *d = dev(1, 5, 0);
	struct fsm_in in;

	set(BE "/vif/5/0/state", "4");
	set(BE "/vif/5/0/online", "1");
	set(BE "/vif/5/0/hotplug-status", "connected");
	assert_int_equal(input_read_dev(d, &in, WANT_ALL), 0);
	assert_int_equal(in.be_state, XenbusStateConnected);
	assert_int_equal(in.online, 1);
	assert_int_equal(in.hs, HS_CONNECTED);
	assert_int_equal(in.io_done, 1);	/* a vif: no I/O to drain */
	assert_int_equal(nreads, 3);
	assert_int_equal(wd.st.node_reads, 3);

	nreads = 0;			/* only state: the rest as last read */
	d->online = 0;
	d->hs = HS_BUSY;
	assert_int_equal(input_read_dev(d, &in, WANT_STATE), 0);
	assert_int_equal(nreads, 1);
	assert_true(was_read("/vif/5/0/state"));
	assert_int_equal(in.online, 0);
	assert_int_equal(in.hs, HS_BUSY);

	nreads = 0;			/* nothing wanted: nothing read */
	d->be_state = XenbusStateInitWait;
	assert_int_equal(input_read_dev(d, &in, 0), 0);
	assert_int_equal(nreads, 0);
	assert_int_equal(in.be_state, XenbusStateInitWait);
	free(d);
}

static void
test_gone(void **unused)
{
	struct wdev *d = dev(1, 5, 1);
	struct fsm_in in;

	set(BE "/vif/5/1/online", "0");	/* a leftover, not read */
	assert_int_equal(input_read_dev(d, &in, WANT_ALL), 0);
	assert_int_equal(in.be_state, XS_ABSENT);
	assert_int_equal(nreads, 1);
	free(d);
}

/* The state value v (length n) read as *out. */
static int
state_of(const char *v, unsigned n)
{
	struct wdev *d = dev(1, 6, 0);
	struct fsm_in in;

	clear_store();
	put(BE "/vif/6/0/state", v, n);
	assert_int_equal(input_read_dev(d, &in, WANT_STATE), 0);
	free(d);
	return in.be_state;
}

static void
test_strict_values(void **unused)
{
	static char big[4096];
	struct wdev *d = dev(1, 6, 1);
	struct fsm_in in;

	assert_int_equal(state_of("6", 1), XenbusStateClosed);
	assert_int_equal(state_of("4x", 2), XS_INVALID);
	assert_int_equal(state_of("9", 1), XS_INVALID);
	assert_int_equal(state_of("", 0), XS_INVALID);
	assert_int_equal(state_of("4\0", 2), XS_INVALID);	/* binary */
	memset(big, '4', sizeof(big));
	assert_int_equal(state_of(big, sizeof(big)), XS_INVALID);
	assert_int_equal(wd.st.invalid_values, 5);

	clear_store();
	set(BE "/vif/6/1/state", "2");
	set(BE "/vif/6/1/online", "2");
	set(BE "/vif/6/1/hotplug-status", "weird");
	assert_int_equal(input_read_dev(d, &in, WANT_ALL), 0);
	assert_int_equal(in.online, XS_INVALID);
	assert_int_equal(in.hs, HS_OTHER);
	assert_int_equal(input_hs("error", 5), HS_ERROR);
	assert_int_equal(input_hs("busy", 4), HS_BUSY);
	assert_int_equal(input_hs("", 0), HS_NONE);
	assert_int_equal(input_hs(NULL, 0), HS_NONE);
	free(d);
}

/* io_done of vbd 7/51712 in state st with the nodes present as given. */
static int
io_done(int st, int request, int done, unsigned kind)
{
	struct wdev *d = dev(kind, 7, 51712);
	const char *k = kind == 0 ? "vbd" : "vif";
	char p[192];
	struct fsm_in in;

	clear_store();
	nreads = 0;
	snprintf(p, sizeof(p), BE "/%s/7/51712/state", k);
	set(p, st == XenbusStateClosed ? "6" : "4");
	snprintf(p, sizeof(p), BE "/%s/7/51712/shutdown-request", k);
	if (request)
		set(p, "");
	snprintf(p, sizeof(p), BE "/%s/7/51712/shutdown-done", k);
	if (done)
		set(p, "");
	assert_int_equal(input_read_dev(d, &in, WANT_STATE), 0);
	free(d);
	return in.io_done;
}

static void
test_io_done(void **unused)
{
	assert_int_equal(io_done(XenbusStateClosed, 0, 0, 0), 1);
	assert_true(was_read("/shutdown-request"));
	assert_false(was_read("/shutdown-done"));
	assert_int_equal(io_done(XenbusStateClosed, 1, 0, 0), 0);
	assert_int_equal(io_done(XenbusStateClosed, 1, 1, 0), 1);
	assert_int_equal(io_done(XenbusStateConnected, 1, 1, 0), 0);
	assert_int_equal(nreads, 1);		/* open: nothing asked */
	assert_int_equal(io_done(XenbusStateClosed, 1, 0, 1), 1);  /* vif */
	assert_int_equal(nreads, 1);
	wd.cfg.io_drain_timeout_ms = 0;		/* the wait is off */
	assert_int_equal(io_done(XenbusStateClosed, 1, 0, 0), 1);
	assert_int_equal(nreads, 1);
}

static void
test_connection_lost(void **unused)
{
	struct wdev *d = dev(1, 5, 2);
	struct fsm_in in;

	read_errno = ECONNRESET;
	assert_int_equal(input_read_dev(d, &in, WANT_ALL), -1);
	assert_int_equal(lost_calls, 1);
	assert_null(wd.xs);
	assert_int_equal(wd.st.xs_reconnects, 1);
	wd.ev_watch = NULL;			/* freed by xsio_lost */
	free(d);
}

static void
test_pipelined(void **unused)
{
	struct wdev *d[3] = { dev(1, 8, 0), dev(1, 8, 1), dev(1, 8, 2) };
	const unsigned want[3] = { WANT_ALL, WANT_HS, WANT_ALL };
	struct fsm_in in[3], one;
	int ok[3], i;

	set(BE "/vif/8/0/state", "4");
	set(BE "/vif/8/0/online", "1");
	set(BE "/vif/8/0/hotplug-status", "connected");
	set(BE "/vif/8/1/state", "2");
	set(BE "/vif/8/1/hotplug-status", "error");
	/* 8/2: no state, gone */
	d[1]->be_state = XenbusStateInitWait;	/* as last read */
	batch_up = 1;
	input_read_devs(d, 3, want, in, ok);
	assert_int_equal(burst_calls, 3);	/* state, online, hs */
	assert_int_equal(nburst_paths, 2 + 1 + 2);
	assert_int_equal(nreads, 0);		/* no per-node read */
	for (i = 0; i < 3; i++)
		assert_true(ok[i]);
	assert_int_equal(in[0].be_state, XenbusStateConnected);
	assert_int_equal(in[0].online, 1);
	assert_int_equal(in[0].hs, HS_CONNECTED);
	assert_int_equal(in[1].be_state, XenbusStateInitWait);	/* kept */
	assert_int_equal(in[1].hs, HS_ERROR);
	assert_int_equal(in[2].be_state, XS_ABSENT);
	for (i = 0; i < nburst_paths; i++)	/* gone: nothing more asked */
		assert_null(strstr(burst_paths[i], "/8/2/online"));

	batch_up = 0;				/* the same, one by one */
	for (i = 0; i < 3; i++) {
		assert_int_equal(input_read_dev(d[i], &one, want[i]), 0);
		assert_int_equal(one.be_state, in[i].be_state);
		assert_int_equal(one.online, in[i].online);
		assert_int_equal(one.hs, in[i].hs);
		free(d[i]);
	}
}

static void
test_frontend_state(void **unused)
{
	struct wdev *q = dev(2, 9, 51712), *v = dev(1, 9, 0);

	set("/local/domain/9/device/vbd/51712/state", "4");
	assert_int_equal(input_fe_state(q), XenbusStateConnected);
	assert_true(was_read("/local/domain/9/device/vbd/51712/state"));
	assert_int_equal(input_fe_state(v), XS_ABSENT);
	free(q);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wanted_nodes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_strict_values, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_io_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_lost, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_frontend_state, setup,
		    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
