/*
 * The state machine's inputs, read from xenstore: a device's `state`,
 * `online` and `hotplug-status` (the nodes its `want` names, the others as
 * last read), each parsed strictly (a 4 KiB or binary value is "invalid",
 * never a number), and the I/O-done signal of a closing vbd.  Up to
 * XSB_DEVS devices are read in one pipelined burst per node (xsbatch.c),
 * one by one through xsio.c when that connection is down.  Uses xsio.c,
 * xsbatch.c, devpath.c and fsm.h; called by device.c's evaluation,
 * hint.c (an own write's value) and stats.c (listings).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "parse.h"
#include "wd.h"
#include "xsbatch.h"

/* Value parsers: v may be NULL (absent); len is the value's real length. */
static void
val_state(const char *v, int len, int *out)
{
	*out = XS_ABSENT;
	if (v == NULL || len < 0)
		return;
	if (parse_xenbus_state(v, (size_t)len, out) == -1) {
		*out = XS_INVALID;
		wd.st.invalid_values++;
	}
}

static void
val_online(const char *v, int len, int *out)
{
	*out = XS_ABSENT;
	if (v == NULL || len < 0)
		return;
	if (len == 1 && (v[0] == '0' || v[0] == '1'))
		*out = v[0] - '0';
	else
		*out = XS_INVALID;
}

static void
val_hs(const char *v, int len, int *out)
{
	*out = HS_NONE;
	if (v == NULL || len <= 0)
		return;
	if (len == 9 && memcmp(v, "connected", 9) == 0)
		*out = HS_CONNECTED;
	else if (len == 5 && memcmp(v, "error", 5) == 0)
		*out = HS_ERROR;
	else if (len == 4 && memcmp(v, "busy", 4) == 0)
		*out = HS_BUSY;
	else
		*out = HS_OTHER;
}

/* Reads dir/node with libxenstore into the parser; -1 when xenstore went. */
static int
read_node(const char *dir, const char *node,
    void (*parse)(const char *, int, int *), int *out)
{
	char p[256];
	unsigned len;
	char *v;

	parse(NULL, -1, out);
	if (xsnprintf(p, sizeof(p), "%s/%s", dir, node) == -1)
		return 0;
	if ((v = xsio_read(p, &len)) == NULL)
		return wd.xs ? 0 : -1;
	parse(v, (int)len, out);
	free(v);
	return 0;
}

static int
read_state(const char *dir, const char *node, int *out)
{
	return read_node(dir, node, val_state, out);
}

/*
 * The I/O-done signal (seed 003) is a request and an answer: the toolstack
 * writes `shutdown-request` into a vbd backend, and a backend that speaks
 * the protocol (XenServer's blkback and tapback, asked by xenopsd's
 * Device.Vbd.request_shutdown) writes `shutdown-done` once its outstanding
 * I/O completed.  Where nobody asked (libxl and xl never write the
 * request; Linux's xen-blkback never writes the answer) state 6 is the
 * signal: xen-blkback switches to Closed after xen_blkif_disconnect()
 * stopped its rings, and a request still in flight holds the physical
 * device until it completes (docs/WATCHERD.md "I/O done before release").
 * Other kinds have no disk I/O.  io_drain_timeout = 0 disables the wait.
 */
static int
read_io_done(const struct wdev *d, const char *dir, int be_state, int *out)
{
	char p[256];

	*out = 1;
	if (wd.cfg.io_drain_timeout_ms == 0 ||
	    strncmp(dev_kind(d), "vbd", 3) != 0)
		return 0;
	*out = 0;
	if (be_state != XenbusStateClosed && d->st.phase != P_IO_DRAIN)
		return 0;	/* not closed: not drained either */
	if (xsnprintf(p, sizeof(p), "%s/shutdown-request", dir) == -1)
		return 0;
	if (!xsio_exists(p)) {
		*out = 1;	/* not asked: state 6 is the signal */
		return wd.xs ? 0 : -1;
	}
	if (xsnprintf(p, sizeof(p), "%s/shutdown-done", dir) == -1)
		return 0;
	*out = xsio_exists(p);
	return wd.xs ? 0 : -1;
}

/*
 * The inputs of an evaluation: the values last read, then the nodes of
 * `want` read afresh.  A backend without `state` is gone: nothing else is
 * read.  `online` is read with the rest on a full read even when the
 * device is attached: a removal written while watcherd was away (or
 * disconnected) must be seen whatever the backend did to `state` since
 * (RELIABILITY bug 5).
 */
static void
in_cached(const struct wdev *d, struct fsm_in *in)
{
	memset(in, 0, sizeof(*in));
	in->be_state = d->be_state;
	in->online = d->online;
	in->hs = d->hs;
}

/* Fills in from xenstore; -1 when the connection went away meanwhile. */
int
input_read_dev(struct wdev *d, struct fsm_in *in, unsigned want)
{
	char dir[192];

	in_cached(d, in);
	if (dev_be_path(d, dir, sizeof(dir)) == -1)
		return -1;
	if ((want & WANT_STATE) &&
	    read_state(dir, "state", &in->be_state) == -1)
		return -1;
	if (in->be_state == XS_ABSENT)
		return 0;	/* gone: nothing else to read */
	if (((want & WANT_ONLINE) &&
	    read_node(dir, "online", val_online, &in->online) == -1) ||
	    ((want & WANT_HS) &&
	    read_node(dir, "hotplug-status", val_hs, &in->hs) == -1) ||
	    read_io_done(d, dir, in->be_state, &in->io_done) == -1)
		return -1;
	wd.st.node_reads += (unsigned)__builtin_popcount(want);
	return 0;
}

/* One pipelined burst of `node` for the devices whose flag is set. */
static int
burst(struct wdev **d, size_t n, const char *node, const int *want,
    struct xsb_val *v)
{
	static char paths[XSB_DEVS][192];
	const char *pp[XSB_DEVS];
	struct xsb_val tmp[XSB_DEVS];
	char dir[160];
	size_t i, np = 0;

	for (i = 0; i < n; i++) {
		v[i].len = XSB_ABSENT;
		if (!want[i])
			continue;
		if (dev_be_path(d[i], dir, sizeof(dir)) == -1 ||
		    xsnprintf(paths[np], sizeof(paths[np]), "%s/%s", dir,
		    node) == -1)
			return -1;
		pp[np] = paths[np];
		np++;
	}
	if (np == 0)
		return 0;
	if (xsb_read(pp, np, tmp) == -1)
		return -1;
	for (i = 0, np = 0; i < n; i++)
		if (want[i])
			v[i] = tmp[np++];
	return 0;
}

static const char *
val_ptr(const struct xsb_val *v)
{
	return v->len < 0 ? NULL : v->buf;
}

/* One burst of `node` for the devices whose want has `bit`. */
static int
burst_want(struct wdev **d, size_t n, const unsigned *want, unsigned bit,
    const char *node, int *wanted, struct xsb_val *v)
{
	size_t i;

	for (i = 0; i < n; i++)
		wanted[i] = (want[i] & bit) != 0;
	return burst(d, n, node, wanted, v);
}

/* The pipelined values into in[i]; 0, or -1 if a read_io_done failed. */
static int
burst_apply(struct wdev *d, struct fsm_in *in, unsigned want,
    const struct xsb_val *vs, const struct xsb_val *vo,
    const struct xsb_val *vh)
{
	char dir[160];

	in_cached(d, in);
	if (want & WANT_STATE)
		val_state(val_ptr(vs), vs->len, &in->be_state);
	if (in->be_state == XS_ABSENT)
		return 0;
	if (want & WANT_ONLINE)
		val_online(val_ptr(vo), vo->len, &in->online);
	if (want & WANT_HS)
		val_hs(val_ptr(vh), vh->len, &in->hs);
	wd.st.node_reads += (unsigned)__builtin_popcount(want);
	return dev_be_path(d, dir, sizeof(dir)) == -1 ||
	    read_io_done(d, dir, in->be_state, &in->io_done) == -1 ? -1 : 0;
}

/*
 * Reads the wanted nodes of n (<= XSB_DEVS) devices in pipelined bursts
 * (one per node); ok[i] = 0 when device i's read failed (xenstore lost).
 * Falls back to input_read_dev per device when the batch connection is
 * unavailable.  A device whose state turns out absent ignores the rest.
 */
void
input_read_devs(struct wdev **d, size_t n, const unsigned *want,
    struct fsm_in *in, int *ok)
{
	static struct xsb_val vs[XSB_DEVS], vo[XSB_DEVS], vh[XSB_DEVS];
	unsigned w[XSB_DEVS];
	int wanted[XSB_DEVS] = { 0 };
	size_t i;
	int r = -1;

	memcpy(w, want, n * sizeof(w[0]));
	if (xsb_available() &&
	    burst_want(d, n, w, WANT_STATE, "state", wanted, vs) == 0) {
		for (i = 0; i < n; i++)
			if ((w[i] & WANT_STATE) && vs[i].len == XSB_ABSENT)
				w[i] = WANT_STATE;	/* gone */
		if (burst_want(d, n, w, WANT_ONLINE, "online", wanted,
		    vo) == 0 && burst_want(d, n, w, WANT_HS,
		    "hotplug-status", wanted, vh) == 0)
			r = 0;
	}
	for (i = 0; i < n; i++) {
		if (r == -1)
			ok[i] = input_read_dev(d[i], &in[i], want[i]) == 0;
		else
			ok[i] = burst_apply(d[i], &in[i], w[i], &vs[i],
			    &vo[i], &vh[i]) == 0;
	}
}

/* The frontend's state, for listings only (not an input of the FSM: the
 * backend reflects what the frontend does). */
int
input_fe_state(const struct wdev *d)
{
	char fe[192];
	int st;

	if (dev_fe_path(d, fe, sizeof(fe)) == -1 ||
	    read_state(fe, "state", &st) == -1)
		return XS_ABSENT;
	return st;
}

/* The value of a hotplug-status node (enum hs_value); NULL: absent. */
int
input_hs(const char *v, size_t len)
{
	int hs;

	val_hs(v, v ? (int)len : -1, &hs);
	return hs;
}
