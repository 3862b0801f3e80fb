/*
 * The common error reply, MSG_COMMON_ERROR {u32 errno, str message}
 * (proto.h), built and decoded in one place for every daemon and client.
 * Sending stays with the caller: each daemon has its own policy for a
 * reply that cannot be queued (drop the peer, log it, count it).
 */
#ifndef DEVSEP_REPLY_H
#define DEVSEP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* Initializes b as MSG_COMMON_ERROR for reqid carrying err and text (NULL:
 * ""); the caller sends and disposes it. */
void	reply_error_init(struct msgbuf *b, uint32_t reqid, int err,
	    const char *text);
/* Sends that error on the blocking socket fd (msg_send_fd): 0 or -1. */
int	reply_error_send(int fd, uint32_t reqid, int err, const char *text);
/*
 * Decodes the payload of a MSG_COMMON_ERROR that must end the message:
 * 0 with *err and text (NUL-terminated, at most textsz - 1 bytes); -1 on a
 * short, over-long or trailing payload (text is then "").
 */
int	reply_error_get(struct msg *m, uint32_t *err, char *text,
	    size_t textsz);

/*
 * The replies that are one JSON document (str: u32 length + bytes, no
 * NUL): MSG_COMMON_STATUS_REPLY and STATS_REPLY of every daemon,
 * MSG_WATCHER_DEVICES_REPLY, MSG_LOCK_QUERY_REPLY and LIST_REPLY, and the
 * OK of the broker's CDROM_LIST and LIST.  One layout, so one struct for
 * all of them: put writes it into b initialized as any of those types;
 * get reads a message of `type` whose document is at most max bytes,
 * all of it, pointing json into the message (not copied); else -1 with
 * the struct zeroed.
 */
struct reply_json {
	const char	*json;
	size_t		 len;
};
void	reply_json_put(struct msgbuf *b, const struct reply_json *r);
int	reply_json_get(struct msg *m, uint32_t type, size_t max,
	    struct reply_json *r);

#endif
