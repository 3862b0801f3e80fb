/*
 * devsep-watcherd internals: the daemon state shared by its files.
 *
 *   watcherd.c  main, sandbox, signals, shutdown; sets the callbacks
 *               below (struct xsio_ops, struct hpjobs_ops, the broker's
 *               result, devtab's evaluator): no file calls one above it
 *   devtab.c    device hash table, dirty queue (coalescing), timer heap
 *   devpath.c   a device's kind name and xenstore paths
 *   xsio.c      the xenstore transport: connect, reconnect, watch, reads,
 *               writes, removal transactions
 *   hint.c      hint routing: a watch event -> the device(s) to re-read;
 *               the own-write cache of hotplug-status
 *   input.c     the state machine's inputs read from xenstore
 *   scan.c      start-up / reconnect scan (iterative, bounded), guest
 *               death (the evidence, checked; the rule is liveness.c)
 *   liveness.c  guest death: the rule (pure) and the table of guests
 *   device.c    evaluate devices: inputs -> fsm_next -> act
 *   jobs.c      hotplugd client: job queue, scoped xenstore per job
 *   broker.c    qdisk hand-over to devsep-qemu-broker
 *   control.c   watcherd.sock: status, stats, device list, CD-ROM updates
 *   relay.c     backend_mode (who drives the backends), devsep-relay's
 *               requests (backends libxl drives)
 *   stats.c     STATUS/STATS/DEVICES JSON, latency histograms
 */
#ifndef WATCHERD_WD_H
#define WATCHERD_WD_H

#include <stdint.h>
#include <stddef.h>

#include "config.h"
#include "fsm.h"
#include "proto_hotplug.h"

struct event_base;
struct event;
struct xs_handle;
struct xsproxy;
struct msgchan;
struct msg;

#define WD_MAX_KINDS	16
#define WD_DEVS_MAX	65536	/* devices tracked; more are refused */
#define WD_EVAL_BATCH	512	/* devices evaluated per loop turn */
#define WD_EVAL_CHAIN	6	/* transitions chained in one evaluation */

/* wdev.last_outcome beyond hotplug's outcomes (common/proto_hotplug.h) */
#define WD_OUT_NONE	0xff	/* no job ended yet */
#define WD_OUT_BUILD	0xfe	/* job not built; last_code = the `script`
				   node's length if too long, else 0 */

/*
 * wdev.want: the nodes the next evaluation reads.  A watch event names the
 * node that changed, so only that one is read; the others keep the value
 * last read (wdev.be_state, .online, .hs).  A new device, a rescan, a timer
 * and anything not naming one node read all three (issue 8).
 */
#define WANT_STATE	0x01
#define WANT_ONLINE	0x02
#define WANT_HS		0x04
#define WANT_ALL	(WANT_STATE | WANT_ONLINE | WANT_HS)

/* One device: compact, in a hash table keyed by (kind, domid, devid). */
struct wdev {
	struct wdev	*hnext;		/* hash chain */
	struct wdev	*dnext;		/* dirty queue */
	uint64_t	 job_id;	/* outstanding job, 0 = none */
	uint64_t	 t_start_ms;	/* attach/detach start (latency) */
	uint64_t	 last_ms;	/* last script end */
	char		*last_err;	/* words of the last failed script
					   (errtext.c), NULL after a success */
	uint32_t	 domid, devid;
	uint32_t	 timer_gen;	/* current timer's generation */
	uint32_t	 handovers;
	int32_t		 last_code;
	uint32_t	 last_dur_ms;
	uint8_t		 kind;		/* index into wd.kinds */
	struct fsm_state st;
	uint8_t		 dirty;
	uint8_t		 timer;		/* enum fsm_timer armed, T_NONE */
	uint8_t		 timer_fired;
	uint8_t		 job_result;	/* enum job_result */
	uint8_t		 broker_ref;	/* broker accepted QDISK_ATTACH */
	int8_t		 be_state, fe_state, online;	/* last seen */
	uint8_t		 hs;				/* last seen */
	uint8_t		 last_action;	/* enum wd_job_kind */
	uint8_t		 last_outcome;	/* hotplug_outcome, WD_OUT_* */
	uint8_t		 want;		/* WANT_* to read when evaluated */
	uint8_t		 hs_own;	/* hotplug-status writes of ours
					   (value known) whose watch event
					   has not arrived yet */
};

enum wd_job_kind {		/* which script a device's job runs */
	WD_JOB_NONE = 0,
	WD_JOB_ADD,		/* add / online */
	WD_JOB_REMOVE,		/* remove / offline */
};

struct wd_stats {
	uint64_t	attached, adopted, removed, frontend_only, errors;
	uint64_t	handovers, unsupported, forced, bodges, drain_timeouts;
	uint64_t	script_runs, script_failures, script_timeouts;
	uint64_t	watch_events, evals, hints_coalesced, hints_ignored;
	uint64_t	invalid_values, guests_died, xs_reconnects;
	uint64_t	scan_devices, scan_ms, reconcile_ms, hs_from_job;
	uint64_t	node_reads, hints_unused;
	uint64_t	relay_runs, relay_failures, relay_refused, relay_gone;
};

/* A checked MSG_WATCHER_RELAY_RUN (relay.c -> jobs.c). */
struct relay_req {
	unsigned	 kind;		/* wd.kinds index */
	uint32_t	 domid, devid;
	int		 remove, tap;
	char		 script[HOTPLUG_SCRIPT_MAX];
	char		 vif[HOTPLUG_VIF_MAX], netdev[HOTPLUG_VIF_MAX];
};

struct wd {
	struct devsep_config	 cfg;
	struct event_base	*base;
	struct xs_handle	*xs;		/* NULL while disconnected */
	uint32_t		 self;		/* our domid (backend domain) */
	int			 self_forced;	/* --domid given */
	int			 libxl;		/* backend_mode resolved: libxl
						   drives our backends */
	const char		*mode_why;	/* how it was resolved */
	char			 be_root[64];	/* /local/domain/<self>/backend */
	char			 jobdir[CONFIG_PATH_MAX]; /* proxy sockets */
	char			 kinds[WD_MAX_KINDS][16];
	size_t			 nkinds;
	uint64_t		 start_ms;
	int			 shutting_down;
	struct wd_stats		 st;
	/* devtab */
	struct wdev		**hash;
	size_t			 hsize, ndevs;
	struct wdev		*dirty_head, *dirty_tail;
	size_t			 ndirty;
	struct event		*ev_eval;
	uint64_t		 reconcile_t0;	/* scan start, 0 = none */
	/* xsio */
	struct event		*ev_watch, *ev_xsretry;
	uint32_t		 xs_backoff_ms;
	/* jobs */
	struct event		*ev_hpretry;
	struct msgchan		*hp;		/* hotplugd channel or NULL */
	uint64_t		 next_job;
	size_t			 jobs_out;	/* sent or queued */
	/* broker */
	struct msgchan		*broker;
	/* control */
	int			 ctl_fd;
};

extern struct wd wd;

/* devtab.c */
struct devtab_eval {		/* how a batch off the dirty queue is evaluated */
	int	(*pre)(struct wdev *);		/* before the reads */
	void	(*read)(struct wdev **, size_t, const unsigned *want,
		    struct fsm_in *, int *ok);	/* the inputs, pipelined */
	void	(*eval)(struct wdev *, struct fsm_in *);	/* may free */
};
void		 devtab_init(const struct devtab_eval *);
void		 devtab_dispose(void);
struct wdev	*dev_find(unsigned kind, uint32_t domid, uint32_t devid);
struct wdev	*dev_add(unsigned kind, uint32_t domid, uint32_t devid);
void		 dev_free(struct wdev *);
int		 kind_index(const char *name, int create);
int		 kind_is_qemu(unsigned kind);
void		 dev_mark_dirty(struct wdev *);
void		 dev_mark(struct wdev *, unsigned want);
void		 dev_timer_arm(struct wdev *, int timer, uint32_t ms);
void		 dev_timer_cancel(struct wdev *);
void		 devtab_foreach(void (*fn)(struct wdev *, void *), void *);
void		 devtab_run_timers(void);

/* devpath.c */
struct xsio_rmpath {		/* rm path, then its empty parents */
	const char	*path;
	size_t		 stoplen;	/* ... down to this prefix length */
};
struct dev_paths {		/* a removal's paths (dev_rm_paths) */
	char			 fe[192], lx[192], be[192];
	struct xsio_rmpath	 v[3];
};
const char	*dev_kind(const struct wdev *);
int		 dev_be_path(const struct wdev *, char *, size_t);
int		 dev_fe_path(const struct wdev *, char *, size_t);
size_t		 dev_rm_paths(const struct wdev *, int backend,
		    struct dev_paths *);

/* xsio.c */
enum xsio_watch { XW_BACKEND, XW_RELEASE, XW_INTRODUCE };
struct xsio_ops {		/* the transport's upward calls */
	void	(*connected)(void);	/* handle up, watches registered */
	void	(*lost)(void);		/* before the handle is closed */
	void	(*event)(int watch, const char *path);	/* enum xsio_watch */
};
void		 xsio_start(const struct xsio_ops *);
void		 xsio_stop(void);
int		 xsio_connect(void);
void		 xsio_lost(const char *why);
char		*xsio_read(const char *path, unsigned *len);
int		 xsio_exists(const char *path);
int		 xsio_write(const char *path, const char *val);
int		 xsio_rm(const char *path);
int		 xsio_rm_paths(const struct xsio_rmpath *, size_t);
int		 xsio_rm_orphan(const char *anchor, const char *want,
		    const struct xsio_rmpath *, size_t);
int		 xsio_unprivileged(void);
int		 xsio_introduced(uint32_t domid);

/* hint.c */
void		 hint_event(int watch, const char *path);	/* xsio_ops */
void		 hint_connected(void);
void		 hint_path(const char *path);
void		 hint_own_hs(struct wdev *, const char *written);

/* input.c */
int		 input_read_dev(struct wdev *, struct fsm_in *, unsigned want);
void		 input_read_devs(struct wdev **, size_t, const unsigned *want,
		    struct fsm_in *, int *);
int		 input_fe_state(const struct wdev *);
int		 input_hs(const char *value, size_t len);

/* scan.c */
void		 scan_all(void);
void		 scan_guests(unsigned states);	/* G_MASK()s, liveness.h */
int		 guest_dead(uint32_t domid);
void		 guest_check_new(const struct wdev *);

/* device.c */
int		 device_eval_pre(struct wdev *);
void		 device_eval_in(struct wdev *, struct fsm_in *);
void		 device_job_done(struct wdev *, uint32_t outcome, int64_t code,
		    uint64_t dur_us, const char *msg);
void		 device_broker_result(struct wdev *, int ok, const char *msg);
void		 device_set_error(struct wdev *, const char *text);

/* jobs.c */
struct hpjobs_ops {		/* a job's end, told upward */
	void	(*done)(struct wdev *, uint32_t outcome, int64_t code,
		    uint64_t dur_us, const char *msg);
	void	(*error_text)(struct wdev *, const char *text);
	void	(*relay_done)(struct msgchan *, uint32_t reqid,
		    uint32_t outcome, int64_t code, uint64_t dur_us,
		    const char *msg);
};
void		 hpjobs_init(const struct hpjobs_ops *);
int		 hpjob_start(struct wdev *, int remove);
void		 hpjobs_connect(void);
void		 hpjobs_xs_lost(void);
void		 hpjobs_xs_back(void);
size_t		 hpjobs_outstanding(void);
int		 hpjobs_connected(void);
int		 hpjobs_relay_start(const struct relay_req *, struct msgchan *,
		    uint32_t reqid);
void		 hpjobs_relay_gone(struct msgchan *);
/* 1 while a relay job answers to this connection (it is not idle). */
int		 hpjobs_relay_waiting(struct msgchan *);

/* broker.c */
/* result(d, ok, why): a QDISK_ATTACH's outcome, told upward */
void		 broker_init(void (*result)(struct wdev *, int, const char *));
int		 broker_available(void);
void		 broker_attach(struct wdev *);
void		 broker_detach(struct wdev *);

/* relay.c */
void		 relay_mode_resolve(void);
const char	*relay_mode_name(void);
int		 watcherd_dispatch_admin_relay(struct msgchan *, struct msg *);
void		 relay_reply_done(struct msgchan *, uint32_t reqid,
		    uint32_t outcome, int64_t code, uint64_t dur_us,
		    const char *msg);

/* control.c */
int		 control_listen(void);
void		 control_start(void);

/* stats.c */
void		 stats_attach_latency(uint64_t ms);
void		 stats_detach_latency(uint64_t ms);
char		*stats_json(void);
char		*status_json(void);
char		*devices_json(uint32_t domid);

#endif
