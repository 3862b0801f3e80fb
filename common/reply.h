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
/*
 * Decodes the payload of a MSG_COMMON_ERROR that must end the message:
 * 0 with *err and text (NUL-terminated, at most textsz - 1 bytes); -1 on a
 * short, over-long or trailing payload (text is then "").
 */
int	reply_error_get(struct msg *m, uint32_t *err, char *text,
	    size_t textsz);

#endif
