/*
 * devsep-watcherd protocol (message numbers 400..499), socket SOCK_WATCHERD.
 *
 * Who may send what (watcherd/control.c holds the table):
 *   MSG_COMMON_STATUS, MSG_COMMON_STATS     PEER_ADMIN
 *   MSG_WATCHER_DEVICES                     PEER_ADMIN
 *   MSG_WATCHER_CDROM_UPDATE                PEER_BROKER, PEER_ADMIN
 *   MSG_WATCHER_RELAY_RUN                   PEER_ADMIN (devsep-relay, root)
 * Anything else drops the peer.
 *
 * Replies echo the request's reqid: the typed reply listed below,
 * MSG_COMMON_OK, or MSG_COMMON_ERROR {u32 errno, str message}.
 */
#ifndef DEVSEP_PROTO_WATCHER_H
#define DEVSEP_PROTO_WATCHER_H

#include <stdint.h>

#include "proto.h"
#include "proto_hotplug.h"

#define WATCHER_DOMID_ALL	0xffffffffu	/* DEVICES: every guest */
#define WATCHER_MSG_MAX		(8 * 1024)	/* request channel maxsize */
#define WATCHER_REPLY_MAX	(1024 * 1024)	/* DEVICES reply (truncated
						 * listing says so) */
#define WATCHER_PARAMS_MAX	1024		/* CDROM_UPDATE params */
#define WATCHER_TYPE_MAX	8		/* CDROM_UPDATE type, with NUL */
#define WATCHER_MODE_MAX	4		/* CDROM_UPDATE mode, with NUL */

enum msg_watcher {
	/*
	 * u32 domid (frontend/guest domid, or WATCHER_DOMID_ALL).
	 * reply DEVICES_REPLY: str JSON
	 *   {"self":B,"count":N,"truncated":false,"devices":[
	 *     {"kind","domid","devid","backend_state","frontend_state",
	 *      "online","hotplug_status","phase","handovers",
	 *      "last_script":{"action","outcome","code","ms","age_s"}|null}]}
	 * States are -1 when absent/invalid; hotplug_status "" when absent.
	 * phase is the state machine's (fsm_phase_name), or "libxl" for
	 * every device with backend_mode libxl (watcherd only watches).
	 */
	MSG_WATCHER_DEVICES		= 400,
	MSG_WATCHER_DEVICES_REPLY	= 401,
	/*
	 * CD-ROM medium change from the QEMU broker (seed 002 "qmp things":
	 * the broker holds the locks and drives QEMU, watcherd is the only
	 * xenstore writer).
	 *   u32 domid, u32 devid, str params (path, "" = ejected),
	 *   str type ("file" | "phy" | ""), str mode ("r" | "")
	 * Writes params/type/mode of /local/domain/<self>/backend/vbd/
	 * <domid>/<devid> in one transaction, and nothing else.  Refused:
	 * ENOENT (no such vbd backend), EINVAL (bad field: params longer than
	 * WATCHER_PARAMS_MAX or not printable, type/mode not in the lists),
	 * EMEDIUMTYPE (the backend's device-type is not "cdrom"),
	 * ENOTCONN (xenstore connection down).  OK: empty.
	 */
	MSG_WATCHER_CDROM_UPDATE	= 402,
	/*
	 * devsep-relay (relay/), exec'd by libxl as a backend's hotplug
	 * script, asks for the real script to run in hotplugd's sandbox with
	 * the backend's scoped xenstore (only with backend_mode libxl).
	 *   str script	the real script: a bare name in script_dir, the
	 *		relay's own name without "devsep-" (RELAY_PREFIX)
	 *   str action	"add" | "remove" (vbd; vif with type_if=tap),
	 *		"online" | "offline" (vif, type_if=vif): libxl's argv[1]
	 *   str xenbus_path  libxl's XENBUS_PATH, "backend/<kind>/<D>/<N>",
	 *		relative to watcherd's domain
	 *   str vif	libxl's `vif` ("" for a vbd)
	 *   str netdev	libxl's `netdev` ("" when none)
	 * The backend's `script` node must name the relay for that script
	 * (basename "devsep-<script>"): watcherd runs only what libxl was
	 * configured to run on that backend.  reply RELAY_DONE once the
	 * script ended:
	 *   u32 outcome (enum hotplug_outcome), i64 code, u64 duration_us,
	 *   str message (the script's last output line, or why it did not run)
	 * or ERROR: EPERM (backend_mode devsep: watcherd runs these scripts
	 * itself), EINVAL (bad field), ENOENT (no such backend, or no
	 * `script` node), EACCES (the `script` node does not name this
	 * relay), EBUSY (a relay job for that device and action is running),
	 * ENOTCONN (xenstore or devsep-hotplugd not connected).  A relay
	 * that hangs up (libxl killed it at its timeout) has its job
	 * cancelled: hotplugd kills the script's whole process group.
	 */
	MSG_WATCHER_RELAY_RUN		= 403,
	MSG_WATCHER_RELAY_DONE		= 404,
};

#define RELAY_PREFIX		"devsep-"	/* devsep-<script> -> relay */

/*
 * One struct per request with its put/get (common/proto_watcher.c), as in
 * proto_hotplug.h: put writes the payload into b initialized as that
 * message by the caller; get reads the whole payload or returns -1 (wrong
 * type, short, a field over its bound, trailing bytes), struct zeroed.
 */
struct watcher_devices {		/* MSG_WATCHER_DEVICES */
	uint32_t	domid;		/* or WATCHER_DOMID_ALL */
};

struct watcher_cdrom_update {		/* MSG_WATCHER_CDROM_UPDATE */
	uint32_t	domid, devid;
	char		params[WATCHER_PARAMS_MAX + 1];
	char		type[WATCHER_TYPE_MAX];
	char		mode[WATCHER_MODE_MAX];
};

/* MSG_WATCHER_RELAY_RUN (devsep-relay -> watcherd); bounds as hotplugd's */
struct watcher_relay_run {
	char		script[HOTPLUG_SCRIPT_MAX];
	char		action[HOTPLUG_ACTION_MAX];
	char		xenbus_path[HOTPLUG_PATH_MAX];
	char		vif[HOTPLUG_VIF_MAX];
	char		netdev[HOTPLUG_VIF_MAX];
};

/* MSG_WATCHER_RELAY_DONE (watcherd -> devsep-relay) */
struct watcher_relay_done {
	uint32_t	outcome;	/* enum hotplug_outcome */
	int64_t		code;
	uint64_t	duration_us;
	char		message[HOTPLUG_MSG_MAX];
};

struct msgbuf;
struct msg;
void	watcher_relay_run_put(struct msgbuf *,
	    const struct watcher_relay_run *);
int	watcher_relay_run_get(struct msg *, struct watcher_relay_run *);
void	watcher_relay_done_put(struct msgbuf *,
	    const struct watcher_relay_done *);
int	watcher_relay_done_get(struct msg *, struct watcher_relay_done *);
void	watcher_devices_put(struct msgbuf *, const struct watcher_devices *);
int	watcher_devices_get(struct msg *, struct watcher_devices *);
void	watcher_cdrom_update_put(struct msgbuf *,
	    const struct watcher_cdrom_update *);
int	watcher_cdrom_update_get(struct msg *, struct watcher_cdrom_update *);

#endif
