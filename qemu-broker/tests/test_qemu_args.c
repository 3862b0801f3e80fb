/*
 * Proves the QEMU command lines (qemu_args.c): every QEMU gets the full
 * -sandbox deny list, -chroot into the given dir, its QMP socket as an fd
 * chardev in control mode, -nodefaults and no -runas (which would need
 * elevateprivileges=allow); a device model is -S with one ide-cd per
 * requested CD-ROM on distinct bus/unit slots and the virtio-scsi
 * controller; a real qdisk QEMU is -machine xenpv -xen-attach; bad
 * requests and too-small buffers are refused; uids do not overflow.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qemu-broker/launcher.h"

static char buf[4096];
static char *argv[LAUNCH_ARGV_MAX];

static int
has(int argc, const char *opt, const char *val)
{
	int i;

	for (i = 0; i + 1 < argc; i++)
		if (strcmp(argv[i], opt) == 0 &&
		    (val == NULL || strcmp(argv[i + 1], val) == 0))
			return 1;
	return 0;
}

static int
count(int argc, const char *prefix)
{
	int i, n = 0;

	for (i = 0; i < argc; i++)
		n += strncmp(argv[i], prefix, strlen(prefix)) == 0;
	return n;
}

static void
test_dm(void **state)
{
	struct launch_req r = { .domid = 7, .kind = LAUNCH_KIND_DM,
	    .n_cdrom = 3, .cdrom = { 768, 5632, 1 } };
	int argc;

	argc = qemu_args_build(&r, NULL, "/usr/bin/qemu", "/run/x/7", 3, buf,
	    sizeof(buf), argv, LAUNCH_ARGV_MAX);
	assert_true(argc > 10);
	assert_null(argv[argc]);
	assert_string_equal(argv[0], "/usr/bin/qemu");
	assert_true(has(argc, "-sandbox", "on,obsolete=deny,elevateprivileges="
	    "deny,spawn=deny,resourcecontrol=deny"));
	assert_true(has(argc, "-chroot", "/run/x/7"));
	assert_true(has(argc, "-chardev",
	    "socket,id=qmp,fd=3,server=on,wait=off"));
	assert_true(has(argc, "-mon", "chardev=qmp,mode=control"));
	assert_true(has(argc, "-name", "devsep-dm-7"));
	assert_true(has(argc, "-m", "32"));
	assert_true(has(argc, "-device", "virtio-scsi-pci,id=scsi0"));
	assert_true(has(argc, "-device", "ide-cd,id=cd768,bus=ide.0,unit=0"));
	assert_true(has(argc, "-device", "ide-cd,id=cd5632,bus=ide.0,unit=1"));
	assert_true(has(argc, "-device", "ide-cd,id=cd1,bus=ide.1,unit=0"));
	assert_int_equal(count(argc, "-S"), 1);
	assert_int_equal(count(argc, "-nodefaults"), 1);
	assert_int_equal(count(argc, "-runas"), 0);
	assert_int_equal(count(argc, "-xen"), 0);
}

static void
test_qdisk(void **state)
{
	struct launch_req r = { .domid = 12, .kind = LAUNCH_KIND_QDISK };
	struct launch_opts o = { .qdisk_test_machine = 1 };
	int argc;

	argc = qemu_args_build(&r, NULL, "q", "/c", 3, buf, sizeof(buf), argv,
	    LAUNCH_ARGV_MAX);
	assert_true(has(argc, "-xen-domid", "12"));
	assert_true(has(argc, "-machine", "xenpv"));
	assert_int_equal(count(argc, "-xen-attach"), 1);
	assert_true(has(argc, "-chroot", "/c"));
	argc = qemu_args_build(&r, &o, "q", "/c", 3, buf, sizeof(buf), argv,
	    LAUNCH_ARGV_MAX);
	assert_true(has(argc, "-machine", "pc"));
	assert_int_equal(count(argc, "-xen"), 0);
	assert_true(has(argc, "-name", "devsep-qdisk-12"));
}

static void
test_refused(void **state)
{
	struct launch_req bad[] = {
		{ .domid = 0x7ff0 },
		{ .domid = 1, .kind = 2 },
		{ .domid = 1, .n_cdrom = 5 },
		{ .domid = 1, .n_cdrom = 2, .cdrom = { 3, 3 } },
		{ .domid = 1, .kind = LAUNCH_KIND_QDISK, .n_cdrom = 1 },
		{ .domid = 1, .memory_mb = 70000 },
	};
	struct launch_req ok = { .domid = 1, .n_cdrom = 4,
	    .cdrom = { 1, 2, 3, 4 } };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(qemu_args_build(&bad[i], NULL, "q", "/c", 3,
		    buf, sizeof(buf), argv, LAUNCH_ARGV_MAX), -1);
	assert_true(qemu_args_build(&ok, NULL, "q", "/c", 3, buf, sizeof(buf),
	    argv, LAUNCH_ARGV_MAX) > 0);
	assert_int_equal(qemu_args_build(&ok, NULL, "q", "/c", 3, buf, 100,
	    argv, LAUNCH_ARGV_MAX), -1);
	assert_int_equal(qemu_args_build(&ok, NULL, "q", "/c", 3, buf,
	    sizeof(buf), argv, 10), -1);
}

static void
test_uid(void **state)
{
	assert_int_equal(qemu_uid(16777216, 5), 16777221);
	assert_int_equal(qemu_uid(0, 5), -1);
	assert_int_equal(qemu_uid(0xfffffff0u, 0x7fef), -1);
	assert_int_equal(qemu_uid(0xfffffff0u, 0xd), 0xfffffffd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dm),
		cmocka_unit_test(test_qdisk),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_uid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
