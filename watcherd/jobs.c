/*
 * Hotplug jobs: watcherd asks devsep-hotplugd (common/proto_hotplug.h) to
 * run a device's script; hotplugd has no xenstore connection, so each job
 * gets a scoped xenstore socket (xsproxy) opened here before the RUN is
 * sent and closed when its DONE arrives.
 *
 * - At most one job per device (the state machine only starts one in
 *   P_ADD_JOB / P_REMOVE_JOB and waits for its result).
 * - Job ids are deterministic per (device, action): a watcherd restarted
 *   after a crash re-sends the same id and hotplugd attaches it to the run
 *   still in progress instead of starting a second one; the proxy socket
 *   path is derived from the id too, so the running script's next
 *   xenstore call reaches the new proxy.
 * - At most 2 * max_jobs jobs are active (proxy open, RUN sent); the rest
 *   wait in FIFO order, so 10 000 simultaneous attaches do not open 10 000
 *   sockets.  Scripts of different devices run in parallel in hotplugd.
 * - hotplugd absent or gone: every active job is marked unsent and the
 *   connection is retried every peer_retry_ms; on reconnect they are sent
 *   again (jobs are idempotent).
 * - hotplugd connected but silent: a job sent more than 2 x
 *   (hotplug_timeout + script_kill_grace) + JOB_SLACK_MS ago (it may have
 *   waited in hotplugd's queue for one round) is cancelled and ends here as
 *   timed out (hotplugd enforces the timeout itself; this is the backstop
 *   so a device never waits forever).
 * - Relay jobs (relay.c, backend_mode libxl): devsep-relay, exec'd by
 *   libxl as the script, asked for the run; the result goes back to it
 *   (RELAY_DONE), not to a state machine.  Their ids have RELAY_ID_BIT
 *   (never equal to a device job's).  A relay that hangs up (libxl
 *   killed it) gets its job cancelled; the job stays until hotplugd's
 *   DONE, so the same run cannot be asked for twice meanwhile.  hotplugd
 *   lost: a relay job ends at once (never re-sent: libxl waits).
 * - A job is sized to its content (issue 8: a 10 000-device reconcile
 *   queues ~7000): its strings (script, vif name, gatewaydev) are read into
 *   a struct hpjob_strs on the stack and copied behind the struct; the
 *   proxy socket path is derived from the id when the proxy is opened.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "errtext.h"
#include "log.h"
#include "msg.h"
#include "parse.h"
#include "proto_hotplug.h"
#include "wd.h"
#include "xsbatch.h"
#include "xsproxy.h"

#define JOB_HASH	1024
#define JOB_SLACK_MS	5000	/* backstop beyond hotplugd's own timeout */
#define JOB_CHECK_MS	1000

struct hpjob {
	uint64_t		 id;
	uint32_t		 domid, devid;
	uint8_t			 kind;
	uint8_t			 remove;
	uint8_t			 active;	/* proxy open, counted */
	uint8_t			 sent;
	uint8_t			 hs_known;	/* the script's last touch of
						   hotplug-status: a write
						   with its value seen */
	uint8_t			 relay;		/* a relay job (relay.c) */
	uint8_t			 tap;		/* vif add/remove, type_if=tap */
	struct msgchan		*rchan;		/* the relay, NULL once gone */
	uint32_t		 rreqid;	/* its request's reqid */
	uint64_t		 sent_ms;
	struct xsproxy		*px;
	const char		*script, *vif, *netdev;	/* in strs */
	LIST_ENTRY(hpjob)		 hentry;
	TAILQ_ENTRY(hpjob)	 qentry;	/* pending or active list */
	char			 strs[];	/* script\0vif\0netdev\0 */
};

struct hpjob_strs {		/* a job's strings while it is built */
	char	script[HOTPLUG_SCRIPT_MAX];
	char	vif[HOTPLUG_VIF_MAX];
	char	netdev[HOTPLUG_VIF_MAX];
};

static LIST_HEAD(, hpjob)	 jhash[JOB_HASH];
static TAILQ_HEAD(, hpjob)	 pending = TAILQ_HEAD_INITIALIZER(pending);
static TAILQ_HEAD(, hpjob)	 active = TAILQ_HEAD_INITIALIZER(active);
static size_t			 nactive, njobs;
static const struct hpjobs_ops	*ops;
static struct event		*ev_check;

static void hp_msg(struct msgchan *, struct msg *, void *);
static void hp_close(struct msgchan *, void *);
static void hp_retry_cb(evutil_socket_t, short, void *);
static void check_cb(evutil_socket_t, short, void *);

void
hpjobs_init(const struct hpjobs_ops *o)
{
	size_t i;

	ops = o;
	for (i = 0; i < JOB_HASH; i++)
		LIST_INIT(&jhash[i]);
	wd.ev_hpretry = evtimer_new(wd.base, hp_retry_cb, NULL);
	ev_check = evtimer_new(wd.base, check_cb, NULL);
}

static void
check_arm(void)
{
	struct timeval tv = { JOB_CHECK_MS / 1000, 0 };

	if (njobs > 0 && !evtimer_pending(ev_check, NULL))
		evtimer_add(ev_check, &tv);
}

size_t
hpjobs_outstanding(void)
{
	return njobs;
}

int
hpjobs_connected(void)
{
	return wd.hp != NULL;
}

#define RELAY_ID_BIT	(1ull << 61)
#define TAP_ID_BIT	(1ull << 60)

/* kind < WD_MAX_KINDS (16): bits 56..59. */
static uint64_t
hpjob_id(unsigned kind, uint32_t domid, uint32_t devid, int remove)
{
	return 1ull << 63 | (uint64_t)(remove ? 1 : 0) << 62 |
	    (uint64_t)kind << 56 | (uint64_t)domid << 32 | devid;
}

static uint64_t
hpjob_id_for(const struct wdev *d, int remove)
{
	return hpjob_id(d->kind, d->domid, d->devid, remove);
}

static struct hpjob *
hpjob_find(uint64_t id)
{
	struct hpjob *j;

	LIST_FOREACH(j, &jhash[id % JOB_HASH], hentry)
		if (j->id == id)
			return j;
	return NULL;
}

/*
 * Reads an optional backend node into buf ("" when absent); -1 if bad.
 * *lenp (may be NULL) gets the node's length, also when it is too long.
 */
static int
read_opt(const char *be, const char *node, char *buf, size_t sz,
    unsigned *lenp)
{
	char p[256];
	unsigned len = 0;
	char *v;

	buf[0] = '\0';
	if (lenp != NULL)
		*lenp = 0;
	if (xsnprintf(p, sizeof(p), "%s/%s", be, node) == -1)
		return -1;
	if ((v = xsio_read(p, &len)) == NULL)
		return wd.xs ? 0 : -1;
	if (lenp != NULL)
		*lenp = len;
	if (len >= sz || memchr(v, '\0', len) != NULL) {
		free(v);
		return -1;
	}
	memcpy(buf, v, len);
	buf[len] = '\0';
	free(v);
	return 0;
}

/* A node of the burst (v), or read alone when not in it or cut short. */
static int
take_opt(const struct xsb_val *v, const char *be, const char *node,
    char *buf, size_t sz, unsigned *lenp)
{
	if (v == NULL || v->len > XSB_VAL_MAX - 1)
		return read_opt(be, node, buf, sz, lenp);
	buf[0] = '\0';
	if (lenp != NULL)
		*lenp = v->len < 0 ? 0 : (unsigned)v->len;
	if (v->len < 0)
		return 0;		/* absent */
	if ((size_t)v->len >= sz || memchr(v->buf, '\0', (size_t)v->len))
		return -1;
	memcpy(buf, v->buf, (size_t)v->len);
	buf[v->len] = '\0';
	return 0;
}

/*
 * The job's backend nodes (libxl's script, and for a vif gatewaydev, its
 * `netdev`) in one pipelined round trip.  -1 if the job cannot be built;
 * *slen = the `script` node's length.  A vif's `vif` is always netback's
 * name vif<D>.<N>, as libxl passes it (libxl__device_nic_devname): with a
 * `vifname` node the script itself renames the interface (vif-common.sh
 * rename_vif), which fails when given the new name as `vif`.
 */
static int
hpjob_fill(struct hpjob_strs *j, const struct wdev *d, unsigned *slen)
{
	static const char *const node[] = { "script", "gatewaydev" };
	char *buf[] = { j->script, j->netdev };
	const size_t sz[] = { sizeof(j->script), sizeof(j->netdev) };
	char be[192], p[2][256];
	const char *pp[2];
	struct xsb_val v[2];
	size_t i, n = strcmp(dev_kind(d), "vif") == 0 ? 2 : 1;
	int burst;

	if (dev_be_path(d, be, sizeof(be)) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (xsnprintf(p[i], sizeof(p[i]), "%s/%s", be, node[i]) == -1)
			return -1;
		pp[i] = p[i];
	}
	burst = xsb_available() && xsb_read(pp, n, v) == 0;
	for (i = 0; i < n; i++)
		if (take_opt(burst ? &v[i] : NULL, be, node[i], buf[i], sz[i],
		    i == 0 ? slen : NULL) == -1)
			return -1;
	if (n == 2)
		snprintf(j->vif, sizeof(j->vif), "vif%u.%u", d->domid,
		    d->devid);
	return 0;
}

/* libxl_linux.c: a vif's vif run is online/offline, its tap run and
 * every other kind add/remove. */
static const char *
hpjob_action(const struct hpjob *j)
{
	if (strcmp(wd.kinds[j->kind], "vif") == 0 && !j->tap)
		return j->remove ? "offline" : "online";
	return j->remove ? "remove" : "add";
}

/* The RUN for j (every field fits: the strings were bounded when the job
 * was built, the paths are shorter than a socket's or a backend's). */
static void
hpjob_run_fill(const struct hpjob *j, struct hotplug_run *r)
{
	const char *kind = wd.kinds[j->kind];
	int vif = strcmp(kind, "vif") == 0;

	memset(r, 0, sizeof(*r));
	r->id = j->id;
	snprintf(r->kind, sizeof(r->kind), "%s", kind);
	snprintf(r->action, sizeof(r->action), "%s", hpjob_action(j));
	snprintf(r->script, sizeof(r->script), "%s", j->script);
	snprintf(r->be_path, sizeof(r->be_path), "%s/%s/%u/%u", wd.be_root,
	    kind, j->domid, j->devid);
	snprintf(r->xs_path, sizeof(r->xs_path), "%s",
	    j->px ? xsproxy_path(j->px) : "");
	snprintf(r->vif, sizeof(r->vif), "%s", vif ? j->vif : "");
	snprintf(r->netdev, sizeof(r->netdev), "%s", vif ? j->netdev : "");
	r->timeout_ms = 0;		/* hotplugd's hotplug_timeout */
}

static void
hpjob_send(struct hpjob *j)
{
	struct hotplug_run r;
	struct msgbuf b;

	if (wd.hp == NULL || j->sent)
		return;
	hpjob_run_fill(j, &r);
	msgbuf_init(&b, MSG_HOTPLUG_RUN, (uint32_t)j->id);
	hotplug_run_put(&b, &r);
	if (msgchan_send(wd.hp, &b) == 0) {
		j->sent = 1;
		j->sent_ms = now_ms();
	}
	msgbuf_dispose(&b);
	check_arm();
}

static int
sock_path(uint64_t id, char *buf, size_t sz)
{
	return xsnprintf(buf, sz, "%s/j%016llx.sock", wd.jobdir,
	    (unsigned long long)id);
}

/* The script wrote (value) or touched in doubt (NULL) its hotplug-status. */
static void
hpjob_hs_cb(void *arg, const char *value)
{
	struct hpjob *j = arg;
	struct wdev *d = dev_find(j->kind, j->domid, j->devid);

	j->hs_known = value != NULL;
	if (d != NULL && d->job_id == j->id)
		hint_own_hs(d, value);
}

static int
proxy_open(struct hpjob *j)
{
	struct xsproxy_scope sc;
	char be[192], sock[CONFIG_PATH_MAX];

	if (wd.xs == NULL)
		return 0;	/* opened after reconnect */
	snprintf(be, sizeof(be), "%s/%s/%u/%u", wd.be_root, wd.kinds[j->kind],
	    j->domid, j->devid);
	if (xsproxy_scope_for_backend(&sc, j->id, be) == -1 ||
	    sock_path(j->id, sock, sizeof(sock)) == -1)
		return -1;
	j->px = xsproxy_open(wd.base, wd.xs, sock, &sc);
	if (j->px != NULL && !j->relay && (xsnprintf(be + strlen(be), sizeof(be) -
	    strlen(be), "/hotplug-status") == -1 || xsproxy_track(j->px,
	    be, hpjob_hs_cb, j) == -1))
		log_warnx("domid=%u kind=%s devid=%u hotplug-status not "
		    "tracked: read back", j->domid, wd.kinds[j->kind], j->devid);
	return j->px ? 0 : -1;
}

static void hpjob_finish(struct hpjob *, uint32_t, int64_t, uint64_t,
    const char *);

static void
pump(void)
{
	struct hpjob *j;
	size_t max = 2 * (size_t)wd.cfg.max_jobs;

	if (wd.shutting_down)
		return;

	while (nactive < max && (j = TAILQ_FIRST(&pending)) != NULL) {
		TAILQ_REMOVE(&pending, j, qentry);
		TAILQ_INSERT_TAIL(&active, j, qentry);
		j->active = 1;
		nactive++;
		if (proxy_open(j) == -1) {
			hpjob_finish(j, HOTPLUG_SPAWN_FAILED, errno,
			    0, "cannot open the scoped xenstore socket");
			continue;
		}
		hpjob_send(j);
	}
}

/* Why the job could not be built, for the device's hotplug-error. */
static void
hpjob_build_failed(struct wdev *d, unsigned slen)
{
	d->last_outcome = WD_OUT_BUILD;
	d->last_code = 0;
	d->last_dur_ms = 0;
	d->last_ms = now_ms();
	if (slen >= HOTPLUG_SCRIPT_MAX) {
		d->last_code = (int32_t)(slen > INT32_MAX ? INT32_MAX : slen);
		log_warnx("domid=%u kind=%s devid=%u script name too long "
		    "(%u bytes, max %u)", d->domid, dev_kind(d), d->devid,
		    slen, HOTPLUG_SCRIPT_MAX - 1);
	} else
		log_warnx("domid=%u kind=%s devid=%u cannot build the job",
		    d->domid, dev_kind(d), d->devid);
}

/* The job, sized to its strings; NULL if out of memory. */
static struct hpjob *
hpjob_new(const struct wdev *d, uint64_t id, int remove,
    const struct hpjob_strs *js)
{
	size_t ls = strlen(js->script) + 1, lv = strlen(js->vif) + 1;
	size_t ln = strlen(js->netdev) + 1;
	struct hpjob *j;

	if ((j = calloc(1, sizeof(*j) + ls + lv + ln)) == NULL)
		return NULL;
	j->id = id;
	j->kind = d->kind;
	j->domid = d->domid;
	j->devid = d->devid;
	j->remove = (uint8_t)remove;
	j->script = memcpy(j->strs, js->script, ls);
	j->vif = memcpy(j->strs + ls, js->vif, lv);
	j->netdev = memcpy(j->strs + ls + lv, js->netdev, ln);
	return j;
}

int
hpjob_start(struct wdev *d, int remove)
{
	struct hpjob_strs js;
	struct hpjob *j;
	char sock[CONFIG_PATH_MAX];
	uint64_t id = hpjob_id_for(d, remove);
	unsigned slen = 0;

	d->last_action = remove ? WD_JOB_REMOVE : WD_JOB_ADD;
	d->hs_own = 0;		/* a lost own event must not outlive a job */
	memset(&js, 0, sizeof(js));
	if (hpjob_fill(&js, d, &slen) == -1 || hpjob_find(id) != NULL ||
	    sock_path(id, sock, sizeof(sock)) == -1) {
		hpjob_build_failed(d, slen);
		return -1;
	}
	if (js.script[0] == '\0') {
		/* libxl: "No hotplug script to execute": nothing to wait
		 * for, so the device is ready as far as hotplug goes. */
		char p[256], be[192];

		if (!remove && dev_be_path(d, be, sizeof(be)) != -1 &&
		    xsnprintf(p, sizeof(p), "%s/hotplug-status", be) != -1)
			hint_own_hs(d, xsio_write(p, "connected") == 0 ?
			    "connected" : NULL);
		d->job_result = JOB_NOSCRIPT;	/* row 30: attached */
		dev_mark(d, 0);
		return 0;
	}
	if ((j = hpjob_new(d, id, remove, &js)) == NULL)
		return -1;
	d->job_id = j->id;
	wd.st.script_runs++;
	LIST_INSERT_HEAD(&jhash[j->id % JOB_HASH], j, hentry);
	TAILQ_INSERT_TAIL(&pending, j, qentry);
	njobs++;
	pump();
	return 0;
}

static void
hpjob_unlink(struct hpjob *j)
{
	xsproxy_close(j->px);
	LIST_REMOVE(j, hentry);
	if (j->active) {
		TAILQ_REMOVE(&active, j, qentry);
		nactive--;
	} else
		TAILQ_REMOVE(&pending, j, qentry);
	njobs--;
}

/* A relay job ended: the result goes to the relay (if still there), and
 * into the device's last script for `devsepctl devices`. */
static void
relay_job_finish(struct hpjob *j, struct wdev *d, uint32_t outcome,
    int64_t code, uint64_t dur_us, const char *msg)
{
	log_info("domid=%u kind=%s devid=%u relay: %s %s: %s %lld after %llu "
	    "ms%s", j->domid, wd.kinds[j->kind], j->devid, j->script,
	    hpjob_action(j), hotplug_outcome_name(outcome), (long long)code,
	    (unsigned long long)(dur_us / 1000),
	    j->rchan == NULL ? " (relay gone)" : "");
	if (outcome != HOTPLUG_EXITED || code != 0)
		wd.st.relay_failures++;
	if (d != NULL) {
		d->last_action = j->remove ? WD_JOB_REMOVE : WD_JOB_ADD;
		d->last_outcome = (uint8_t)outcome;
		d->last_code = (int32_t)code;
		d->last_dur_ms = (uint32_t)(dur_us / 1000);
		d->last_ms = now_ms();
	}
	if (j->rchan != NULL)
		ops->relay_done(j->rchan, j->rreqid, outcome, code, dur_us,
		    msg);
}

/* The device's words for a failed script (hotplug-error, devsepctl). */
static void
hpjob_error_words(const struct hpjob *j, struct wdev *d, uint32_t outcome,
    int64_t code, const char *msg)
{
	struct errtext_job e = { j->script, hpjob_action(j), outcome, code,
	    msg };
	char text[HOTPLUG_MSG_MAX + HOTPLUG_SCRIPT_MAX + 256];

	if (outcome == HOTPLUG_EXITED && code == 0) {
		ops->error_text(d, NULL);
		return;
	}
	errtext_script(text, sizeof(text), &e, &wd.cfg);
	ops->error_text(d, text);
}

static void
hpjob_finish(struct hpjob *j, uint32_t outcome, int64_t code, uint64_t dur_us,
    const char *msg)
{
	struct wdev *d;

	d = dev_find(j->kind, j->domid, j->devid);
	if (j->relay)
		relay_job_finish(j, d, outcome, code, dur_us, msg);
	/* An add whose script was not seen writing hotplug-status (it used
	 * another way, or none): read it back, a watch event may still be on
	 * its way.  A removal does not look at it. */
	else if (d != NULL && d->job_id == j->id && !j->remove &&
	    !j->hs_known)
		d->want |= WANT_HS;
	hpjob_unlink(j);
	if (!j->relay && d != NULL && d->job_id == j->id) {
		hpjob_error_words(j, d, outcome, code, msg);
		ops->done(d, outcome, code, dur_us, msg);
	}
	free(j);
}

/* ---- relay jobs (relay.c checked the request) ---- */

/*
 * Queues the run devsep-relay asked for; the reply goes to c once it
 * ended.  Returns 0, or an errno: EBUSY when that run is still going
 * (also a cancelled one whose group is being killed), ENOMEM.
 */
int
hpjobs_relay_start(const struct relay_req *r, struct msgchan *c,
    uint32_t reqid)
{
	struct hpjob_strs js;
	struct hpjob *j;
	uint64_t id = hpjob_id(r->kind, r->domid, r->devid, r->remove) |
	    RELAY_ID_BIT | (r->tap ? TAP_ID_BIT : 0);

	if (hpjob_find(id) != NULL)
		return EBUSY;
	memset(&js, 0, sizeof(js));
	snprintf(js.script, sizeof(js.script), "%s", r->script);
	snprintf(js.vif, sizeof(js.vif), "%s", r->vif);
	snprintf(js.netdev, sizeof(js.netdev), "%s", r->netdev);
	if ((j = hpjob_new(&(struct wdev){ .kind = (uint8_t)r->kind,
	    .domid = r->domid, .devid = r->devid }, id, r->remove,
	    &js)) == NULL)
		return ENOMEM;
	j->relay = 1;
	j->tap = (uint8_t)r->tap;
	j->rchan = c;
	j->rreqid = reqid;
	wd.st.relay_runs++;
	LIST_INSERT_HEAD(&jhash[j->id % JOB_HASH], j, hentry);
	TAILQ_INSERT_TAIL(&pending, j, qentry);
	njobs++;
	pump();
	return 0;
}

/* 1 while a relay's job for c is queued or running (c is not idle). */
int
hpjobs_relay_waiting(struct msgchan *c)
{
	struct hpjob *lists[2] = { TAILQ_FIRST(&active), TAILQ_FIRST(&pending) };
	struct hpjob *j;
	int i;

	for (i = 0; i < 2; i++)
		for (j = lists[i]; j != NULL; j = TAILQ_NEXT(j, qentry))
			if (j->relay && j->rchan == c)
				return 1;
	return 0;
}

static void cancel_send(uint64_t);

/* The relay hung up before its job ended (libxl killed it at its own
 * timeout): the script's process group is killed; the job ends with
 * hotplugd's DONE. */
void
hpjobs_relay_gone(struct msgchan *c)
{
	struct hpjob *j, *next;
	struct hpjob *lists[2] = { TAILQ_FIRST(&active), TAILQ_FIRST(&pending) };
	int i;

	for (i = 0; i < 2; i++)
		for (j = lists[i]; j != NULL; j = next) {
			next = TAILQ_NEXT(j, qentry);
			if (!j->relay || j->rchan != c)
				continue;
			j->rchan = NULL;
			wd.st.relay_gone++;
			log_warnx("domid=%u kind=%s devid=%u relay: %s %s: the "
			    "relay hung up (killed by libxl?): job cancelled",
			    j->domid, wd.kinds[j->kind], j->devid, j->script,
			    hpjob_action(j));
			if (!j->sent) {
				hpjob_finish(j, HOTPLUG_CANCELLED, 0, 0,
				    "relay gone before the job was sent");
				continue;
			}
			cancel_send(j->id);
		}
	pump();
}

/* ---- hotplugd channel ---- */

static int
watcherd_dispatch_hotplugd_done(struct msgchan *c, struct msg *m)
{
	struct hotplug_done d;
	struct hpjob *j;

	if (hotplug_done_get(m, &d) == -1)
		return -1;
	if ((j = hpjob_find(d.id)) == NULL) {
		log_debug("hotplugd: DONE for unknown job %016llx",
		    (unsigned long long)d.id);
		return 0;
	}
	hpjob_finish(j, d.outcome, d.code, d.duration_us, d.message);
	pump();
	return 0;
}

/* The job's script runs: its proxy serves that uid only (xsproxy.c). */
static int
watcherd_dispatch_hotplugd_started(struct msgchan *c, struct msg *m)
{
	struct hotplug_started st;
	struct hpjob *j;

	if (hotplug_started_get(m, &st) == -1)
		return -1;
	if ((j = hpjob_find(st.id)) == NULL || j->px == NULL) {
		log_debug("hotplugd: STARTED for unknown job %016llx",
		    (unsigned long long)st.id);
		return 0;
	}
	xsproxy_set_client(j->px, (uid_t)st.uid);
	return 0;
}

static int
watcherd_dispatch_hotplugd_reply(struct msgchan *c, struct msg *m)
{
	return 0;	/* CANCEL replies: the DONE that follows matters */
}

/* Replies on the channel we opened to hotplugd.sock, whose server was
 * verified at connect (msg_connect_server) and marked PEER_HOTPLUGD. */
static const struct msg_handler watcherd_hotplugd_handlers[] = {
	{ MSG_HOTPLUG_DONE, "HOTPLUG_DONE", PEER_HOTPLUGD,
	    watcherd_dispatch_hotplugd_done },
	{ MSG_HOTPLUG_STARTED, "HOTPLUG_STARTED", PEER_HOTPLUGD,
	    watcherd_dispatch_hotplugd_started },
	{ MSG_COMMON_OK, "OK", PEER_HOTPLUGD,
	    watcherd_dispatch_hotplugd_reply },
	{ MSG_COMMON_ERROR, "ERROR", PEER_HOTPLUGD,
	    watcherd_dispatch_hotplugd_reply },
};

static void
hp_msg(struct msgchan *c, struct msg *m, void *arg)
{
	if (msg_dispatch(watcherd_hotplugd_handlers,
	    MSG_NHANDLERS(watcherd_hotplugd_handlers), c, m) == -1)
		msgchan_drop(c, "bad message from hotplugd");
}

static void
hp_schedule(void)
{
	struct timeval tv = { wd.cfg.peer_retry_ms / 1000,
	    (suseconds_t)(wd.cfg.peer_retry_ms % 1000) * 1000 };

	if (!wd.shutting_down)
		evtimer_add(wd.ev_hpretry, &tv);
}

static void
hp_close(struct msgchan *c, void *arg)
{
	struct hpjob *j, *next;

	log_warnx("hotplugd: connection lost; %zu jobs to re-send", nactive);
	msgchan_free(c);
	wd.hp = NULL;
	for (j = TAILQ_FIRST(&active); j != NULL; j = next) {
		next = TAILQ_NEXT(j, qentry);
		if (j->relay && j->sent)  /* libxl waits: fail, never rerun */
			hpjob_finish(j, HOTPLUG_CANCELLED, 0, 0,
			    "devsep-hotplugd went away during the job");
		else {
			j->sent = 0;	/* re-run as a new uid: park until STARTED */
			if (j->px != NULL)
				xsproxy_clear_client(j->px);
		}
	}
	hp_schedule();
}

void
hpjobs_connect(void)
{
	char path[CONFIG_PATH_MAX + 32];
	struct msgchan_opts o = { 0, 0, 0 };
	struct hpjob *j;
	uid_t uid;
	int fd;

	if (wd.hp != NULL || wd.shutting_down)
		return;
	snprintf(path, sizeof(path), "%s/%s", wd.cfg.run_dir, SOCK_HOTPLUGD);
	if ((fd = msg_connect_server(path, PEER_HOTPLUGD, &uid)) == -1) {
		if (errno == EPERM)
			log_warnx("hotplugd: %s answered by uid %u, not root or "
			    "%s: an impostor, not talking to it", path,
			    (unsigned)uid, USER_HOTPLUGD);
		else
			log_debug("hotplugd: connect %s: %s", path,
			    strerror(errno));
		hp_schedule();
		return;
	}
	if ((wd.hp = msgchan_new(wd.base, fd, &o, hp_msg, hp_close,
	    NULL)) == NULL) {
		close(fd);
		hp_schedule();
		return;
	}
	msgchan_set_peer(wd.hp, PEER_HOTPLUGD);	/* verified at connect */
	log_info("hotplugd: connected; sending %zu active jobs", nactive);
	TAILQ_FOREACH(j, &active, qentry)
		hpjob_send(j);
}

static void
hp_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	hpjobs_connect();
}

/* xenstore went away: the proxies used that handle. */
void
hpjobs_xs_lost(void)
{
	struct hpjob *j;

	TAILQ_FOREACH(j, &active, qentry) {
		xsproxy_close(j->px);
		j->px = NULL;
	}
}

/* xenstore is back: active jobs get their scoped socket again. */
void
hpjobs_xs_back(void)
{
	struct hpjob *j;

	TAILQ_FOREACH(j, &active, qentry)
		if (j->px == NULL && proxy_open(j) == -1)
			log_warnx("domid=%u kind=%s devid=%u cannot reopen the "
			    "scoped xenstore socket", j->domid,
			    wd.kinds[j->kind], j->devid);
}

static void
cancel_send(uint64_t id)
{
	struct hotplug_cancel c = { .id = id };
	struct msgbuf b;

	if (wd.hp == NULL)
		return;
	msgbuf_init(&b, MSG_HOTPLUG_CANCEL, (uint32_t)id);
	hotplug_cancel_put(&b, &c);
	msgchan_send(wd.hp, &b);
	msgbuf_dispose(&b);
}

/* The backstop: a sent job hotplugd never answered ends as timed out. */
static void
check_cb(evutil_socket_t fd, short ev, void *arg)
{
	/* At most 2 x max_jobs are sent: a job may wait in hotplugd's queue
	 * for one full round of timed-out scripts, then run its own. */
	uint64_t limit = 2 * ((uint64_t)wd.cfg.hotplug_timeout_ms +
	    wd.cfg.script_kill_grace_ms) + JOB_SLACK_MS, now = now_ms();
	struct hpjob *j, *next;

	for (j = TAILQ_FIRST(&active); j != NULL; j = next) {
		next = TAILQ_NEXT(j, qentry);
		if (!j->sent || wd.hp == NULL || now - j->sent_ms < limit)
			continue;
		log_warnx("domid=%u kind=%s devid=%u hotplugd did not answer "
		    "job %016llx in %llu ms: cancelled", j->domid,
		    wd.kinds[j->kind], j->devid, (unsigned long long)j->id,
		    (unsigned long long)limit);
		cancel_send(j->id);
		hpjob_finish(j, HOTPLUG_TIMED_OUT, 0, 0,
		    "no answer from hotplugd");
	}
	pump();
	check_arm();
}
