/*
 * The accepting side of a daemon's socket, the same in every daemon:
 * accept4 (non-blocking, close-on-exec), a connection limit (refuse and
 * close beyond it), and out of file descriptors (EMFILE/ENFILE) a pause of
 * one second instead of spinning on the still-readable listening socket.
 * What a connection becomes (its msgchan, options, handlers) is the
 * daemon's accept callback.
 */
#ifndef DEVSEP_LISTEN_H
#define DEVSEP_LISTEN_H

#include <stddef.h>

#include <event2/event.h>

struct msglisten;

/* Takes the accepted fd (0), or refuses it (-1: the fd is closed). */
typedef int (*msglisten_accept_fn)(int fd, void *arg);

/*
 * Starts accepting on lfd (a listening socket, e.g. from msg_listen) in
 * base.  maxconns: connections at once (0: no limit); name: for the log
 * ("lockd").  NULL on failure.
 */
struct msglisten *msglisten_new(struct event_base *, int lfd, size_t maxconns,
	    const char *name, msglisten_accept_fn, void *arg);
/* A connection taken by the accept callback has ended. */
void	msglisten_closed(struct msglisten *);
/* Connections currently open. */
size_t	msglisten_count(const struct msglisten *);
/* Stops accepting (lfd stays open: the caller's). */
void	msglisten_free(struct msglisten *);

#endif
