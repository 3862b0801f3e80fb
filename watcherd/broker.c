/*
 * qdisk / 9pfs backends are QEMU's: watcherd tracks them (per guest the
 * broker counts references) and hands them to devsep-qemu-broker with
 * MSG_BROKER_QDISK_ATTACH / _DETACH (common/proto_broker.h).  When the
 * broker is not running the device is marked unsupported here
 * (hotplug-status=error + hotplug-error), never silently dropped.
 *
 * The channel is opened on demand; a failed connect is not retried more
 * often than every peer_retry_ms.  An attach refused with EAGAIN (the
 * guest's QEMU is still starting) is re-sent every peer_retry_ms, at most
 * BROKER_RETRIES times.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"
#include "msg.h"
#include "proto_broker.h"
#include "reply.h"
#include "wd.h"

#define BROKER_PENDING 256
#define BROKER_RETRIES 50	/* EAGAIN (guest's QEMU starting) retries */

struct pend {
	uint32_t	reqid, domid, devid;
	uint8_t		kind, attach, used, tries;
};

/* An attach refused with EAGAIN, re-sent after peer_retry_ms. */
struct retry {
	struct event	*ev;
	uint32_t	 domid, devid;
	uint8_t		 kind, tries;
};

static struct pend	pend[BROKER_PENDING];
static uint32_t		next_reqid = 1;
static uint64_t		last_try_ms;
static void		(*result)(struct wdev *, int, const char *);

static void b_msg(struct msgchan *, struct msg *, void *);

/* result(d, ok, why) is told each QDISK_ATTACH's outcome (device.c). */
void
broker_init(void (*fn)(struct wdev *, int, const char *))
{
	result = fn;
}

static void
fail_pending(const char *why)
{
	struct wdev *d;
	size_t i;

	for (i = 0; i < BROKER_PENDING; i++) {
		if (!pend[i].used)
			continue;
		pend[i].used = 0;
		d = dev_find(pend[i].kind, pend[i].domid, pend[i].devid);
		if (d != NULL && pend[i].attach)
			result(d, 0, why);
	}
}

static void
b_close(struct msgchan *c, void *arg)
{
	log_warnx("broker: connection lost");
	msgchan_free(c);
	wd.broker = NULL;
	fail_pending("qdisk needs devsep-qemu-broker, connection lost");
}

int
broker_available(void)
{
	char path[CONFIG_PATH_MAX + 32];
	struct msgchan_opts o = { BROKER_REPLY_MAX, 0, 0 };
	uid_t uid;
	int fd;

	if (wd.broker != NULL)
		return 1;
	if (last_try_ms && now_ms() - last_try_ms < wd.cfg.peer_retry_ms)
		return 0;
	last_try_ms = now_ms();
	snprintf(path, sizeof(path), "%s/%s", wd.cfg.run_dir, SOCK_BROKER);
	if ((fd = msg_connect_server(path, PEER_BROKER, &uid)) == -1) {
		if (errno == EPERM)
			log_warnx("broker: %s answered by uid %u, not root or "
			    "%s: an impostor, not talking to it", path,
			    (unsigned)uid, USER_BROKER);
		return 0;
	}
	if ((wd.broker = msgchan_new(wd.base, fd, &o, b_msg, b_close,
	    NULL)) == NULL) {
		close(fd);
		return 0;
	}
	msgchan_set_peer(wd.broker, PEER_BROKER);	/* verified at connect */
	log_info("broker: connected");
	return 1;
}

static void send_req(struct wdev *, uint32_t, int, uint8_t);

static void
retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct retry *r = arg;
	struct wdev *d = dev_find(r->kind, r->domid, r->devid);

	if (d != NULL && d->st.phase == P_QDISK && !d->broker_ref) {
		if (broker_available())
			send_req(d, MSG_BROKER_QDISK_ATTACH, 1, r->tries);
		else
			result(d, 0,
			    "qdisk needs devsep-qemu-broker, not running");
	}
	event_free(r->ev);
	free(r);
}

/* EAGAIN: the guest's QEMU is starting; ask again a little later. */
static int
schedule_retry(const struct pend *p)
{
	struct timeval tv = { wd.cfg.peer_retry_ms / 1000,
	    (suseconds_t)(wd.cfg.peer_retry_ms % 1000) * 1000 };
	struct retry *r;

	if (p->tries >= BROKER_RETRIES || (r = calloc(1, sizeof(*r))) == NULL)
		return -1;
	*r = (struct retry){ NULL, p->domid, p->devid, p->kind,
	    (uint8_t)(p->tries + 1) };
	if ((r->ev = evtimer_new(wd.base, retry_cb, r)) == NULL) {
		free(r);
		return -1;
	}
	evtimer_add(r->ev, &tv);
	return 0;
}

static void
send_req(struct wdev *d, uint32_t type, int attach, uint8_t tries)
{
	struct msgbuf b;
	size_t i;

	for (i = 0; i < BROKER_PENDING && pend[i].used; i++)
		;
	if (i == BROKER_PENDING || wd.broker == NULL) {
		if (attach)
			result(d, 0,
			    "qdisk needs devsep-qemu-broker, not reachable");
		return;
	}
	pend[i] = (struct pend){ next_reqid++, d->domid, d->devid, d->kind,
	    (uint8_t)attach, 1, tries };
	msgbuf_init(&b, type, pend[i].reqid);
	if (attach) {
		struct broker_qdisk_attach a = { d->domid, d->devid };

		broker_qdisk_attach_put(&b, &a);
	} else {
		struct broker_qdisk_detach r = { d->domid, d->devid };

		broker_qdisk_detach_put(&b, &r);
	}
	if (msgchan_send(wd.broker, &b) == -1) {
		pend[i].used = 0;
		if (attach)
			result(d, 0, "broker: send failed");
	}
	msgbuf_dispose(&b);
}

void
broker_attach(struct wdev *d)
{
	send_req(d, MSG_BROKER_QDISK_ATTACH, 1, 0);
}

void
broker_detach(struct wdev *d)
{
	d->broker_ref = 0;
	if (broker_available())
		send_req(d, MSG_BROKER_QDISK_DETACH, 0, 0);
}

static struct pend *
pend_take(uint32_t reqid)
{
	size_t i;

	for (i = 0; i < BROKER_PENDING; i++)
		if (pend[i].used && pend[i].reqid == reqid) {
			pend[i].used = 0;
			return &pend[i];
		}
	return NULL;
}

static int
watcherd_dispatch_broker_reply(struct msgchan *c, struct msg *m)
{
	struct pend *p = pend_take(m->hdr.reqid);
	struct wdev *d;
	uint32_t err = 0;
	char text[256] = "", why[320];

	if (m->hdr.type == MSG_COMMON_ERROR &&
	    reply_error_get(m, &err, text, sizeof(text)) == -1)
		return -1;
	if (p == NULL || !p->attach)
		return 0;
	if ((d = dev_find(p->kind, p->domid, p->devid)) == NULL)
		return 0;
	if (m->hdr.type == MSG_COMMON_OK) {
		result(d, 1, NULL);
		return 0;
	}
	if (err == EAGAIN && schedule_retry(p) == 0)
		return 0;
	snprintf(why, sizeof(why), "qdisk: broker refused: %s", text);
	result(d, 0, why);
	return 0;
}

static const struct msg_handler watcherd_broker_handlers[] = {
	{ MSG_COMMON_OK, "OK", PEER_BROKER,
	    watcherd_dispatch_broker_reply },
	{ MSG_COMMON_ERROR, "ERROR", PEER_BROKER,
	    watcherd_dispatch_broker_reply },
};

static void
b_msg(struct msgchan *c, struct msg *m, void *arg)
{
	if (msg_dispatch(watcherd_broker_handlers,
	    MSG_NHANDLERS(watcherd_broker_handlers), c, m) == -1)
		msgchan_drop(c, "bad message from the broker");
}
