/*
 * hyp.c - the fake hypervisor: libxencall replaced at its API, so the real
 * libxenctrl code (xc_domain_getinfo, xc_version, xc_physinfo, ...) runs
 * unmodified and reaches these handlers with its real hypercall structures.
 *
 * Implemented: domctl getdomaininfo (4.17 semantics: first existing domain
 * with id >= the one asked for), pausedomain / unpausedomain (the
 * toolstack's counted pause), destroydomain (through the control channel,
 * so xenstored sees dying then gone, as on Xen), sysctl getdomaininfolist
 * and physinfo, xen_version.  Everything else fails with ENOSYS.
 */
#define __XEN_TOOLS__ 1
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xencall.h>
#include <xenforeignmemory.h>
#include <xendevicemodel.h>
#include <xen/xen.h>
#include <xen/domctl.h>
#include <xen/sysctl.h>
#include <xen/version.h>
#include <xen/sched.h>

#include "shim.h"

struct xencall_handle { int dummy; };
struct xenforeignmemory_handle { int dummy; };
struct xendevicemodel_handle { int dummy; };

_Atomic uint32_t *shim_doms;
static char dirbuf[256];
static pthread_once_t map_once = PTHREAD_ONCE_INIT;

bool shim_is_xenstored(void)
{
	const char *e = getenv("XENSHIM_XENSTORED");

	return e && strcmp(e, "1") == 0;
}

/* The world directory: XENSTORED_RUNDIR, else dirname(XENSTORED_PATH). */
const char *shim_dir(void)
{
	const char *e = getenv("XENSTORED_RUNDIR");
	char *slash;

	if (dirbuf[0])
		return dirbuf;
	if (e && *e && strlen(e) < sizeof(dirbuf)) {
		strcpy(dirbuf, e);
		return dirbuf;
	}
	e = getenv("XENSTORED_PATH");
	if (!e || strlen(e) >= sizeof(dirbuf))
		return NULL;
	strcpy(dirbuf, e);
	slash = strrchr(dirbuf, '/');
	if (!slash) {
		dirbuf[0] = 0;
		return NULL;
	}
	*slash = 0;
	return dirbuf;
}

static void state_map_once(void)
{
	char path[300];
	const char *dir = shim_dir();
	size_t sz = SHIM_MAX_DOMS * sizeof(uint32_t);
	bool owner = shim_is_xenstored();
	void *p;
	int fd;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/hypervisor", dir);
	fd = open(path, O_RDWR | O_CLOEXEC | (owner ? O_CREAT | O_TRUNC : 0),
		  0644);
	if (fd < 0)
		return;
	if (owner && ftruncate(fd, (off_t)sz) < 0) {
		close(fd);
		return;
	}
	p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return;
	shim_doms = p;
	shim_doms[0] |= DOMW_EXISTS;	/* dom0 always exists */
}

int shim_state_map(void)
{
	pthread_once(&map_once, state_map_once);
	return shim_doms ? 0 : -1;
}

static uint32_t dom_word(unsigned int domid)
{
	if (domid == 0)
		return DOMW_EXISTS | (shim_doms ? shim_doms[0] : 0);
	if (!shim_doms || domid >= SHIM_MAX_DOMS)
		return 0;
	return shim_doms[domid];
}

static void fill_info(unsigned int domid, uint32_t w,
		      struct xen_domctl_getdomaininfo *gi)
{
	memset(gi, 0, sizeof(*gi));
	gi->domain = (domid_t)domid;
	if (w & DOMW_DYING)
		gi->flags |= XEN_DOMINF_dying;
	if (w & DOMW_SHUTDOWN)
		gi->flags |= XEN_DOMINF_shutdown |
			(((w >> DOMW_REASON_SHIFT) & DOMW_REASON_MASK)
			 << XEN_DOMINF_shutdownshift);
	if ((w >> DOMW_PAUSE_SHIFT) & DOMW_PAUSE_MASK)
		gi->flags |= XEN_DOMINF_paused;
	else if (!(w & (DOMW_DYING | DOMW_SHUTDOWN)))
		gi->flags |= XEN_DOMINF_running;
	if (w & DOMW_HVM)
		gi->flags |= XEN_DOMINF_hvm_guest;
	gi->tot_pages = 65536;
	gi->max_pages = 65536;
	gi->nr_online_vcpus = 1;
	gi->max_vcpu_id = 0;
	gi->handle[0] = (uint8_t)(domid >> 8);
	gi->handle[1] = (uint8_t)domid;
	gi->handle[15] = 0x5e;
}

/* First existing domain with id >= domid, or -1. */
static int next_domain(unsigned int domid)
{
	shim_state_map();
	for (; domid < SHIM_MAX_DOMS; domid++) {
		if (dom_word(domid) & DOMW_EXISTS)
			return (int)domid;
		if (!shim_doms)
			return -1;
	}
	return -1;
}

/*
 * Xen's domain_pause_by_systemcontroller / _unpause_: a count per domain,
 * at most 255 (-EOVERFLOW), an unpause without a pause is -EINVAL; a
 * domain cannot pause itself (dom0 here).
 */
static int pause_count(unsigned int domid, int delta)
{
	_Atomic uint32_t *w;
	uint32_t old, n, cnt;

	if (domid == 0)
		return -EINVAL;
	if (shim_state_map() || domid >= SHIM_MAX_DOMS)
		return -ESRCH;
	w = &shim_doms[domid];
	old = *w;
	do {
		if (!(old & DOMW_EXISTS))
			return -ESRCH;
		cnt = (old >> DOMW_PAUSE_SHIFT) & DOMW_PAUSE_MASK;
		if (delta > 0 && cnt == DOMW_PAUSE_MASK)
			return -EOVERFLOW;
		if (delta < 0 && cnt == 0)
			return -EINVAL;
		cnt = delta > 0 ? cnt + 1 : cnt - 1;
		n = (old & ~(DOMW_PAUSE_MASK << DOMW_PAUSE_SHIFT)) |
			(cnt << DOMW_PAUSE_SHIFT);
	} while (!atomic_compare_exchange_weak(w, &old, n));
	return 0;
}

/* domain_kill(): dying, then gone, each seen by xenstored (control.c). */
static int destroy_domain(unsigned int domid)
{
	char line[32];

	if (domid == 0)
		return -EINVAL;
	if (shim_is_xenstored())
		return shim_domain_destroy(domid);
	snprintf(line, sizeof(line), "destroy %u", domid);
	return shim_control_call(line);
}

static int do_domctl(struct xen_domctl *d)
{
	int id;

	if (d->interface_version != XEN_DOMCTL_INTERFACE_VERSION)
		return -EACCES;
	switch (d->cmd) {
	case XEN_DOMCTL_getdomaininfo:
		id = next_domain(d->domain);
		if (id < 0)
			return -ESRCH;
		d->domain = (domid_t)id;
		fill_info((unsigned int)id, dom_word((unsigned int)id),
			  &d->u.getdomaininfo);
		return 0;
	case XEN_DOMCTL_pausedomain:
		return pause_count(d->domain, 1);
	case XEN_DOMCTL_unpausedomain:
		return pause_count(d->domain, -1);
	case XEN_DOMCTL_destroydomain:
		return destroy_domain(d->domain);
	default:
		return -ENOSYS;
	}
}

static void fill_physinfo(struct xen_sysctl_physinfo *pi)
{
	memset(pi, 0, sizeof(*pi));
	pi->threads_per_core = 1;
	pi->cores_per_socket = 2;
	pi->nr_cpus = 2;
	pi->max_cpu_id = 1;
	pi->nr_nodes = 1;
	pi->max_node_id = 0;
	pi->cpu_khz = 2000000;
	pi->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_pv;
	pi->total_pages = 4u << 18;	/* 4 GiB */
	pi->free_pages = 1u << 18;
	pi->max_mfn = pi->total_pages;
}

static int do_sysctl(struct xen_sysctl *s)
{
	struct xen_sysctl_getdomaininfolist *l;
	uint32_t n = 0;
	int id;

	if (s->interface_version != XEN_SYSCTL_INTERFACE_VERSION)
		return -EACCES;
	switch (s->cmd) {
	case XEN_SYSCTL_getdomaininfolist:
		l = &s->u.getdomaininfolist;
		id = next_domain(l->first_domain);
		while (id >= 0 && n < l->max_domains) {
			fill_info((unsigned int)id, dom_word((unsigned int)id),
				  &l->buffer.p[n++]);
			id = next_domain((unsigned int)id + 1);
		}
		l->num_domains = n;
		return 0;
	case XEN_SYSCTL_physinfo:
		fill_physinfo(&s->u.physinfo);
		return 0;
	default:
		return -ENOSYS;
	}
}

static void copy_str(void *dst, size_t cap, const char *s)
{
	memset(dst, 0, cap);
	strncpy(dst, s, cap - 1);
}

static long do_version(unsigned long cmd, void *arg)
{
	switch (cmd) {
	case XENVER_version:
		return (4 << 16) | 17;
	case XENVER_extraversion:
		copy_str(arg, sizeof(xen_extraversion_t), ".7-shim");
		return 0;
	case XENVER_compile_info: {
		xen_compile_info_t *ci = arg;

		copy_str(ci->compiler, sizeof(ci->compiler), "gcc");
		copy_str(ci->compile_by, sizeof(ci->compile_by), "devsep");
		copy_str(ci->compile_domain, sizeof(ci->compile_domain), "shim");
		copy_str(ci->compile_date, sizeof(ci->compile_date), "today");
		return 0;
	}
	case XENVER_capabilities:
		copy_str(arg, sizeof(xen_capabilities_info_t),
			 "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
		return 0;
	case XENVER_changeset:
		copy_str(arg, sizeof(xen_changeset_info_t), "devsep-xenshim");
		return 0;
	case XENVER_platform_parameters:
		((xen_platform_parameters_t *)arg)->virt_start = 0xffff800000000000ul;
		return 0;
	case XENVER_get_features: {
		xen_feature_info_t *fi = arg;

		fi->submap = 0;
		return 0;
	}
	case XENVER_pagesize:
		return SHIM_PAGE;
	case XENVER_guest_handle:
		memset(arg, 0, sizeof(xen_domain_handle_t));
		return 0;
	case XENVER_commandline:
		/* dom0_mem= makes xl's autoballoon "auto" resolve to off. */
		copy_str(arg, sizeof(xen_commandline_t),
			 "dom0_mem=1024M,max:1024M console=none shim=devsep");
		return 0;
	default:
		return -ENOSYS;
	}
}

static long hypercall(unsigned int op, uint64_t a1, uint64_t a2)
{
	long r;

	switch (op) {
	case __HYPERVISOR_domctl:
		r = do_domctl((struct xen_domctl *)(uintptr_t)a1);
		break;
	case __HYPERVISOR_sysctl:
		r = do_sysctl((struct xen_sysctl *)(uintptr_t)a1);
		break;
	case __HYPERVISOR_xen_version:
		r = do_version((unsigned long)a1, (void *)(uintptr_t)a2);
		break;
	default:
		r = -ENOSYS;
	}
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

xencall_handle *xencall_open(struct xentoollog_logger *logger,
			     unsigned int open_flags)
{
	shim_state_map();
	return calloc(1, sizeof(struct xencall_handle));
}

int xencall_close(xencall_handle *xcall)
{
	free(xcall);
	return 0;
}

int xencall_fd(xencall_handle *xcall)
{
	errno = ENOSYS;
	return -1;
}

int xencall0(xencall_handle *xcall, unsigned int op)
{
	return (int)hypercall(op, 0, 0);
}

int xencall1(xencall_handle *xcall, unsigned int op, uint64_t arg1)
{
	return (int)hypercall(op, arg1, 0);
}

int xencall2(xencall_handle *xcall, unsigned int op, uint64_t arg1,
	     uint64_t arg2)
{
	return (int)hypercall(op, arg1, arg2);
}

int xencall3(xencall_handle *xcall, unsigned int op, uint64_t arg1,
	     uint64_t arg2, uint64_t arg3)
{
	return (int)hypercall(op, arg1, arg2);
}

int xencall4(xencall_handle *xcall, unsigned int op, uint64_t arg1,
	     uint64_t arg2, uint64_t arg3, uint64_t arg4)
{
	return (int)hypercall(op, arg1, arg2);
}

int xencall5(xencall_handle *xcall, unsigned int op, uint64_t arg1,
	     uint64_t arg2, uint64_t arg3, uint64_t arg4, uint64_t arg5)
{
	return (int)hypercall(op, arg1, arg2);
}

long xencall2L(xencall_handle *xcall, unsigned int op, uint64_t arg1,
	       uint64_t arg2)
{
	return hypercall(op, arg1, arg2);
}

void *xencall_alloc_buffer_pages(xencall_handle *xcall, size_t nr_pages)
{
	void *p = mmap(NULL, nr_pages * SHIM_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void xencall_free_buffer_pages(xencall_handle *xcall, void *p,
			       size_t nr_pages)
{
	if (p)
		munmap(p, nr_pages * SHIM_PAGE);
}

void *xencall_alloc_buffer(xencall_handle *xcall, size_t size)
{
	return calloc(1, size ? size : 1);
}

void xencall_free_buffer(xencall_handle *xcall, void *p)
{
	free(p);
}

int xencall_buffers_never_fault(xencall_handle *xcall)
{
	return 1;
}

xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
					       unsigned int open_flags)
{
	return calloc(1, sizeof(struct xenforeignmemory_handle));
}

int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	free(fmem);
	return 0;
}

xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
					   unsigned int open_flags)
{
	return calloc(1, sizeof(struct xendevicemodel_handle));
}

int xendevicemodel_close(xendevicemodel_handle *dmod)
{
	free(dmod);
	return 0;
}
