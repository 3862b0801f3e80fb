/*
 * Message type numbers for every channel.  Numbers are explicit and never
 * reused: a retired number stays in the list, commented out.
 *
 *   1..99     common to every daemon (status, stats, replies)
 *   100..199  hotplugd     (common/proto_hotplug.h)
 *   200..299  lockd        (common/proto_lock.h)
 *   300..399  qemu-broker  (common/proto_broker.h)
 *   400..499  watcherd     (common/proto_watcher.h)
 *
 * Every reply echoes the request's reqid.
 */
#ifndef DEVSEP_PROTO_H
#define DEVSEP_PROTO_H

/* Socket names below the run dir. */
#define SOCK_WATCHERD	"watcherd.sock"
#define SOCK_HOTPLUGD	"hotplugd.sock"
#define SOCK_LOCKD	"lockd.sock"
#define SOCK_BROKER	"broker.sock"

enum msg_common {
	/* req: empty.  reply STATUS_REPLY: str JSON object
	 * {"daemon","version","pid","uptime_s","sandbox":{...}, ...} */
	MSG_COMMON_STATUS	= 1,
	MSG_COMMON_STATUS_REPLY	= 2,
	/* req: empty.  reply STATS_REPLY: str JSON object of counters and
	 * latency histograms */
	MSG_COMMON_STATS	= 3,
	MSG_COMMON_STATS_REPLY	= 4,
	/* generic replies: OK (payload per request, often empty);
	 * ERROR: u32 errno, str human-readable message */
	MSG_COMMON_OK		= 5,
	MSG_COMMON_ERROR	= 6,
};

#endif
