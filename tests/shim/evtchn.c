/*
 * evtchn.c - event channels emulated with a pipe per handle.
 *
 * xenstored polls xenevtchn_fd(); a raised port is written (4 bytes) to the
 * pipe once until xenevtchn_pending() has read it (so a busy guest does not
 * fill the pipe).  xenevtchn_notify() towards a guest wakes that guest's
 * multiplexer thread (guest.c).  VIRQ_DOM_EXC is raised by the control
 * channel on every domain state change; xenstored's unmask of that port
 * tells the waiter that check_domains() has run.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xen/xen.h>

#include "shim.h"

struct xenevtchn_handle {
	int rfd;
	int wfd;
};

#define PORT_FREE   (-3)
#define PORT_VIRQ   (-1)
#define PORT_UNBOUND (-2)

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xenevtchn_handle *port_owner[SHIM_MAX_PORTS];
static int port_domid[SHIM_MAX_PORTS];
static _Atomic int port_queued[SHIM_MAX_PORTS];
static uint32_t next_port = 1;

static pthread_mutex_t virq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t virq_cond = PTHREAD_COND_INITIALIZER;
static uint64_t virq_raised, virq_inflight, virq_done;
static _Atomic uint32_t virq_port;

static int alloc_port(struct xenevtchn_handle *h, int domid)
{
	uint32_t i, p;

	pthread_mutex_lock(&ports_lock);
	for (i = 0; i < SHIM_MAX_PORTS - 1; i++) {
		p = 1 + (next_port - 1 + i) % (SHIM_MAX_PORTS - 1);
		if (!port_owner[p]) {
			port_owner[p] = h;
			port_domid[p] = domid;
			port_queued[p] = 0;
			next_port = p + 1;
			pthread_mutex_unlock(&ports_lock);
			return (int)p;
		}
	}
	pthread_mutex_unlock(&ports_lock);
	errno = ENOSPC;
	return -1;
}

int shim_port_domid(uint32_t port)
{
	int d;

	if (port == 0 || port >= SHIM_MAX_PORTS)
		return PORT_FREE;
	pthread_mutex_lock(&ports_lock);
	d = port_owner[port] ? port_domid[port] : PORT_FREE;
	pthread_mutex_unlock(&ports_lock);
	return d;
}

void shim_evtchn_raise(uint32_t port)
{
	struct xenevtchn_handle *h;
	ssize_t r;

	if (port == 0 || port >= SHIM_MAX_PORTS)
		return;
	if (atomic_exchange(&port_queued[port], 1))
		return;
	pthread_mutex_lock(&ports_lock);
	h = port_owner[port];
	if (h) {
		do
			r = write(h->wfd, &port, sizeof(port));
		while (r < 0 && errno == EINTR);
	}
	pthread_mutex_unlock(&ports_lock);
}

uint64_t shim_virq_raise(void)
{
	uint64_t seq;

	pthread_mutex_lock(&virq_lock);
	seq = ++virq_raised;
	pthread_mutex_unlock(&virq_lock);
	shim_evtchn_raise(virq_port);
	return seq;
}

/* Wait until xenstored has handled VIRQ number seq; 0 ok, -1 timeout. */
int shim_virq_wait(uint64_t seq, int timeout_ms)
{
	struct timespec ts;
	int rc = 0;

	if (!virq_port)
		return 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&virq_lock);
	while (virq_done < seq && rc == 0)
		rc = pthread_cond_timedwait(&virq_cond, &virq_lock, &ts);
	pthread_mutex_unlock(&virq_lock);
	return virq_done >= seq ? 0 : -1;
}

xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	struct xenevtchn_handle *h = calloc(1, sizeof(*h));
	int fds[2];

	if (!h)
		return NULL;
	if (pipe2(fds, (open_flags & XENEVTCHN_NO_CLOEXEC) ? 0 : O_CLOEXEC)) {
		free(h);
		return NULL;
	}
	h->rfd = fds[0];
	h->wfd = fds[1];
	if (shim_is_xenstored()) {
		shim_state_map();
		shim_control_start();
	}
	return h;
}

xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
				   unsigned int open_flags)
{
	return xenevtchn_open(logger, open_flags);
}

int xenevtchn_close(xenevtchn_handle *xce)
{
	uint32_t p;

	if (!xce)
		return 0;
	pthread_mutex_lock(&ports_lock);
	for (p = 1; p < SHIM_MAX_PORTS; p++)
		if (port_owner[p] == xce)
			port_owner[p] = NULL;
	pthread_mutex_unlock(&ports_lock);
	close(xce->rfd);
	close(xce->wfd);
	free(xce);
	return 0;
}

int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->rfd;
}

int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	int d = shim_port_domid(port);

	if (d == PORT_FREE) {
		errno = EINVAL;
		return -1;
	}
	if (d > 0)
		shim_guest_notify((unsigned int)d);
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_bind_unbound_port(xenevtchn_handle *xce, uint32_t domid)
{
	return alloc_port(xce, PORT_UNBOUND);
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
			   evtchn_port_t remote_port)
{
	int p;

	if (domid >= SHIM_MAX_DOMS) {
		errno = EINVAL;
		return -1;
	}
	p = alloc_port(xce, (int)domid);
	if (p > 0 && domid != 0 && shim_is_xenstored() &&
	    shim_guest_start(domid, (uint32_t)p) < 0) {
		xenevtchn_unbind(xce, (evtchn_port_t)p);
		return -1;
	}
	return p;
}

xenevtchn_port_or_error_t
xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	int p = alloc_port(xce, PORT_VIRQ);

	if (p > 0 && virq == VIRQ_DOM_EXC)
		virq_port = (uint32_t)p;
	return p;
}

int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	if (port == 0 || port >= SHIM_MAX_PORTS) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&ports_lock);
	port_owner[port] = NULL;
	pthread_mutex_unlock(&ports_lock);
	if (port == virq_port)
		virq_port = 0;
	return 0;
}

xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	evtchn_port_t port;
	ssize_t r;

	do
		r = read(xce->rfd, &port, sizeof(port));
	while (r < 0 && errno == EINTR);
	if (r != (ssize_t)sizeof(port)) {
		if (r >= 0)
			errno = EIO;
		return -1;
	}
	if (port < SHIM_MAX_PORTS)
		atomic_store(&port_queued[port], 0);
	if (port == virq_port) {
		pthread_mutex_lock(&virq_lock);
		virq_inflight = virq_raised;
		pthread_mutex_unlock(&virq_lock);
	}
	return (xenevtchn_port_or_error_t)port;
}

int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	if (port != 0 && port == virq_port) {
		pthread_mutex_lock(&virq_lock);
		if (virq_inflight > virq_done)
			virq_done = virq_inflight;
		pthread_cond_broadcast(&virq_cond);
		pthread_mutex_unlock(&virq_lock);
	}
	return 0;
}

int xenevtchn_restrict(xenevtchn_handle *xce, domid_t domid)
{
	return 0;
}
