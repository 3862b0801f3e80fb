/* QEMU command lines for the broker's QEMUs.  Pure: unit-tested. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "launcher.h"
#include "proto_broker.h"

struct argb {
	char	*buf;
	size_t	 bufsz, used;
	char	**argv;
	size_t	 maxargs, argc;
	int	 err;
};

static void __attribute__((format(printf, 2, 3)))
arg(struct argb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->err || b->argc + 1 >= b->maxargs) {
		b->err = 1;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->used, b->bufsz - b->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->bufsz - b->used) {
		b->err = 1;
		return;
	}
	b->argv[b->argc++] = b->buf + b->used;
	b->argv[b->argc] = NULL;
	b->used += (size_t)n + 1;
}

int64_t
qemu_uid(uint32_t base, uint32_t domid)
{
	uint64_t u = (uint64_t)base + domid;

	if (base == 0 || u >= 0xfffffffeull)	/* (uid_t)-1 and -2 reserved */
		return -1;
	return (int64_t)u;
}

int
launch_req_valid(const struct launch_req *r)
{
	uint32_t i, j;

	if (r->domid > 0x7fef || r->kind > LAUNCH_KIND_QDISK ||
	    r->n_cdrom > BROKER_MAX_CDROMS || r->memory_mb > 65536)
		return -1;
	if (r->kind == LAUNCH_KIND_QDISK && r->n_cdrom != 0)
		return -1;
	for (i = 0; i < r->n_cdrom; i++)
		for (j = 0; j < i; j++)
			if (r->cdrom[i] == r->cdrom[j])
				return -1;
	return 0;
}

static void
common_tail(struct argb *b, const char *chroot_dir, int qmp_fd)
{
	arg(b, "-nodefaults");
	arg(b, "-no-user-config");
	arg(b, "-display");
	arg(b, "none");
	arg(b, "-chardev");
	arg(b, "socket,id=qmp,fd=%d,server=on,wait=off", qmp_fd);
	arg(b, "-mon");
	arg(b, "chardev=qmp,mode=control");
	arg(b, "-sandbox");
	arg(b, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
	    "resourcecontrol=deny");
	arg(b, "-chroot");
	arg(b, "%s", chroot_dir);
}

/*
 * TCG with its code buffer mapped twice (RW and RX views of one memfd):
 * no page is ever writable and executable, so QEMU runs under the unit's
 * MemoryDenyWriteExecute=yes (a plain "tcg" mprotects its JIT buffer
 * W+X and fails there).
 */
#define QEMU_ACCEL_TCG	"tcg,split-wx=on"

static void
dm_args(struct argb *b, const struct launch_req *r)
{
	uint32_t i;

	arg(b, "-name");
	arg(b, "devsep-dm-%u", r->domid);
	arg(b, "-machine");
	arg(b, "pc");
	arg(b, "-accel");
	arg(b, "%s", QEMU_ACCEL_TCG);
	arg(b, "-m");
	arg(b, "%u", r->memory_mb ? r->memory_mb : 32);
	arg(b, "-S");
	arg(b, "-device");
	arg(b, "virtio-scsi-pci,id=scsi0");
	for (i = 0; i < r->n_cdrom; i++) {
		arg(b, "-device");
		arg(b, "ide-cd,id=cd%u,bus=ide.%u,unit=%u", r->cdrom[i],
		    i / 2, i % 2);
	}
}

static void
qdisk_args(struct argb *b, const struct launch_req *r,
    const struct launch_opts *o)
{
	arg(b, "-name");
	arg(b, "devsep-qdisk-%u", r->domid);
	if (o != NULL && o->qdisk_test_machine) {
		/* test only: no hypervisor on the build machines */
		arg(b, "-machine");
		arg(b, "pc");
		arg(b, "-accel");
		arg(b, "%s", QEMU_ACCEL_TCG);
		arg(b, "-m");
		arg(b, "16");
		arg(b, "-S");
		return;
	}
	arg(b, "-xen-domid");
	arg(b, "%u", r->domid);
	arg(b, "-xen-attach");
	arg(b, "-machine");
	arg(b, "xenpv");
}

int
qemu_args_build(const struct launch_req *r, const struct launch_opts *o,
    const char *binary, const char *chroot_dir, int qmp_fd, char *buf,
    size_t bufsz, char **argv, size_t maxargs)
{
	struct argb b = { buf, bufsz, 0, argv, maxargs, 0, 0 };

	if (launch_req_valid(r) == -1 || maxargs < 2)
		return -1;
	arg(&b, "%s", binary);
	if (r->kind == LAUNCH_KIND_DM)
		dm_args(&b, r);
	else
		qdisk_args(&b, r, o);
	common_tail(&b, chroot_dir, qmp_fd);
	return b.err ? -1 : (int)b.argc;
}
