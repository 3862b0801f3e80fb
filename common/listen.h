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
#include <stdint.h>

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
/*
 * Peer classes (SO_PEERCRED, peer_classify): a connecting process none of
 * whose classes is in `classes` (those that may send something on this
 * socket: msg_table_peers() of its dispatch table) is refused at accept,
 * before anything is read; each class may hold at most per_class
 * connections at once, so that one class's flood leaves the others their
 * slots.  Replaces the total maxconns.  Such a listener must be told of a
 * closed connection with msglisten_closed_peer().
 */
void	msglisten_set_classes(struct msglisten *, uint32_t classes,
	    size_t per_class);
/* A connection taken by the accept callback has ended. */
void	msglisten_closed(struct msglisten *);
/* The same for a listener with classes: peer = msgchan_peer() of it. */
void	msglisten_closed_peer(struct msglisten *, uint32_t peer);
/* Connections of one class open now. */
size_t	msglisten_class_count(const struct msglisten *, uint32_t peer);
/* Connections currently open. */
size_t	msglisten_count(const struct msglisten *);
/* Stops accepting (lfd stays open: the caller's). */
void	msglisten_free(struct msglisten *);

#endif
