/*
 * Message passing between devsep processes (imsg-like).
 *
 * Transport: a unix SOCK_SEQPACKET socket, one framed message per datagram:
 *
 *   struct msg_hdr { u32 type; u32 len; u32 reqid; u32 pid; }  + len bytes
 *
 * `len` is the payload length and must equal what arrived.  Each channel has
 * a maximum message size (a larger datagram is truncated by the kernel,
 * seen as MSG_TRUNC, and drops the peer) and fd passing is opt-in per
 * channel: fds arriving on a channel that does not allow them, or more than
 * one per message, are closed and the peer dropped.
 *
 * Payloads are built with msgbuf_put_*() and read with the typed, bounded
 * msg_get_*() getters, which fail on short data; msg_end() fails on
 * trailing bytes.  Strings travel as u32 length + bytes (no NUL inside).
 *
 * Every receiver declares a table {type -> allowed peer classes -> handler}
 * (struct msg_handler); msg_dispatch() refuses unknown or unpermitted
 * messages before any payload is decoded, and the caller drops the peer.
 */
#ifndef DEVSEP_MSG_H
#define DEVSEP_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct event_base;

#define MSG_HDR_SIZE		16
#define MSG_MAX_DEFAULT		(16 * 1024)
#define MSG_MAX_LIMIT		(1024 * 1024)
#define MSG_STR_MAX		4096	/* default bound for msg_get_str */

struct msg_hdr {
	uint32_t	type;
	uint32_t	len;	/* payload bytes after the header */
	uint32_t	reqid;	/* echoed in the reply */
	uint32_t	pid;	/* sender's pid, informational only */
};

/* ---- peer classes: who is on the other end (from SO_PEERCRED) ---- */
enum peer_class {
	PEER_NONE	= 0,
	PEER_WATCHERD	= 1u << 0,
	PEER_HOTPLUGD	= 1u << 1,
	PEER_LOCKD	= 1u << 2,
	PEER_BROKER	= 1u << 3,
	PEER_ADMIN	= 1u << 4,	/* uid 0: devsepctl run by root */
};
#define PEER_ANY_DAEMON (PEER_WATCHERD | PEER_HOTPLUGD | PEER_LOCKD | PEER_BROKER)

/* System users whose uid identifies each daemon class. */
#define USER_WATCHERD	"devsep-watcherd"
#define USER_HOTPLUGD	"devsep-hotplugd"
#define USER_LOCKD	"devsep-lockd"
#define USER_BROKER	"devsep-broker"
/*
 * The group of the daemon sockets (0660 root:devsep).  Only the daemons
 * that connect to another daemon (watcherd, the broker) hold it, as their
 * one supplementary group (policy `peer-group`); the admin is root.
 */
#define GROUP_PEERS	"devsep"
/* The gid of every hotplug script (each job has its own uid, see
 * hotplugd/launch.h): scripts are no daemon class, never a peer. */
#define SCRIPT_GROUP	"devsep-script"

/* Loads the daemon users' uids (getpwnam); call before chroot. */
void		 peer_init(void);
/* Overrides a class's uid (tests, or a config that names other users). */
void		 peer_set_uid(enum peer_class, uid_t);
/* The uid configured for one class ((uid_t)-1: unknown; 0 for admin). */
uid_t		 peer_uid(uint32_t cls);
/* Class bits for a credential: a daemon user's class; uid 0 = PEER_ADMIN. */
uint32_t	 peer_classify(const struct ucred *);
const char	*peer_class_name(uint32_t);
/* Parses "watcherd" / "admin" ... ; 0 on unknown. */
uint32_t	 peer_class_parse(const char *);

/* ---- building a message ---- */
struct msgbuf {
	uint8_t		*data;	/* header + payload */
	size_t		 len;
	size_t		 cap;
	int		 fd;	/* fd to pass, -1 for none; not closed by us */
	int		 err;	/* set when a put failed (ENOMEM, too big) */
	int		 fixed;	/* data is the caller's: never grown or freed */
};

void	msgbuf_init(struct msgbuf *, uint32_t type, uint32_t reqid);
/*
 * The same over the caller's storage (for example on the stack), for a
 * message of known small size: no malloc.  A put beyond cap fails with
 * EMSGSIZE; msgbuf_dispose() does not free buf.
 */
void	msgbuf_init_buf(struct msgbuf *, uint32_t type, uint32_t reqid,
	    void *buf, size_t cap);
void	msgbuf_dispose(struct msgbuf *);
void	msgbuf_put_u32(struct msgbuf *, uint32_t);
void	msgbuf_put_u64(struct msgbuf *, uint64_t);
void	msgbuf_put_i64(struct msgbuf *, int64_t);
void	msgbuf_put_str(struct msgbuf *, const char *);
void	msgbuf_put_blob(struct msgbuf *, const void *, size_t);
void	msgbuf_set_fd(struct msgbuf *, int fd);
/* 0 when b can be sent; -1 with errno = its put error, or EINVAL if disposed. */
int	msgbuf_check(const struct msgbuf *);

/* ---- reading a received message ---- */
struct msg {
	struct msg_hdr	 hdr;
	const uint8_t	*p;	/* read cursor into the payload */
	size_t		 left;	/* bytes left after the cursor */
	int		 fd;	/* received fd or -1; closed by msg_dispose */
	uint32_t	 peer;	/* sender's peer class bits */
	uint8_t		*buf;	/* owned storage, freed by msg_dispose */
};

int	msg_get_u32(struct msg *, uint32_t *);
int	msg_get_u64(struct msg *, uint64_t *);
int	msg_get_i64(struct msg *, int64_t *);
/* Copies a string of at most bufsz-1 bytes; fails on embedded NUL. */
int	msg_get_str(struct msg *, char *buf, size_t bufsz);
/* Points into the message; fails when longer than max. */
int	msg_get_blob(struct msg *, const void **, size_t *len, size_t max);
/* 0 when every byte was consumed, -1 on leftovers. */
int	msg_end(const struct msg *);
/* Takes ownership of the passed fd (-1 if none). */
int	msg_take_fd(struct msg *);
void	msg_dispose(struct msg *);

/* ---- sockets ---- */
/*
 * Listening socket at path (nonblocking, cloexec), created race-free: bound
 * under umask ~mode (never chmod'ed after), group gid ((gid_t)-1: ours)
 * set without following links, then owner/mode/type verified.  An existing
 * socket is replaced only when nobody answers on it (a connect probe): a
 * live one gives EADDRINUSE, any other kind of file EEXIST.  The directory
 * must be one only we can write (daemon_opendir).
 */
int	msg_listen(const char *path, mode_t mode);
int	msg_listen_group(const char *path, mode_t mode, gid_t gid);
int	msg_connect(const char *path);			/* blocking, cloexec */
/*
 * msg_connect() to a daemon of class server, verifying before anything is
 * sent (SO_PEERCRED of the listener) that the socket was made by root (the
 * daemons listen before they drop to their user), by our own uid, or by
 * server's configured user (peer_init).  Otherwise the fd is closed, errno
 * is EPERM and *uidp (may be NULL) says who answered: an impostor.
 */
int	msg_connect_server(const char *path, uint32_t server, uid_t *uidp);
/* The same check on an fd already connected (0, or -1 with EPERM). */
int	msg_check_server(int fd, uint32_t server, uid_t *uidp);
int	msg_peercred(int fd, struct ucred *);

/*
 * Blocking helpers (clients, tests).  msg_recv_fd() waits at most timeout_ms
 * (-1 forever).  Both return 0, or -1 with errno set (ETIMEDOUT, EMSGSIZE,
 * EBADMSG, ECONNRESET on EOF; EINVAL for a disposed msgbuf).  A message
 * larger than the socket's send buffer (default ~208 KiB) grows it once with
 * setsockopt(SO_SNDBUF) (bounded by net.core.wmem_max); the same applies to
 * msgchan_send.  An empty datagram reads as EOF.
 */
int	msg_send_fd(int fd, struct msgbuf *);
int	msg_recv_fd(int fd, struct msg *, size_t maxsize, int allow_fd,
	    int timeout_ms);
/* Fills a struct msg from one raw datagram (used by the channel and fuzzers). */
int	msg_parse(struct msg *, const uint8_t *data, size_t len, size_t maxsize);

/* ---- channels on libevent ---- */
struct msgchan;
typedef void (*msgchan_msg_cb)(struct msgchan *, struct msg *, void *arg);
typedef void (*msgchan_close_cb)(struct msgchan *, void *arg);

struct msgchan_opts {
	size_t		maxsize;	/* payload maximum, 0 = MSG_MAX_DEFAULT */
	int		allow_fds;	/* accept SCM_RIGHTS from this peer */
	size_t		max_queued;	/* outgoing messages queued, 0 = 1024 */
};

/*
 * Wraps a connected socket.  on_msg gets every well-formed message (the
 * msg is disposed after the callback returns; take its fd to keep it).
 * on_close runs once when the peer hangs up or misbehaves; the callback
 * must then call msgchan_free().
 */
struct msgchan	*msgchan_new(struct event_base *, int fd,
		    const struct msgchan_opts *, msgchan_msg_cb,
		    msgchan_close_cb, void *arg);
void		 msgchan_free(struct msgchan *);
/* Queues the message (and its fd, dup'ed) and tries to write at once. */
int		 msgchan_send(struct msgchan *, struct msgbuf *);
/* Drops the peer: on_close runs from the event loop, never re-entrantly. */
void		 msgchan_drop(struct msgchan *, const char *why);
int		 msgchan_fd(const struct msgchan *);
const struct ucred *msgchan_cred(const struct msgchan *);
uint32_t	 msgchan_peer(const struct msgchan *);
void		*msgchan_arg(const struct msgchan *);
/*
 * On a connection we opened: the server's class, once msg_connect_server()
 * verified it.  (SO_PEERCRED of a client socket names whoever called
 * listen(), and the daemons listen as root before they drop to their user,
 * so without this every server would read as PEER_ADMIN.)
 */
void		 msgchan_set_peer(struct msgchan *, uint32_t peer);
/*
 * Drops the peer once it has sent nothing for ms (0: never), unless busy
 * (may be NULL) says the connection is waiting for us (it holds a lock);
 * then the wait starts again.  Every received message restarts it.
 */
void		 msgchan_set_idle(struct msgchan *, uint32_t ms,
		    int (*busy)(struct msgchan *));
/* Datagrams read per wake-up (default 1: the fairest, see msgchan.c). */
void		 msgchan_set_read_batch(struct msgchan *, size_t n);
void		 msgchan_set_arg(struct msgchan *, void *);

/* ---- dispatch tables ---- */
struct msg_handler {
	uint32_t	 type;
	const char	*name;
	uint32_t	 peers;	/* allowed peer classes (bit mask) */
	/* returns 0, or -1 for a malformed message: the peer is dropped */
	int		(*fn)(struct msgchan *, struct msg *);
};
/* The number of rows of a handler table. */
#define MSG_NHANDLERS(t)	(sizeof(t) / sizeof((t)[0]))

/*
 * Looks up m's type; refuses (returns -1, logged) an unknown type or one the
 * sender's class may not send, else calls the handler and returns its rc.
 */
int	msg_dispatch(const struct msg_handler *, size_t n, struct msgchan *,
	    struct msg *);
/* Every class some entry of the table allows: who may send anything. */
uint32_t msg_table_peers(const struct msg_handler *, size_t n);
const struct msg_handler *msg_handler_find(const struct msg_handler *,
	    size_t n, uint32_t type);

#endif
