/* Accepting connections on a daemon's socket: see listen.h. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"

#define MSGLISTEN_PAUSE_S	1	/* out of fds: retry after */

struct msglisten {
	struct event		*ev, *resume;
	size_t			 nconns, maxconns;
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

static void
accept_cb(evutil_socket_t lfd, short ev, void *arg)
{
	struct msglisten *l = arg;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE)
			pause_accepting(l);
		else if (errno != EAGAIN && errno != EINTR)
			log_warn("%s: accept", l->name);
		return;
	}
	if (l->maxconns != 0 && l->nconns >= l->maxconns) {
		log_warnx("%s: too many connections, refusing one", l->name);
		close(fd);
		return;
	}
	if (l->fn(fd, l->arg) == -1) {
		close(fd);
		return;
	}
	l->nconns++;
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
