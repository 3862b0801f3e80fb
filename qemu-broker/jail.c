/*
 * The last steps in a QEMU child before exec, run as root in the forked
 * launcher child.  Order: rlimits -> bounding set -> groups/gid/uid (caps
 * kept) -> only CAP_SYS_CHROOT left, raised as ambient -> NO_NEW_PRIVS.
 *
 * Why CAP_SYS_CHROOT survives: exec inside an empty chroot is impossible
 * for a dynamically linked QEMU (the kernel loads ld.so by path, ld.so
 * loads ~100 libraries by path, QEMU loads firmware by path).  So QEMU is
 * exec'ed outside and chroots itself with -chroot once its machine is
 * built, before any guest or QMP input is processed.  That needs
 * CAP_SYS_CHROOT in QEMU; QEMU's -runas (which would drop it) needs
 * elevateprivileges=allow, so we keep QEMU under its final uid from the
 * start and accept the residual right: a process with CAP_SYS_CHROOT can
 * escape a chroot only through a directory outside it (an open dir fd or a
 * writable dir to chroot into); QEMU holds neither (the root is empty,
 * root-owned, mode 0555, and only fds 0-3 are inherited).  See
 * docs/BROKER.md.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cap-ng.h>

#include "launcher.h"

#define QEMU_NOFILE	256	/* fdsets + block + chardevs + eventfds */
#define QEMU_NPROC	256	/* threads count: vCPU, RCU, thread pool */

static int
limits(void)
{
	struct rlimit nofile = { QEMU_NOFILE, QEMU_NOFILE };
	struct rlimit nproc = { QEMU_NPROC, QEMU_NPROC };
	struct rlimit core = { 0, 0 };

	if (setrlimit(RLIMIT_NOFILE, &nofile) == -1 ||
	    setrlimit(RLIMIT_NPROC, &nproc) == -1 ||
	    setrlimit(RLIMIT_CORE, &core) == -1)
		return -errno;
	return 0;
}

static int
bounding_only_chroot(void)
{
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++) {
		if (c == CAP_SYS_CHROOT)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

static int
become(uid_t uid)
{
	gid_t gid = (gid_t)uid;	/* per-QEMU group, same number */

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) == -1 ||
	    setgroups(0, NULL) == -1 ||
	    setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -errno;
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) == -1)
		return -errno;
	return 0;
}

static int
keep_chroot_cap(void)
{
	capng_clear(CAPNG_SELECT_CAPS);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_INHERITABLE, CAP_SYS_CHROOT) == -1 ||
	    capng_apply(CAPNG_SELECT_CAPS) == -1)
		return -EPERM;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_CHROOT, 0,
	    0) == -1)
		return -errno;
	return 0;
}

int
jail_enter(uid_t uid)
{
	int rc;

	if (uid == 0)
		return -EPERM;
	if ((rc = limits()) != 0 || (rc = bounding_only_chroot()) != 0 ||
	    (rc = become(uid)) != 0 || (rc = keep_chroot_cap()) != 0)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -errno;
	return 0;
}
