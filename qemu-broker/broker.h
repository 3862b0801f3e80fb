/*
 * devsep-qemu-broker: shared state of the unprivileged broker process.
 *
 *   broker.c     main, listener, dispatch table, STATUS/STATS
 *   dm.c         QEMU instances (launch via the launcher, QMP, destroy,
 *                DEVICE_DELETED waiters, qdisk refcounts)
 *   op.c         the seed-002 lock/JSON sequence shared by every qmp thing
 *   cdrom.c      CD-ROM insert/eject QMP steps
 *   disk.c       disk add/remove QMP steps
 *   image.c      image path checks and open
 *   xsupdate.c   CD-ROM params update through watcherd
 *   launcher.c   the privileged half (separate process)
 */
#ifndef BROKER_BROKER_H
#define BROKER_BROKER_H

#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <jansson.h>

#include "config.h"
#include "launcher.h"
#include "msg.h"

#ifndef LIST_FOREACH_SAFE	/* glibc's sys/queue.h lacks it */
#define LIST_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = LIST_FIRST(head);					\
	    (var) && ((tvar) = LIST_NEXT(var, field), 1);		\
	    (var) = (tvar))
#endif

struct event_base;
struct op;
struct qmp;
struct lockc_async;

/* A requester waiting for a reply; outlives its channel (dead = 1). */
struct client {
	struct msgchan	*chan;
	int		 refs;
	int		 dead;
};
struct client	*client_ref(struct client *);
void		 client_unref(struct client *);
void		 client_reply_ok(struct client *, struct msgbuf *);
void		 client_reply_err(struct client *, uint32_t reqid, int err,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

enum dm_state { DM_STARTING, DM_RUNNING, DM_BROKEN, DM_STOPPING, DM_EXITED };

struct dm_waiter;
struct dm;
/* a DM start driven by an op: rc 0 or -errno; clean: no process left */
typedef void (*dm_started_fn)(struct dm *, int rc, int clean,
    const char *msg, void *arg);

struct dm {
	LIST_ENTRY(dm)		 entry;
	uint32_t		 domid;
	uint32_t		 kind;		/* LAUNCH_KIND_* */
	enum dm_state		 state;
	pid_t			 pid;
	uid_t			 uid;
	char			 chroot[CONFIG_PATH_MAX + 32];
	struct qmp		*qmp;
	int			 qmpfd;		/* until the qmp owns it */
	uint64_t		 started_ms;
	/* start / destroy requester */
	struct client		*req;
	uint32_t		 req_reqid;
	struct event		*ev_kill;	/* destroy: SIGKILL timer */
	int			 status;	/* wait status once exited */
	/* qdisk refcount: devids attached */
	uint32_t		 qdevs[64];
	uint32_t		 nqdevs;
	int			 ops;		/* qmp things in flight */
	int			 adopting;	/* a previous broker's QEMU:
						   reconciling, no ops yet */
	int			 xl;		/* xl's device model, on libxl's
						   QMP socket for one op */
	uint32_t		 launch_reqid;
	uint32_t		 flags;		/* DM_START flags */
	dm_started_fn		 on_started;	/* instead of replying to req */
	void			*started_arg;
	LIST_HEAD(, dm_waiter)	 waiters;
};

struct broker {
	struct devsep_config	 cfg;
	struct event_base	*base;
	struct msgchan		*launcher;
	pid_t			 launcher_pid;
	struct launch_opts	 lopts;
	struct lockc_async	*lockd;
	LIST_HEAD(, dm)		 dms;
	uint64_t		 start_ms;
	uint32_t		 next_reqid;
	struct {
		uint64_t requests, ok, errors, dm_started, dm_exited;
		uint64_t lock_errors, xs_updates, xs_skipped;
		uint64_t op_lat_us_sum, op_lat_us_max;
	} st;
};
extern struct broker *B;

/* ---- dispatch.c ---- */
extern const struct msg_handler broker_handlers[];
extern const size_t broker_nhandlers;
int		 broker_dispatch_admin_status(struct msgchan *, struct msg *);
int		 broker_dispatch_admin_stats(struct msgchan *, struct msg *);

/* ---- dm.c ---- */
struct dm	*dm_find(uint32_t domid, uint32_t kind);
int		 dm_start(struct client *, uint32_t reqid,
		    const struct launch_req *, uint32_t flags);
/* OP_DM_START's QMP phase: launch, wait for QMP (op.c sequence). */
void		 dm_start_qmp(struct op *);
int		 dm_destroy(struct dm *, struct client *, uint32_t reqid,
		    uint32_t timeout_ms);
void		 dm_launcher_msg(struct msg *);
int		 dm_adopt(uint32_t kind, uint32_t domid);
/* QMP on a device model xl started (libxl's socket, via the launcher):
 * fn runs once it is negotiated or failed.  Not in B->dms. */
int		 dm_xl_connect(uint32_t domid, dm_started_fn fn, void *arg);
/* Hangs up (from the next loop turn); freed by the last dm_put. */
void		 dm_xl_close(struct dm *);
void		 dm_destroy_absent(uint32_t domid, struct client *,
		    uint32_t reqid);
/* QMP on a running dm: like qmp_cmd, -ESRCH when it is not running. */
typedef void (*dm_cb)(int rc, json_t *ret, const char *errdesc, void *arg);
int		 dm_qmp(struct dm *, const char *cmd, json_t *args, int fd,
		    dm_cb, void *arg);
/* Waits for DEVICE_DELETED of qdev id (register before device_del). */
int		 dm_wait_deleted(struct dm *, const char *qdev,
		    uint32_t timeout_ms, dm_cb, void *arg);
void		 dm_cancel_waiter(struct dm *, void *arg);
void		 dm_hold(struct dm *);
void		 dm_put(struct dm *);
struct lockc_async *broker_lockd(void);
json_t		*dm_status_json(void);
json_t		*dm_json(const struct dm *);
int		 dm_list_json(uint32_t domid, struct client *, uint32_t reqid);
int		 qdisk_attach(struct client *, uint32_t reqid, uint32_t domid,
		    uint32_t devid);
int		 qdisk_detach(struct client *, uint32_t reqid, uint32_t domid,
		    uint32_t devid);
const char	*dm_state_name(enum dm_state);

/* ---- qmpsock.c: QMP sockets in <run_dir>/qmp that outlive the broker ---- */
struct sockaddr_un;
struct ucred;
int		 qmpsock_path(uint32_t kind, uint32_t domid,
		    struct sockaddr_un *);
int		 qmpsock_dir_prepare(uid_t, gid_t);	/* before the drop */
int		 qmpsock_bind(uint32_t kind, uint32_t domid);	/* fd, -errno */
int		 qmpsock_connect(uint32_t kind, uint32_t domid,
		    struct ucred *peer);		/* fd, -errno */
void		 qmpsock_remove(uint32_t kind, uint32_t domid);
int		 qmpsock_scan(void (*fn)(void *, uint32_t kind,
		    uint32_t domid), void *arg);	/* before the drop */

/* ---- adopt.c: QEMUs left running by a previous broker ---- */
void		 adopt_scan(void);		/* before the drop */
void		 adopt_all(void);		/* after it */
/* QMP ready on an adopted QEMU: drop fdsets no device uses, then ops */
void		 adopt_reconcile(struct dm *);

/* ---- image.c ---- */
/* Checks path against image_dirs and opens it; fd or -errno, msg set. */
int		 image_open(const struct devsep_config *, const char *path,
		    int ro, char *err, size_t errsz);
/* Pure part: is the resolved path inside one of the dirs? */
int		 image_path_allowed(const char dirs[][CONFIG_PATH_MAX],
		    size_t ndirs, const char *resolved);

/* ---- op.c ---- */
enum op_kind { OP_CDROM_INSERT, OP_CDROM_EJECT, OP_DISK_ADD, OP_DISK_REMOVE,
    OP_DM_START, OP_RECONCILE };

struct op {
	enum op_kind	 kind;
	uint32_t	 owner, domid, devid, flags, bus;
	char		 path[CONFIG_PATH_MAX * 2];
	int		 imgfd;
	struct client	*client;
	uint32_t	 reqid;
	struct dm	*dm;
	int		 stage, step, held;
	int		 rc;		/* 0 or -errno */
	int		 qemu_clean;	/* on failure: nothing left in QEMU */
	char		 err[256];
	int64_t		 fdset;		/* -1 unknown */
	int64_t		 fdsets[8];	/* sets found with our opaque */
	int		 nfdsets, fdi;
	int		 released;	/* fdsets_release verified them gone */
	int		 del_replied, del_event;	/* device_del progress */
	void		(*next)(struct op *);	/* fdset helpers' continuation */
	uint64_t	 gen;
	char		 xs[128];	/* xenstore update outcome */
	struct launch_req lr;		/* OP_DM_START */
	uint32_t	 dmflags;
	uint64_t	 t0_us;
	int		 xl;		/* a CD-ROM of a device model xl started:
					   libxl's JSON and QMP socket */
	json_t		*qblock;	/* OP_RECONCILE: query-block of the
					   adopted QEMU (owned) */
};

int		 op_start(struct op *);
/* Called by the kind's QMP steps when they are done (rc in op->rc). */
void		 op_qmp_done(struct op *);
const char	*op_section(const struct op *);	/* "cdrom" | "disk" */
void		 op_qdev(const struct op *, char *, size_t);
void		 op_opaque(const struct op *, char *, size_t);
void		 op_fail(struct op *, int err, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));

/* ---- cdrom.c / disk.c: the QMP part of each op ---- */
void		 cdrom_insert_qmp(struct op *);
void		 cdrom_eject_qmp(struct op *);
void		 disk_add_qmp(struct op *);
void		 disk_remove_qmp(struct op *);
/* shared by both (fdset.c): add-fd op->imgfd into op->fdset, then next;
 * remove-fd every set in op->fdsets, verify gone */
void		 fdset_add(struct op *, void (*next)(struct op *));
void		 fdsets_release(struct op *, void (*next)(struct op *));
void		 fdsets_find(struct op *, void (*next)(struct op *));
void		 op_qmp_fail(struct op *, int rc, const char *errdesc,
		    const char *cmd);
int		 cdrom_list(struct client *, uint32_t reqid, uint32_t domid);

/* ---- xsupdate.c ---- */
void		 xs_cdrom_update(struct op *, const char *params,
		    void (*next)(struct op *));

#endif
