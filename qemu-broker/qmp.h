/*
 * QMP client on libevent (one per QEMU).  The socket is the broker's end of
 * the socketpair whose other end QEMU got as -chardev socket,fd=N.
 *
 * Connection state machine (tested in tests/test_qmp.c from this table):
 *
 *   state      event                       -> action / next
 *   GREETING   {"QMP":...}                 -> send qmp_capabilities / NEGOT
 *   GREETING   other message               -> protocol error / DEAD
 *   GREETING   timer (timeout)             -> DEAD (ETIMEDOUT)
 *   NEGOT      return (id 0)               -> on_ready, send queue / READY
 *   NEGOT      error                       -> DEAD (EPROTO)
 *   READY      return/error, id == head    -> head's callback, next / READY
 *   READY      return/error, other id      -> count a lie, ignore / READY
 *   READY      event                       -> on_event / READY
 *   READY      head's timer                -> head's cb ETIMEDOUT, next
 *   any        line > QMP_LINE_MAX, bad JSON, unknown shape, 2nd greeting
 *                                          -> DEAD (EPROTO)
 *   any        EOF / read or write error   -> DEAD (EPIPE)
 *   DEAD       (entering)                  -> every queued cb gets the
 *                                             error, then on_dead once
 *
 * One command is in flight at a time (QMP answers in order anyway); the
 * others wait in a FIFO.  A command that timed out is forgotten: a late
 * reply carries its id and is ignored, so a stalled QEMU only costs the
 * operation that waited on it.
 */
#ifndef BROKER_QMP_H
#define BROKER_QMP_H

#include <stdint.h>

#include <jansson.h>

#include "hist.h"

struct event_base;
struct qmp;

/* rc: 0 (ret = the "return" value, borrowed), -EREMOTEIO (QMP error,
 * errdesc set), -ETIMEDOUT, -EPIPE (QEMU gone), -EPROTO (garbage). */
typedef void (*qmp_reply_cb)(struct qmp *, int rc, json_t *ret,
    const char *errdesc, void *arg);
typedef void (*qmp_event_cb)(struct qmp *, const char *event, json_t *data,
    void *arg);
/* once, when the connection is ready (rc 0) or dies (rc < 0) */
typedef void (*qmp_state_cb)(struct qmp *, int rc, void *arg);

struct qmp_counters {
	uint64_t	cmds, errors, timeouts, lies, events;
	struct hist	latency_us;	/* command round trips (qmp.c) */
};

struct qmp *qmp_new(struct event_base *, int fd, uint32_t timeout_ms,
	    qmp_state_cb on_ready, qmp_state_cb on_dead, qmp_event_cb on_event,
	    void *arg);
/* Fails every pending command with -EPIPE without calling on_dead. */
void	qmp_free(struct qmp *);
/*
 * Queues {"execute": cmd, "arguments": args, "id": N}; args is stolen (may
 * be NULL); passfd (-1: none) is sent with SCM_RIGHTS with the line (and
 * not closed).  Returns 0 (cb runs exactly once, never re-entrantly) or
 * -errno (cb never runs).
 */
int	qmp_cmd(struct qmp *, const char *cmd, json_t *args, int passfd,
	    qmp_reply_cb, void *arg);
int	qmp_is_ready(const struct qmp *);
int	qmp_is_dead(const struct qmp *);
void	qmp_set_timeout(struct qmp *, uint32_t timeout_ms);
const struct qmp_counters *qmp_counters(const struct qmp *);
/* Process-wide totals (every QEMU, including freed ones). */
const struct qmp_counters *qmp_totals(void);

#endif
