/*
 * guest.c - DIR/dom<N>.sock: many socket clients multiplexed onto the
 * xenstore ring of guest N, so they act as unprivileged domain N.
 *
 * One thread per introduced guest plays the guest kernel's xenbus side of
 * the ring.  Per client it rewrites req_id (to a ring-wide id), prefixes
 * watch tokens with "<client-id>:" (stripped again on WATCH_EVENT), and
 * remembers its transactions and watches; when the client disconnects they
 * are ended (TRANSACTION_END "F") and removed (UNWATCH) on its behalf.
 *
 * Ring discipline (xs_wire.h): we produce req_*, consume rsp_*; indexes are
 * free-running, read once, full barrier between index and data access, and
 * xenstored is woken through its event channel after every index update.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xen/io/xs_wire.h>

#include "shim.h"

#define MAX_CLIENTS   64
#define MAX_PEND      1024
#define MSG_MAX       (sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX)
#define QUEUE_HIGH    (64 * 1024)	/* stop reading clients above this */
#define OUT_MAX       (4 * 1024 * 1024)	/* drop a client that stops reading */

struct buf {
	char *d;
	size_t len, cap;
};

struct wrec {			/* one watch, as rewritten for the ring */
	char *payload;
	uint32_t len;
};

struct client {
	int fd;
	unsigned int cid;
	char in[MSG_MAX];
	size_t in_len;
	struct buf out;
	uint32_t *tx;
	size_t ntx;
	struct wrec *w;
	size_t nw;
};

struct pend {
	uint32_t ireq;
	unsigned int cid;	/* 0: internal cleanup, reply dropped */
	uint32_t orig_req;
	uint32_t type;
};

struct guest {
	unsigned int domid;
	_Atomic uint32_t port;
	int lfd, efd;
	_Atomic int stop;
	pthread_t th;
	struct xenstore_domain_interface *intf;
	struct client *cl[MAX_CLIENTS];
	unsigned int next_cid;
	uint32_t next_req;
	struct pend pend[MAX_PEND];
	size_t npend;
	struct buf q;		/* bytes waiting for ring space */
	char rin[MSG_MAX];	/* response being assembled */
	size_t rin_len;
	char path[300];
};

static pthread_mutex_t guests_lock = PTHREAD_MUTEX_INITIALIZER;
static struct guest *guests[SHIM_MAX_DOMS];

static int buf_add(struct buf *b, const void *p, size_t n)
{
	size_t cap;
	char *d;

	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		d = realloc(b->d, cap);
		if (!d)
			return -1;
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_eat(struct buf *b, size_t n)
{
	memmove(b->d, b->d + n, b->len - n);
	b->len -= n;
}

static void mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Guest -> xenstored: copy as much of g->q into req[] as fits. */
static void ring_push(struct guest *g)
{
	struct xenstore_domain_interface *in = g->intf;
	XENSTORE_RING_IDX cons, prod;
	size_t space, n, off, chunk, done = 0;

	if (!g->q.len)
		return;
	cons = *(volatile XENSTORE_RING_IDX *)&in->req_cons;
	prod = *(volatile XENSTORE_RING_IDX *)&in->req_prod;
	mb();
	if (prod - cons > XENSTORE_RING_SIZE)
		return;		/* corrupt: leave it to xenstored */
	space = XENSTORE_RING_SIZE - (prod - cons);
	n = g->q.len < space ? g->q.len : space;
	while (done < n) {
		off = MASK_XENSTORE_IDX(prod + done);
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > n - done)
			chunk = n - done;
		memcpy(in->req + off, g->q.d + done, chunk);
		done += chunk;
	}
	mb();
	*(volatile XENSTORE_RING_IDX *)&in->req_prod = prod + (XENSTORE_RING_IDX)n;
	if (n) {
		buf_eat(&g->q, n);
		shim_evtchn_raise(g->port);
	}
}

static struct client *client_by_cid(struct guest *g, unsigned int cid)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++)
		if (g->cl[i] && g->cl[i]->cid == cid)
			return g->cl[i];
	return NULL;
}

static void client_send(struct client *c, const struct xsd_sockmsg *h,
			const char *payload)
{
	if (buf_add(&c->out, h, sizeof(*h)) ||
	    buf_add(&c->out, payload, h->len))
		c->out.len = OUT_MAX + 1;	/* drop it */
}

static int enqueue(struct guest *g, uint32_t type, uint32_t tx,
		   unsigned int cid, uint32_t orig_req, const char *payload,
		   uint32_t len)
{
	struct xsd_sockmsg h;
	struct pend *p;

	if (g->npend >= MAX_PEND)
		return -1;
	p = &g->pend[g->npend++];
	p->ireq = ++g->next_req;
	p->cid = cid;
	p->orig_req = orig_req;
	p->type = type;
	h.type = type;
	h.req_id = p->ireq;
	h.tx_id = tx;
	h.len = len;
	if (buf_add(&g->q, &h, sizeof(h)) || buf_add(&g->q, payload, len)) {
		g->npend--;
		return -1;
	}
	return 0;
}

/* "path\0token\0" -> "path\0<cid>:token\0"; returns new length or -1. */
static int prefix_token(const char *in, uint32_t len, unsigned int cid,
			char *out)
{
	const char *tok;
	size_t plen, tlen;
	int n;

	plen = strnlen(in, len);
	if (plen >= len)
		return -1;
	tok = in + plen + 1;
	tlen = strnlen(tok, len - plen - 1);
	if (plen + 1 + tlen >= len)
		return -1;
	memcpy(out, in, plen + 1);
	n = snprintf(out + plen + 1, XENSTORE_PAYLOAD_MAX - plen - 1, "%u:%s",
		     cid, tok);
	if (n < 0 || plen + 1 + (size_t)n + 1 > XENSTORE_PAYLOAD_MAX)
		return -1;
	return (int)(plen + 1 + (size_t)n + 1);
}

static void watch_forget(struct client *c, const char *p, uint32_t len)
{
	size_t i;

	for (i = 0; i < c->nw; i++) {
		if (c->w[i].len == len && !memcmp(c->w[i].payload, p, len)) {
			free(c->w[i].payload);
			c->w[i] = c->w[--c->nw];
			return;
		}
	}
}

static void watch_remember(struct client *c, const char *p, uint32_t len)
{
	struct wrec *w = realloc(c->w, (c->nw + 1) * sizeof(*w));
	char *d = malloc(len);

	if (!w || !d) {
		free(d);
		if (w)
			c->w = w;
		return;
	}
	c->w = w;
	memcpy(d, p, len);
	c->w[c->nw].payload = d;
	c->w[c->nw++].len = len;
}

static void tx_forget(struct client *c, uint32_t tx)
{
	size_t i;

	for (i = 0; i < c->ntx; i++) {
		if (c->tx[i] == tx) {
			c->tx[i] = c->tx[--c->ntx];
			return;
		}
	}
}

static void reply_error(struct client *c, const struct xsd_sockmsg *req,
			const char *err)
{
	struct xsd_sockmsg h = { .type = XS_ERROR, .req_id = req->req_id,
				 .tx_id = req->tx_id,
				 .len = (uint32_t)strlen(err) + 1 };

	client_send(c, &h, err);
}

/* One complete message from a client; -1 = no room now, retry later. */
static int client_msg(struct guest *g, struct client *c,
		      const struct xsd_sockmsg *h, const char *payload)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	int n;

	if (h->type == XS_WATCH || h->type == XS_UNWATCH) {
		n = prefix_token(payload, h->len, c->cid, buf);
		if (n < 0) {
			reply_error(c, h, "EINVAL");
			return 0;
		}
		if (enqueue(g, h->type, h->tx_id, c->cid, h->req_id, buf,
			    (uint32_t)n))
			return -1;
		if (h->type == XS_WATCH)
			watch_remember(c, buf, (uint32_t)n);
		else
			watch_forget(c, buf, (uint32_t)n);
		return 0;
	}
	if (enqueue(g, h->type, h->tx_id, c->cid, h->req_id, payload, h->len))
		return -1;
	if (h->type == XS_TRANSACTION_END)
		tx_forget(c, h->tx_id);
	return 0;
}

/* Process complete messages buffered from client c; -1 = drop client. */
static int client_process(struct guest *g, struct client *c)
{
	struct xsd_sockmsg h;
	size_t total;

	while (c->in_len >= sizeof(h)) {
		memcpy(&h, c->in, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX)
			return -1;
		total = sizeof(h) + h.len;
		if (c->in_len < total)
			return 0;
		if (g->q.len > QUEUE_HIGH ||
		    client_msg(g, c, &h, c->in + sizeof(h)) < 0)
			return 0;	/* no room: keep it buffered */
		memmove(c->in, c->in + total, c->in_len - total);
		c->in_len -= total;
	}
	return 0;
}

static void client_drop(struct guest *g, int slot)
{
	struct client *c = g->cl[slot];
	size_t i;

	for (i = 0; i < c->ntx; i++)
		enqueue(g, XS_TRANSACTION_END, c->tx[i], 0, 0, "F", 2);
	for (i = 0; i < c->nw; i++) {
		enqueue(g, XS_UNWATCH, 0, 0, 0, c->w[i].payload, c->w[i].len);
		free(c->w[i].payload);
	}
	free(c->w);
	free(c->tx);
	free(c->out.d);
	close(c->fd);
	free(c);
	g->cl[slot] = NULL;
}

static void deliver_event(struct guest *g, struct xsd_sockmsg *h, char *p)
{
	size_t plen = strnlen(p, h->len), tlen;
	char *tok, *colon, *end;
	unsigned long cid;
	struct client *c;

	if (plen >= h->len)
		return;
	tok = p + plen + 1;
	tlen = strnlen(tok, h->len - plen - 1);
	colon = memchr(tok, ':', tlen);
	if (!colon)
		return;
	errno = 0;
	cid = strtoul(tok, &end, 10);
	if (errno || end != colon)
		return;
	c = client_by_cid(g, (unsigned int)cid);
	if (!c)
		return;
	/* Strip "<cid>:" from the token; keep anything after it. */
	memmove(tok, colon + 1, (size_t)(p + h->len - (colon + 1)));
	h->len -= (uint32_t)(colon + 1 - tok);
	h->req_id = 0;
	client_send(c, h, p);
}

static void deliver_reply(struct guest *g, struct xsd_sockmsg *h, char *p)
{
	struct client *c;
	struct pend pe;
	unsigned long tx;
	size_t i;

	for (i = 0; i < g->npend; i++)
		if (g->pend[i].ireq == h->req_id)
			break;
	if (i == g->npend)
		return;
	pe = g->pend[i];
	memmove(&g->pend[i], &g->pend[i + 1],
		(g->npend - i - 1) * sizeof(pe));
	g->npend--;
	c = pe.cid ? client_by_cid(g, pe.cid) : NULL;
	if (!c)
		return;
	if (pe.type == XS_TRANSACTION_START && h->type == XS_TRANSACTION_START &&
	    h->len > 0 && p[h->len - 1] == '\0') {
		tx = strtoul(p, NULL, 10);
		uint32_t *t = realloc(c->tx, (c->ntx + 1) * sizeof(*t));
		if (t) {
			c->tx = t;
			c->tx[c->ntx++] = (uint32_t)tx;
		}
	}
	h->req_id = pe.orig_req;
	client_send(c, h, p);
}

/* xenstored -> guest: consume rsp[], dispatch complete messages. */
static void ring_pull(struct guest *g)
{
	struct xenstore_domain_interface *in = g->intf;
	XENSTORE_RING_IDX cons, prod;
	struct xsd_sockmsg h;
	size_t want, off, chunk;
	bool any = false;

	for (;;) {
		cons = *(volatile XENSTORE_RING_IDX *)&in->rsp_cons;
		prod = *(volatile XENSTORE_RING_IDX *)&in->rsp_prod;
		mb();
		if (prod == cons || prod - cons > XENSTORE_RING_SIZE)
			break;
		if (g->rin_len < sizeof(h)) {
			want = sizeof(h) - g->rin_len;
		} else {
			memcpy(&h, g->rin, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX)
				h.len = XENSTORE_PAYLOAD_MAX; /* broken; resync */
			want = sizeof(h) + h.len - g->rin_len;
		}
		if (want > prod - cons)
			want = prod - cons;
		off = MASK_XENSTORE_IDX(cons);
		chunk = XENSTORE_RING_SIZE - off;
		if (chunk > want)
			chunk = want;
		memcpy(g->rin + g->rin_len, in->rsp + off, chunk);
		g->rin_len += chunk;
		mb();
		*(volatile XENSTORE_RING_IDX *)&in->rsp_cons = cons + (XENSTORE_RING_IDX)chunk;
		any = true;
		if (g->rin_len < sizeof(h))
			continue;
		memcpy(&h, g->rin, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX || g->rin_len < sizeof(h) + h.len)
			continue;
		if (h.type == XS_WATCH_EVENT)
			deliver_event(g, &h, g->rin + sizeof(h));
		else
			deliver_reply(g, &h, g->rin + sizeof(h));
		g->rin_len = 0;
	}
	if (any)
		shim_evtchn_raise(g->port);
}

static void accept_client(struct guest *g)
{
	struct client *c;
	int fd, i;

	fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (i = 0; i < MAX_CLIENTS; i++)
		if (!g->cl[i])
			break;
	c = i < MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->cid = ++g->next_cid;
	g->cl[i] = c;
}

static int client_read(struct guest *g, struct client *c)
{
	ssize_t r;

	if (c->in_len >= sizeof(c->in))
		return 0;
	r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r > 0)
		c->in_len += (size_t)r;
	return 0;
}

static int client_write(struct client *c)
{
	ssize_t r;

	if (c->out.len > OUT_MAX)
		return -1;
	if (!c->out.len)
		return 0;
	r = send(c->fd, c->out.d, c->out.len, MSG_NOSIGNAL);
	if (r < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	if (r > 0)
		buf_eat(&c->out, (size_t)r);
	return 0;
}

static void *guest_main(void *arg)
{
	struct guest *g = arg;
	struct pollfd pfd[MAX_CLIENTS + 2];
	int slot[MAX_CLIENTS + 2];
	bool room;
	uint64_t v;
	int n, i;

	while (!g->stop) {
		room = g->q.len <= QUEUE_HIGH && g->npend < MAX_PEND - 1;
		pfd[0] = (struct pollfd){ .fd = g->efd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = g->lfd, .events = POLLIN };
		n = 2;
		for (i = 0; i < MAX_CLIENTS; i++) {
			if (!g->cl[i])
				continue;
			pfd[n].fd = g->cl[i]->fd;
			pfd[n].events = (room ? POLLIN : 0) |
				(g->cl[i]->out.len ? POLLOUT : 0);
			pfd[n].revents = 0;
			slot[n++] = i;
		}
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN)
			(void)!read(g->efd, &v, sizeof(v));
		if (g->stop)
			break;
		ring_pull(g);
		for (i = 2; i < n; i++) {
			struct client *c = g->cl[slot[i]];

			if ((pfd[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    client_read(g, c) < 0) {
				client_drop(g, slot[i]);
				continue;
			}
			if (client_process(g, c) < 0 || client_write(c) < 0)
				client_drop(g, slot[i]);
		}
		if (pfd[1].revents & POLLIN)
			accept_client(g);
		/* Messages held back for lack of room get another chance. */
		for (i = 0; i < MAX_CLIENTS; i++)
			if (g->cl[i] && g->cl[i]->in_len)
				client_process(g, g->cl[i]);
		ring_push(g);
		ring_pull(g);
		for (i = 0; i < MAX_CLIENTS; i++)
			if (g->cl[i] && client_write(g->cl[i]) < 0)
				client_drop(g, i);
	}
	return NULL;
}

static void guest_free(struct guest *g)
{
	int i;

	for (i = 0; i < MAX_CLIENTS; i++) {
		if (g->cl[i]) {
			free(g->cl[i]->w);	/* payloads leak: process ends */
			free(g->cl[i]->tx);
			free(g->cl[i]->out.d);
			close(g->cl[i]->fd);
			free(g->cl[i]);
		}
	}
	if (g->lfd >= 0) {
		close(g->lfd);
		unlink(g->path);
	}
	if (g->efd >= 0)
		close(g->efd);
	free(g->q.d);
	free(g);
}

static int listen_on(struct guest *g)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *dir = shim_dir();

	if (!dir)
		return -1;
	snprintf(g->path, sizeof(g->path), "%s/dom%u.sock", dir, g->domid);
	if (strlen(g->path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, g->path);
	g->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (g->lfd < 0)
		return -1;
	unlink(g->path);
	if (bind(g->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(g->lfd, 64))
		return -1;
	return 0;
}

int shim_guest_start(unsigned int domid, uint32_t local_port)
{
	pthread_attr_t at;
	struct guest *g;
	int rc = -1;

	if (domid == 0 || domid >= SHIM_MAX_DOMS)
		return -1;
	pthread_mutex_lock(&guests_lock);
	if (guests[domid]) {		/* re-introduce: new port */
		guests[domid]->port = local_port;
		pthread_mutex_unlock(&guests_lock);
		return 0;
	}
	g = calloc(1, sizeof(*g));
	if (!g)
		goto out;
	g->domid = domid;
	g->port = local_port;
	g->lfd = -1;
	g->intf = shim_ring_get(domid, true);
	g->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!g->intf || g->efd < 0 || listen_on(g) < 0)
		goto fail;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	if (pthread_create(&g->th, &at, guest_main, g)) {
		pthread_attr_destroy(&at);
		goto fail;
	}
	pthread_attr_destroy(&at);
	guests[domid] = g;
	rc = 0;
	goto out;
fail:
	guest_free(g);
out:
	pthread_mutex_unlock(&guests_lock);
	return rc;
}

void shim_guest_notify(unsigned int domid)
{
	uint64_t one = 1;

	if (domid >= SHIM_MAX_DOMS)
		return;
	pthread_mutex_lock(&guests_lock);
	if (guests[domid])
		(void)!write(guests[domid]->efd, &one, sizeof(one));
	pthread_mutex_unlock(&guests_lock);
}

void shim_guest_stop(unsigned int domid)
{
	struct guest *g;
	uint64_t one = 1;

	if (domid >= SHIM_MAX_DOMS)
		return;
	pthread_mutex_lock(&guests_lock);
	g = guests[domid];
	guests[domid] = NULL;
	pthread_mutex_unlock(&guests_lock);
	if (!g)
		return;
	g->stop = 1;
	(void)!write(g->efd, &one, sizeof(one));
	pthread_join(g->th, NULL);
	guest_free(g);
}
