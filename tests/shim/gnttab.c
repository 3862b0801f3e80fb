/*
 * gnttab.c - grant mapping of a guest's xenstore ring and dom0's
 * /proc/xen/xsd_{port,kva}.
 *
 * Every domain's "grant" GNTTAB_RESERVED_XENSTORE is a 4 KiB shared page
 * owned by the shim; xenstored maps it as the guest's ring and guest.c
 * plays the guest side on it.  /proc/xen/xsd_port and /proc/xen/xsd_kva are
 * answered with memfds (port "1"; a zeroed page that becomes dom0's ring),
 * so xenstored's own open()/read()/mmap() code runs unchanged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xengnttab.h>

#include "shim.h"

struct xengntdev_handle { int dummy; };

static pthread_mutex_t ring_lock = PTHREAD_MUTEX_INITIALIZER;
static void *rings[SHIM_MAX_DOMS];

void *shim_ring_get(unsigned int domid, bool create)
{
	void *p;

	if (domid >= SHIM_MAX_DOMS)
		return NULL;
	pthread_mutex_lock(&ring_lock);
	p = rings[domid];
	if (!p && create) {
		p = mmap(NULL, SHIM_PAGE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		p = (p == MAP_FAILED) ? NULL : p;
		rings[domid] = p;
	}
	pthread_mutex_unlock(&ring_lock);
	return p;
}

void shim_ring_drop(unsigned int domid)
{
	void *p;

	if (domid >= SHIM_MAX_DOMS)
		return;
	pthread_mutex_lock(&ring_lock);
	p = rings[domid];
	rings[domid] = NULL;
	pthread_mutex_unlock(&ring_lock);
	if (p)
		munmap(p, SHIM_PAGE);
}

xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger,
				 unsigned int open_flags)
{
	return calloc(1, sizeof(struct xengntdev_handle));
}

int xengnttab_close(xengnttab_handle *xgt)
{
	free(xgt);
	return 0;
}

int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid,
			      grant_ref_t ref, int prot)
{
	shim_state_map();
	if (domid == 0 || domid >= SHIM_MAX_DOMS || !shim_doms ||
	    !(shim_doms[domid] & DOMW_EXISTS)) {
		errno = ESRCH;
		return NULL;
	}
	return shim_ring_get(domid, true);
}

int xengnttab_unmap(xengnttab_handle *xgt, void *start_address,
		    uint32_t count)
{
	/* The page belongs to the domain; it goes with the domain. */
	return 0;
}

/* ---- /proc/xen/xsd_port and /proc/xen/xsd_kva ---- */

static int fake_proc(const char *path)
{
	int fd;

	if (strcmp(path, "/proc/xen/xsd_port") == 0) {
		fd = memfd_create("xsd_port", MFD_CLOEXEC);
		if (fd >= 0 && (write(fd, "1", 1) != 1 ||
				lseek(fd, 0, SEEK_SET) != 0)) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (strcmp(path, "/proc/xen/xsd_kva") == 0) {
		fd = memfd_create("xsd_kva", MFD_CLOEXEC);
		if (fd >= 0 && ftruncate(fd, SHIM_PAGE) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	return -2;
}

typedef int (*open_fn)(const char *, int, ...);

static int open_common(const char *sym, const char *path, int flags,
		       mode_t mode)
{
	static open_fn real_open, real_open64;
	open_fn *slot = strcmp(sym, "open") ? &real_open64 : &real_open;
	int fd;

	if (path && shim_is_xenstored() &&
	    strncmp(path, "/proc/xen/", 10) == 0) {
		fd = fake_proc(path);
		if (fd != -2)
			return fd;
	}
	if (!*slot)
		*slot = (open_fn)dlsym(RTLD_NEXT, sym);
	if (!*slot) {
		errno = ENOSYS;
		return -1;
	}
	return (*slot)(path, flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return open_common("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return open_common("open64", path, flags, mode);
}
