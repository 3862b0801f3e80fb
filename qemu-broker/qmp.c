/* QMP client on libevent.  State machine: see qmp.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "qmp.h"
#include "qmp_parse.h"

enum qmp_state { QS_GREETING, QS_NEGOT, QS_READY, QS_DEAD };

struct qcmd {
	TAILQ_ENTRY(qcmd)	 entry;
	uint64_t		 id;
	char			*line;
	size_t			 len, off;
	int			 fd;		/* our dup; -1 none */
	qmp_reply_cb		 cb;
	void			*arg;
	uint64_t		 t0_us;
};

struct qmp {
	struct event_base	*base;
	int			 fd;
	enum qmp_state		 state;
	uint32_t		 timeout_ms;
	struct event		*ev_read, *ev_write, *ev_timer, *ev_dead;
	struct qmp_lines	*lines;
	TAILQ_HEAD(, qcmd)	 queue;
	int			 inflight;	/* head was (partly) sent */
	uint64_t		 next_id;
	qmp_state_cb		 on_ready, on_dead;
	qmp_event_cb		 on_event;
	void			*arg;
	int			 dead_rc;
	int			 busy, freed;
	struct qmp_counters	 cnt;
};

/* Command round trips: upper bounds in microseconds (1 ms .. 4 s). */
static const struct hist_spec latency_spec = {
	"us", 7, { 1000, 4000, 16000, 64000, 256000, 1024000, 4096000 }
};
static struct qmp_counters totals = {
	.latency_us = { .spec = &latency_spec }
};

static void qmp_read_cb(evutil_socket_t, short, void *);
static void qmp_write_cb(evutil_socket_t, short, void *);
static void qmp_timer_cb(evutil_socket_t, short, void *);
static void qmp_dead_cb(evutil_socket_t, short, void *);
static void qmp_kick(struct qmp *);

static void
qmp_die(struct qmp *q, int rc, const char *why)
{
	if (q->state == QS_DEAD)
		return;
	log_warnx("qmp: connection lost: %s", why);
	q->state = QS_DEAD;
	q->dead_rc = rc;
	event_del(q->ev_read);
	event_del(q->ev_write);
	event_del(q->ev_timer);
	event_active(q->ev_dead, 0, 0);
}

static void
arm_timer(struct qmp *q)
{
	struct timeval tv = { q->timeout_ms / 1000,
	    (q->timeout_ms % 1000) * 1000 };

	event_add(q->ev_timer, &tv);
}

struct qmp *
qmp_new(struct event_base *base, int fd, uint32_t timeout_ms,
    qmp_state_cb on_ready, qmp_state_cb on_dead, qmp_event_cb on_event,
    void *arg)
{
	struct qmp *q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->cnt.latency_us.spec = &latency_spec;
	q->base = base;
	q->fd = fd;
	q->timeout_ms = timeout_ms;
	q->on_ready = on_ready;
	q->on_dead = on_dead;
	q->on_event = on_event;
	q->arg = arg;
	q->next_id = 1;
	TAILQ_INIT(&q->queue);
	q->lines = malloc(sizeof(*q->lines));
	evutil_make_socket_nonblocking(fd);
	q->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, qmp_read_cb, q);
	q->ev_write = event_new(base, fd, EV_WRITE, qmp_write_cb, q);
	q->ev_timer = evtimer_new(base, qmp_timer_cb, q);
	q->ev_dead = event_new(base, -1, 0, qmp_dead_cb, q);
	if (q->lines == NULL || !q->ev_read || !q->ev_write || !q->ev_timer ||
	    !q->ev_dead) {
		q->fd = -1;	/* caller keeps fd on failure */
		qmp_free(q);
		return NULL;
	}
	qmp_lines_init(q->lines);
	event_add(q->ev_read, NULL);
	arm_timer(q);		/* the greeting must come in time, too */
	return q;
}

static void
cmd_free(struct qcmd *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->line);
	free(c);
}

static void
fail_all(struct qmp *q, int rc)
{
	struct qcmd *c;

	while ((c = TAILQ_FIRST(&q->queue)) != NULL) {
		TAILQ_REMOVE(&q->queue, c, entry);
		if (c->cb != NULL && !q->freed)
			c->cb(q, rc, NULL, NULL, c->arg);
		cmd_free(c);
	}
	q->inflight = 0;
}

void
qmp_free(struct qmp *q)
{
	if (q == NULL)
		return;
	if (q->busy) {
		q->freed = 1;
		return;
	}
	/* every pending command still gets its callback (-EPIPE); new ones
	 * are refused (state DEAD) */
	q->state = QS_DEAD;
	q->busy++;
	fail_all(q, -EPIPE);
	q->busy--;
	q->freed = 1;
	if (q->ev_read)
		event_free(q->ev_read);
	if (q->ev_write)
		event_free(q->ev_write);
	if (q->ev_timer)
		event_free(q->ev_timer);
	if (q->ev_dead)
		event_free(q->ev_dead);
	if (q->fd != -1)
		close(q->fd);
	free(q->lines);
	free(q);
}

/* Runs a user callback with q marked busy (a qmp_free inside is deferred). */
#define CALLBACK(q, call) do { (q)->busy++; call; (q)->busy--; } while (0)

static int
freed_after(struct qmp *q)
{
	if (q->busy == 0 && q->freed) {
		q->freed = 0;	/* let qmp_free run for real */
		q->busy = 0;
		qmp_free(q);
		return 1;
	}
	return 0;
}

static void
qmp_dead_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct qmp *q = arg;

	q->busy++;
	fail_all(q, q->dead_rc);
	if (!q->freed && q->on_dead != NULL)
		q->on_dead(q, q->dead_rc, q->arg);
	q->busy--;
	freed_after(q);
}

static void
count_latency(struct qmp *q, uint64_t us)
{
	hist_add(&q->cnt.latency_us, us);
	hist_add(&totals.latency_us, us);
}

/* Completes the head command with rc; starts the next one. */
static void
complete_head(struct qmp *q, int rc, json_t *ret, const char *errdesc)
{
	struct qcmd *c = TAILQ_FIRST(&q->queue);

	TAILQ_REMOVE(&q->queue, c, entry);
	q->inflight = 0;
	event_del(q->ev_timer);
	event_del(q->ev_write);
	count_latency(q, now_us() - c->t0_us);
	if (rc == -EREMOTEIO) {
		q->cnt.errors++;
		totals.errors++;
	}
	if (c->cb != NULL && !q->freed)
		CALLBACK(q, c->cb(q, rc, ret, errdesc, c->arg));
	cmd_free(c);
	if (!q->freed)
		qmp_kick(q);
}

static void
qmp_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct qmp *q = arg;

	if (q->state != QS_READY) {
		qmp_die(q, -ETIMEDOUT, "no greeting/negotiation in time");
		return;
	}
	if (!q->inflight)
		return;
	if (TAILQ_FIRST(&q->queue)->off < TAILQ_FIRST(&q->queue)->len) {
		/* QEMU stopped reading mid-line: the stream cannot recover */
		q->cnt.timeouts++;
		totals.timeouts++;
		qmp_die(q, -ETIMEDOUT, "QEMU stopped reading commands");
		return;
	}
	q->cnt.timeouts++;
	totals.timeouts++;
	log_warnx("qmp: command id=%llu timed out after %u ms",
	    (unsigned long long)TAILQ_FIRST(&q->queue)->id, q->timeout_ms);
	complete_head(q, -ETIMEDOUT, NULL, "QEMU did not answer in time");
	freed_after(q);
}

/* Writes the rest of the head command; the fd goes with the first byte. */
static int
send_head(struct qmp *q)
{
	struct qcmd *c = TAILQ_FIRST(&q->queue);
	struct msghdr mh = { 0 };
	struct iovec iov;
	union { struct cmsghdr h; char b[CMSG_SPACE(sizeof(int))]; } cm;
	ssize_t n;

	iov.iov_base = c->line + c->off;
	iov.iov_len = c->len - c->off;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (c->off == 0 && c->fd != -1) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		CMSG_FIRSTHDR(&mh)->cmsg_level = SOL_SOCKET;
		CMSG_FIRSTHDR(&mh)->cmsg_type = SCM_RIGHTS;
		CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(CMSG_FIRSTHDR(&mh)), &c->fd, sizeof(int));
	}
	n = sendmsg(q->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		event_add(q->ev_write, NULL);
		return 0;
	}
	if (n <= 0)
		return -1;
	c->off += (size_t)n;
	if (c->off < c->len)
		event_add(q->ev_write, NULL);
	return 0;
}

static void
qmp_kick(struct qmp *q)
{
	struct qcmd *c = TAILQ_FIRST(&q->queue);

	if (q->inflight || c == NULL || q->state == QS_DEAD)
		return;
	if (q->state != QS_READY && c->id != 0)
		return;		/* only qmp_capabilities before READY */
	q->inflight = 1;
	c->t0_us = now_us();
	q->cnt.cmds++;
	totals.cmds++;
	arm_timer(q);
	if (send_head(q) == -1)
		qmp_die(q, -EPIPE, "write failed");
}

static void
qmp_write_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct qmp *q = arg;

	if (q->inflight && send_head(q) == -1)
		qmp_die(q, -EPIPE, "write failed");
}

static struct qcmd *
cmd_build(struct qmp *q, uint64_t id, const char *cmd, json_t *args,
    int passfd)
{
	struct qcmd *c;
	json_t *o;
	char *s;

	o = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (o == NULL || (args != NULL && json_object_set(o, "arguments",
	    args) == -1)) {
		json_decref(o);
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL || (c = calloc(1, sizeof(*c))) == NULL) {
		free(s);
		return NULL;
	}
	c->id = id;
	c->fd = -1;
	c->len = strlen(s) + 1;
	c->line = s;
	s[c->len - 1] = '\n';	/* replaces the NUL: one line on the wire */
	if (passfd != -1 && (c->fd = fcntl(passfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		cmd_free(c);
		return NULL;
	}
	return c;
}

static int
enqueue(struct qmp *q, uint64_t id, const char *cmd, json_t *args,
    int passfd, qmp_reply_cb cb, void *arg)
{
	struct qcmd *c;

	c = cmd_build(q, id, cmd, args, passfd);
	json_decref(args);
	if (c == NULL)
		return -ENOMEM;
	c->cb = cb;
	c->arg = arg;
	if (id == 0)
		TAILQ_INSERT_HEAD(&q->queue, c, entry);
	else
		TAILQ_INSERT_TAIL(&q->queue, c, entry);
	qmp_kick(q);
	return 0;
}

int
qmp_cmd(struct qmp *q, const char *cmd, json_t *args, int passfd,
    qmp_reply_cb cb, void *arg)
{
	if (q->state == QS_DEAD || q->freed) {
		json_decref(args);
		return -EPIPE;
	}
	return enqueue(q, q->next_id++, cmd, args, passfd, cb, arg);
}

static void
negotiated(struct qmp *q, int rc, json_t *ret, const char *errdesc,
    void *arg)
{
	if (rc != 0) {
		qmp_die(q, rc == -ETIMEDOUT ? rc : -EPROTO,
		    "qmp_capabilities refused");
		return;
	}
	q->state = QS_READY;
	if (q->on_ready != NULL)
		q->on_ready(q, 0, q->arg);
}

static int
on_reply(struct qmp *q, struct qmp_msg *m)
{
	struct qcmd *c = TAILQ_FIRST(&q->queue);

	if (c == NULL || !q->inflight || !m->has_id || m->id != c->id ||
	    c->off < c->len) {
		q->cnt.lies++;
		totals.lies++;
		log_warnx("qmp: reply matches no command in flight, ignored");
		return 0;
	}
	if (m->kind == QMP_RETURN)
		complete_head(q, 0, m->ret, NULL);
	else
		complete_head(q, -EREMOTEIO, NULL, m->errdesc);
	return 0;
}

static int
on_line(const char *line, size_t len, void *arg)
{
	struct qmp *q = arg;
	struct qmp_msg m;

	if (qmp_msg_parse(line, len, &m) == -1) {
		qmp_die(q, -EPROTO, "malformed QMP message");
		return -1;
	}
	if (m.kind == QMP_GREETING) {
		if (q->state != QS_GREETING) {
			qmp_msg_dispose(&m);
			qmp_die(q, -EPROTO, "unexpected second greeting");
			return -1;
		}
		q->state = QS_NEGOT;
		event_del(q->ev_timer);
		enqueue(q, 0, "qmp_capabilities", NULL, -1, negotiated, NULL);
	} else if (m.kind == QMP_EVENT) {
		q->cnt.events++;
		totals.events++;
		if (q->on_event != NULL && q->state == QS_READY)
			CALLBACK(q, q->on_event(q, m.event, m.data, q->arg));
	} else if (q->state == QS_GREETING) {
		qmp_msg_dispose(&m);
		qmp_die(q, -EPROTO, "reply before greeting");
		return -1;
	} else
		on_reply(q, &m);
	qmp_msg_dispose(&m);
	return (q->state == QS_DEAD || q->freed) ? -1 : 0;
}

static void
qmp_read_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct qmp *q = arg;
	char buf[16384];
	ssize_t n;

	n = recv(q->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		qmp_die(q, -EPIPE, n == 0 ? "EOF from QEMU" : "read error");
		return;
	}
	q->busy++;
	if (qmp_lines_feed(q->lines, buf, (size_t)n, on_line, q) == -1 &&
	    q->state != QS_DEAD)
		qmp_die(q, -EPROTO, "QMP line longer than 64 KiB");
	q->busy--;
	freed_after(q);
}

int
qmp_is_ready(const struct qmp *q)
{
	return q->state == QS_READY;
}

int
qmp_is_dead(const struct qmp *q)
{
	return q->state == QS_DEAD;
}

void
qmp_set_timeout(struct qmp *q, uint32_t timeout_ms)
{
	q->timeout_ms = timeout_ms;
}

const struct qmp_counters *
qmp_counters(const struct qmp *q)
{
	return &q->cnt;
}

const struct qmp_counters *
qmp_totals(void)
{
	return &totals;
}
