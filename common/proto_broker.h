/*
 * devsep-qemu-broker protocol (message numbers 300..399), socket SOCK_BROKER.
 *
 * The broker launches and owns deprivileged QEMUs (own uid qemu_uid_base +
 * domid, chroot, -sandbox), talks QMP to them, opens disk images itself
 * (inside config image_dirs only) and passes the fd with add-fd; QEMU only
 * ever sees /dev/fdset/N.  Every "qmp thing" change follows seed 002:
 *
 *   add:    slow lock -> fast lock, read JSON, write entry, release fast
 *           -> QMP add (add-fd, blockdev-add / change-medium, device_add)
 *           -> fast lock, mark entry live, release fast -> release slow
 *   remove: slow lock -> fast lock, read JSON, release fast
 *           -> QMP remove (device_del + DEVICE_DELETED, blockdev-del,
 *              remove-fd, query-fdsets shows the set gone)
 *           -> fast lock, delete entry, release fast -> release slow
 *
 * The broker's part of the domain's JSON config object (in lockd; the
 * schema common/invariant.h and `devsepctl check` read) is
 *   "dm":  {"state": "starting"|"running", "pid", "uid"}
 *   "qmp": {"cdrom": [{"id": "<devid>", "path", "ro", "state", "fdset"}],
 *           "disk":  [{"id": "<devid>", "path", "ro", "bus", "state",
 *                      "fdset"}]}
 * state: "adding"/"starting" (written before QEMU is touched), "live"/
 * "running", "removing".  An entry whose QEMU state is unknown after a
 * failure (timeout) is kept: stale entries are allowed, missing ones not.
 *
 * Who may send what (qemu-broker/broker_dispatch.c holds the table):
 *   DM_START, DM_DESTROY, CDROM_*, DISK_*, LIST   PEER_ADMIN
 *   QDISK_ATTACH, QDISK_DETACH                    PEER_WATCHERD, PEER_ADMIN
 *   MSG_COMMON_STATUS, MSG_COMMON_STATS           PEER_ADMIN
 *
 * Replies: MSG_COMMON_OK (payload listed per request, echoing reqid) or
 * MSG_COMMON_ERROR {u32 errno, str message}.  Typical errors: ESRCH (no
 * QEMU / domain destroyed), EEXIST, ENOENT (no such device), EACCES (path
 * outside image_dirs, or not a regular file), ETIMEDOUT (QEMU did not answer
 * within qmp_cmd_timeout), EPROTO (QEMU spoke garbage), EPIPE (QEMU died),
 * ENOTCONN ("lockd not running"), EBUSY (another operation on the device).
 */
#ifndef DEVSEP_PROTO_BROKER_H
#define DEVSEP_PROTO_BROKER_H

#include <stdint.h>

#include "proto.h"

#define BROKER_F_RO		1u	/* image opened read-only */

/* DISK_ADD bus */
#define BROKER_BUS_VIRTIO	1u	/* virtio-blk-pci */
#define BROKER_BUS_SCSI		2u	/* scsi-hd on the virtio-scsi controller */

/* DM_START flags */
#define BROKER_DM_RUN		1u	/* "cont" once QMP is up.  QEMU 7.2 closes
					 * removed fdsets only while the VM
					 * runs (monitor_fdset_cleanup checks
					 * runstate_is_running()) */

#define BROKER_DOMID_ALL	0xffffffffu	/* LIST: every domain */
#define BROKER_MAX_CDROMS	4	/* IDE: ide.0/ide.1 x master/slave */
#define BROKER_MSG_MAX		(8 * 1024)	/* request channel maxsize */
#define BROKER_REPLY_MAX	(512 * 1024)	/* LIST / STATUS replies */

enum msg_broker {
	/* u32 domid, u32 flags (BROKER_DM_RUN), u32 memory_mb (0: 32),
	 * u32 n_cdrom, n_cdrom x u32 devid (empty ide-cd drives, qdev id
	 * "cd<devid>", at most BROKER_MAX_CDROMS).
	 * Starts a device model QEMU for the domain (-S, QMP over a
	 * socketpair, caps negotiated) as a seed-002 thing: the JSON "dm"
	 * entry is written under the slow lock first, so the domain must
	 * exist in lockd.  OK: u32 pid, u32 uid.
	 * ERROR: EEXIST (one already runs), EIO (QEMU failed to start),
	 * ESRCH (no such domain in lockd), ENOTCONN (lockd not running). */
	MSG_BROKER_DM_START	= 300,
	/* u32 domid, u32 timeout_ms (0: config destroy_timeout).
	 * quit over QMP, SIGKILL after timeout; OK once QEMU is reaped:
	 * u32 pid, i64 wait status, u32 dm_gone_sent (1 when lockd was told
	 * MSG_LOCK_DM_GONE and accepted it; 0 when lockd had no DYING domain
	 * or is not running).  No QEMU for that domain: OK {0, 0, ...} at
	 * once (nothing to reap; DM_GONE is still sent).
	 * ERROR: EBUSY (a destroy is already in progress). */
	MSG_BROKER_DM_DESTROY	= 301,
	/* u32 domid, u32 devid, str path, u32 flags (BROKER_F_RO; a CD-ROM
	 * is always read-only, the bit is accepted for symmetry).
	 * OK: u32 fdset_id, str xenstore ("updated" | "skipped: watcherd not
	 * running" | "failed: ...").
	 * ERROR: EACCES, ENOENT, ESRCH, EBUSY, ETIMEDOUT, EPROTO, EPIPE,
	 * ENOTCONN. */
	MSG_BROKER_CDROM_INSERT	= 302,
	/* u32 domid, u32 devid.  OK: str xenstore (as above).
	 * ERROR: ENOENT (no medium), ... */
	MSG_BROKER_CDROM_EJECT	= 303,
	/* u32 domid.  OK: str JSON [{"devid","qdev","inserted","file",
	 * "fdset"}]: QEMU's view (query-block) of every cd<devid> drive; the
	 * JSON side is in lockd (devsepctl check joins the two). */
	MSG_BROKER_CDROM_LIST	= 304,
	/* u32 domid, u32 devid, str path, u32 flags (BROKER_F_RO),
	 * u32 bus (BROKER_BUS_*).  blockdev-add on /dev/fdset/N, then
	 * device_add (qdev id "disk<devid>", node "node-disk<devid>").
	 * OK: u32 fdset_id. */
	MSG_BROKER_DISK_ADD	= 305,
	/* u32 domid, u32 devid.  device_del, wait DEVICE_DELETED
	 * (qmp_cmd_timeout), blockdev-del, remove-fd, query-fdsets.
	 * OK: empty. */
	MSG_BROKER_DISK_REMOVE	= 306,
	/* u32 domid or BROKER_DOMID_ALL.  OK: str JSON
	 * {"domains":[{"domid","kind":"dm"|"qdisk","pid","uid","state",
	 *   "chroot","age_ms","ops","qdisk_devids":[..],"qmp":{counters},
	 *   "block":[query-block entries, "qdev" normalized to the device
	 *            id ("cd3", "disk7"), QOM path in "qom_path"],
	 *   "fdsets":[query-fdsets entries]}]}
	 * — live from QEMU, for `devsepctl check`.  A QEMU that does not
	 * answer (or is not running) is listed with "error". */
	MSG_BROKER_LIST		= 307,
	/* u32 guest domid, u32 devid.  Driver domain qdisk backend
	 * (seed 004): the first attach for a guest launches its qdisk QEMU;
	 * later attaches only count.  Idempotent per (domid, devid).
	 * OK: u32 refs, u32 pid. */
	MSG_BROKER_QDISK_ATTACH	= 308,
	/* u32 guest domid, u32 devid.  The last detach kills and reaps the
	 * qdisk QEMU.  OK: u32 refs (0: QEMU gone).  ERROR: ENOENT. */
	MSG_BROKER_QDISK_DETACH	= 309,
	/* 380..389: reserved for the broker's private launcher channel
	 * (MSG_LAUNCH_*, qemu-broker/launcher.h); never on broker.sock. */
};

/*
 * One struct per request with its put/get (common/proto_broker.c; rules in
 * proto_hotplug.h: the caller initializes b as that message, put writes
 * the payload; get reads all of it or fails with the struct zeroed).
 * DM_START's cdrom list is bounded by BROKER_MAX_CDROMS; an image path by
 * BROKER_PATH_MAX (with its NUL).
 */
#define BROKER_PATH_MAX		512

struct broker_dm_start {		/* MSG_BROKER_DM_START */
	uint32_t	domid, flags, memory_mb, n_cdrom;
	uint32_t	cdrom[BROKER_MAX_CDROMS];	/* devids */
};
struct broker_dm_destroy {		/* MSG_BROKER_DM_DESTROY */
	uint32_t	domid, timeout_ms;
};
struct broker_cdrom_insert {		/* MSG_BROKER_CDROM_INSERT */
	uint32_t	domid, devid;
	char		path[BROKER_PATH_MAX];
	uint32_t	flags;
};
struct broker_disk_add {		/* MSG_BROKER_DISK_ADD */
	uint32_t	domid, devid;
	char		path[BROKER_PATH_MAX];
	uint32_t	flags, bus;
};
/* {domid, devid}: CDROM_EJECT, DISK_REMOVE, QDISK_ATTACH, QDISK_DETACH */
struct broker_cdrom_eject {		/* MSG_BROKER_CDROM_EJECT */
	uint32_t	domid, devid;
};
struct broker_disk_remove {		/* MSG_BROKER_DISK_REMOVE */
	uint32_t	domid, devid;
};
struct broker_qdisk_attach {		/* MSG_BROKER_QDISK_ATTACH */
	uint32_t	domid, devid;
};
struct broker_qdisk_detach {		/* MSG_BROKER_QDISK_DETACH */
	uint32_t	domid, devid;
};
/* {domid}: CDROM_LIST, LIST (BROKER_DOMID_ALL: every domain) */
struct broker_cdrom_list {		/* MSG_BROKER_CDROM_LIST */
	uint32_t	domid;
};
struct broker_list {			/* MSG_BROKER_LIST */
	uint32_t	domid;
};

/*
 * The payloads of the broker's MSG_COMMON_OK replies (one struct each,
 * put/get check the type MSG_COMMON_OK).  CDROM_LIST and LIST answer a
 * JSON string; DISK_REMOVE an empty OK.
 */
#define BROKER_XS_MAX		128	/* "xenstore" outcome, with NUL */

struct broker_dm_started {		/* OK of DM_START */
	uint32_t	pid, uid;
};
struct broker_dm_destroyed {		/* OK of DM_DESTROY */
	uint32_t	pid;
	int64_t		status;		/* wait status */
	uint32_t	dm_gone_sent;
};
struct broker_cdrom_inserted {		/* OK of CDROM_INSERT */
	uint32_t	fdset;
	char		xenstore[BROKER_XS_MAX];
};
struct broker_cdrom_ejected {		/* OK of CDROM_EJECT */
	char		xenstore[BROKER_XS_MAX];
};
struct broker_disk_added {		/* OK of DISK_ADD */
	uint32_t	fdset;
};
struct broker_qdisk_attached {		/* OK of QDISK_ATTACH */
	uint32_t	refs, pid;
};
struct broker_qdisk_detached {		/* OK of QDISK_DETACH (0: QEMU gone) */
	uint32_t	refs;
};

struct msgbuf;
struct msg;
#define BROKER_CODEC(name)						\
void	broker_##name##_put(struct msgbuf *, const struct broker_##name *); \
int	broker_##name##_get(struct msg *, struct broker_##name *)
BROKER_CODEC(dm_start);
BROKER_CODEC(dm_destroy);
BROKER_CODEC(cdrom_insert);
BROKER_CODEC(disk_add);
BROKER_CODEC(cdrom_eject);
BROKER_CODEC(disk_remove);
BROKER_CODEC(qdisk_attach);
BROKER_CODEC(qdisk_detach);
BROKER_CODEC(cdrom_list);
BROKER_CODEC(list);
BROKER_CODEC(dm_started);
BROKER_CODEC(dm_destroyed);
BROKER_CODEC(cdrom_inserted);
BROKER_CODEC(cdrom_ejected);
BROKER_CODEC(disk_added);
BROKER_CODEC(qdisk_attached);
BROKER_CODEC(qdisk_detached);
#undef BROKER_CODEC

#endif
