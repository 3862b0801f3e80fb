/* Accepting connections on a daemon's socket: see listen.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "listen.h"
#include "log.h"
#include "msg.h"

#define MSGLISTEN_PAUSE_S	1	/* out of fds: retry after */

#define NCLASSES	5	/* PEER_WATCHERD .. PEER_ADMIN: bits 0..4 */
#define REFUSE_LOG_MS	1000	/* at most one refusal line per interval */

struct msglisten {
	struct event		*ev, *resume;
	size_t			 nconns, maxconns;
	uint32_t		 classes;	/* 0: anyone (no check) */
	size_t			 per_class;
	size_t			 nclass[NCLASSES];
	uint64_t		 refuse_log_ms;	/* last refusal logged */
	size_t			 refuse_quiet;	/* refused since, unlogged */
	const char		*name;
	msglisten_accept_fn	 fn;
	void			*arg;
};

static void
resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct msglisten *l = arg;

	event_add(l->ev, NULL);
}

static void
pause_accepting(struct msglisten *l)
{
	struct timeval tv = { MSGLISTEN_PAUSE_S, 0 };

	log_warnx("%s: out of file descriptors: not accepting for %d s",
	    l->name, MSGLISTEN_PAUSE_S);
	event_del(l->ev);
	evtimer_add(l->resume, &tv);
}

/* Lowest class bit of a peer (its slot), or -1 for none. */
static int
class_slot(uint32_t peer)
{
	int i;

	for (i = 0; i < NCLASSES; i++)
		if (peer & (1u << i))
			return i;
	return -1;
}

/*
 * A peer connecting in a loop must not flood the log: one refusal line per
 * REFUSE_LOG_MS, the next one says how many went unlogged.  1: log it.
 */
static int
refuse_log_ok(struct msglisten *l, size_t *quiet)
{
	uint64_t now = now_ms();

	if (l->refuse_log_ms != 0 && now - l->refuse_log_ms < REFUSE_LOG_MS) {
		l->refuse_quiet++;
		return 0;
	}
	l->refuse_log_ms = now;
	*quiet = l->refuse_quiet;
	l->refuse_quiet = 0;
	return 1;
}

/*
 * With classes set: a peer that may send nothing here is refused before
 * anything is read, and each class has its own budget, so that a flood
 * by one class (or by a uid that is no class) never takes another's
 * slots.  1: take it; 0: refused (logged).
 */
static int
class_admit(struct msglisten *l, int fd)
{
	struct ucred cr;
	uint32_t peer;
	size_t quiet;
	int slot;

	if (l->classes == 0)
		return 1;
	if (msg_peercred(fd, &cr) == -1) {
		log_warn("%s: SO_PEERCRED", l->name);
		return 0;
	}
	peer = peer_classify(&cr) & l->classes;
	if ((slot = class_slot(peer)) == -1) {
		if (refuse_log_ok(l, &quiet))
			log_warnx("%s: refused pid=%d uid=%u at accept: its "
			    "class may send nothing here (%zu more refused "
			    "unlogged before)", l->name, (int)cr.pid,
			    (unsigned)cr.uid, quiet);
		return 0;
	}
	if (l->nclass[slot] >= l->per_class) {
		if (refuse_log_ok(l, &quiet))
			log_warnx("%s: refused pid=%d uid=%u: %zu %s "
			    "connections already (%zu more refused unlogged "
			    "before)", l->name, (int)cr.pid, (unsigned)cr.uid,
			    l->nclass[slot], peer_class_name(peer), quiet);
		return 0;
	}
	l->nclass[slot]++;
	return 1;
}

static void
class_release(struct msglisten *l, uint32_t peer)
{
	int slot = class_slot(peer & l->classes);

	if (l->classes != 0 && slot != -1 && l->nclass[slot] > 0)
		l->nclass[slot]--;
}

static void
accept_cb(evutil_socket_t lfd, short ev, void *arg)
{
	struct msglisten *l = arg;
	struct ucred cr;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE)
			pause_accepting(l);
		else if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: accept", l->name);
		return;
	}
	if (l->classes == 0 && l->maxconns != 0 && l->nconns >= l->maxconns) {
		log_warnx("%s: too many connections, refusing one", l->name);
		close(fd);
		return;
	}
	if (!class_admit(l, fd)) {
		close(fd);
		return;
	}
	if (l->fn(fd, l->arg) == -1) {
		if (l->classes != 0 && msg_peercred(fd, &cr) == 0)
			class_release(l, peer_classify(&cr));
		close(fd);
		return;
	}
	l->nconns++;
}

void
msglisten_set_classes(struct msglisten *l, uint32_t classes,
    size_t per_class)
{
	l->classes = classes;
	l->per_class = per_class;
}

struct msglisten *
msglisten_new(struct event_base *base, int lfd, size_t maxconns,
    const char *name, msglisten_accept_fn fn, void *arg)
{
	struct msglisten *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->maxconns = maxconns;
	l->name = name;
	l->fn = fn;
	l->arg = arg;
	l->ev = event_new(base, lfd, EV_READ | EV_PERSIST, accept_cb, l);
	l->resume = evtimer_new(base, resume_cb, l);
	if (l->ev == NULL || l->resume == NULL ||
	    event_add(l->ev, NULL) == -1) {
		msglisten_free(l);
		return NULL;
	}
	return l;
}

void
msglisten_closed(struct msglisten *l)
{
	if (l->nconns > 0)
		l->nconns--;
}

void
msglisten_closed_peer(struct msglisten *l, uint32_t peer)
{
	class_release(l, peer);
	msglisten_closed(l);
}

size_t
msglisten_class_count(const struct msglisten *l, uint32_t peer)
{
	int slot = class_slot(peer);

	return slot == -1 ? 0 : l->nclass[slot];
}

size_t
msglisten_count(const struct msglisten *l)
{
	return l->nconns;
}

void
msglisten_free(struct msglisten *l)
{
	if (l == NULL)
		return;
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->resume != NULL)
		event_free(l->resume);
	free(l);
}
