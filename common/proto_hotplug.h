/*
 * watcherd <-> hotplugd protocol (message numbers 100..199).
 *
 * hotplugd listens on <rundir>/hotplugd.sock (SOCK_SEQPACKET, no fd
 * passing).  Only PEER_WATCHERD may send RUN / CANCEL; PEER_ADMIN may send
 * MSG_COMMON_STATUS / MSG_COMMON_STATS.  Anything else drops the peer.
 *
 * Strings are msgbuf_put_str / msg_get_str (u32 length + bytes, no NUL).
 *
 * MSG_HOTPLUG_RUN (watcherd -> hotplugd)
 *	u64 job_id	chosen by watcherd, unique per job; re-sending a RUN
 *			with the job_id of a job that is still queued or
 *			running (same backend_path) does not start a second
 *			run: the job's DONE goes to the new sender/reqid
 *			(watcherd reconnect after a crash)
 *	str kind	backend kind, valid_kind(): "vbd", "vif", ...
 *	str action	"add" | "remove" (vbd & others: argv[1])
 *			"online" | "offline" (vif: argv[1], argv[2] =
 *			"type_if=vif", as libxl_linux.c does)
 *			vif "add" | "remove": the tap of an HVM guest's
 *			emulated NIC (argv[2] "type_if=tap", env INTERFACE=
 *			vif<D>.<N>-emu); only devsep-relay asks for it
 *	str script	the backend's `script` node as the toolstack wrote it:
 *			a bare name ("block") or an absolute path; it must
 *			resolve to an executable regular file inside
 *			config script_dir, else REFUSED
 *	str backend_path  absolute backend dir,
 *			"/local/domain/<B>/backend/<kind>/<D>/<N>"; must parse
 *			(parse_backend_path, no rest) and match kind
 *	str xenstored_path  the job's scoped xenstore socket (xsproxy);
 *			becomes XENSTORED_PATH.  "" = do not set it (the
 *			script then talks to the default xenstored: tests only)
 *	str vif		vif device name "vif<D>.<N>" for vif jobs, else ""
 *	str netdev	backend `gatewaydev` node or "" (libxl's `netdev`)
 *	u32 timeout_ms	0 = config hotplug_timeout_ms
 *   Script environment, exactly (nothing inherited):
 *	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
 *	script=<script as sent>  XENBUS_TYPE=<kind>
 *	XENBUS_PATH=backend/<kind>/<D>/<N>   XENBUS_BASE_PATH=backend
 *	    (relative, as libxl passes them: xenstored - and xsproxy -
 *	    resolve relative paths against /local/domain/<B>)
 *	vif=<vif> netdev=<netdev>   (vif jobs only)
 *	INTERFACE=vif<D>.<N>-emu    (vif add/remove: the tap)
 *	XENSTORED_PATH=<xenstored_path>   (when not "")
 *
 * MSG_HOTPLUG_DONE (hotplugd -> watcherd, reqid of the RUN)
 *	u64 job_id
 *	u32 outcome	enum hotplug_outcome
 *	i64 code	EXITED: exit status; SIGNALED: signal number;
 *			TIMED_OUT: signal that finally killed it (15 or 9);
 *			REFUSED / SPAWN_FAILED: errno; CANCELLED: 0
 *	u64 duration_us	spawn -> reap (0 when never spawned)
 *	str message	refusal reason, or the last line(s) of the script's
 *			output (at most HOTPLUG_MSG_MAX bytes), may be ""
 *
 * MSG_HOTPLUG_CANCEL (watcherd -> hotplugd)
 *	u64 job_id
 *   Reply MSG_COMMON_OK (empty) when the job was found: a queued job is
 *   dropped, a running job's whole process group gets SIGTERM (SIGKILL
 *   after script_kill_grace_ms); either way the job's DONE follows with
 *   outcome CANCELLED.  MSG_COMMON_ERROR {ENOENT, ...} when unknown.
 *
 * MSG_HOTPLUG_STARTED (hotplugd -> watcherd, reqid of the RUN; sent when
 * the script was exec'd, and again to the sender of a re-sent RUN)
 *	u64 job_id
 *	u32 pid		the script's main process (its session leader)
 *	u32 uid		the uid every process of the job runs as (its own:
 *			script_uid_base + slot, hotplugd/launch.h).  watcherd's
 *			proxy for this job serves only connections of this uid
 *			(watcherd/xsproxy.c client_ok).
 */
#ifndef DEVSEP_PROTO_HOTPLUG_H
#define DEVSEP_PROTO_HOTPLUG_H

#include <stdint.h>

#include "proto.h"

enum msg_hotplug {
	MSG_HOTPLUG_RUN		= 100,
	MSG_HOTPLUG_DONE	= 101,
	MSG_HOTPLUG_CANCEL	= 102,
	MSG_HOTPLUG_STARTED	= 103,
};

enum hotplug_outcome {
	HOTPLUG_EXITED		= 0,	/* code = exit status (0 = success) */
	HOTPLUG_SIGNALED	= 1,	/* code = signal number */
	HOTPLUG_TIMED_OUT	= 2,	/* group killed after timeout_ms */
	HOTPLUG_REFUSED		= 3,	/* bad job: never spawned */
	HOTPLUG_SPAWN_FAILED	= 4,	/* fork/exec failed: code = errno */
	HOTPLUG_CANCELLED	= 5,	/* MSG_HOTPLUG_CANCEL */
};

/*
 * Field bounds, each including the NUL: a longer field makes the message
 * malformed (the getters below fail; the peer is dropped).
 */
#define HOTPLUG_KIND_MAX	16
#define HOTPLUG_SCRIPT_MAX	256
#define HOTPLUG_PATH_MAX	256
#define HOTPLUG_ACTION_MAX	16
#define HOTPLUG_VIF_MAX		64
#define HOTPLUG_MSG_MAX		512	/* DONE message: HOTPLUG_MSG_MAX bytes */

/*
 * One struct per message, with its put and get (common/codec.h):
 *  - put writes the payload into b, which the caller initialized as that
 *    message (msgbuf_init, or msgbuf_init_buf on its stack), then sends
 *    and disposes; b fails (b->err = EINVAL, never sent) when it was
 *    initialized as another type or a string field is not NUL-terminated
 *    within its array;
 *  - get decodes a received message of that type, all of it: 0, or -1 on
 *    a wrong type, a short payload, a field over its bound, an embedded
 *    NUL or trailing bytes, the struct then zeroed.
 * Used by watcherd, hotplugd and the test harnesses alike
 * (common/proto_hotplug.c, common/tests/test_proto_hotplug.c).
 */
struct hotplug_run {			/* MSG_HOTPLUG_RUN */
	uint64_t	id;
	char		kind[HOTPLUG_KIND_MAX];
	char		action[HOTPLUG_ACTION_MAX];
	char		script[HOTPLUG_SCRIPT_MAX];
	char		be_path[HOTPLUG_PATH_MAX];
	char		xs_path[HOTPLUG_PATH_MAX];
	char		vif[HOTPLUG_VIF_MAX];
	char		netdev[HOTPLUG_VIF_MAX];
	uint32_t	timeout_ms;
};

struct hotplug_done {			/* MSG_HOTPLUG_DONE */
	uint64_t	id;
	uint32_t	outcome;	/* enum hotplug_outcome */
	int64_t		code;
	uint64_t	duration_us;
	char		message[HOTPLUG_MSG_MAX + 1];
};

struct hotplug_cancel {			/* MSG_HOTPLUG_CANCEL */
	uint64_t	id;
};

struct hotplug_started {		/* MSG_HOTPLUG_STARTED */
	uint64_t	id;
	uint32_t	pid;
	uint32_t	uid;
};

struct msgbuf;
struct msg;
void	hotplug_run_put(struct msgbuf *, const struct hotplug_run *);
int	hotplug_run_get(struct msg *, struct hotplug_run *);
void	hotplug_done_put(struct msgbuf *, const struct hotplug_done *);
int	hotplug_done_get(struct msg *, struct hotplug_done *);
void	hotplug_cancel_put(struct msgbuf *, const struct hotplug_cancel *);
int	hotplug_cancel_get(struct msg *, struct hotplug_cancel *);
void	hotplug_started_put(struct msgbuf *, const struct hotplug_started *);
int	hotplug_started_get(struct msg *, struct hotplug_started *);

static inline const char *
hotplug_outcome_name(uint32_t o)
{
	static const char *const names[] = {
		"exited", "signaled", "timed-out", "refused", "spawn-failed",
		"cancelled",
	};
	return o < sizeof(names) / sizeof(names[0]) ? names[o] : "unknown";
}

#endif
